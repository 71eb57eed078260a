"""Crash-safe spool of the dictation in progress: raw s16le 16 kHz mono PCM.

Raw PCM needs no header to patch, so whatever reached the file before a
crash is readable. Writes are unbuffered, so a killed daemon loses nothing
(the kernel's page cache outlives the process); we do not fsync per frame.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path


class FileAudioSpool:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._lock = threading.Lock()
        self._fh = None
        self._path: Path | None = None

    def begin(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        path = self.directory / f"{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}.pcm"
        with self._lock:
            if self._fh is not None:  # a failed dictation's audio stays as a leftover
                self._fh.close()
            self._fh = open(path, "wb", buffering=0)
            self._path = path

    def write(self, frame: bytes) -> None:
        with self._lock:
            if self._fh is not None:
                self._fh.write(frame)

    def discard(self) -> None:
        with self._lock:
            if self._fh is not None:
                self._fh.close()
                self._fh = None
            if self._path is not None:
                self._path.unlink(missing_ok=True)
                self._path = None

    def leftovers(self) -> list[tuple[str, bytes]]:
        with self._lock:
            current = self._path
        found = []
        for path in sorted(self.directory.glob("*.pcm")):
            if path != current:
                found.append((path.name, path.read_bytes()))
        return found

    def remove(self, spool_id: str) -> None:
        (self.directory / spool_id).unlink(missing_ok=True)
