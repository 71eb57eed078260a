"""Stop-to-text by language (bench/dictation_latency.py --language en,es,auto).

One daemon, one model (multilingual `base` by default), v2m's streaming and
fast stop; transcription.language switched by config between dictations,
interleaved so every setting meets the same machine. `en` hears English
speech (tests/support/speech.py's POOL); every other setting hears Spanish
(tests/support/spanish.py's POOL, espeak-ng's es voice): `auto` is the same
Spanish speech with the language left to detect. Each repetition starts at
another sentence, and within a repetition every Spanish setting hears the
same audio, and `en` English speech of the same length.
Both stop styles: after a 0.8 s pause, and 0.1 s after the last word.

The language a dictation was read in comes from its transcription_update
events (a SUBSCRIBE connection); WER is over Unicode words
(tests/support/spanish.py), so a lost accent counts.
"""

from __future__ import annotations

import json
import os
import statistics
import tempfile
import threading
import time
from pathlib import Path

from bench.stats import PATHS, STYLES, pct
from tests.support import spanish
from tests.support.speech import POOL
from v2m.domain.errors import V2mError
from v2m.ipc.client import DaemonClient

LEAD_S = 0.3  # build()'s silence before the speech
# Longer English sentences (3.6-4.1 s), so the longer Spanish ones have a
# match; POOL's run 2.8-3.5 s.
LONGER_ENGLISH = ["The children built a small wooden boat and sailed it across the pond.",
                  "My neighbour lent me his ladder so I could clean the gutters this weekend.",
                  "The new bakery on the corner sells fresh bread until late in the evening.",
                  "After the meeting we walked down to the river and watched the boats go by."]


class Languages:
    """The language of each dictation's last final transcription_update."""

    def __init__(self, sock: Path) -> None:
        self.finals: list[tuple[float, str]] = []
        self._client = DaemonClient(sock, timeout_s=None)
        stream = self._client.events()
        threading.Thread(target=self._read, args=(stream,), daemon=True).start()

    def _read(self, stream) -> None:
        try:
            for event in stream:
                if event.get("type") == "transcription_update" and event.get("final"):
                    self.finals.append((time.monotonic(), event.get("language", "?")))
        except (OSError, V2mError):
            pass  # closed

    def since(self, started: float) -> str:
        time.sleep(0.1)  # the last update precedes the reply; let it arrive
        found = [language for at, language in self.finals if at >= started]
        return found[-1] if found else "-"

    def close(self) -> None:
        self._client.close()


def speech_for(language: str) -> tuple[list[str], str]:
    return (POOL, "en-us") if language == "en" else (spanish.POOL, spanish.VOICE)


def run_languages(args, bench_class, build) -> None:
    languages = [x.strip() for x in args.language.split(",") if x.strip()]
    target = (args.targets or [5])[0]
    tmp = Path(tempfile.mkdtemp(prefix="v2m-bench-languages-"))
    voices = {speech_for(lang)[1] for lang in languages}
    reps = [{voice: build(target, tmp / f"{voice}-{r}.wav", tmp, first=r * 2,
                          pool=POOL if voice == "en-us" else spanish.POOL, voice=voice)
             for voice in voices - {"en-us"}} for r in range(args.reps)]
    if "en-us" in voices:
        _match_english(reps, target, tmp, build)
    bench = bench_class(tmp, args.model)
    heard = Languages(bench.sock)
    runs: dict[tuple[str, str], list[dict]] = {}
    try:
        for language in languages:  # one dictation each first: nothing measured pays a first-use cost
            bench.configure({"language": language})
            bench.dictate(reps[0][speech_for(language)[1]][0], 0.8)
        for dictations in reps:
            for style, after in STYLES.items():
                for language in languages:
                    wav, reference = dictations[speech_for(language)[1]]
                    bench.configure({"language": language})
                    started = time.monotonic()
                    run = bench.dictate(wav, after)
                    run.update(wer=spanish.wer(reference, run["text"]), language=heard.since(started),
                               speech_s=_seconds(wav) - LEAD_S)
                    runs.setdefault((language, style), []).append(run)
    finally:
        heard.close()
        bench.close()
    report(languages, runs, args, target)


