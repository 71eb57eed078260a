"""WER of the three dictation systems over every starting sentence.

`dictation_latency.py` times stops in real time, so it can afford only a
few dictations, and a WER over a few sentences is one sentence's luck (the
5 s one is a single sentence of 9 words). This benchmark needs no clock: it
feeds the same synthesized dictations frame by frame, faster than real time,
through the daemon's own pipeline (webrtcvad, segmenter, speculative and
quick passes with context, beam 2 at the stop, tiny.en), once for each of the
12 starting sentences of the pool and both stop styles, and scores every
system on the same audio:

  v2m            streaming + fast stop (speculative passes, 10 s encoder window,
                 the last seconds heard read again as context)
  fast stop off  streaming, every pass on the full 30 s window
  baseline       the whole recording, faster-whisper's stock transcribe, beam 5

With --noise KIND --snr DB ..., each dictation is mixed with that noise (as
dictation_latency.py mixes it: from the first sample until the stop), one
row per SNR, and the voice detector is the daemon's (--vad; with noise the
default is "auto": Silero); --systems picks a subset.

    .venv/bin/python bench/dictation_accuracy.py [--targets 5 20 45]
    .venv/bin/python bench/dictation_accuracy.py --noise brown --snr 10 5 --targets 20 --systems v2m,baseline
    .venv/bin/python bench/dictation_accuracy.py --noise pink --snr 5 --targets 20 --seeds 3 --systems v2m,baseline
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "src"))

from dictation_latency import STYLES, TARGETS_S, build, noisy  # noqa: E402
from tests.support.speech import POOL, read_pcm, silence  # noqa: E402
from tests.support.wer import wer, words  # noqa: E402
from v2m.application.dictation_session import DictationOptions, DictationSession  # noqa: E402
from v2m.domain.audio_math import FRAME_BYTES  # noqa: E402
from v2m.infrastructure.asr.faster_whisper_transcriber import FasterWhisperTranscriber, WhisperOptions  # noqa: E402
from v2m.infrastructure.models.model_locator import bundled_model  # noqa: E402
from v2m.bootstrap import build_vad  # noqa: E402
from v2m.config.settings import AudioOptions  # noqa: E402

SYSTEMS = {"v2m": True, "fast stop off": False, "baseline": None}


class _NoEvents:
    def publish(self, _event: dict) -> None:
        pass


class Pipeline:
    def __init__(self, vad: str = "webrtc") -> None:
        self.audio = AudioOptions(vad=vad)
        self.transcriber = FasterWhisperTranscriber("tiny.en", bundled_model(), WhisperOptions())
        self.transcriber.load()
        self.worker = ThreadPoolExecutor(1)

    def dictate(self, pcm: bytes, fast_stop: bool | None) -> str:
        if fast_stop is None:  # the whole-recording baseline
            import numpy as np

            audio = np.frombuffer(pcm, dtype=np.int16).astype(np.float32) / 32768.0
            segments, _ = self.transcriber.whisper_model().transcribe(audio, language="en", beam_size=5)
            return " ".join(s.text.strip() for s in segments)
        # No provisional passes: they only show words early and never change
        # the text, and fed faster than real time, each would re-read the open
        # utterance (babble is one utterance of 20 s: hours for a table).
        options = DictationOptions(fast_stop=fast_stop, min_provisional_ms=10**9)
        session = DictationSession(build_vad(self.audio), self.transcriber, self.worker, _NoEvents(), options)
        for offset in range(0, len(pcm) - FRAME_BYTES + 1, FRAME_BYTES):
            session.feed(pcm[offset:offset + FRAME_BYTES])
            # Let the ASR thread catch up before the next frame, as it does in
            # real time here (a pass takes 0.1-0.5 s; pauses last 1 s): the work
            # left at the stop is what a real stop leaves.
            self.worker.submit(int).result()
        return session.finish()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--targets", type=int, nargs="+", default=list(TARGETS_S), help="dictation lengths, s")
    parser.add_argument("--noise", choices=["brown", "pink", "babble"], help="mix this noise in")
    parser.add_argument("--snr", type=float, nargs="+", default=[10.0],
                        help="with --noise: speech over noise, dB, one or more")
    parser.add_argument("--vad", default=None, help="webrtc (the default in quiet), silero or auto (with --noise)")
    parser.add_argument("--systems", default=",".join(SYSTEMS), help="a subset of: " + ", ".join(SYSTEMS))
    # At pink 5 dB one run of 24 dictations moves by +-30 errors (one token
    # shifted by int8 changes a sentence there): more noise samples average it.
    parser.add_argument("--seeds", type=int, default=1, help="with --noise: noise samples per dictation")
    args = parser.parse_args()
    systems = {name: SYSTEMS[name] for name in args.systems.split(",")}
    snrs: list[float | None] = list(args.snr) if args.noise else [None]  # None: no noise
    vad = args.vad or ("auto" if args.noise else "webrtc")
    tmp = Path(tempfile.mkdtemp(prefix="v2m-acc-"))
    pipeline = Pipeline(vad)
    both = {"v2m", "baseline"} <= set(systems)
    samples = f" x {args.seeds} noise samples" if args.noise and args.seeds > 1 else ""
    print(f"WER over {len(POOL)} starting sentences x {len(STYLES)} stop styles{samples}; errors / reference words; "
          f"{args.noise or 'no'} noise, vad {vad}")
    print(f"{'audio':>6} {'noise':>6}" + "".join(f"{name:>22}" for name in systems)
          + (f"{'v2m - baseline':>18}" if both else ""))
    for target in args.targets:
        for snr in snrs:
            errors = {name: 0.0 for name in systems}
            total = 0
            for first in range(len(POOL)):
                wav, reference = build(target, tmp / f"a{target}-{first}.wav", tmp, first=first)
                n = len(words(reference))
                for after in STYLES.values():
                    for seed in range(args.seeds if snr is not None else 1):
                        pcm = read_pcm(wav) + silence(after) if snr is None else \
                            read_pcm(noisy(wav, after, args.noise, snr, tmp, seed))
                        total += n
                        for name in systems:
                            errors[name] += wer(reference, pipeline.dictate(pcm, SYSTEMS[name])) * n
            cells = {name: errors[name] / total for name in systems}
            gap = f"{(cells['v2m'] - cells['baseline']) * 100:>+15.1f} pt" if both else ""
            condition = "quiet" if snr is None else f"{snr:g} dB"
            print(f"~{target:>4}s {condition:>6}" + "".join(f"{cells[n]:>14.3f} ({errors[n]:>4.0f})" for n in systems)
                  + gap, flush=True)


if __name__ == "__main__":
    main()
