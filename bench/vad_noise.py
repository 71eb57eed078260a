"""End-of-speech detection in a noisy room: which VoiceDetector keeps the fast stop.

Dictations of three espeak-ng sentences from the benchmark pool (1 s between
sentences; the middle one said in two parts with a 0.45 s hesitation inside),
1 s of noise before and 1.5 s after, mixed with brown, pink or babble noise at
20, 10 and 5 dB SNR (tests/support/noise.py). Each mix runs in-process
through a detector and the real Segmenter with the daemon's options
(min_silence 600 ms, pre-roll 300 ms, post-roll 240 ms), no ASR.

Per engine x noise x SNR:
  end     where the Segmenter puts each sentence's end (its last speech frame)
          after the true end, ms p50 / max over sentences; "open" = never
  <=300   sentences whose end was found within 300 ms of the last word
  settle  from the last word until the tail is settled for good (the
          speculative pass may start), ms p50; "open" = not by the stop
  ready   stops 0.8 s after a sentence that find the tail silent (settled),
          so the stop can serve the speculative text ("ready" path)
  false   utterances committed inside a sentence (a pause taken for the end)
  noise   utterances of no speech, in the mixes and in 5 s of noise alone at
          the 5 dB SNR level
  onset   first frame called speech after a sentence's onset, ms p50 / max;
          clip: audio of a sentence start left out of its utterance (ms, max)
  cpu     wall ms per 30 ms frame in is_speech, and % of one core (at the end:
          process CPU time, best of 5 runs, less sensitive to load)

    .venv/bin/python bench/vad_noise.py [--dictations 6] [--engines silero webrtc2 ...]
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "src"))

from bench.stats import pct  # noqa: E402
from tests.support import noise  # noqa: E402
from tests.support.speech import POOL, RATE  # noqa: E402
from v2m.infrastructure.audio.noise_floor_vad import NoiseFloorVoiceDetector  # noqa: E402
from v2m.infrastructure.audio.silero_vad import SileroVoiceDetector  # noqa: E402
from v2m.infrastructure.audio.webrtc_vad import WebRtcVoiceDetector  # noqa: E402

ENGINES = {
    "webrtc0": lambda: WebRtcVoiceDetector(0),
    "webrtc1": lambda: WebRtcVoiceDetector(1),
    "webrtc2": lambda: WebRtcVoiceDetector(2),
    "webrtc3": lambda: WebRtcVoiceDetector(3),
    "floor9": lambda: NoiseFloorVoiceDetector(3, margin_db=9.0),
    "floor6": lambda: NoiseFloorVoiceDetector(3, margin_db=6.0),
    "silero": lambda: SileroVoiceDetector(),
    "sil-gate": lambda: SileroVoiceDetector(level_gate_db=20.0),
    "sil-0.7": lambda: SileroVoiceDetector(threshold=0.7),
}
SOFT_DB = -10.0
# (noise, SNR, gain of the middle sentence): soft speech at -10 dB in noise.
CONDITIONS = ([("clean", None, 0)] + [(kind, snr, 0) for kind in noise.KINDS for snr in (20, 10, 5)]
              + [(kind, snr, SOFT_DB) for kind in ("clean",) + noise.KINDS for snr in (20, 10)
                 if kind != "clean" or snr == 20])
STOP_PAUSE_S = 0.8


def scenes(count: int, work: Path, soft_db: float = 0.0) -> list[noise.Scene]:
    return [noise.dictation([POOL[(3 * d + k) % len(POOL)] for k in range(3)], work, soft_db)
            for d in range(count)]


def measure(engine: str, scenes_: list[noise.Scene], kind: str, snr: float | None,
            noises: dict, soft_db: float = 0.0) -> dict:
    row = {"end": [], "settle": [], "ready": 0, "stops": 0, "false": 0, "noise": 0, "onset": [], "clip": [],
           "seconds": 0.0, "frames": 0}
    for d, scene in enumerate(scenes_):
        pcm = noise.mix(scene, noises.get((kind, d)), snr or 0)
        trace = noise.follow(ENGINES[engine](), pcm)
        row["seconds"] += trace.seconds
        row["frames"] += len(trace.speech)
        row["end"] += [trace.decided_end_ms(span) for span in scene.spans]
        stops = [(b, b + int(STOP_PAUSE_S * RATE)) for _, b in scene.spans]
        row["ready"] += sum(trace.quiet_at(stop) for _, stop in stops)
        row["settle"] += [trace.settled_ms(b, stop) for b, stop in stops]
        row["stops"] += len(scene.spans)
        row["false"] += trace.false_commits(scene.spans)
        row["noise"] += trace.noise_utterances(scene.spans)
        row["onset"] += [trace.onset_delay_ms(a) for a, _ in scene.spans]
        row["clip"] += [trace.clipped_ms(span) for span in scene.spans]
        if kind != "clean" and d < 2 and soft_db == 0:
            alone = noise.to_pcm(noise.noise_at(noises[(kind, d)], 5 * RATE, noise.SPEECH_DBFS - 5))
            row["noise"] += len(noise.follow(ENGINES[engine](), alone).utterances)
    return row


def ms(value: float) -> str:
    return "open" if value == math.inf else "miss" if value == -math.inf else f"{value:.0f}"


def line(engine: str, kind: str, snr, soft_db: float, row: dict) -> str:
    ends, n = row["end"], len(row["end"])
    found = sum(1 for e in ends if -math.inf < e <= 300)
    cpu = row["seconds"] * 1000 / max(1, row["frames"])
    kind += " soft" if soft_db else ""
    return (f"{engine:<8} {kind:<11} {snr if kind[:5] != 'clean' else '-':>3} {ms(pct(ends, .5)):>5}/{ms(max(ends)):<5}"
            f" {found:>3}/{n:<3} {ms(pct(row['settle'], .5)):>6} {row['ready']:>3}/{row['stops']:<3} {row['false']:>5} {row['noise']:>5}"
            f" {pct(row['onset'], .5):>5.0f}/{max(row['onset']):<5.0f} {max(row['clip']):>5.0f}"
            f" {cpu:>6.3f} {cpu / 30 * 100:>5.2f}%")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--dictations", type=int, default=6)
    parser.add_argument("--engines", nargs="+", default=list(ENGINES), choices=list(ENGINES))
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="v2m-vadnoise-"))
    scenes_ = {soft: scenes(args.dictations, work, soft) for soft in (0.0, SOFT_DB)}
    noises = {(kind, d): noise.make_noise(kind, len(s.clean) / RATE, work, seed=d)
              for kind in noise.KINDS for d, s in enumerate(scenes_[0.0])}
    print(f"{args.dictations} dictations x 3 sentences per cell; Segmenter min_silence 600 ms, "
          f"post-roll 240 ms; stop {STOP_PAUSE_S} s after each sentence")
    print(f"{'engine':<8} {'noise':<11} {'snr':>3} {'end p50/max':>11} {'<=300':>7} {'settle':>6} {'ready':>7} {'false':>5}"
          f" {'noise':>5} {'onset p50/max':>11} {'clip':>5} {'cpu ms':>6} {'core':>6}")
    totals: dict[str, list[float]] = {}
    for engine in args.engines:
        for kind, snr, soft_db in CONDITIONS:
            row = measure(engine, scenes_[soft_db], kind, snr, noises, soft_db)
            totals.setdefault(engine, []).append(row["seconds"] * 1000 / max(1, row["frames"]))
            print(line(engine, kind, snr, soft_db, row), flush=True)
    print("wall ms per frame in is_speech, mean over cells: "
          + ", ".join(f"{e} {statistics.mean(v):.3f}" for e, v in totals.items()))
    pcm = noise.mix(scenes_[0.0][0], noises[("brown", 0)], 10)
    print("process CPU ms per frame, best of 5 runs over one dictation (brown, 10 dB): "
          + ", ".join(f"{e} {best_cpu_ms(e, pcm):.3f}" for e in args.engines))


def best_cpu_ms(engine: str, pcm: bytes, runs: int = 5) -> float:
    frames = [pcm[at: at + 960] for at in range(0, len(pcm) - 959, 960)]
    best = math.inf
    for _ in range(runs):
        detector = ENGINES[engine]()
        started = time.process_time()
        for frame in frames:
            detector.is_speech(frame)
        best = min(best, (time.process_time() - started) / len(frames))
    return best * 1000


if __name__ == "__main__":
    main()
