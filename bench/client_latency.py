"""Wall time of `v2m status` against `python3 -c pass`, side by side.

Runs each command N times, interleaved so machine noise hits both alike, with
a daemon running in a private runtime dir. Prints a table of medians and the
ratio to the bare interpreter start.

    .venv/bin/python bench/client_latency.py [--runs 30]
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


def timed(argv: list[str], env: dict) -> float:
    start = time.perf_counter()
    subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--bin", default=os.environ.get("V2M_BIN"), help="also time this executable")
    args = parser.parse_args()
    v2m = str(Path(sys.executable).with_name("v2m"))
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ)
        for var in ("XDG_RUNTIME_DIR", "XDG_CONFIG_HOME", "XDG_STATE_HOME"):
            env[var] = os.path.join(tmp, var)
            os.makedirs(env[var], mode=0o700)
        daemon = subprocess.Popen([v2m, "daemon"], env=env, stderr=subprocess.DEVNULL)
        try:
            while subprocess.run([v2m, "ping"], env=env, capture_output=True).returncode:
                time.sleep(0.1)
            systems = {
                "python3 -c pass": [sys.executable, "-c", "pass"],
                "python3 -S -c pass": [sys.executable, "-S", "-c", "pass"],
                "v2m status (venv)": [v2m, "status"],
                "v2m ping (venv)": [v2m, "ping"],
            }
            if args.bin:
                systems["v2m status (binary)"] = [args.bin, "status"]
            samples: dict[str, list[float]] = {name: [] for name in systems}
            for name, argv in systems.items():  # warm-up: page cache, pyc files
                timed(argv, env)
            for _ in range(args.runs):
                for name, argv in systems.items():
                    samples[name].append(timed(argv, env))
        finally:
            daemon.terminate()
            daemon.wait()
    base = statistics.median(samples["python3 -c pass"])
    print(f"{'command':<24}{'median ms':>10}{'p90 ms':>9}{'x python':>10}   ({args.runs} runs each)")
    for name, values in samples.items():
        med = statistics.median(values)
        p90 = statistics.quantiles(values, n=10)[-1]
        print(f"{name:<24}{med * 1000:>10.1f}{p90 * 1000:>9.1f}{med / base:>10.2f}")


if __name__ == "__main__":
    main()
