"""TRANSCRIBE_FILE: a file transcribed on the daemon's warm model."""

from __future__ import annotations

import logging
import time
from concurrent.futures import Executor
from typing import Any, Callable

from v2m.application.commands import TranscribeFile
from v2m.application.daemon_control import DaemonControl
from v2m.application.ports import EventSink, FileTranscriber
from v2m.domain import subtitles
from v2m.domain.errors import InvalidState
from v2m.domain.state import DaemonState

log = logging.getLogger(__name__)


class FileTranscriptionService:
    def __init__(self, control: DaemonControl, transcriber: FileTranscriber, worker: Executor,
                 events: EventSink, prompt: Callable[[], str] = str) -> None:
        self._control, self._transcriber = control, transcriber
        self._worker, self._events, self._prompt = worker, events, prompt

    def transcribe(self, command: TranscribeFile) -> dict[str, Any]:
        path = command.path
        # One job at a time on the one model: a file never slows a dictation.
        if not self._control.claim(DaemonState.IDLE, DaemonState.TRANSCRIBING):
            raise InvalidState(f"the daemon is {self._control.state.value}",
                               "transcribe the file when it is idle, or use `v2m transcribe --local`")
        started = time.monotonic()
        log.info("transcribing %s", path)
        try:
            job = self._worker.submit(self._transcriber.transcribe_file, path,
                                      lambda done, total: self._progress(path, done, total), self._prompt())
            transcript = job.result()
        finally:
            self._control.claim(DaemonState.TRANSCRIBING, DaemonState.IDLE)
        log.info("transcribed %s (%.0f s of audio) in %.1f s", path, transcript.duration_s,
                 time.monotonic() - started)
        engine = {"engine": getattr(self._transcriber, "last_engine", "") or "local"}
        if fallback := getattr(self._transcriber, "last_fallback", ""):
            engine["engine_fallback"] = fallback
        return {**subtitles.to_dict(transcript), "transcription": transcript.text, **engine}

    def _progress(self, path: str, done_s: float, total_s: float) -> None:
        self._events.publish({"type": "file_progress", "path": path,
                              "done_s": round(done_s, 2), "total_s": round(total_s, 2)})
