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
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "src"))

from bench.local_daemon import LocalDaemon  # noqa: E402
from tests.support.pulse import PulseServer  # noqa: E402
from v2m.ipc.client import DaemonClient  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="v2m-cues-"))
    pulse = PulseServer().start()
    daemon = LocalDaemon(tmp, {**pulse.client_env(), "V2M_OUTPUT__SINKS": "", "V2M_OUTPUT__NOTIFY": "false"})
    took: dict[bool, list[float]] = {False: [], True: []}
    try:
        daemon.start()
        with DaemonClient(daemon.sock, timeout_s=30) as c:
            for sounds in (False, True) * (args.runs + 1):
                c.call("UPDATE_CONFIG", {"feedback": {"sounds": sounds}})
                time.sleep(0.5)
                started = time.perf_counter()
                c.call("START_RECORDING")
                took[sounds].append((time.perf_counter() - started) * 1000)
                c.call("CANCEL_RECORDING")
    finally:
        daemon.stop()
        pulse.stop()
    print(f"START_RECORDING reply, ms ({args.runs} runs each, the first of each dropped as warm-up)")
    for sounds, label in ((False, "sounds off"), (True, "sounds on")):
        runs = sorted(took[sounds][1:])
        print(f"{label:<11} median {statistics.median(runs):6.1f}  p90 {runs[int(0.9 * (len(runs) - 1))]:6.1f}")
    cost = statistics.median(took[True][1:]) - statistics.median(took[False][1:])
    print(f"the cue's cost: {cost:.1f} ms (its sound lasts 70 ms)")


if __name__ == "__main__":
    main()
