"""History of dictations: one JSON object per line, appended and fsynced."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any


class JsonlHistoryStore:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    def append(self, record: dict[str, Any]) -> None:
        line = json.dumps(record, ensure_ascii=False) + "\n"
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.write(fd, line.encode("utf-8"))
                os.fsync(fd)
            finally:
                os.close(fd)

    def recent(self, limit: int) -> list[dict[str, Any]]:
        try:
            lines = self.path.read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            return []
        records = []
        for line in lines[-limit:] if limit > 0 else []:
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError:
                continue  # a torn last line after a power cut: skip it
        return records
