"""When to put the separator before a dictation typed or pasted.

Two dictations delivered one after the other into the same field would run
together ("...end of the month.She painted..."). The rule: the separator
goes before a dictation when this daemon typed or pasted the previous one

- into the same window (the same sway/Hyprland container or X11 window; where
  the compositor cannot tell which window has the focus, any window counts),
- at most `window_s` (2 minutes) ago,
- and neither the previous text ends with whitespace (a newline) nor the new
  one starts with whitespace or closing punctuation (",", ".", "?", ")").

What happened in between cannot be seen: if the user pressed Enter (a chat
message sent), the next dictation there within the window starts with the
separator. The daemon keeps one RecentDeliveries for its life: sinks built
without one share the process-wide `SHARED`.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from typing import Callable

from v2m.infrastructure.output.focused_app import FocusedWindow

CLOSING = ",.;:!?)]}…»”’%"


@dataclasses.dataclass(frozen=True)
class _Delivery:
    window_id: str | None
    ends_with_space: bool
    at: float


class RecentDeliveries:
    def __init__(self, window_s: float = 120.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.window_s = window_s
        self._clock = clock
        self._last: _Delivery | None = None
        self._lock = threading.Lock()

    def recent(self) -> bool:
        """Whether anything was delivered within the window (else the focused
        window need not be looked up before delivering)."""
        with self._lock:
            return self._last is not None and self._clock() - self._last.at <= self.window_s

    def separator(self, window: FocusedWindow | None, text: str, separator: str) -> str:
        """What to put before `text` going into `window`: `separator` or ""."""
        if not separator or not text or text[0].isspace() or text[0] in CLOSING:
            return ""
        with self._lock:
            last = self._last
            if last is None or last.ends_with_space or self._clock() - last.at > self.window_s:
                return ""
        same = last.window_id == (window.id if window is not None else None)
        return separator if same else ""

    def record(self, window: FocusedWindow | None, text: str) -> None:
        if not text:
            return
        with self._lock:
            self._last = _Delivery(window.id if window is not None else None, text[-1].isspace(), self._clock())


SHARED = RecentDeliveries()
