"""What the start cue (feedback.sounds) costs the start's reply.

A `v2m daemon` with a private PulseAudio microphone; START_RECORDING is
sent in-process (no CLI start-up in the figure), then CANCEL_RECORDING,
`--runs` times with the sounds off and on, interleaved, 0.5 s apart (the
stop cue has played out). The start waits for its cue by design: the
microphone opens once the cue has been played, so the cue is never in the
dictation.

    .venv/bin/python bench/sound_cues.py [--runs 20]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "src"))

from tests.support.pulse import PulseServer  # noqa: E402
from v2m.ipc.client import DaemonClient  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="v2m-cues-"))
    pulse = PulseServer().start()
    env = {**pulse.client_env(), "V2M_OUTPUT__SINKS": "", "V2M_OUTPUT__NOTIFY": "false"}
    for var in ("XDG_RUNTIME_DIR", "XDG_CONFIG_HOME", "XDG_STATE_HOME", "XDG_DATA_HOME"):
        env[var] = str(tmp / var)
        os.makedirs(env[var], mode=0o700)
    sock = Path(env["XDG_RUNTIME_DIR"]) / "v2m" / "v2m.sock"
    daemon = subprocess.Popen([str(Path(sys.executable).with_name("v2m")), "daemon"], env=env,
                              stderr=subprocess.DEVNULL)
    took: dict[bool, list[float]] = {False: [], True: []}
    try:
        while True:
            try:
                with DaemonClient(sock) as c:
                    if c.call("GET_STATUS").get("model_loaded"):
                        break
            except Exception:
                pass
            time.sleep(0.2)
        with DaemonClient(sock, timeout_s=30) as c:
            for sounds in (False, True) * (args.runs + 1):
                c.call("UPDATE_CONFIG", {"feedback": {"sounds": sounds}})
                time.sleep(0.5)
                started = time.perf_counter()
                c.call("START_RECORDING")
                took[sounds].append((time.perf_counter() - started) * 1000)
                c.call("CANCEL_RECORDING")
    finally:
        daemon.terminate()
        daemon.wait()
        pulse.stop()
    print(f"START_RECORDING reply, ms ({args.runs} runs each, the first of each dropped as warm-up)")
    for sounds, label in ((False, "sounds off"), (True, "sounds on")):
        runs = sorted(took[sounds][1:])
        print(f"{label:<11} median {statistics.median(runs):6.1f}  p90 {runs[int(0.9 * (len(runs) - 1))]:6.1f}")
    cost = statistics.median(took[True][1:]) - statistics.median(took[False][1:])
    print(f"the cue's cost: {cost:.1f} ms (its sound lasts 70 ms)")


if __name__ == "__main__":
    main()
