"""Idle cost and memory growth of the daemon.

- CPU seconds the daemon uses over 60 idle seconds (no polling: expect ~0).
- RSS after 1 and after 200 dictations. The dictations come from the
  WAV-file source (`audio.device = "file:..."`), which feeds a synthesized
  sentence as fast as the pipeline takes it, so 200 run in a few minutes.

    .venv/bin/python bench/idle_memory.py [--idle-s 60] [--dictations 200]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "src"))

from bench.local_daemon import LocalDaemon  # noqa: E402
from tests.support.speech import SENTENCES, dictation  # noqa: E402
from v2m.ipc.client import DaemonClient  # noqa: E402


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mib(pid: int) -> float:
    return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--idle-s", type=float, default=60)
    parser.add_argument("--dictations", type=int, default=200)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="v2m-idle-"))
    wav = dictation(SENTENCES[:2], tmp / "two.wav", pause_s=0.8)
    env = dict(os.environ, V2M_OUTPUT__SINKS="", V2M_OUTPUT__NOTIFY="false", V2M_AUDIO__DEVICE=f"file:{wav}",
               V2M_AUDIO__MIN_HOLD_MS="0")  # START then STOP 50 ms later is a dictation here, not a tap
    # The real XDG_DATA_HOME: the model comes from there.
    daemon = LocalDaemon(tmp, env, dirs=("XDG_RUNTIME_DIR", "XDG_CONFIG_HOME", "XDG_STATE_HOME"))
    try:
        daemon.start()
        time.sleep(2)  # let start-up work (spool recovery) settle
        before = cpu_seconds(daemon.process.pid)
        time.sleep(args.idle_s)
        idle_cpu = cpu_seconds(daemon.process.pid) - before
        rss = {}
        with DaemonClient(daemon.sock, timeout_s=120) as c:
            for n in range(1, args.dictations + 1):
                c.call("START_RECORDING")
                time.sleep(0.05)
                text = c.call("STOP_RECORDING")["transcription"]
                assert "report" in text.lower(), text
                if n in (1, 10, 50, 100, args.dictations):
                    rss[n] = rss_mib(daemon.process.pid)
    finally:
        daemon.stop()
    print(f"idle: {idle_cpu:.2f} CPU seconds over {args.idle_s:.0f} s ({100 * idle_cpu / args.idle_s:.2f} % of a core)")
    print("RSS after N dictations: " + ", ".join(f"{n}: {v:.1f} MiB" for n, v in rss.items()))
    first, last = rss[1], rss[args.dictations]
    print(f"growth from 1 to {args.dictations}: {last - first:+.1f} MiB ({100 * (last - first) / first:+.1f} %)")


if __name__ == "__main__":
    main()
