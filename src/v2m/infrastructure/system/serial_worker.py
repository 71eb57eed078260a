"""One daemon thread that runs jobs in order: the ASR worker.

concurrent.futures.ThreadPoolExecutor joins its threads at interpreter exit,
so a job stuck in a read (a FIFO swapped in for a file) or a long model pass
kept a daemon that had logged "stopped" alive. This worker's thread never
holds the process up: shutdown ends it, whatever the job is doing.
"""

from __future__ import annotations

import queue
import threading
from concurrent.futures import Executor, Future
from typing import Any, Callable

_STOP = object()


class SerialWorker(Executor):
    def __init__(self, name: str = "v2m-asr") -> None:
        self._jobs: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._closed = False
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future:
        future: Future = Future()
        with self._lock:
            if self._closed:
                raise RuntimeError("the worker has shut down")
            self._jobs.put((future, fn, args, kwargs))
        return future

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        with self._lock:
            self._closed = True
            if cancel_futures:
                self._cancel_queued()
            self._jobs.put(_STOP)
        if wait:
            self._thread.join()

    def join(self, timeout_s: float) -> bool:
        """Wait for the thread to end after shutdown(); False if it is still busy."""
        self._thread.join(max(0.0, timeout_s))
        return not self._thread.is_alive()

    def _cancel_queued(self) -> None:
        while True:
            try:
                job = self._jobs.get_nowait()
            except queue.Empty:
                return
            if job is not _STOP:
                job[0].cancel()

    def _run(self) -> None:
        while (job := self._jobs.get()) is not _STOP:
            future, fn, args, kwargs = job
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(fn(*args, **kwargs))
            except BaseException as exc:  # handed to the waiter, as ThreadPoolExecutor does
                future.set_exception(exc)
