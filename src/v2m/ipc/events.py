"""Fan-out of daemon events to SUBSCRIBE connections."""

from __future__ import annotations

import logging
import queue
import threading
from typing import Any

log = logging.getLogger(__name__)

_CLOSED = object()


class Subscription:
    def __init__(self, bus: "EventBus", maxsize: int) -> None:
        self._bus = bus
        self._queue: queue.Queue[Any] = queue.Queue(maxsize)

    def get(self) -> dict[str, Any] | None:
        """Block for the next event; None once the subscription is closed."""
        item = self._queue.get()
        return None if item is _CLOSED else item

    def close(self) -> None:
        self._bus._remove(self)
        self._wake()

    def _wake(self) -> None:
        try:
            self._queue.put_nowait(_CLOSED)
        except queue.Full:
            # Make room: a closing subscriber does not need its backlog.
            with self._queue.mutex:
                self._queue.queue.clear()
            self._queue.put_nowait(_CLOSED)

    def _offer(self, event: dict[str, Any]) -> bool:
        try:
            self._queue.put_nowait(event)
            return True
        except queue.Full:
            return False


class EventBus:
    """Publishing never blocks: a subscriber that falls `maxsize` events
    behind is dropped, so one stuck status bar cannot stall dictation."""

    def __init__(self, maxsize: int = 256) -> None:
        self._maxsize = maxsize
        self._subs: set[Subscription] = set()
        self._lock = threading.Lock()

    @property
    def subscriber_count(self) -> int:
        with self._lock:
            return len(self._subs)

    def subscribe(self) -> Subscription:
        sub = Subscription(self, self._maxsize)
        with self._lock:
            self._subs.add(sub)
        return sub

    def publish(self, event: dict[str, Any]) -> None:
        with self._lock:
            subs = list(self._subs)
        for sub in subs:
            if not sub._offer(event):
                log.warning("dropping a subscriber that is %d events behind", self._maxsize)
                sub.close()

    def close(self) -> None:
        with self._lock:
            subs, self._subs = list(self._subs), set()
        for sub in subs:
            sub._wake()

    def _remove(self, sub: Subscription) -> None:
        with self._lock:
            self._subs.discard(sub)
