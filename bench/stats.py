"""Summaries the dictation benchmarks share."""

from __future__ import annotations

import statistics

# How a dictation bench stops: after a 0.8 s pause, or right after the last word.
STYLES = {"0.8 s pause": 0.8, "stop 0.1 s after": 0.1}
# How the stop found its text: a pass already done, one still running, or one started at the stop.
PATHS = ("ready", "joined", "tail")


def pct(values: list[float], q: float) -> float:
    """The q-quantile, nearest rank."""
    values = sorted(values)
    return values[min(len(values) - 1, round(q * (len(values) - 1)))]


def cell(runs: list[dict]) -> str:
    """'p50/p95 WER w' of runs with "stop_s" and "wer"."""
    ms = [x["stop_s"] * 1000 for x in runs]
    return f"{pct(ms, .5):>6.0f}/{pct(ms, .95):<5.0f} WER {statistics.mean(x['wer'] for x in runs):.3f}"
