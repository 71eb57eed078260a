"""Daemon start-up: from `v2m daemon` to the model loaded and PING answered.

Runs the venv's entry point and the binary alternately, each start in a
fresh runtime dir, and prints a table.

    .venv/bin/python bench/daemon_startup.py [--runs 5] [--bin dist/v2m]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from v2m.ipc.client import DaemonClient  # noqa: E402
from v2m.domain.errors import V2mError  # noqa: E402


def ready_after(argv: list[str]) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ)
        for var in ("XDG_RUNTIME_DIR", "XDG_CONFIG_HOME", "XDG_STATE_HOME"):
            env[var] = os.path.join(tmp, var)
            os.makedirs(env[var], mode=0o700)
        sock = Path(env["XDG_RUNTIME_DIR"]) / "v2m" / "v2m.sock"
        start = time.perf_counter()
        proc = subprocess.Popen(argv + ["daemon"], env=env, stderr=subprocess.DEVNULL)
        try:
            while True:
                try:
                    with DaemonClient(sock, timeout_s=5) as client:
                        if client.call("PING") and client.call("GET_STATUS").get("model_loaded"):
                            return time.perf_counter() - start
                except V2mError:
                    pass
                time.sleep(0.01)
        finally:
            proc.terminate()
            proc.wait()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--bin", default=str(ROOT / "dist/v2m") if (ROOT / "dist/v2m").exists() else None)
    args = parser.parse_args()
    systems = {"venv": [str(Path(sys.executable).with_name("v2m"))]}
    if args.bin:
        systems["binary"] = [args.bin]
    samples: dict[str, list[float]] = {name: [] for name in systems}
    for _ in range(args.runs):
        for name, argv in systems.items():
            samples[name].append(ready_after(argv))
    print(f"daemon ready (tiny.en loaded, PING answered), {args.runs} starts each")
    print(f"{'system':<10}{'median s':>10}{'max s':>8}")
    for name, values in samples.items():
        print(f"{name:<10}{statistics.median(values):>10.2f}{max(values):>8.2f}")
    print(json.dumps({k: [round(v, 3) for v in vs] for k, vs in samples.items()}))


if __name__ == "__main__":
    main()
