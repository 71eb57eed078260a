"""The dictation use case: start, stop, toggle, cancel; live typing, hold-to-talk, sound cues."""

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
from v2m.application.hold_to_talk import HoldToTalk
from v2m.application.live_typing import LiveEvents, LiveTyping, live_sinks
from v2m.application.outputs import deliver_all, notification
from v2m.application.recording import Recording
from v2m.application.sound_cues import SoundCues
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
                 refiner: Callable[[], TextRefiner | None] = lambda: None,
                 cues: Callable[[], SoundCues | None] = lambda: None,
                 min_hold_ms: Callable[[], int] = lambda: 0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._control = control
        self._new_source, self._new_vad, self._new_sinks = source, vad, sinks
        self._transcriber, self._worker = transcriber, worker
        self._notifier, self._history, self._spool = notifier, history, spool
        self._events, self._options = events, options
        self._rules, self._refiner, self._cues = rules, refiner, cues
        self._hold = HoldToTalk(min_hold_ms, clock)
        self._recording: Recording | None = None
        self._closed = False
        # The language the last dictation was given or sure of: the next
        # "auto" dictation's prior for an unsure detection (application/language_choice.py).
        self._language_prior = ""

    # -- commands -------------------------------------------------------------
    # Each decides and acts under the control lock (control.transition()), and
    # opens or closes the microphone there: it is open exactly while the
    # state is RECORDING, whatever else races (a file, a pause, a shutdown).
    # A STOP that arrives while a START is still opening the microphone (or
    # playing its cue) waits for it, then stops it.

    def toggle(self, command: ToggleRecording = ToggleRecording()) -> dict[str, Any]:
        with self._control.transition():
            if self._control.state is not DaemonState.RECORDING:
                return self._start(command.language, pressed_at=None)
            recording = self._end_recording()
        return self._complete(recording)

    def start(self, command: StartRecording = StartRecording()) -> dict[str, Any]:
        return self._start(command.language, pressed_at=self._hold.clock())

    def _start(self, language: str | None, pressed_at: float | None) -> dict[str, Any]:
        """pressed_at: when a START arrived (hold-to-talk's rules); None for TOGGLE."""
        with self._control.transition():
            state = self._control.state
            if self._closed:
                raise InvalidState("the daemon is shutting down")
            if state is DaemonState.PAUSED:
                raise InvalidState("the daemon is paused", "run `v2m resume` first")
            if state is not DaemonState.IDLE:
                raise InvalidState(f"already {state.value}", "wait, or run `v2m cancel`")
            if pressed_at is not None and self._hold.start_after_stray_stop(pressed_at):
                message = "cancelled before it started: its stop arrived first (a key tapped, or released at once)"
                log.info("START %s", message)
                return {"state": DaemonState.IDLE.value, "cancelled": True, "message": message}
            recording = self._open(language)
            self._recording = recording
            self._hold.started(pressed_at)
            self._control.set_state(DaemonState.RECORDING)
        self._notify("v2m", f"Recording from {recording.source.device_name}…")
        return {"state": DaemonState.RECORDING.value}

    def _open(self, language: str | None) -> Recording:
        """Under the control lock: the start cue, then the microphone."""
        options = self._options_for(language)
        sinks = list(self._new_sinks())
        live = None
        if typists := live_sinks(sinks):
            rules = self._rules()  # `session` is bound below, before any utterance is heard
            live = LiveTyping(typists, lambda part: _apply(part, rules, _text_language(session)))
            options = dataclasses.replace(options, revise=False)  # typed text is not taken back
        session = self._session_with(options, LiveEvents(self._events, live) if live else self._events)
        source, cues = self._new_source(), self._cues()
        if cues is not None:
            cues.play_start()  # played out before the microphone opens: never in the dictation
        self._spool.begin()
        try:
            source.start(lambda frame: self._on_frame(session, frame), self._on_source_error)
        except V2mError as exc:
            self._spool.discard()
            if live is not None:
                live.close()  # its thread ends
            self._notify("v2m: microphone error", str(exc))
            raise
        return Recording(session, source, sinks, live, cues, time.time())

    def stop(self, _command: StopRecording = StopRecording()) -> dict[str, Any]:
        return self._stop(released_at=self._hold.clock())

    def _stop(self, released_at: float | None) -> dict[str, Any]:
        """released_at: when a STOP arrived; None when the microphone failed."""
        with self._control.transition():
            if released_at is not None and self._control.state is not DaemonState.RECORDING:
                self._hold.stray_stop(released_at)  # its START may still be on the way
            elif released_at is not None and (held_ms := self._hold.tap_ms(released_at)) is not None:
                return self._cancel_tap(held_ms)
            recording = self._end_recording()
        return self._complete(recording)

    def _end_recording(self) -> Recording:
        """Under the control lock: close the microphone, then leave RECORDING."""
        if self._control.state is not DaemonState.RECORDING:
            raise InvalidState(f"not recording (the daemon is {self._control.state.value})",
                               "start with `v2m toggle`")
        recording = self._take()
        session = recording.session
        recording.end_live()  # the rest is typed at once, with the final text
        try:
            # After a pause the audio still in flight (tens of ms) cannot change
            # the text; otherwise wait for it, or the last word would be cut.
            recording.source.stop(drain=not (session.options.fast_stop and session.tail_is_silent))
        finally:
            self._control.set_state(DaemonState.TRANSCRIBING)
        recording.stop_cue()
        return recording

    def _complete(self, recording: Recording) -> dict[str, Any]:
        """Outside the lock: transcribe the tail, save and deliver the text."""
        try:
            return self._finish(recording)
        finally:
            self._control.claim(DaemonState.TRANSCRIBING, DaemonState.IDLE)

    def cancel(self, _command: CancelRecording = CancelRecording()) -> dict[str, Any]:
        with self._control.transition():
            if self._control.state is not DaemonState.RECORDING:
                raise InvalidState("not recording")
            self._abandon(self._take())
        self._spool.discard()
        self._notify("v2m", "Dictation cancelled")
        return {"state": DaemonState.IDLE.value, "cancelled": True}

    def _cancel_tap(self, held_ms: int) -> dict[str, Any]:
        """Under the control lock: a START and STOP closer than audio.min_hold_ms.
        Like `v2m cancel`, nothing is delivered and the history keeps nothing:
        the key was never meant to be held (the log records the tap)."""
        self._abandon(self._take())
        self._spool.discard()
        message = f"cancelled: the key was held {held_ms} ms, under audio.min_hold_ms ({self._hold.limit_ms} ms)"
        log.info("dictation %s", message)
        self._notify("v2m", f"Dictation {message}")
        return {"state": DaemonState.IDLE.value, "cancelled": True, "tap": True, "held_ms": held_ms,
                "message": message}

    def _abandon(self, recording: Recording, cue: bool = True) -> None:
        """Under the control lock: close the microphone, drop the dictation."""
        recording.session.abandon()
        recording.end_live()
        try:
            recording.source.stop(drain=False)
        finally:
            self._control.set_state(DaemonState.IDLE)
        if cue:
            recording.stop_cue()

    def close(self) -> None:
        """The daemon is stopping: close the microphone and refuse new starts.
        A recording in progress stays in the spool; the next start recovers it."""
        with self._control.transition():
            self._closed = True
            if self._control.state is DaemonState.RECORDING:
                self._abandon(self._take(), cue=False)

    def status(self) -> dict[str, Any]:
        recording = self._recording
        return {"recording_s": round(recording.session.duration_s, 2) if recording else 0.0,
                "model": self._transcriber.model_name,
                "language": recording.session.language_used if recording else ""}

    def new_session(self, language: str | None = None) -> DictationSession:
        return self._session_with(self._options_for(language))

    def _options_for(self, language: str | None) -> DictationOptions:
        options = dataclasses.replace(self._options(), language_prior=self._language_prior)
        # with this dictation's own language, from `v2m toggle --language`:
        return options if language is None else dataclasses.replace(options, language=language)

    def recovery_session(self) -> DictationSession:
        """For audio a crashed daemon left: nobody is waiting, so one
        whole-recording pass with the full beam, not the fast stop's
        shortcuts (which a spool fed at once would take for a stop)."""
        return self._session_with(dataclasses.replace(self._options(), streaming=False, fast_stop=False))

    def _session_with(self, options: DictationOptions, events: EventSink | None = None) -> DictationSession:
        # The tally records which engine made each pass of this dictation.
        return DictationSession(self._new_vad(), EngineTally(self._transcriber), self._worker,
                                events or self._events, options)

    # -- internals --------------------------------------------------------------

    def _take(self) -> Recording:
        assert self._recording is not None
        recording, self._recording = self._recording, None
        return recording

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
                self._stop(released_at=None)  # not a key's release: no tap rule
            except V2mError as err:
                log.info("dictation ended by the microphone failure: %s", err)
        threading.Thread(target=finish, name="v2m-mic-failed", daemon=True).start()

    def _finish(self, recording: Recording) -> dict[str, Any]:
        session = recording.session
        try:
            raw = session.finish()
        except V2mError as exc:
            # The audio stays in the spool; the next start recovers it.
            self._notify("v2m: transcription failed", str(exc))
            raise
        self._language_prior = session.language_sure or self._language_prior
        duration = round(session.duration_s, 2)
        if not raw:
            self._spool.discard()
            self._notify("v2m", "No speech detected")
            raise NoSpeech()
        text, refine_error = recording.text(raw, lambda whole: self._post_process(whole, _text_language(session)))
        tally = session.transcriber
        engine = tally.engine if isinstance(tally, EngineTally) else ""
        fallback = tally.fell_back if isinstance(tally, EngineTally) else ""
        model = tally.model_label if isinstance(tally, EngineTally) else self._transcriber.model_name
        self._history.append(HistoryRecord(recording.started_at, duration, model, text,
                                           raw=raw, language=_language(session) or "").to_dict())
        self._spool.discard()  # the words are safe in the history now
        outputs = deliver_all(text, recording.sinks)
        self._notify(*notification(text, outputs, ["raw text: refinement failed"] if refine_error else [],
                                   ["transcribed locally: the remote engine failed"] if fallback else []))
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
        text = _apply(raw, self._rules(), language)
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


def _language(session: DictationSession) -> str | None:
    """The dictation's language: its own or the configured one, or with "auto" the one detected."""
    return session.language_used or session.options.language


def _text_language(session: DictationSession) -> str | None:
    return "en" if session.options.translate else _language(session)  # translation writes English


def _apply(text: str, rules: TextRules, language: str | None) -> str:
    """The text rules, spoken commands in the dictation's language ("auto": the configured one)."""
    return apply_rules(text, rules, language=language if language != "auto" else None)
