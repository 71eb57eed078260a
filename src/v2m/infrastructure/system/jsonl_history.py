"""History of dictations: one JSON object per line, appended and fsynced.

The file may end in a torn line (a power cut mid-write) or hold lines that
were edited by hand or damaged: an append always starts on a fresh line, and
reading skips, and counts, every line that is not a valid record.
"""

from __future__ import annotations

import fcntl
import json
import math
import os
import threading
from pathlib import Path
from typing import Any, NamedTuple

from v2m.domain.errors import V2mError

# datetime can show times up to the year 9999 (this is 9987, in any time zone).
_MAX_TIME = 253_000_000_000


class HistoryPage(NamedTuple):
    records: list[dict[str, Any]]  # the last valid records, oldest first
    skipped: int  # lines in the file that are not valid records


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")  # NaN, Infinity: json.loads takes them by default


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def parse_record(raw: bytes) -> dict[str, Any] | None:
    """One line of the file as a record, or None if it is not a valid one."""
    try:
        record = json.loads(raw.decode("utf-8"), parse_constant=_no_constants)
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None
    if not isinstance(record, dict) or not isinstance(record.get("text"), str):
        return None
    if not _number(record.get("time")) or not 0 <= record["time"] <= _MAX_TIME:
        return None
    if "duration_s" in record and not _number(record["duration_s"]):
        return None
    try:  # lone surrogates ("\ud800") decode but cannot be printed or written back
        json.dumps(record, ensure_ascii=False).encode("utf-8")
    except (UnicodeEncodeError, ValueError, RecursionError):
        return None
    return record


class JsonlHistoryStore:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    def append(self, record: dict[str, Any]) -> None:
        data = (json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8")
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)  # against another v2m process appending too
                size = os.fstat(fd).st_size
                if size and os.pread(fd, 1, size - 1) != b"\n":
                    data = b"\n" + data  # the last line was torn: never glue onto it
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view):]
                os.fsync(fd)
            finally:
                os.close(fd)

    def read(self, limit: int) -> HistoryPage:
        """The last `limit` valid records, and how many lines were unreadable."""
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return HistoryPage([], 0)
        except OSError as exc:
            raise V2mError(f"cannot read the history {self.path}: {exc.strerror or exc}",
                           "check that it is a file you can read") from None
        records: list[dict[str, Any]] = []
        skipped = 0
        for raw in data.split(b"\n"):
            if not raw.strip():
                continue
            record = parse_record(raw)
            if record is None:
                skipped += 1
            else:
                records.append(record)
        return HistoryPage(records[-limit:] if limit > 0 else [], skipped)

    def recent(self, limit: int) -> list[dict[str, Any]]:
        return self.read(limit).records
