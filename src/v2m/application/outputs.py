"""Deliver text to every configured output; one failure never stops the rest."""

from __future__ import annotations

import logging
from typing import Sequence

from v2m.application.ports import TextSink

log = logging.getLogger(__name__)


def deliver_all(text: str, sinks: Sequence[TextSink]) -> dict[str, str]:
    """Return {sink name: "ok" or "failed: reason"}."""
    results: dict[str, str] = {}
    for sink in sinks:
        try:
            sink.deliver(text)
            results[sink.name] = "ok"
        except Exception as exc:  # any adapter failure is reported, never fatal
            log.warning("output %s failed: %s", sink.name, exc)
            results[sink.name] = f"failed: {exc}"
    return results


def failed(results: dict[str, str]) -> list[str]:
    return [name for name, result in results.items() if result != "ok"]
