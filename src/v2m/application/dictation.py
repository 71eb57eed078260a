"""The dictation use case: start, stop, toggle and cancel a recording."""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import Executor
import dataclasses
from typing import Any, Callable, Sequence

from v2m.application.commands import CancelRecording, StartRecording, StopRecording, ToggleRecording
from v2m.application.daemon_control import DaemonControl
from v2m.application.dictation_session import DictationOptions, DictationSession
from v2m.application.engine_fallback import EngineTally
from v2m.application.outputs import deliver_all, failed, problems, warned
from v2m.application.text_refinement import TextRefiner
from v2m.application.ports import (AudioSource, AudioSpool, EventSink, HistoryStore, Notifier,
                                   TextSink, Transcriber, VoiceDetector)
from v2m.domain.errors import InvalidState, NoSpeech, V2mError
from v2m.domain.history import HistoryRecord
from v2m.domain.state import DaemonState
from v2m.domain.text_rules import TextRules, apply as apply_rules

log = logging.getLogger(__name__)


class DictationService:
    def __init__(self, control: DaemonControl, *, source: Callable[[], AudioSource],
                 vad: Callable[[], VoiceDetector], transcriber: Transcriber, worker: Executor,
                 sinks: Callable[[], Sequence[TextSink]], notifier: Notifier,
                 history: HistoryStore, spool: AudioSpool, events: EventSink,
                 options: Callable[[], DictationOptions],
                 rules: Callable[[], TextRules] = TextRules,
                 refiner: Callable[[], TextRefiner | None] = lambda: None) -> None:
        self._control = control
        self._new_source, self._new_vad, self._new_sinks = source, vad, sinks
        self._transcriber, self._worker = transcriber, worker
        self._notifier, self._history, self._spool = notifier, history, spool
        self._events, self._options = events, options
        self._rules, self._refiner = rules, refiner
        self._session: DictationSession | None = None
        self._source: AudioSource | None = None
        self._started_at = 0.0
        self._closed = False

    # -- commands -------------------------------------------------------------
    # Each decides and acts under the control lock (control.transition()), and
    # opens or closes the microphone there: it is open exactly while the
    # state is RECORDING, whatever else races (a file, a pause, a shutdown).

    def toggle(self, command: ToggleRecording = ToggleRecording()) -> dict[str, Any]:
        with self._control.transition():
            if self._control.state is not DaemonState.RECORDING:
                return self.start(StartRecording(command.language))
            session = self._end_recording()
        return self._complete(session)

    def start(self, command: StartRecording = StartRecording()) -> dict[str, Any]:
        with self._control.transition():
            state = self._control.state
            if self._closed:
                raise InvalidState("the daemon is shutting down")
            if state is DaemonState.PAUSED:
                raise InvalidState("the daemon is paused", "run `v2m resume` first")
            if state is not DaemonState.IDLE:
                raise InvalidState(f"already {state.value}", "wait, or run `v2m cancel`")
            session = self.new_session(command.language)
            source = self._new_source()
            self._spool.begin()
            try:
                source.start(lambda frame: self._on_frame(session, frame), self._on_source_error)
            except V2mError as exc:
                self._spool.discard()
                self._notify("v2m: microphone error", str(exc))
                raise
            self._session, self._source, self._started_at = session, source, time.time()
            self._control.set_state(DaemonState.RECORDING)
        self._notify("v2m", f"Recording from {source.device_name}…")
        return {"state": DaemonState.RECORDING.value}

    def stop(self, _command: StopRecording = StopRecording()) -> dict[str, Any]:
        with self._control.transition():
            session = self._end_recording()
        return self._complete(session)

    def _end_recording(self) -> DictationSession:
        """Under the control lock: close the microphone, then leave RECORDING."""
        if self._control.state is not DaemonState.RECORDING:
            raise InvalidState(f"not recording (the daemon is {self._control.state.value})",
                               "start with `v2m toggle`")
        session, source = self._take()
        try:
            # After a pause the audio still in flight (tens of ms) cannot change
            # the text; otherwise wait for it, or the last word would be cut.
            source.stop(drain=not (session.options.fast_stop and session.tail_is_silent))
        finally:
            self._control.set_state(DaemonState.TRANSCRIBING)
        return session

    def _complete(self, session: DictationSession) -> dict[str, Any]:
        """Outside the lock: transcribe the tail, save and deliver the text."""
        try:
            return self._finish(session)
        finally:
            self._control.claim(DaemonState.TRANSCRIBING, DaemonState.IDLE)

    def cancel(self, _command: CancelRecording = CancelRecording()) -> dict[str, Any]:
        with self._control.transition():
            if self._control.state is not DaemonState.RECORDING:
                raise InvalidState("not recording")
            session, source = self._take()
            session.abandon()
            try:
                source.stop(drain=False)
            finally:
                self._control.set_state(DaemonState.IDLE)
        self._spool.discard()
        self._notify("v2m", "Dictation cancelled")
        return {"state": DaemonState.IDLE.value, "cancelled": True}

    def close(self) -> None:
        """The daemon is stopping: close the microphone and refuse new starts.
        A recording in progress stays in the spool; the next start recovers it."""
        with self._control.transition():
            self._closed = True
            if self._control.state is not DaemonState.RECORDING:
                return
            session, source = self._take()
            session.abandon()
            try:
                source.stop(drain=False)
            finally:
                self._control.set_state(DaemonState.IDLE)

    def status(self) -> dict[str, Any]:
        session = self._session
        return {"recording_s": round(session.duration_s, 2) if session else 0.0,
                "model": self._transcriber.model_name}

    def new_session(self, language: str | None = None) -> DictationSession:
        options = self._options()
        if language is not None:  # this dictation's own, from `v2m toggle --language`
            options = dataclasses.replace(options, language=language)
        return self._session_with(options)

    def recovery_session(self) -> DictationSession:
        """For audio a crashed daemon left: nobody is waiting, so one
        whole-recording pass with the full beam, not the fast stop's
        shortcuts (which a spool fed at once would take for a stop)."""
        return self._session_with(dataclasses.replace(self._options(), streaming=False, fast_stop=False))

    def _session_with(self, options: DictationOptions) -> DictationSession:
        # The tally records which engine made each pass of this dictation.
        return DictationSession(self._new_vad(), EngineTally(self._transcriber), self._worker, self._events,
                                options)

    # -- internals --------------------------------------------------------------

    def _take(self) -> tuple[DictationSession, AudioSource]:
        assert self._session is not None and self._source is not None
        session, source = self._session, self._source
        self._session = self._source = None
        return session, source

    def _on_frame(self, session: DictationSession, frame: bytes) -> None:
        if session.first_frame_at is None:
            session.first_frame_at = time.monotonic()
        self._spool.write(frame)
        session.feed(frame)

    def _on_source_error(self, exc: Exception) -> None:
        """The microphone died mid-recording: end the dictation with what we have."""
        log.error("microphone failed while recording: %s", exc)
        self._notify("v2m: microphone failed", str(exc))

        def finish() -> None:
            try:
                self.stop()
            except V2mError as err:
                log.info("dictation ended by the microphone failure: %s", err)
        threading.Thread(target=finish, name="v2m-mic-failed", daemon=True).start()

    def _finish(self, session: DictationSession) -> dict[str, Any]:
        try:
            raw = session.finish()
        except V2mError as exc:
            # The audio stays in the spool; the next start recovers it.
            self._notify("v2m: transcription failed", str(exc))
            raise
        duration = round(session.duration_s, 2)
        if not raw:
            self._spool.discard()
            self._notify("v2m", "No speech detected")
            raise NoSpeech()
        text, refine_error = self._post_process(raw, session.options.language)
        tally = session.transcriber
        engine = tally.engine if isinstance(tally, EngineTally) else ""
        fallback = tally.fell_back if isinstance(tally, EngineTally) else ""
        model = tally.model_label if isinstance(tally, EngineTally) else self._transcriber.model_name
        self._history.append(HistoryRecord(self._started_at, duration, model, text,
                                           raw=raw, language=session.options.language or "").to_dict())
        self._spool.discard()  # the words are safe in the history now
        outputs = deliver_all(text, self._new_sinks())
        summary = [f"{', '.join(failed(outputs))} failed"] if failed(outputs) else []
        summary += [f"{', '.join(warned(outputs))}: see below"] if warned(outputs) else []
        summary += ["raw text: refinement failed"] if refine_error else []
        summary += ["transcribed locally: the remote engine failed"] if fallback else []
        # Each output's reason before the text: the notification body is cut at 500 characters.
        reasons = problems(outputs)
        self._notify("v2m" + (f" ({'; '.join(summary)})" if summary else ""),
                     "\n".join(reasons + ["", text]) if reasons else text)
        reply = {"state": DaemonState.IDLE.value, "transcription": text,
                 "duration_s": duration, "outputs": outputs, "stop_path": session.stop_path,
                 # CLOCK_MONOTONIC is shared by all processes: benchmarks compare it with theirs.
                 "first_frame_at": session.first_frame_at, "engine": engine}
        reply = {**reply, "engine_fallback": fallback} if fallback else reply
        return {**reply, "refine_error": refine_error} if refine_error else reply

    def _post_process(self, raw: str, language: str | None = None) -> tuple[str, str | None]:
        """Text rules (spoken commands in the dictation's language), then the
        optional LLM refinement, which falls back to the rule-applied text on
        any failure (the audio is still spooled)."""
        text = apply_rules(raw, self._rules(), language=language if language != "auto" else None)
        refiner = self._refiner()
        if refiner is None:
            return text, None
        result = refiner.refine(text)
        return result.text, result.error

    def _notify(self, title: str, body: str) -> None:
        try:
            self._notifier.notify(title, body)
        except Exception as exc:  # a notification is never worth failing for
            log.info("notification failed: %s", exc)
