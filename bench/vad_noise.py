"""End-of-speech detection in a noisy room: which VoiceDetector keeps the fast stop.

Dictations of three espeak-ng sentences from the benchmark pool (1 s between
sentences; the middle one said in two parts with a 0.45 s hesitation inside),
1 s of noise before and 1.5 s after, mixed with brown, pink or babble noise at
20, 10 and 5 dB SNR (tests/support/noise.py). Each mix runs in-process
through a detector and the real Segmenter with the daemon's options
(min_silence 600 ms, pre-roll 300 ms, post-roll 240 ms), no ASR.

Per engine x noise x SNR:
  end     where the Segmenter puts each sentence's end (its last speech frame)
          after the true end, ms p50 / p90 over sentences; "open" = never
  <=300   sentences whose end was found within 300 ms of the last word
  ready   stops 0.8 s after a sentence that find the tail silent (settled),
          so the stop can serve the speculative text ("ready" path)
  false   utterances committed inside a sentence (a pause taken for the end)
  noise   utterances of no speech, in the mixes and in 5 s of noise alone at
          the 5 dB SNR level
  onset   first frame called speech after a sentence's onset, ms p50 / max;
          clip: audio of a sentence start left out of its utterance (ms, max)
  cpu     ms per 30 ms frame in is_speech, and % of one core

    .venv/bin/python bench/vad_noise.py [--dictations 6] [--engines silero webrtc2 ...]
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import tempfile
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "src"))

from tests.support import noise  # noqa: E402
from tests.support.speech import POOL, RATE, read_pcm, say  # noqa: E402
from v2m.infrastructure.audio.noise_floor_vad import NoiseFloorVoiceDetector  # noqa: E402
from v2m.infrastructure.audio.silero_vad import SileroVoiceDetector  # noqa: E402
from v2m.infrastructure.audio.webrtc_vad import WebRtcVoiceDetector  # noqa: E402

ENGINES = {
    "webrtc0": lambda: WebRtcVoiceDetector(0),
    "webrtc1": lambda: WebRtcVoiceDetector(1),
    "webrtc2": lambda: WebRtcVoiceDetector(2),
    "webrtc3": lambda: WebRtcVoiceDetector(3),
    "floor3": lambda: NoiseFloorVoiceDetector(3),
    "floor2": lambda: NoiseFloorVoiceDetector(2),
    "silero": lambda: SileroVoiceDetector(),
}
SOFT_DB = -10.0
# (noise, SNR, gain of the middle sentence): soft speech at -10 dB in noise.
CONDITIONS = ([("clean", None, 0)] + [(kind, snr, 0) for kind in noise.KINDS for snr in (20, 10, 5)]
              + [(kind, snr, SOFT_DB) for kind in ("clean",) + noise.KINDS for snr in (20, 10)
                 if kind != "clean" or snr == 20])
HESITATION_S = 0.45
STOP_PAUSE_S = 0.8


def sentence(text: str, work: Path) -> "noise.np.ndarray":
    path = work / f"s-{zlib.crc32(text.encode()):08x}.wav"
    if not path.exists():
        say(text, path)
    return noise.trim(noise.to_float(read_pcm(path)))


def hesitant(text: str, work: Path):
    words = text.split()
    half = len(words) // 2
    return noise.hesitant(sentence(" ".join(words[:half]), work),
                          sentence(" ".join(words[half:]), work), HESITATION_S)


def scenes(count: int, work: Path, soft_db: float = 0.0) -> list[noise.Scene]:
    out = []
    for d in range(count):
        texts = [POOL[(3 * d + k) % len(POOL)] for k in range(3)]
        parts = [sentence(texts[0], work), hesitant(texts[1], work), sentence(texts[2], work)]
        out.append(noise.scene(parts, gains_db=[0.0, soft_db, 0.0]))
    return out


def measure(engine: str, scenes_: list[noise.Scene], kind: str, snr: float | None,
            noises: dict, soft_db: float = 0.0) -> dict:
    row = {"end": [], "ready": 0, "stops": 0, "false": 0, "noise": 0, "onset": [], "clip": [],
           "seconds": 0.0, "frames": 0}
    for d, scene in enumerate(scenes_):
        pcm = noise.mix(scene, noises.get((kind, d)), snr or 0)
        trace = noise.follow(ENGINES[engine](), pcm)
        row["seconds"] += trace.seconds
        row["frames"] += len(trace.speech)
        row["end"] += [trace.decided_end_ms(span) for span in scene.spans]
        row["ready"] += sum(trace.quiet_at(b + int(STOP_PAUSE_S * RATE)) for _, b in scene.spans)
        row["stops"] += len(scene.spans)
        row["false"] += trace.false_commits(scene.spans)
        row["noise"] += trace.noise_utterances(scene.spans)
        row["onset"] += [trace.onset_delay_ms(a) for a, _ in scene.spans]
        row["clip"] += [trace.clipped_ms(span) for span in scene.spans]
        if kind != "clean" and d < 2 and soft_db == 0:
            alone = noise.to_pcm(noise.noise_at(noises[(kind, d)], 5 * RATE, noise.SPEECH_DBFS - 5))
            row["noise"] += len(noise.follow(ENGINES[engine](), alone).utterances)
    return row


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, round(q * (len(values) - 1)))]


def ms(value: float) -> str:
    return "open" if value == math.inf else "miss" if value == -math.inf else f"{value:.0f}"


def line(engine: str, kind: str, snr, soft_db: float, row: dict) -> str:
    ends, n = row["end"], len(row["end"])
    found = sum(1 for e in ends if -math.inf < e <= 300)
    cpu = row["seconds"] * 1000 / max(1, row["frames"])
    kind += " soft" if soft_db else ""
    return (f"{engine:<8} {kind:<11} {snr if kind[:5] != 'clean' else '-':>3} {ms(pct(ends, .5)):>5}/{ms(pct(ends, .9)):<5}"
            f" {found:>3}/{n:<3} {row['ready']:>3}/{row['stops']:<3} {row['false']:>5} {row['noise']:>5}"
            f" {pct(row['onset'], .5):>5.0f}/{max(row['onset']):<5.0f} {max(row['clip']):>5.0f}"
            f" {cpu:>6.3f} {cpu / 30 * 100:>5.2f}%")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--dictations", type=int, default=6)
    parser.add_argument("--engines", nargs="+", default=list(ENGINES), choices=None)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="v2m-vadnoise-"))
    scenes_ = {soft: scenes(args.dictations, work, soft) for soft in (0.0, SOFT_DB)}
    noises = {(kind, d): noise.make_noise(kind, len(s.clean) / RATE, work, seed=d)
              for kind in noise.KINDS for d, s in enumerate(scenes_[0.0])}
    print(f"{args.dictations} dictations x 3 sentences per cell; Segmenter min_silence 600 ms, "
          f"post-roll 240 ms; stop {STOP_PAUSE_S} s after each sentence")
    print(f"{'engine':<8} {'noise':<11} {'snr':>3} {'end p50/p90':>11} {'<=300':>7} {'ready':>7} {'false':>5}"
          f" {'noise':>5} {'onset p50/max':>11} {'clip':>5} {'cpu ms':>6} {'core':>6}")
    totals: dict[str, list[float]] = {}
    for engine in args.engines:
        for kind, snr, soft_db in CONDITIONS:
            row = measure(engine, scenes_[soft_db], kind, snr, noises, soft_db)
            totals.setdefault(engine, []).append(row["seconds"] * 1000 / max(1, row["frames"]))
            print(line(engine, kind, snr, soft_db, row), flush=True)
    print("cpu ms per frame, mean over cells: "
          + ", ".join(f"{e} {statistics.mean(v):.3f}" for e, v in totals.items()))


if __name__ == "__main__":
    main()
