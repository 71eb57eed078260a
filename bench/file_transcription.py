"""File transcription: sequential WhisperModel.transcribe against
faster-whisper's BatchedInferencePipeline, on one ~3-minute file.

The file is espeak-ng speech (12 sentences, cycled) with 1 s pauses, as a
16 kHz WAV. Both systems run through v2m's WhisperFileTranscriber (the
`batched` switch), so each timing includes decoding the file, the Silero VAD
filter and the hallucination gate, as a user's request would. Same model
object (tiny.en, CPU int8), beam 5, timestamps on; systems interleaved within
each rep, after one warm-up pass.

    .venv/bin/python bench/file_transcription.py [--reps 3] [--minutes 3] [--threads 0]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "src"))

from tests.support.speech import read_pcm, say, silence, write_pcm  # noqa: E402
from tests.support.wer import wer  # noqa: E402
from v2m.infrastructure import whisper_file_transcriber as wft  # noqa: E402
from v2m.infrastructure.faster_whisper_transcriber import WhisperOptions  # noqa: E402
from v2m.infrastructure.model_locator import bundled_model  # noqa: E402

POOL = [
    "The quick brown fox jumps over the lazy dog.",
    "Please send the quarterly report to my manager by Friday.",
    "Voice dictation should never lose the last word.",
    "We will meet at the station at half past nine tomorrow.",
    "The weather has been cold and rainy for most of the week.",
    "Remember to buy milk, bread and coffee on the way home.",
    "Our team finished the new release two days ahead of schedule.",
    "She asked whether the library opens early on Saturday mornings.",
    "The museum closes at six so we should leave after lunch.",
    "Write a short summary of the meeting and share it with everyone.",
    "The train was delayed because of a signal failure near the city.",
    "I think the second option is cheaper and easier to maintain.",
]
# name: (batched, batch size)
SYSTEMS = {"sequential": (False, 0), "batched, batch 4": (True, 4), "batched, batch 8": (True, 8)}


def build(target_s: float, tmp: Path) -> tuple[Path, str, float]:
    """Sentences with 1 s pauses until the file reaches target_s."""
    clips = [read_pcm(say(s, tmp / f"p{i}.wav")) for i, s in enumerate(POOL)]
    parts, words, total, i = [silence(0.5)], [], 0.5, 0
    while total < target_s:
        parts += [clips[i % len(POOL)], silence(1.0)]
        words.append(POOL[i % len(POOL)])
        total += len(clips[i % len(POOL)]) / 32000 + 1.0
        i += 1
    return write_pcm(tmp / "long.wav", b"".join(parts)), " ".join(words), total


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--minutes", type=float, default=3.0)
    parser.add_argument("--threads", type=int, default=0, help="CTranslate2 CPU threads; 0 as the daemon's default")
    args = parser.parse_args()
    from faster_whisper import WhisperModel

    wav, reference, seconds = build(args.minutes * 60, Path(tempfile.mkdtemp(prefix="v2m-bench-files-")))
    model = WhisperModel(str(bundled_model()), device="cpu", compute_type="int8", cpu_threads=args.threads)
    options = WhisperOptions(language="en", beam_size=5)
    engines = {name: wft.WhisperFileTranscriber(lambda: model, lambda: options, batched=batched,
                                                batch_size=size or wft.BATCH_SIZE)
               for name, (batched, size) in SYSTEMS.items()}
    engines["sequential"].transcribe_file(str(wav))  # warm-up: allocations, page cache
    runs: dict[str, list[tuple[float, float, int]]] = {name: [] for name in SYSTEMS}
    for rep in range(args.reps):
        for name, engine in engines.items():
            started = time.perf_counter()
            result = engine.transcribe_file(str(wav))
            elapsed = time.perf_counter() - started
            runs[name].append((elapsed, wer(reference, result.text), len(result.segments)))
            print(f"  rep {rep + 1} {name:<18} {elapsed:6.2f} s  WER {runs[name][-1][1]:.3f}", file=sys.stderr)
    report(runs, seconds, args)


def report(runs: dict[str, list[tuple[float, float, int]]], seconds: float, args) -> None:
    import ctranslate2
    import faster_whisper

    base = statistics.median(r[0] for r in runs["sequential"])
    print(f"{seconds:.0f} s file, tiny.en int8 CPU, {os.cpu_count()} cores, cpu_threads={args.threads}, "
          f"beam 5, {args.reps} reps interleaved; faster-whisper {faster_whisper.__version__}, "
          f"CTranslate2 {ctranslate2.__version__}")
    print(f"{'system':<18} {'wall s (median)':>16} {'min-max':>13} {'vs sequential':>14} {'x realtime':>11} "
          f"{'segments':>9} {'WER':>6}")
    for name, r in runs.items():
        walls = [x[0] for x in r]
        median = statistics.median(walls)
        print(f"{name:<18} {median:>16.2f} {min(walls):>6.2f}-{max(walls):<6.2f} {median / base:>14.2f} "
              f"{seconds / median:>11.1f} {statistics.median(x[2] for x in r):>9.0f} "
              f"{statistics.mean(x[1] for x in r):>6.3f}")


if __name__ == "__main__":
    main()
