"""Spoken punctuation and commands, one table per language.

Each module here is data: WORDS maps what the user says to what is written,
and OPENING (optional) maps a closing mark to the mark that opens its
sentence (Spanish "¿...?", "¡...!"). Matching ignores case and accents, and
the longest phrase wins ("punto y coma" over "punto").

A language with no table (and "auto" before detection) uses English: that is
what every dictation had before the tables were per language, and spoken
English commands are the ones people carry across languages.
"""

from __future__ import annotations

import dataclasses
import types

from v2m.domain.spoken import de, en, es

FALLBACK = "en"


@dataclasses.dataclass(frozen=True)
class SpokenTable:
    language: str
    words: types.MappingProxyType
    opening: types.MappingProxyType


def _table(language: str, module) -> SpokenTable:
    return SpokenTable(language, types.MappingProxyType(dict(module.WORDS)),
                       types.MappingProxyType(dict(getattr(module, "OPENING", {}))))


TABLES: dict[str, SpokenTable] = {code: _table(code, m) for code, m in (("en", en), ("es", es), ("de", de))}


def table(language: str | None) -> SpokenTable:
    """The table for a language code; English for None, "auto" or a language without one."""
    return TABLES.get((language or "").lower(), TABLES[FALLBACK])
