"""Stop-to-text latency and accuracy of dictations of about 5, 20 and 45 s.

A private PulseAudio server plays synthesized speech (espeak-ng) in real time
into the daemon's microphone, as in the e2e tests. One daemon serves three
systems, switched by config between runs and interleaved:

  v2m            streaming + fast stop (speculative passes, quick passes with
                 the last seconds heard as context, beam 2 at the stop)
  fast stop off  streaming, every pass beam search on the full 30 s window
  baseline       the whole recording transcribed at stop, faster-whisper's
                 stock 30 s window and beam 5, same model and threads

and two ways of stopping: after a 0.8 s pause, and 0.1 s after the last word.
Stop-to-text is timed from sending the stop request to its reply (the C
client adds about 1.3 ms, the venv's client about 55 ms). Also measured: from
invoking `v2m toggle` to the first captured sample, and a dictation whose
speech starts 100 ms after that toggle.

    .venv/bin/python bench/dictation_latency.py [--reps 3] [--model tiny.en]

With --language (a list: en,es,auto) it measures languages instead, on v2m
(streaming + fast stop) only, side by side in one run: `en` hears English
speech, every other setting (es, auto) Spanish (espeak-ng's es voice,
tests/support/spanish.py). The model is then multilingual `base` (the test
model built from PyPI, tests/support/multilingual.py) unless --model says
otherwise. It prints p50 and p95 stop-to-text, WER, the stop paths and the
language each dictation was read in, per language and stop style.

    .venv/bin/python bench/dictation_latency.py --language en,es,auto --reps 5

With --noise brown|pink|babble --snr DB [DB ...] (or "quiet"), each
dictation is mixed with that noise at each SNR (bench/dictation_noise.py):
the systems side by side on the same noisy audio, so v2m's WER is measured
against the whole-recording baseline's. --systems picks a subset.

    .venv/bin/python bench/dictation_latency.py --noise brown --snr quiet 20 10 5 --targets 20 --reps 3
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "src"))

from bench.local_daemon import LocalDaemon  # noqa: E402
from bench.stats import PATHS, STYLES, cell, pct  # noqa: E402
from tests.support import multilingual  # noqa: E402
from tests.support.pulse import PulseServer  # noqa: E402
from tests.support.speech import POOL, read_pcm, say, silence, write_pcm  # noqa: E402
from tests.support.wer import wer  # noqa: E402
from v2m.ipc.client import DaemonClient  # noqa: E402

TARGETS_S = (5, 20, 45)
SYSTEMS = {"v2m": {"streaming": True, "fast_stop": True},
           "fast stop off": {"streaming": True, "fast_stop": False},
           "baseline": {"streaming": False, "fast_stop": False}}


def trimmed(pcm: bytes, threshold: int = 300) -> bytes:
    """Cut espeak's trailing silence, so the last word ends the audio."""
    import array

    samples = array.array("h", pcm)
    end = len(samples)
    while end > 0 and abs(samples[end - 1]) < threshold:
        end -= 1
    return pcm[: end * 2]


def build(target_s: float, out: Path, cache: Path, first: int = 0, pool: list[str] = POOL,
          voice: str = "en-us") -> tuple[Path, str]:
    """About `target_s` of sentences from `pool`, starting at sentence `first`."""
    parts, words, total, i = [silence(0.3)], [], 0.3, first
    while total < target_s - 1:
        cached = cache / f"{voice}-p{i % len(pool)}.wav"
        pcm = trimmed(read_pcm(cached if cached.exists() else say(pool[i % len(pool)], cached, voice)))
        if parts[-1] is not parts[0]:
            parts.append(silence(1.0))
        parts.append(pcm)
        words.append(pool[i % len(pool)])
        total += len(pcm) / 32000 + 1.0
        i += 1
    return write_pcm(out, b"".join(parts)), " ".join(words)


