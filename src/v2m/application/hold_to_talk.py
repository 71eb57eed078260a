"""Hold-to-talk: `v2m start` on a key's press, `v2m stop` on its release.

Each arrives as its own client process, so the daemon sees two requests
that may come close together, or even in the wrong order:

- a press and release less than `min_hold_ms` apart are an accidental tap:
  the recording is cancelled, nothing is delivered or kept;
- a stop that finds nothing recording may be the release of a press whose
  start has not arrived yet (its client started more slowly): a start that
  follows within STRAY_STOP_S is that press, and does not open the
  microphone, or the recording would run on with nobody holding the key.

Times are taken when a request arrives, before it waits for the control
lock: a stop queued behind a start that is still opening the microphone
(or playing its cue) counts from when the key was released.
"""

from __future__ import annotations

import time
from typing import Callable

# Long enough for the slower of two client processes started together on a
# loaded machine; short enough that a deliberate start after a mistaken
# `v2m stop` is rarely caught.
STRAY_STOP_S = 1.0


class HoldToTalk:
    def __init__(self, min_hold_ms: Callable[[], int], clock: Callable[[], float] = time.monotonic) -> None:
        self._min_hold_ms = min_hold_ms
        self.clock = clock
        self._started_at: float | None = None  # the recording's START, if a START began it
        self._stray_stop_at: float | None = None

    def started(self, at: float | None) -> None:
        """A recording began: by START at `at`, or by TOGGLE (None: no tap rule)."""
        self._started_at = at
        self._stray_stop_at = None

    def stray_stop(self, at: float) -> None:
        """A STOP arrived at `at` with nothing recording."""
        self._stray_stop_at = at

    def start_after_stray_stop(self, at: float) -> bool:
        """Whether a START arriving at `at` is the press of a key already
        released (its STOP came first). Answers once per stray stop."""
        stray, self._stray_stop_at = self._stray_stop_at, None
        return stray is not None and 0 <= at - stray < STRAY_STOP_S

    def tap_ms(self, stop_at: float) -> int | None:
        """For a STOP arriving at `stop_at`: how long the key was held, if
        that is short enough to be a tap (else None)."""
        limit = max(0, self._min_hold_ms())
        if self._started_at is None or limit == 0:
            return None
        held_ms = (stop_at - self._started_at) * 1000
        return round(held_ms) if held_ms < limit else None

    @property
    def limit_ms(self) -> int:
        return max(0, self._min_hold_ms())
