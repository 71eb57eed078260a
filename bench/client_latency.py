"""Client start-up: wall time of `v2m status` and `v2m toggle`, side by side.

Systems, interleaved so machine noise hits all alike, against one daemon in
a private runtime dir. The daemon is paused, so `toggle` is answered at once
("the daemon is paused") and the time is the client's own: start-up, the
socket round trip and exit.

  python3 -c pass        the bare interpreter (the venv's python)
  venv                   the `v2m` entry point of the virtualenv
  binary                 dist/v2m (or --bin), later starts
  binary, first start    the first run after unpacking the release tarball

    .venv/bin/python bench/client_latency.py [--runs 30] [--bin dist/v2m] [--tarball dist/v2m-*.tar.gz]
"""

from __future__ import annotations

import argparse
import glob
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def timed(argv: list[str], env: dict) -> float:
    start = time.perf_counter()
    subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return time.perf_counter() - start


def first_starts(tarball: Path, command: str, env: dict, count: int) -> list[float]:
    """Unpack the tarball afresh each time and time the first run of its entry."""
    times = []
    for _ in range(count):
        with tempfile.TemporaryDirectory() as d:
            subprocess.run(["tar", "-C", d, "-xzf", str(tarball)], check=True)
            (entry,) = glob.glob(os.path.join(d, "*", "v2m"))
            times.append(timed([entry, command], env))
    return times


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--bin", default=os.environ.get("V2M_BIN") or (str(ROOT / "dist/v2m") if (ROOT / "dist/v2m").exists() else None))
    parser.add_argument("--tarball", default=next(iter(sorted(glob.glob(str(ROOT / "dist/v2m-*.tar.gz")))), None))
    parser.add_argument("--first-starts", type=int, default=3)
    args = parser.parse_args()
    venv_v2m = str(Path(sys.executable).with_name("v2m"))
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ)
        for var in ("XDG_RUNTIME_DIR", "XDG_CONFIG_HOME", "XDG_STATE_HOME"):
            env[var] = os.path.join(tmp, var)
            os.makedirs(env[var], mode=0o700)
        daemon = subprocess.Popen([venv_v2m, "daemon"], env=env, stderr=subprocess.DEVNULL)
        try:
            while subprocess.run([venv_v2m, "ping"], env=env, capture_output=True).returncode:
                time.sleep(0.1)
            subprocess.run([venv_v2m, "pause"], env=env, capture_output=True, check=True)
            samples = measure(args, env, venv_v2m)
        finally:
            daemon.terminate()
            daemon.wait()
    report(samples, args)


def measure(args, env: dict, venv_v2m: str) -> dict[str, list[float]]:
    systems = {"python3 -c pass": [sys.executable, "-c", "pass"],
               "venv status": [venv_v2m, "status"], "venv toggle": [venv_v2m, "toggle"]}
    if args.bin:
        systems |= {"binary status": [args.bin, "status"], "binary toggle": [args.bin, "toggle"]}
    samples: dict[str, list[float]] = {name: [] for name in systems}
    for argv in systems.values():  # warm-up: page cache, pyc files
        timed(argv, env)
    for _ in range(args.runs):
        for name, argv in systems.items():
            samples[name].append(timed(argv, env))
    if args.tarball:
        for command in ("status", "toggle"):
            samples[f"binary {command}, first start"] = first_starts(Path(args.tarball), command, env,
                                                                     args.first_starts)
    return samples


def report(samples: dict[str, list[float]], args) -> None:
    base = statistics.median(samples["python3 -c pass"])
    print(f"{'command':<30}{'median ms':>10}{'max ms':>9}{'x python':>10}{'runs':>6}")
    for name, values in samples.items():
        med = statistics.median(values)
        print(f"{name:<30}{med * 1000:>10.1f}{max(values) * 1000:>9.1f}{med / base:>10.2f}{len(values):>6}")
    if args.bin:
        print(f"binary: {args.bin}")


if __name__ == "__main__":
    main()