def _match_english(reps: list[dict], target: int, tmp: Path, build) -> None:
    """Give each repetition English speech as long as its Spanish (the
    closest in length not yet used): stop-to-text grows with the words, and
    the Spanish sentences run longer (3.41 s against 3.20 s on average), so
    unmatched sentences would bill the test material to the language."""
    pool = POOL + LONGER_ENGLISH
    english = [build(target, tmp / f"en-us-c{i}.wav", tmp, first=i, pool=pool) for i in range(len(pool))]
    lengths = [_seconds(wav) for wav, _ in english]
    unused = list(range(len(english)))
    for rep in reps:
        spoken = _seconds(rep[spanish.VOICE][0]) if spanish.VOICE in rep else target
        best = min(unused, key=lambda i: abs(lengths[i] - spoken))
        unused.remove(best)
        rep["en-us"] = english[best]
        if not unused:
            unused = list(range(len(english)))


def report(languages: list[str], runs: dict, args, target: int) -> None:
    model = args.model_label
    print(f"stop-to-text (ms), WER and stop paths: {args.reps} dictations of ~{target} s a cell; "
          f"{model}, CPU int8, {os.cpu_count()} cores")
    print(f"{'language':<9} {'speech':<8} {'stop style':<17} {'p50':>6} {'p95':>6} {'WER':>6} {'speech s':>9}  "
          f"{'paths (ready/joined/tail)':<26} read in")
    p50: dict[tuple[str, str], float] = {}
    for style in STYLES:
        for language in languages:
            r = runs[(language, style)]
            ms = [x["stop_s"] * 1000 for x in r]
            p50[language, style] = pct(ms, .5)
            paths = "/".join(str(sum(x["path"] == p for x in r)) for p in PATHS)
            read = ", ".join(f"{lang} {n}" for lang, n in sorted(_counts(x["language"] for x in r).items()))
            print(f"{language:<9} {'English' if language == 'en' else 'Spanish':<8} {style:<17} "
                  f"{pct(ms, .5):>6.0f} {pct(ms, .95):>6.0f} {statistics.mean(x['wer'] for x in r):>6.3f} "
                  f"{statistics.mean(x['speech_s'] for x in r):>9.2f}  {paths:<26} {read}")
    wers = {lang: statistics.mean(x["wer"] for s in STYLES for x in runs[(lang, s)]) for lang in languages}
    print("\ntargets:")
    for language in (x for x in languages if x != "en"):
        print(f"  {language}: 0.8 s pause p50 {p50[language, '0.8 s pause']:.0f} ms (< 60)", end="")
        if "en" in languages:
            ratio = p50[language, "stop 0.1 s after"] / p50["en", "stop 0.1 s after"]
            print(f"; stop 0.1 s after, p50 / en's {ratio:.2f} (<= 1.30)", end="")
        if language != "es" and "es" in languages:  # the same Spanish audio
            print(f", / es's {p50[language, 'stop 0.1 s after'] / p50['es', 'stop 0.1 s after']:.2f}", end="")
        print()
    if "auto" in wers and "es" in wers:
        print(f"  WER auto {wers['auto']:.3f} - es {wers['es']:.3f} = {wers['auto'] - wers['es']:+.3f} (<= +0.010)")
    print("\nper dictation: " + json.dumps([{"language": lang, "style": style, "ms": round(x["stop_s"] * 1000),
                                             "path": x["path"], "read_in": x["language"], "wer": round(x["wer"], 3),
                                             "text": x["text"]} for (lang, style), r in runs.items() for x in r],
                                           ensure_ascii=False))


def _counts(items) -> dict[str, int]:
    out: dict[str, int] = {}
    for item in items:
        out[item] = out.get(item, 0) + 1
    return out


def _seconds(wav: Path) -> float:
    import wave

    with wave.open(str(wav)) as w:
        return w.getnframes() / w.getframerate()
