"""One model on every CPU thread against the split (decoder_threads.py): the
encoder on every thread, the decoder on a one-thread copy of the model.

Both are loaded in one process and timed interleaved on the same audio,
through the transcriber's own passes: a sentence's quick pass alone and with
the sentence before as context (as the speculative pass at a pause reads
it), the stop's pass (beam 2), a 20 s whole read on the full window (as the
baseline and loud rooms read), and a 90 s file (the batched pipeline). It
prints the median of each, the ratio split / one model, and whether the two
read the same text.

    .venv/bin/python bench/decoder_threads.py [--reps 5] [--threads 2] [--models tiny.en base]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

from dictation_latency import build, noisy  # noqa: E402
from tests.support import multilingual  # noqa: E402
from tests.support.speech import read_pcm  # noqa: E402
from v2m.domain.transcript import FULL_WINDOW_S, DecodeRequest, HeardBefore  # noqa: E402
from v2m.infrastructure.asr.faster_whisper_transcriber import FasterWhisperTranscriber, WhisperOptions  # noqa: E402
from v2m.infrastructure.asr.whisper_file_transcriber import WhisperFileTranscriber  # noqa: E402
from v2m.infrastructure.models.model_locator import bundled_model  # noqa: E402


def _model_path(name: str) -> Path:
    return bundled_model() if name == "tiny.en" else multilingual.base_model_path()


def _cases(work: Path) -> list[tuple[str, object]]:
    """(name, run(transcriber) -> text) for each pass measured."""
    wav, reference = build(8, work / "two.wav", work, first=3)  # two sentences
    pcm = read_pcm(noisy(wav, 0.0, "brown", 10, work, 0))
    cut = len(pcm) * 52 // 100 // 2 * 2  # about where the second sentence starts
    first_text = reference.split(".")[0] + "."
    before = HeardBefore(pcm[:cut], first_text)
    whole_wav, _ = build(20, work / "whole.wav", work, first=0)
    whole = read_pcm(noisy(whole_wav, 0.0, "pink", 5, work, 0))
    file_wav, _ = build(90, work / "file.wav", work, first=0)

    def text(transcriber, audio: bytes, request: DecodeRequest) -> str:
        return " ".join(s.text for s in transcriber.transcribe(audio, request) or [])

    def file(transcriber) -> str:
        files = WhisperFileTranscriber(transcriber.whisper_model, lambda: transcriber.options)
        return files.transcribe_file(str(file_wav)).text

    return [
        ("sentence, quick, beam 5", lambda t: text(t, pcm[cut:], DecodeRequest("", 5, 10))),
        ("with context, beam 5", lambda t: text(t, pcm[cut:], DecodeRequest("", 5, 10, before))),
        ("with context, beam 2", lambda t: text(t, pcm[cut:], DecodeRequest("", 2, 10, before))),
        ("20 s whole read, beam 5", lambda t: text(t, whole, DecodeRequest("", 5, FULL_WINDOW_S))),
        ("90 s file, batched", file),
    ]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--models", nargs="+", default=["tiny.en", "base"])
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="v2m-dec-"))
    cases = _cases(work)
    print(f"median ms of {args.reps} interleaved runs; int8, {args.threads} CPU threads; "
          "split: the decoder on a one-thread copy")
    print(f"{'model':<8} {'pass':<26}{'one model':>10}{'split':>9}{'split/one':>11}  same text")
    for name in args.models:
        pair = {}
        for label, split in (("one model", False), ("split", True)):
            transcriber = FasterWhisperTranscriber(name, _model_path(name),
                                                   WhisperOptions(cpu_threads=args.threads, split_decoder=split))
            transcriber.load()
            pair[label] = transcriber
        for case, run in cases:
            times: dict[str, list[float]] = {label: [] for label in pair}
            texts = {label: run(t) for label, t in pair.items()}  # warm, and the texts compared
            for _ in range(args.reps):
                for label, transcriber in pair.items():
                    started = time.perf_counter()
                    run(transcriber)
                    times[label].append(1000 * (time.perf_counter() - started))
            one, split = (statistics.median(times[label]) for label in ("one model", "split"))
            same = "yes" if texts["one model"] == texts["split"] else "NO"
            print(f"{name:<8} {case:<26}{one:>10.0f}{split:>9.0f}{split / one:>11.2f}  {same}", flush=True)


if __name__ == "__main__":
    main()
