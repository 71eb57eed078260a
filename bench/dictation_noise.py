"""Stop-to-text and WER in noise (bench/dictation_latency.py --noise KIND --snr DB ...).

Each dictation is mixed with `KIND` noise at each SNR (against the speech's
active level; "quiet" adds none), running from the first sample through the
pause until the stop. The systems run side by side on the same noisy audio
within a repetition, conditions interleaved, so v2m's WER is measured against
the whole-recording baseline's on the same audio, and every condition meets
the same machine.
"""

from __future__ import annotations

import json
import statistics
from pathlib import Path

from bench.stats import PATHS, STYLES, cell



def run_noise(args, bench, reps: list[dict], systems: dict, noisy, wer, tmp: Path) -> dict:
    """runs[(condition, style, system)] = [run, ...]"""
    runs: dict[tuple, list[dict]] = {}
    for dictations in reps:
        for target, (wav, reference) in dictations.items():
            if target not in args.targets:
                continue
            for condition in args.snr:
                for style, after in STYLES.items():
                    played, pause = (wav, after) if condition == "quiet" else \
                        (noisy(wav, after, args.noise, float(condition), tmp), 0.0)
                    for system, settings in systems.items():
                        bench.configure(settings)
                        run = bench.dictate(played, pause)
                        run["wer"] = wer(reference, run["text"])
                        runs.setdefault((condition, style, system), []).append(run)
    return runs


def report(args, runs: dict, systems: dict, label: str) -> None:
    print(f"stop-to-text in ms (p50/p95), mean WER and v2m's stop paths (ready/joined/tail); {label}; "
          f"{args.reps} dictations of ~{'/'.join(map(str, args.targets))} s a cell")
    print(f"{'condition':<10} {'stop style':<17}" + "".join(f"{name:>26}" for name in systems) + "  v2m paths")
    for condition in args.snr:
        name = "quiet" if condition == "quiet" else f"{condition} dB"
        for style in STYLES:
            cells = [cell(runs[(condition, style, system)]) for system in systems]
            paths = [x["path"] for x in runs[(condition, style, "v2m")]]
            print(f"{name:<10} {style:<17}" + "".join(f"{c:>26}" for c in cells)
                  + "  " + "/".join(str(paths.count(p)) for p in PATHS))
    print("\nper dictation: " + json.dumps([{"condition": c, "style": st, "system": sy, "ms": round(x["stop_s"] * 1000),
                                             "path": x["path"], "wer": round(x["wer"], 3), "text": x["text"]}
                                            for (c, st, sy), r in runs.items() for x in r]))
    if "baseline" not in systems:
        return
    print("\nWER, both stop styles pooled: v2m - baseline (target: <= 0), and dictations v2m got better/worse")
    for condition in args.snr:
        v = [x["wer"] for s in STYLES for x in runs[(condition, s, "v2m")]]
        b = [x["wer"] for s in STYLES for x in runs[(condition, s, "baseline")]]
        better = sum(x < y for x, y in zip(v, b))
        worse = sum(x > y for x, y in zip(v, b))
        print(f"  {condition:>5}: v2m {statistics.mean(v):.3f} - baseline {statistics.mean(b):.3f} = "
              f"{statistics.mean(v) - statistics.mean(b):+.3f}; better {better}, worse {worse} of {len(v)}")
