"""Server requests share the daemon's one ASR worker; dictation goes first.

- One request transcribes at a time; at most `max_queue` more wait. Any
  more are refused at once (503 with Retry-After), before their upload is
  read.
- A request starts only while the daemon is idle (`busy()` false): it
  waits, up to `queue_timeout_s`, while the user dictates or a file runs.
- A dictation that starts while a request runs preempts it at the next
  segment (Whisper's decode of up to 30 s of audio): the request gets 503
  with Retry-After, and the dictation's passes wait at most that long.

Standard library only; the server calls these from worker threads.
"""

from __future__ import annotations

import math
import threading
import time
from typing import Any, Callable, TypeVar

T = TypeVar("T")
POLL_S = 0.05
BUSY_RETRY_S = 5  # what a dictation usually leaves


class Unavailable(Exception):
    """503: the queue is full, the wait ran out, or a dictation came first."""

    def __init__(self, message: str, retry_after_s: int) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class Preempted(Unavailable):
    pass


class Admission:
    def __init__(self, max_queue: int, queue_timeout_s: float, busy: Callable[[], bool],
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._max_inside = 1 + max(0, max_queue)
        self._timeout_s, self._busy, self._clock = queue_timeout_s, busy, clock
        self._cond = threading.Condition()
        self._inside = 0          # admitted: waiting or running
        self._running = False
        self._mean_job_s = 1.0
        self.counts = {"served": 0, "full": 0, "timed_out": 0, "preempted": 0, "failed": 0}

    def status(self) -> dict[str, Any]:
        with self._cond:
            return {"inside": self._inside, "running": self._running, **self.counts}

    def enter(self) -> None:
        """Take a place, or raise Unavailable if the queue is full. Pair with leave()."""
        with self._cond:
            if self._inside >= self._max_inside:
                self.counts["full"] += 1
                raise Unavailable(f"the server is busy: {self._inside - 1} request(s) already wait for "
                                  "the model", self._retry_after(self._inside))
            self._inside += 1

    def leave(self) -> None:
        with self._cond:
            self._inside -= 1
            self._cond.notify_all()

    def run(self, job: Callable[[Callable[[], None]], T]) -> T:
        """Wait for the turn (idle daemon, no other request running), then run
        `job(check)`; `check()` raises Preempted once a dictation has started."""
        deadline = self._clock() + self._timeout_s
        with self._cond:
            while self._running or self._busy():
                left = deadline - self._clock()
                if left <= 0:
                    self.counts["timed_out"] += 1
                    raise Unavailable(f"waited {self._timeout_s:g} s for the model, which dictation or "
                                      "other requests kept busy", self._retry_after(self._inside))
                self._cond.wait(min(POLL_S, left))  # busy() is the daemon's: polled
            self._running = True
        started = self._clock()
        try:
            result = job(self._check)
        except Preempted:
            self._count("preempted")
            raise
        except BaseException:
            self._count("failed")
            raise
        finally:
            with self._cond:
                self._running = False
                self._mean_job_s = 0.8 * self._mean_job_s + 0.2 * (self._clock() - started)
                self._cond.notify_all()
        self._count("served")
        return result

    def _check(self) -> None:
        if self._busy():
            raise Preempted("a dictation started: it goes first; send the request again",
                            BUSY_RETRY_S)

    def _count(self, what: str) -> None:
        with self._cond:
            self.counts[what] += 1

    def _retry_after(self, ahead: int) -> int:
        return max(1, math.ceil(self._mean_job_s * max(1, ahead)))
