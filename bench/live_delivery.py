"""Live typing (output.live), measured for bench/delivery.py: the time from
the end of each spoken utterance until its text has landed in foot.

A `v2m daemon` (sinks = ["type"], live = true) hears a private PulseAudio
"microphone" and types into foot under headless sway. Each run plays
sentences from the speech pool with a pause after each (1 s, the user
pausing as people do; 600 ms of it, audio.min_silence_ms, ends the
utterance), while foot's file is polled every 2 ms. An utterance's end is
when the player started plus where its last sample lies in the WAV
(espeak's trailing silence cut off), so the figures include the player's
own start-up (about 20-40 ms) and err high. Its text has landed when the
burst of typing that follows the end is over: the last growth of foot's
file before the next utterance ends. The stop comes 2 s after the last
utterance, so every utterance is typed live; "exact" checks that foot then
holds the stop's text, once.
"""

from __future__ import annotations

import subprocess
import tempfile
import time
from pathlib import Path

from bench.local_daemon import LocalDaemon
from dictation_latency import trimmed  # bench/ is on sys.path: this runs from bench/delivery.py
from tests.support.pulse import PulseServer
from tests.support.speech import POOL, read_pcm, say, silence, write_pcm
from v2m.ipc.client import DaemonClient

TARGET_MS = 1000




def build(sentences: list[str], out: Path, pause_s: float) -> tuple[Path, list[float]]:
    """The dictation WAV and the offset (s) where each utterance's speech ends."""
    parts, ends, at = [silence(0.3)], [], 0.3
    for i, sentence in enumerate(sentences):
        pcm = trimmed(read_pcm(say(sentence, out.with_name(f"{out.stem}-{i}.wav"))))
        at += len(pcm) / 32000
        ends.append(at)
        last = i == len(sentences) - 1
        parts += [pcm, silence(max(pause_s, 2.0) if last else pause_s)]  # the last one too is typed live
        at += pause_s
    return write_pcm(out, b"".join(parts)), ends


class LiveBench:
    def __init__(self, desk, tmp: Path) -> None:
        self.desk, self.pulse = desk, PulseServer().start()
        self.daemon = LocalDaemon(tmp, {**desk.client_env(self.pulse.client_env()), "V2M_OUTPUT__SINKS": "type",
                                        "V2M_OUTPUT__LIVE": "true", "V2M_OUTPUT__NOTIFY": "false"}).start()

    def _call(self, cmd: str) -> dict:
        with DaemonClient(self.daemon.sock, timeout_s=120) as client:
            return client.call(cmd) or {}

    def run(self, wav: Path, ends: list[float]) -> tuple[list[float], bool]:
        """(ms from each utterance's end until its text landed, exact)."""
        self.desk.wait_quiet(0.05)
        self.desk.clear()
        self._call("START_RECORDING")
        started = time.monotonic()
        player = subprocess.Popen(["paplay", "--device=v2mtest", "--latency-msec=20", str(wav)],
                                  env=self.pulse.client_env())
        growth: list[float] = []  # when foot's file grew
        size = 0
        while player.poll() is None:
            now = len(self.desk.typed_bytes())
            if now != size:
                size = now
                growth.append(time.monotonic())
            time.sleep(0.002)
        final = self._call("STOP_RECORDING").get("transcription", "")
        # A dictation typed into the window the last one went to starts with the separator.
        exact = self.desk.wait_quiet(0.3) in (final, " " + final)
        marks = [started + end for end in ends] + [float("inf")]
        landed = []
        for i, end in enumerate(marks[:-1]):
            burst = [t for t in growth if end <= t < marks[i + 1]]
            landed.append((burst[-1] - end) * 1000 if burst else float("nan"))
        return landed, exact

    def close(self) -> None:
        self.daemon.stop()
        self.pulse.stop()


def bench_live(desk, runs: int, sentences: int = 4, pause_s: float = 1.0) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="v2m-live-"))
    bench = LiveBench(desk, tmp)
    results = []
    try:
        for r in range(runs):
            picked = [POOL[(r * sentences + i) % len(POOL)] for i in range(sentences)]
            wav, ends = build(picked, tmp / f"live{r}.wav", pause_s)
            results.append(bench.run(wav, ends))
    finally:
        bench.close()
    latencies = [ms for landed, _ in results for ms in landed]
    ok = [ms for ms in latencies if ms == ms]
    print(f"\nlive typing into foot (sway): {runs} runs x {sentences} utterances, {pause_s:g} s pause after each")
    print(f"{'run':>3} " + " ".join(f"{'utt ' + str(i + 1) + ' ms':>9}" for i in range(sentences)) + f" {'exact':>6}")
    for r, (landed, exact) in enumerate(results):
        print(f"{r + 1:>3} " + " ".join(f"{ms:>9.0f}" for ms in landed) + f" {str(exact):>6}")
    ok.sort()
    if ok:
        print(f"median {ok[len(ok) // 2]:.0f} ms, max {ok[-1]:.0f} ms; within {TARGET_MS} ms: "
              f"{sum(ms <= TARGET_MS for ms in ok)}/{len(latencies)} utterances (not typed live: "
              f"{len(latencies) - len(ok)})")
