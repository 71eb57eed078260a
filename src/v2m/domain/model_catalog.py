"""Short model names and the hub repositories that hold their CTranslate2
conversions. Revisions and checksums are not recorded here: the hub's
metadata supplies them at pull time, and the installed model records them."""

from __future__ import annotations

import dataclasses
import difflib
import re

from v2m.domain.errors import ModelError


@dataclasses.dataclass(frozen=True)
class CatalogEntry:
    name: str
    repo_id: str
    # Download size, rounded; shown before a pull (the hub's exact sizes are used during it).
    approx_size_mb: int
    english_only: bool = False


_ENTRIES = [
    CatalogEntry("tiny", "Systran/faster-whisper-tiny", 75),
    CatalogEntry("tiny.en", "Systran/faster-whisper-tiny.en", 75, True),
    CatalogEntry("base", "Systran/faster-whisper-base", 145),
    CatalogEntry("base.en", "Systran/faster-whisper-base.en", 145, True),
    CatalogEntry("small", "Systran/faster-whisper-small", 484),
    CatalogEntry("small.en", "Systran/faster-whisper-small.en", 484, True),
    CatalogEntry("medium", "Systran/faster-whisper-medium", 1530),
    CatalogEntry("medium.en", "Systran/faster-whisper-medium.en", 1530, True),
    CatalogEntry("large-v2", "Systran/faster-whisper-large-v2", 3090),
    CatalogEntry("large-v3", "Systran/faster-whisper-large-v3", 3090),
    CatalogEntry("large-v3-turbo", "mobiuslabsgmbh/faster-whisper-large-v3-turbo", 1620),
    CatalogEntry("distil-large-v3", "Systran/faster-distil-whisper-large-v3", 1510),
]
CATALOG: dict[str, CatalogEntry] = {e.name: e for e in _ENTRIES}


def lookup(name: str) -> CatalogEntry:
    try:
        return CATALOG[name]
    except KeyError:
        close = difflib.get_close_matches(name, list(CATALOG), n=3, cutoff=0.5)
        hint = f"did you mean {' or '.join(close)}?" if close else \
            "`v2m models list` shows every name"
        raise ModelError(f"unknown model {name!r}", hint) from None


# What an installed model may be called: one path component inside the models
# directory, never "", ".", "..", a path, a hidden name or an option ("-x").
NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
NAME_RULE = "1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit"


def is_model_name(name: object) -> bool:
    return isinstance(name, str) and NAME_PATTERN.fullmatch(name) is not None


def check_model_name(name: str, hint: str | None = None) -> str:
    """Return `name` if it can name an installed model; raise ModelError otherwise.

    Every use of a name in the models directory (pull, rm, path, import)
    goes through here first, so no name reaches outside it.
    """
    if is_model_name(name):
        return name
    shown = repr(name[:64]) + ("…" if len(name) > 64 else "") if isinstance(name, str) else repr(type(name))
    raise ModelError(f"invalid model name {shown}: use {NAME_RULE}",
                     hint or "`v2m models list` shows the installed names")
