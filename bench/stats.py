"""Summaries the dictation benchmarks share."""

from __future__ import annotations

import statistics


def pct(values: list[float], q: float) -> float:
    """The q-quantile, nearest rank."""
    values = sorted(values)
    return values[min(len(values) - 1, round(q * (len(values) - 1)))]


def cell(runs: list[dict]) -> str:
    """'p50/p95 WER w' of runs with "stop_s" and "wer"."""
    ms = [x["stop_s"] * 1000 for x in runs]
    return f"{pct(ms, .5):>6.0f}/{pct(ms, .95):<5.0f} WER {statistics.mean(x['wer'] for x in runs):.3f}"
