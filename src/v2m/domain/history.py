"""One finished dictation as the history keeps it."""

from __future__ import annotations

import dataclasses
from typing import Any


@dataclasses.dataclass(frozen=True)
class HistoryRecord:
    time: float          # when the recording started, seconds since the epoch
    duration_s: float
    model: str
    text: str            # what was delivered
    raw: str = ""        # what Whisper heard, when rules or refinement changed it
    recovered: bool = False  # transcribed after a crash, from the spool
    language: str = ""   # the language the dictation was read in, when known

    def to_dict(self) -> dict[str, Any]:
        """The JSON line's fields; the optional ones only when they say something."""
        record: dict[str, Any] = {"time": self.time, "duration_s": round(self.duration_s, 2),
                                  "model": self.model, "text": self.text}
        if self.raw and self.raw != self.text:
            record["raw"] = self.raw
        if self.recovered:
            record["recovered"] = True
        if self.language:
            record["language"] = self.language
        return record