def noisy(wav: Path, after_s: float, kind: str, snr_db: float, work: Path, seed: int = 0) -> Path:
    """`wav` plus `after_s` of silence, with `kind` noise at `snr_db` under all
    of it: the noise goes on through the pause, until the stop. `seed`
    picks the noise's sample (the same seed, the same audio)."""
    import numpy as np

    from tests.support import noise as nz

    clean = nz.to_float(read_pcm(wav) + silence(after_s))
    voiced = clean[np.abs(clean) > 0.01 * np.abs(clean).max()]  # within 40 dB of the peak: speaking
    speech_dbfs = 10 * np.log10(np.mean(voiced ** 2))
    hum = nz.noise_at(nz.make_noise(kind, 30.0, work, seed), len(clean), speech_dbfs - snr_db)
    return write_pcm(wav.with_name(f"{wav.stem}-{kind}{snr_db:g}-{after_s:g}-{seed}.wav"), nz.to_pcm(clean + hum))


class Bench:
    def __init__(self, tmp: Path, model: str = "") -> None:
        self.pulse = PulseServer().start()
        self.daemon = LocalDaemon(tmp, {**self.pulse.client_env(), "V2M_OUTPUT__SINKS": "",
                                        "V2M_OUTPUT__NOTIFY": "false"})
        self.env, self.sock = self.daemon.env, self.daemon.sock
        if model:  # in the file: UPDATE_CONFIG checks a language against it (not against V2M_* variables)
            self.daemon.config_dir.mkdir(mode=0o700)
            (self.daemon.config_dir / "config.toml").write_text(f"[transcription]\nmodel = {json.dumps(model)}\n")
        built = ROOT / "dist" / "v2m"
        self.toggle_argv = [str(built if built.exists() else Path(sys.executable).with_name("v2m")), "toggle"]
        self.daemon.start()

    def configure(self, settings: dict) -> None:
        with DaemonClient(self.sock, timeout_s=60) as c:
            c.call("UPDATE_CONFIG", {"transcription": settings})

    def dictate(self, wav: Path, after_s: float, lead_s: float = 0.0) -> dict:
        invoked = time.monotonic()
        subprocess.run(self.toggle_argv, env=self.env, check=True, capture_output=True)
        if lead_s:
            time.sleep(max(0.0, lead_s - (time.monotonic() - invoked)))
        self.pulse.play(wav).wait()
        time.sleep(after_s)
        with DaemonClient(self.sock, timeout_s=120) as c:
            start = time.perf_counter()
            reply = c.request("TOGGLE_RECORDING")
            elapsed = time.perf_counter() - start
        data = reply.get("data") or {}
        return {"stop_s": elapsed, "text": data.get("transcription", ""), "path": data.get("stop_path"),
                "first_sample_s": (data.get("first_frame_at") or invoked) - invoked}

    def close(self) -> None:
        self.daemon.stop()
        self.pulse.stop()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--targets", type=int, nargs="+", default=None,
                        help=f"dictation lengths, s (default {' '.join(map(str, TARGETS_S))}; with --language 5)")
    parser.add_argument("--model", default="",
                        help="tiny.en (the default), base (multilingual; the default with --language), "
                             "or a model directory")
    parser.add_argument("--language", default="", help="languages side by side, e.g. en,es,auto")
    parser.add_argument("--noise", choices=["brown", "pink", "babble"], help="mix this noise in")
    parser.add_argument("--snr", nargs="+", default=["10"],
                        help="with --noise: speech over noise, dB, one or more; 'quiet' adds no noise")
    parser.add_argument("--systems", default=",".join(SYSTEMS), help="a subset of: " + ", ".join(SYSTEMS))
    args = parser.parse_args()
    systems = {name: SYSTEMS[name] for name in args.systems.split(",")}
    if args.model == "base" or (args.language and not args.model):
        args.model = str(multilingual.base_model_path())
    if args.language:
        from bench.dictation_languages import run_languages

        args.model_label = model_label(args.model)
        run_languages(args, Bench, build)
        return
    args.targets = args.targets or list(TARGETS_S)
    tmp = Path(tempfile.mkdtemp(prefix="v2m-bench-"))
    # Each repetition starts at another sentence, so WER is not one sentence's luck;
    # within a repetition every system hears the same audio.
    reps = [{t: build(t, tmp / f"d{t}-{r}.wav", tmp, first=5 * r) for t in sorted(set(args.targets) | {5})}
            for r in range(args.reps)]
    bench = Bench(tmp, args.model)
    if args.noise:
        from bench.dictation_noise import report as noise_report, run_noise

        try:
            runs = run_noise(args, bench, reps, systems, noisy, wer, tmp)
        finally:
            bench.close()
        noise_report(args, runs, systems, f"{model_label(args.model)}, {args.noise} noise")
        return
    runs: dict[tuple, list[dict]] = {}
    try:
        for dictations in reps:
            for target, (wav, reference) in dictations.items():
                if target not in args.targets:
                    continue
                for style, after in STYLES.items():
                    for system, settings in systems.items():
                        bench.configure(settings)
                        run = bench.dictate(wav, after)
                        run["wer"] = wer(reference, run["text"])
                        runs.setdefault((target, style, system), []).append(run)
        bench.configure(SYSTEMS["v2m"])
        early = [(bench.dictate(d[5][0], 0.8, lead_s=0.1), d[5][1]) for d in reps]
    finally:
        bench.close()
    report({t: d for t, d in reps[0].items() if t in args.targets}, runs, early, args.reps, model_label(args.model),
           systems)


