"""File transcription: sequential WhisperModel.transcribe against
faster-whisper's BatchedInferencePipeline, on one ~3-minute file.

The file is espeak-ng speech (12 sentences, cycled) with 1 s pauses, as a
16 kHz WAV. Every system gets the same decoded audio, the same WhisperModel
(tiny.en, CPU int8), beam 5 and the Silero VAD filter; they run interleaved
within each rep, after one warm-up pass. "segment ts" cues are Whisper's own
segments; "word ts" cues are its aligned words grouped by
v2m.domain.subtitles.cues_from_words. The last row is v2m's
WhisperFileTranscriber with its default, from the file path (decoding, gate
and fallback included).

Columns: wall time; its ratio to sequential with segment timestamps; words
lost (reference words with no counterpart: dropped speech); WER; and how far
the nearest cue start lies from each sentence's true onset (median).

    .venv/bin/python bench/file_transcription.py [--reps 3] [--minutes 3] [--threads 0]
"""

from __future__ import annotations

import argparse
import difflib
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "src"))

from tests.support.speech import POOL, read_pcm, say, silence, write_pcm  # noqa: E402
from tests.support.wer import wer, words  # noqa: E402
from v2m.domain.subtitles import cues_from_words  # noqa: E402
from v2m.domain.transcript import TimedSegment, TimedWord
from v2m.infrastructure.asr.faster_whisper_transcriber import WhisperOptions  # noqa: E402
from v2m.infrastructure.models.model_locator import bundled_model  # noqa: E402
from v2m.infrastructure.asr.whisper_file_transcriber import WhisperFileTranscriber  # noqa: E402

# name: (engine, batch size, word timestamps)
SYSTEMS = {
    "sequential, segment ts": ("sequential", 0, False),
    "sequential, word ts": ("sequential", 0, True),
    "batched 4, segment ts": ("batched", 4, False),
    "batched 8, segment ts": ("batched", 8, False),
    "batched 4, word ts": ("batched", 4, True),
    "batched 8, word ts": ("batched", 8, True),
    "v2m default (file)": ("v2m", 0, True),
}


def onset(pcm: bytes, threshold: int = 300) -> float:
    """Seconds to the first sample above the threshold: where the voice starts."""
    import numpy as np

    loud = np.flatnonzero(np.abs(np.frombuffer(pcm, dtype=np.int16)) > threshold)
    return loud[0] / 16000 if len(loud) else 0.0


def build(target_s: float, tmp: Path) -> tuple[Path, str, float, list[float]]:
    """Sentences with 1 s pauses until the file reaches target_s; also the sentence onsets."""
    clips = [read_pcm(say(s, tmp / f"p{i}.wav")) for i, s in enumerate(POOL)]
    parts, text, total, onsets, i = [silence(0.5)], [], 0.5, [], 0
    while total < target_s:
        clip = clips[i % len(POOL)]
        onsets.append(total + onset(clip))
        parts += [clip, silence(1.0)]
        text.append(POOL[i % len(POOL)])
        total += len(clip) / 32000 + 1.0
        i += 1
    return write_pcm(tmp / "long.wav", b"".join(parts)), " ".join(text), total, onsets


def run_raw(model, audio, engine: str, batch: int, word_ts: bool) -> list[TimedSegment]:
    from faster_whisper import BatchedInferencePipeline

    common = dict(language="en", beam_size=5, vad_filter=True, word_timestamps=word_ts)
    if engine == "sequential":
        segments, _ = model.transcribe(audio, **common)
    else:
        segments, _ = BatchedInferencePipeline(model).transcribe(audio, batch_size=batch,
                                                                 without_timestamps=word_ts, **common)
    cues = []
    for s in segments:
        cues += cues_from_words([TimedWord(w.start, w.end, w.word) for w in s.words]) if word_ts \
            else [TimedSegment(s.start, s.end, s.text.strip())]
    return cues


def words_lost(reference: str, hypothesis: str) -> int:
    ref, hyp = words(reference), words(hypothesis)
    ops = difflib.SequenceMatcher(None, ref, hyp, autojunk=False).get_opcodes()
    return sum(max(0, (i2 - i1) - (j2 - j1)) for op, i1, i2, j1, j2 in ops if op in ("delete", "replace"))


def onset_error_ms(cues: list[TimedSegment], onsets: list[float]) -> float:
    starts = [c.start_s for c in cues] or [0.0]
    return statistics.median(min(abs(s - t) for s in starts) for t in onsets) * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--minutes", type=float, default=3.0)
    parser.add_argument("--threads", type=int, default=0, help="CTranslate2 CPU threads; 0 as the daemon's default")
    args = parser.parse_args()
    from faster_whisper import WhisperModel, decode_audio

    wav, reference, seconds, onsets = build(args.minutes * 60, Path(tempfile.mkdtemp(prefix="v2m-bench-files-")))
    model = WhisperModel(str(bundled_model()), device="cpu", compute_type="int8", cpu_threads=args.threads)
    v2m = WhisperFileTranscriber(lambda: model, lambda: WhisperOptions(language="en", beam_size=5))
    audio = decode_audio(str(wav))
    run_raw(model, audio, "sequential", 0, False)  # warm-up: allocations, page cache
    runs: dict[str, list[dict]] = {name: [] for name in SYSTEMS}
    for rep in range(args.reps):
        for name, (engine, batch, word_ts) in SYSTEMS.items():
            started = time.perf_counter()
            cues = list(v2m.transcribe_file(str(wav)).segments) if engine == "v2m" else \
                run_raw(model, audio, engine, batch, word_ts)
            elapsed = time.perf_counter() - started
            text = " ".join(c.text for c in cues)
            runs[name].append({"wall": elapsed, "wer": wer(reference, text), "lost": words_lost(reference, text),
                               "cues": len(cues), "onset_ms": onset_error_ms(cues, onsets)})
            print(f"  rep {rep + 1} {name:<24} {elapsed:6.2f} s  WER {runs[name][-1]['wer']:.3f}", file=sys.stderr)
    report(runs, seconds, len(words(reference)), args)


def report(runs: dict[str, list[dict]], seconds: float, n_words: int, args) -> None:
    import ctranslate2
    import faster_whisper

    base = statistics.median(r["wall"] for r in runs["sequential, segment ts"])
    print(f"{seconds:.0f} s file ({n_words} words), tiny.en int8 CPU, {os.cpu_count()} cores, "
          f"cpu_threads={args.threads}, beam 5, {args.reps} reps interleaved; faster-whisper "
          f"{faster_whisper.__version__}, CTranslate2 {ctranslate2.__version__}")
    print(f"{'system':<24} {'wall s':>7} {'min-max':>12} {'ratio':>6} {'x RT':>5} {'cues':>5} "
          f"{'lost':>5} {'WER':>6} {'onset err ms':>13}")
    for name, r in runs.items():
        walls = [x["wall"] for x in r]
        median = statistics.median(walls)
        print(f"{name:<24} {median:>7.2f} {min(walls):>5.2f}-{max(walls):<6.2f} {median / base:>6.2f} "
              f"{seconds / median:>5.1f} {statistics.median(x['cues'] for x in r):>5.0f} "
              f"{max(x['lost'] for x in r):>5} {statistics.mean(x['wer'] for x in r):>6.3f} "
              f"{statistics.median(x['onset_ms'] for x in r):>13.0f}")


if __name__ == "__main__":
    main()
