"""The typing sinks: type the text into the focused window, or paste it.

`deliver` returns None when the text landed as asked, or a note for the
user when it landed elsewhere (typing impossible here: the text is on the
clipboard, and which keys paste it); it raises OutputError with the reason
when it failed. A dictation typed or pasted right after the previous one,
into the same window, gets the separator first (see recent.py).
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Sequence

from v2m.domain import transcript
from v2m.domain.errors import OutputError
from v2m.infrastructure.output.clipboard import ClipboardSink, confirmed_write, restore, save
from v2m.infrastructure.output.clipboard_tools import pick_backend, wait_until
from v2m.infrastructure.output.focused_app import FocusedWindow, focused_window
from v2m.infrastructure.output.key_tools import TypingUnavailable, press_keys, type_text, usable_tools
from v2m.infrastructure.output.paste_keys import hint, keys_for, parse_table, spoken
from v2m.infrastructure.output.recent import SHARED, RecentDeliveries

__all__ = ["PasteSink", "TypeSink", "usable_tools"]
log = logging.getLogger(__name__)


class TypeSink:
    """Types a dictation; with live typing (`live`, output.live), its text so
    far while the user talks (`deliver_so_far`, or `deliver_part` per
    utterance), then the rest (`deliver`). One sink per dictation."""

    name = "type"

    def __init__(self, *, delay_ms: int = 0, separator: str = " ", recent: RecentDeliveries | None = None,
                 paste_keys: Sequence[str] = (), live: bool = False) -> None:
        self.live = live
        self._delay_ms, self._separator = delay_ms, separator
        self._recent = recent if recent is not None else SHARED
        self._paste_table = parse_table(paste_keys)
        self._typed = ""     # this dictation's text typed so far, as the transcript joins it
        self._window: FocusedWindow | None = None
        self._lock = threading.Lock()

    @property
    def typed(self) -> str:
        return self._typed

    def deliver_part(self, part: str) -> None:
        """Live typing: type one final utterance now. The first part gets the
        separator rule of a new dictation; the next ones are joined as the
        transcript joins them (one space). Raises OutputError (TypingUnavailable
        where nothing can type: `deliver` then puts the rest on the clipboard)."""
        with self._lock:
            joined = transcript.join([self._typed, part])
            if joined != self._typed:
                self._type(joined[len(self._typed):], joined)

    def deliver_so_far(self, text_so_far: str) -> None:
        """Live typing, fed the dictation's final text so far (as the final
        `transcription_update` events carry it): types what of it is new.
        Text that does not continue what was typed is logged and skipped."""
        with self._lock:
            if not text_so_far.startswith(self._typed):
                log.warning("live typing typed %r; the text so far is %r", self._typed, text_so_far)
            elif text_so_far != self._typed:
                self._type(text_so_far[len(self._typed):], text_so_far)

    def deliver(self, text: str) -> str | None:
        """Type the dictation `text`, or, after `deliver_part`, what of it is
        not typed yet. Returns a note if the text went to the clipboard instead."""
        with self._lock:
            if not text.startswith(self._typed):
                log.warning("live typing typed %r; the final text is %r", self._typed, text)
                return "the text typed while you spoke differs from the final text (it is in `v2m history`)"
            rest = text[len(self._typed):]
            if not rest:
                return None
            try:
                self._type(rest, text)
            except TypingUnavailable as exc:
                return self._to_clipboard(rest.strip(), exc)
            return None

    def _type(self, rest: str, total: str) -> None:
        first, lookup = not self._typed, None
        if first and self._recent.recent():
            self._window = focused_window()  # the separator depends on it
        elif first:  # only for the next dictation's separator: look it up while this one is typed
            lookup = threading.Thread(target=self._look_up_window, name="v2m-focus", daemon=True)
            lookup.start()
        chunk = (self._recent.separator(self._window, rest, self._separator) if first else "") + rest
        type_text(chunk, self._delay_ms)
        if lookup is not None:
            lookup.join(3.0)
        self._typed = total
        self._recent.record(self._window, chunk)

    def _look_up_window(self) -> None:
        self._window = focused_window()

    def _to_clipboard(self, text: str, why: OutputError) -> str:
        try:
            ClipboardSink().deliver(text)
        except OutputError as exc:
            raise OutputError(f"{why}; and the clipboard failed too: {exc}") from exc
        return f"{why}: the text is on the clipboard; paste it with {hint(focused_window(), self._paste_table)}"


class PasteSink:
    """The text onto the clipboard (confirmed), the app's paste keys, then,
    once the app has read it, the previous clipboard back (confirmed).

    Whether the app has read it: the owner of our text tells (wl-copy's
    bytes written, xclip's requests served); xsel cannot, so it waits
    `settle_s`. If the app reads nothing within `read_bound_s`, it has
    likely not taken the keys: the previous clipboard is restored all the
    same (it may be irreplaceable; the dictation is in the history), and the
    note says so.
    """

    name = "paste"

    def __init__(self, *, separator: str = " ", recent: RecentDeliveries | None = None,
                 paste_keys: Sequence[str] = (), settle_s: float = 0.3, read_bound_s: float = 1.0,
                 grace_s: float = 0.05) -> None:
        self._separator = separator
        self._recent = recent if recent is not None else SHARED
        self._table = parse_table(paste_keys)
        self._settle_s, self._read_bound_s, self._grace_s = settle_s, read_bound_s, grace_s

    def deliver(self, text: str) -> str | None:
        backend = pick_backend()
        found: list[FocusedWindow | None] = []
        lookup = threading.Thread(target=lambda: found.append(focused_window()), daemon=True)
        lookup.start()  # while the previous clipboard is read
        saved = save(backend)
        lookup.join(3.0)
        window = found[0] if found else None
        payload = (self._recent.separator(window, text, self._separator) + text).encode("utf-8")
        owner = confirmed_write(backend, payload, backend.text_type, served=True)
        keys = keys_for(window, self._table)
        owner.mark()
        try:
            press_keys(keys)
        except OutputError as exc:
            owner.detach()
            return f"could not press the paste keys ({exc}): the text is on the clipboard; paste it with " \
                   f"{hint(window, self._table)}"
        note = None
        if owner.read_since_mark() is None:
            time.sleep(self._settle_s)
        elif wait_until(lambda: bool(owner.read_since_mark()), self._read_bound_s):
            time.sleep(self._grace_s)  # a clipboard manager may have been the reader
        else:
            app = window.app if window is not None else "the focused app"
            note = f"{app} did not read the clipboard within {self._read_bound_s:g} s of {spoken(keys)}: " \
                   "the paste may not have happened (the text is in `v2m history`)"
        self._recent.record(window, payload.decode("utf-8"))
        try:
            restore(backend, saved, owner, payload)
        except OutputError as exc:
            owner.detach()
            return (note + "; " if note else "pasted, but ") + f"the previous clipboard could not be restored: {exc}"
        return note