def model_label(model: str) -> str:
    if not model:
        return "tiny.en"
    return "multilingual base" if Path(model) == multilingual.base_model_path() else Path(model).name


def report(dictations, runs, early, reps, model, systems) -> None:
    print(f"stop-to-text in ms (p50/p95 of {reps} runs) and mean WER; {model}, CPU int8, {os.cpu_count()} cores")
    print(f"{'audio':>6} {'stop style':<17}" + "".join(f"{name:>24}" for name in systems))
    for target in dictations:
        for style in STYLES:
            cells = [cell(runs[(target, style, system)]) for system in systems]
            print(f"~{target:>4}s {style:<17}" + "".join(f"{c:>24}" for c in cells))
    if "baseline" in systems:
        print("\nratio v2m / baseline, p50:")
        for target in dictations:
            for style in STYLES:
                v = pct([x["stop_s"] for x in runs[(target, style, "v2m")]], .5)
                b = pct([x["stop_s"] for x in runs[(target, style, "baseline")]], .5)
                print(f"  {target:>3} s, {style:<17} {v / b:.2f}")
    paths = [x["path"] for k, r in runs.items() if k[2] == "v2m" for x in r]
    print("\nv2m stop paths: " + ", ".join(f"{p} {paths.count(p)}" for p in PATHS))
    for style in STYLES:
        by = [x["path"] for k, r in runs.items() if k[2] == "v2m" and k[1] == style for x in r]
        print(f"  {style}: " + ", ".join(f"{p} {by.count(p)}" for p in PATHS))
    first = [x["first_sample_s"] * 1000 for r in runs.values() for x in r]
    print(f"toggle -> first captured sample: p50 {pct(first, .5):.0f} ms, p95 {pct(first, .95):.0f} ms "
          f"({len(first)} toggles)")
    print("speech starting 100 ms after the toggle (5 s dictations): WER "
          + ", ".join(f"{wer(reference, x['text']):.3f}" for x, reference in early)
          + "; first words said | heard: "
          + "; ".join(" ".join(ref.split()[:3]) + " | " + " ".join(x["text"].split()[:3]) for x, ref in early))
    print(json.dumps({"paths": paths}))


if __name__ == "__main__":
    main()
