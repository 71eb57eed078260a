"""Live typing (output.live): each utterance typed into the focused window as
soon as it is final, while the user keeps talking; the stop types the rest.

The session publishes the dictation's text so far whenever an utterance is
final (a `transcription_update` event with final=True), and a final
utterance never changes, so nothing typed ever has to be erased. The text
rules apply to each utterance alone, and the text delivered at the stop is
built the same way (`text_at_stop`): what was typed is always its
beginning, and the type sink types only what follows.

The typing runs on its own thread, so the ASR worker never waits for a
slow app; it types the newest text so far, so a burst of utterances is
typed in one go.
"""

from __future__ import annotations

import logging
import threading
from typing import Any, Callable, Protocol, Sequence

from v2m.application.outputs import one_delivery_at_a_time
from v2m.application.ports import EventSink

log = logging.getLogger(__name__)

# A part starting with one of these joins the text before it without a space.
_NO_SPACE_BEFORE = ",.;:!?)]}\n"
_NO_SPACE_AFTER = "\n([{¿¡"
# Typing is bounded by the tools' own timeouts; this only keeps a stuck one
# from holding the stop forever (the sink's lock still keeps the order).
JOIN_TIMEOUT_S = 30.0


class LiveSink(Protocol):
    name: str
    live: bool

    def deliver_so_far(self, text_so_far: str) -> None:
        """Type what of `text_so_far` is new; raises when typing failed."""
        ...


def live_sinks(sinks: Sequence[Any]) -> list[LiveSink]:
    """The sinks that type while the user talks (the type sink with output.live)."""
    return [s for s in sinks if getattr(s, "live", False) and callable(getattr(s, "deliver_so_far", None))]


def glue(before: str, part: str) -> str:
    """`before` and the next utterance's text, with one space between
    unless punctuation or a line break says otherwise."""
    if not before or not part:
        return before + part
    if part[0] in _NO_SPACE_BEFORE or before[-1] in _NO_SPACE_AFTER:
        return before + part
    return before + " " + part


class LiveTyping:
    def __init__(self, sinks: Sequence[LiveSink], process: Callable[[str], str]) -> None:
        """`process`: the text rules for one utterance's raw text."""
        self._sinks = list(sinks)
        self._process = process
        self._raw = ""     # the raw text so far, as the session joins it
        self._text = ""    # the same, the rules applied per utterance
        self._wanted = ""  # the newest text for the typing thread
        self._open = True
        self._wake = threading.Condition()
        self._thread = threading.Thread(target=self._run, name="v2m-live-typing", daemon=True)
        self._thread.start()

    def heard(self, raw_so_far: str) -> None:
        """An utterance is final: `raw_so_far` is the session's text so far."""
        with self._wake:
            self._add(raw_so_far)
            if self._open:
                self._wanted = self._text
                self._wake.notify()

    def close(self) -> None:
        """The recording has ended (or is cancelled): nothing more is typed live;
        what is being typed is finished. Does not wait (see `wait`)."""
        with self._wake:
            self._open = False
            self._wake.notify()

    def wait(self) -> None:
        """After `close`: until the typing thread has finished."""
        self._thread.join(JOIN_TIMEOUT_S)
        if self._thread.is_alive():
            log.warning("live typing still busy after %.0f s; delivering the rest anyway", JOIN_TIMEOUT_S)

    def text_at_stop(self, raw: str) -> str:
        """The dictation's final text from its final raw text: the utterances
        typed live, then the rules applied to what came after them."""
        with self._wake:
            self._add(raw)
            return self._text

    def _add(self, raw_so_far: str) -> None:
        if not raw_so_far.startswith(self._raw):
            # Never expected (final utterances do not change): what was typed
            # stays, and what lies past it is added; the type sink notes any mismatch.
            log.warning("live typing: the text so far %r does not continue %r", raw_so_far, self._raw)
        part = raw_so_far[len(self._raw):].strip()
        self._raw = raw_so_far if len(raw_so_far) >= len(self._raw) else self._raw
        if part:
            self._text = glue(self._text, in_sentence_case(self._text, part, self._process(part)))

    def _run(self) -> None:
        typed = ""
        while True:
            with self._wake:
                while self._open and self._wanted == typed:
                    self._wake.wait()
                if not self._open:
                    return  # the stop types the rest
                wanted = self._wanted
            for sink in list(self._sinks):
                try:
                    with one_delivery_at_a_time:  # a paste-last waits, rather than type into this text
                        sink.deliver_so_far(wanted)
                except Exception as exc:  # the stop's delivery reports it, with the rest of the text
                    log.warning("live typing into %s stopped: %s", sink.name, exc)
                    self._sinks.remove(sink)
            typed = wanted


def in_sentence_case(before: str, raw: str, text: str) -> str:
    """The rules capitalise the start of each text they are given; an
    utterance that goes on with a sentence keeps Whisper's lower-case
    first letter ("and then" after "we left," stays "and then"), unless
    a replacement wrote its first word otherwise ("ai => AI")."""
    tail = before.rstrip(" \"'»”)")
    if not tail or tail[-1] in ".?!\n" or not text[:1].isupper() or not raw[:1].islower():
        return text
    lowered = text[0].lower() + text[1:]
    return lowered if lowered.split(" ")[0].startswith(raw.split(" ")[0]) else text


class LiveEvents:
    """The session's event sink during a live dictation: every event goes
    on to the daemon's subscribers, and each final text so far to live typing."""

    def __init__(self, events: EventSink, live: LiveTyping) -> None:
        self._events, self._live = events, live

    def publish(self, event: dict[str, Any]) -> None:
        self._events.publish(event)
        if event.get("type") == "transcription_update" and event.get("final"):
            self._live.heard(str(event.get("text", "")))
