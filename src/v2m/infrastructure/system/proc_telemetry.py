"""Process telemetry from /proc and os.times(), with no extra dependency."""

from __future__ import annotations

import os
import threading
import time


class ProcTelemetry:
    def __init__(self) -> None:
        self._page = os.sysconf("SC_PAGE_SIZE")
        self._lock = threading.Lock()
        self._last = (time.monotonic(), self._cpu_seconds())

    @staticmethod
    def _cpu_seconds() -> float:
        t = os.times()
        return t.user + t.system

    def sample(self) -> dict[str, float]:
        with open("/proc/self/statm", "rb") as fh:
            rss_pages = int(fh.read().split()[1])
        now, cpu = time.monotonic(), self._cpu_seconds()
        with self._lock:
            last_wall, last_cpu = self._last
            self._last = (now, cpu)
        wall = now - last_wall
        # CPU use since the previous sample (or since start), as % of one core.
        percent = 100.0 * (cpu - last_cpu) / wall if wall > 0 else 0.0
        return {
            "rss_mib": round(rss_pages * self._page / 2**20, 1),
            "cpu_seconds": round(cpu, 3),
            "cpu_percent": round(percent, 1),
            "threads": threading.active_count(),
        }
