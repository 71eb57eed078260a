"""Short model names and the hub repositories that hold their CTranslate2
conversions. Revisions and checksums are not recorded here: the hub's
metadata supplies them at pull time, and the installed model records them."""

from __future__ import annotations

import dataclasses
import difflib

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
