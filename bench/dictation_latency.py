"""Stop-to-text latency of dictations of about 5, 20 and 45 s.

A private PulseAudio server plays synthesized speech (espeak-ng) into the
daemon's microphone, as in the e2e tests. Each dictation ends with a 0.8 s
pause, then `v2m toggle` stops it; we time that second toggle until its
reply. Two systems run side by side, interleaved, on one daemon, switched
with `transcription.streaming`:

  streaming  v2m: utterances are transcribed while the user talks
  baseline   the whole recording is transcribed at stop (most peers do this),
             same model, same threads

    .venv/bin/python bench/dictation_latency.py [--reps 2]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.pulse import PulseServer  # noqa: E402
from tests.support.speech import read_pcm, say, silence, write_pcm  # noqa: E402
from tests.support.wer import wer  # noqa: E402

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
TARGETS_S = (5, 20, 45)
PAUSE_S, END_PAUSE_S = 1.0, 0.8


def build(target_s: float, out: Path, cache: Path) -> tuple[Path, str]:
    parts, words, total, i = [silence(0.4)], [], 0.4, 0
    while total < target_s - 1:
        sentence = POOL[i % len(POOL)]
        cached = cache / f"p{i % len(POOL)}.wav"
        pcm = read_pcm(cached if cached.exists() else say(sentence, cached))
        parts += [pcm, silence(PAUSE_S)]
        words.append(sentence)
        total += len(pcm) / 32000 + PAUSE_S
        i += 1
    parts[-1] = silence(0.05)  # the end pause is waited in real time below
    return write_pcm(out, b"".join(parts)), " ".join(words)


def v2m(env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(Path(sys.executable).with_name("v2m")), *args], env=env,
                          capture_output=True, text=True, timeout=300)


def dictate(env: dict, pulse: PulseServer, wav: Path) -> tuple[float, str]:
    assert v2m(env, "toggle").returncode == 0
    pulse.play(wav).wait()
    time.sleep(END_PAUSE_S)
    start = time.perf_counter()
    out = v2m(env, "toggle")
    elapsed = time.perf_counter() - start
    return elapsed, out.stdout.strip()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reps", type=int, default=2)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="v2m-bench-"))
    pulse = PulseServer().start()
    env = pulse.client_env()
    for var in ("XDG_RUNTIME_DIR", "XDG_CONFIG_HOME", "XDG_STATE_HOME", "XDG_DATA_HOME"):
        env[var] = str(tmp / var)
        os.makedirs(env[var], mode=0o700)
    env.update(V2M_OUTPUT__SINKS="", V2M_OUTPUT__NOTIFY="false")
    dictations = {t: build(t, tmp / f"d{t}.wav", tmp) for t in TARGETS_S}
    daemon = subprocess.Popen([str(Path(sys.executable).with_name("v2m")), "daemon"], env=env,
                              stderr=subprocess.DEVNULL)
    try:
        while not json.loads(v2m(env, "status", "--json").stdout or "{}").get("model_loaded"):
            time.sleep(0.2)
        results: dict[tuple[int, str], list[tuple[float, float]]] = {}
        for _ in range(args.reps):
            for target, (wav, reference) in dictations.items():
                for mode, streaming in (("streaming", "true"), ("baseline", "false")):
                    v2m(env, "config", "set", "transcription.streaming", streaming)
                    elapsed, text = dictate(env, pulse, wav)
                    results.setdefault((target, mode), []).append((elapsed, wer(reference, text)))
    finally:
        daemon.terminate()
        daemon.wait()
        pulse.stop()
    report(dictations, results, args.reps)


def report(dictations, results, reps) -> None:
    print(f"stop-to-text, median of {reps} runs each (tiny.en, CPU int8, beam 5)")
    print(f"{'dictation':>10} {'streaming ms':>13} {'baseline ms':>12} {'ratio':>7} {'WER stream':>11} {'WER base':>9}")
    for target, (wav, _) in dictations.items():
        s = results[(target, "streaming")]
        b = results[(target, "baseline")]
        s_ms = statistics.median(e for e, _ in s) * 1000
        b_ms = statistics.median(e for e, _ in b) * 1000
        length = len(read_pcm(wav)) / 32000 + END_PAUSE_S
        print(f"{length:>9.1f}s {s_ms:>13.0f} {b_ms:>12.0f} {b_ms / s_ms:>6.1f}x "
              f"{statistics.mean(w for _, w in s):>11.3f} {statistics.mean(w for _, w in b):>9.3f}")


if __name__ == "__main__":
    main()
