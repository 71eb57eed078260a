"""The remote engine and `v2m serve`, measured.

1. Stop-to-text, remote vs local, on the same dictations: a DictationSession
   in-process (each pass ends before the next 30 ms frame, as when the
   engine keeps up with real time), once with the local tiny.en and once
   with the remote engine: faster-whisper-server from PyPI on loopback, the
   same tiny.en, int8, 2 threads. Stop 0.1 s after the last word (the last
   utterance is left to transcribe) and after a 0.8 s pause (fast stop had
   it transcribed already). Median of the reps, and the WER.
2. `v2m serve` (HttpServer, the passes on one SerialWorker as in the daemon,
   tiny.en) under 1, 4 and 16 concurrent clients, each posting a 5 s clip
   again and again for --seconds: requests per second, p50 and p95 latency
   of the answered ones, and the share refused with 503 (max_queue 4).
3. A dictation while a serve load runs, against the same dictation on an
   idle daemon, interleaved: the daemon's arrangement (one SerialWorker for
   dictation and serve; serve waits while the state is not idle and a
   running request is preempted at its next segment), frames fed in real
   time, 4 clients posting 5 s clips throughout. Stop-to-text must stay
   within 1.5x of idle, since dictation goes first.
4. What the server's framework adds to the install (starlette, uvicorn,
   python-multipart, beyond what v2m already needs).

    .venv/bin/python bench/remote.py [--reps 3] [--seconds 20] [--only load]
"""

from __future__ import annotations

import argparse
import http.client
import statistics
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "src"))

from tests.fakes import RecordingEvents  # noqa: E402
from tests.support import remote_asr  # noqa: E402
from tests.support.speech import POOL, RATE, read_pcm, say, silence, write_pcm  # noqa: E402
from tests.support.wer import wer  # noqa: E402
from v2m.application.dictation_session import DictationOptions, DictationSession  # noqa: E402
from v2m.application.engine_fallback import EngineChoice, FallbackTranscriber  # noqa: E402
from v2m.domain.audio_math import FRAME_BYTES  # noqa: E402
from v2m.infrastructure.asr.faster_whisper_transcriber import FasterWhisperTranscriber, WhisperOptions  # noqa: E402
from v2m.infrastructure.asr.openai_remote import (OpenAiAudioClient, OpenAiRemoteTranscriber,  # noqa: E402
                                                  RemoteOptions, multipart)
from v2m.infrastructure.audio.webrtc_vad import WebRtcVoiceDetector  # noqa: E402
from v2m.infrastructure.models.model_locator import bundled_model  # noqa: E402
from v2m.infrastructure.serve.backend import local_transcribe  # noqa: E402
from v2m.infrastructure.serve.guard import ServeOptions  # noqa: E402
from v2m.infrastructure.serve.runner import HttpServer  # noqa: E402
from v2m.infrastructure.system.serial_worker import SerialWorker  # noqa: E402

SENTENCE_COUNTS = (2, 4, 8)       # about 6, 13 and 27 s of speech
STOPS = {"0.1 s after": 0.1, "0.8 s pause": 0.8}
CLIENTS = (1, 4, 16)


def trimmed(pcm: bytes, threshold: int = 300) -> bytes:
    import numpy as np

    loud = np.flatnonzero(np.abs(np.frombuffer(pcm, dtype=np.int16)) > threshold)
    return pcm[loud[0] * 2:(loud[-1] + 1) * 2] if len(loud) else pcm


def dictations(work: Path) -> list[tuple[str, dict[str, bytes]]]:
    out = []
    for count in SENTENCE_COUNTS:
        sentences = POOL[:count]
        speech = [trimmed(read_pcm(say(s, work / f"p{count}-{i}.wav"))) for i, s in enumerate(sentences)]
        body = silence(0.4) + silence(0.9).join(speech)
        out.append((" ".join(sentences), {name: body + silence(tail) for name, tail in STOPS.items()}))
    return out


def dictate(transcriber, pcm: bytes) -> tuple[str, float]:
    with ThreadPoolExecutor(1) as worker:
        session = DictationSession(WebRtcVoiceDetector(2), transcriber, worker, RecordingEvents(),
                                   DictationOptions())
        for i in range(0, len(pcm) - FRAME_BYTES + 1, FRAME_BYTES):
            session.feed(pcm[i:i + FRAME_BYTES])
            worker.submit(int).result()
        started = time.monotonic()
        text = session.finish()
        return text, time.monotonic() - started


def stop_to_text(local, remote, work: Path, reps: int) -> None:
    print("\n## Stop-to-text, remote (faster-whisper-server on loopback) vs local, tiny.en int8, 2 threads\n")
    print("| speech | stop | local ms | remote ms | local WER | remote WER |")
    print("|---|---|---|---|---|---|")
    engines = {"local": local, "remote": remote}
    for reference, styles in dictations(work):
        for style, pcm in styles.items():
            times: dict[str, list[float]] = {e: [] for e in engines}
            wers: dict[str, list[float]] = {e: [] for e in engines}
            for _ in range(reps):
                for name, engine in engines.items():  # interleaved
                    text, seconds = dictate(engine, pcm)
                    times[name].append(seconds * 1000)
                    wers[name].append(wer(reference, text))
            print(f"| {len(pcm) / 2 / RATE:.0f} s | {style} | {statistics.median(times['local']):.0f} | "
                  f"{statistics.median(times['remote']):.0f} | {statistics.mean(wers['local']):.3f} | "
                  f"{statistics.mean(wers['remote']):.3f} |")


def client_overhead(work: Path, reps: int = 30) -> None:
    """WAV + multipart + POST + JSON on loopback, against a server that answers at once."""
    server = remote_asr.FaultyServer("ok").start()
    try:
        t = OpenAiRemoteTranscriber(OpenAiAudioClient(RemoteOptions(base_url=server.base_url, api_key_env="")))
        pcm = read_pcm(say(POOL[1], work / "overhead.wav"))
        times = []
        for _ in range(reps):
            started = time.monotonic()
            t.transcribe(pcm)
            times.append((time.monotonic() - started) * 1000)
    finally:
        server.stop()
    print(f"\nThe client's own cost per utterance ({len(pcm) / 2 / RATE:.1f} s: WAV, multipart, POST, JSON, "
          f"loopback, a server that answers at once): median {statistics.median(times):.1f} ms; the rest of "
          "the remote column is the server's transcription.")


def clip(work: Path) -> bytes:
    speech = trimmed(read_pcm(say(POOL[3], work / "clip.wav")))
    pcm = (silence(0.3) + speech + silence(5.0))[:5 * RATE * 2]
    return write_pcm(work / "clip5.wav", pcm).read_bytes()


def load(server: HttpServer, token: str, wav: bytes, clients: int, seconds: float | threading.Event
         ) -> dict[str, float]:
    """Clients posting `wav` for `seconds`, or until the event is set."""
    body, ctype = multipart({"model": "whisper-1", "response_format": "json"}, ("file", "a.wav", "audio/wav", wav))
    results: list[tuple[int, float]] = []
    lock = threading.Lock()
    if isinstance(seconds, threading.Event):
        keep_going = lambda done=seconds: not done.is_set()  # noqa: E731
    else:
        keep_going = lambda stop_at=time.monotonic() + seconds: time.monotonic() < stop_at  # noqa: E731

    def client() -> None:
        while keep_going():
            started = time.monotonic()
            conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=120)
            conn.request("POST", "/v1/audio/transcriptions", body,
                         {"Authorization": f"Bearer {token}", "Content-Type": ctype})
            reply = conn.getresponse()
            reply.read()
            conn.close()
            with lock:
                results.append((reply.status, time.monotonic() - started))
            if reply.status == 503:  # a polite client, which still notices the end of the run
                if isinstance(seconds, threading.Event):
                    seconds.wait(float(reply.getheader("Retry-After", "1")))
                else:
                    time.sleep(float(reply.getheader("Retry-After", "1")))
    threads = [threading.Thread(target=client) for _ in range(clients)]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - started
    ok = sorted(s for status, s in results if status == 200)
    refused = sum(status == 503 for status, _ in results)
    return {"rps": len(ok) / elapsed, "p50": _pct(ok, 50), "p95": _pct(ok, 95),
            "refused": refused / max(1, len(results)), "n": len(results), "ok": len(ok)}


def _pct(values: list[float], p: int) -> float:
    return values[min(len(values) - 1, round(p / 100 * (len(values) - 1)))] * 1000 if values else float("nan")


def serve_load(local, work: Path, seconds: float) -> None:
    worker = SerialWorker("bench-asr")
    run = local_transcribe(local.whisper_model, lambda: local.options)
    server = HttpServer(ServeOptions(listen=f"127.0.0.1:{remote_asr.free_port()}", max_queue=4), "t",
                        lambda path, request, check: worker.submit(run, path, request, check).result(),
                        busy=lambda: False, model_name=lambda: "tiny.en")
    server.start()
    wav = clip(work)
    print(f"\n## `v2m serve`, 5 s clips, tiny.en int8 2 threads, max_queue 4, {seconds:g} s per row\n")
    print("| clients | requests | answered/s | p50 ms | p95 ms | 503 share |")
    print("|---|---|---|---|---|---|")
    try:
        for clients in CLIENTS:
            r = load(server, "t", wav, clients, seconds)
            print(f"| {clients} | {r['n']} | {r['rps']:.2f} | {r['p50']:.0f} | {r['p95']:.0f} | {r['refused']:.0%} |")
    finally:
        server.stop()
        worker.shutdown()


def dictate_in_real_time(worker, transcriber, pcm: bytes, recording: threading.Event) -> tuple[str, float]:
    """As the daemon: the state leaves idle at the start, frames arrive every
    30 ms, the stop waits for the text. Returns the text and stop-to-text."""
    recording.set()
    try:
        session = DictationSession(WebRtcVoiceDetector(2), transcriber, worker, RecordingEvents(),
                                   DictationOptions())
        began = time.monotonic()
        for n, i in enumerate(range(0, len(pcm) - FRAME_BYTES + 1, FRAME_BYTES)):
            session.feed(pcm[i:i + FRAME_BYTES])
            time.sleep(max(0.0, began + (n + 1) * 0.03 - time.monotonic()))
        started = time.monotonic()
        text = session.finish()
        return text, time.monotonic() - started
    finally:
        recording.clear()


def dictation_under_load(local, work: Path, reps: int, clients: int = 4) -> None:
    worker = SerialWorker("bench-asr")
    recording = threading.Event()
    run = local_transcribe(local.whisper_model, lambda: local.options)
    server = HttpServer(ServeOptions(listen=f"127.0.0.1:{remote_asr.free_port()}", max_queue=4,
                                     queue_timeout_s=120), "t",
                        lambda path, request, check: worker.submit(run, path, request, check).result(),
                        busy=recording.is_set, model_name=lambda: "tiny.en")
    server.start()
    wav = clip(work)
    print(f"\n## Dictation while `v2m serve` answers {clients} clients (5 s clips), against an idle daemon, "
          f"tiny.en int8 2 threads, median of {reps}\n")
    print("| speech | stop | idle ms | under load ms | ratio | WER idle | WER load | answered in the load runs |")
    print("|---|---|---|---|---|---|---|---|")
    try:
        for reference, styles in dictations(work)[:2]:
            for style, pcm in styles.items():
                times: dict[str, list[float]] = {"idle": [], "load": []}
                wers: dict[str, list[float]] = {"idle": [], "load": []}
                served = 0
                for _ in range(reps):
                    text, seconds = dictate_in_real_time(worker, local, pcm, recording)
                    times["idle"].append(seconds * 1000)
                    wers["idle"].append(wer(reference, text))
                    done = threading.Event()
                    result: dict[str, dict[str, float]] = {}
                    loader = threading.Thread(target=lambda: result.update(r=load(server, "t", wav, clients, done)))
                    loader.start()
                    time.sleep(2.0)  # the load is running, a request is on the model
                    text, seconds = dictate_in_real_time(worker, local, pcm, recording)
                    done.set()
                    loader.join()
                    served += result["r"]["ok"]
                    times["load"].append(seconds * 1000)
                    wers["load"].append(wer(reference, text))
                idle, loaded = statistics.median(times["idle"]), statistics.median(times["load"])
                print(f"| {len(pcm) / 2 / RATE:.0f} s | {style} | {idle:.0f} | {loaded:.0f} | "
                      f"{loaded / idle:.2f}x | {statistics.mean(wers['idle']):.3f} | "
                      f"{statistics.mean(wers['load']):.3f} | {served} |")
    finally:
        server.stop()
        worker.shutdown()


def install_size() -> None:
    print("\n## What `v2m serve` adds to the install\n")
    total = 0
    for name in ("starlette", "uvicorn", "python-multipart"):
        dist = metadata.distribution(name)
        size = sum((dist.locate_file(f).stat().st_size for f in dist.files or () if dist.locate_file(f).exists()))
        total += size
        print(f"- {name} {dist.version}: {size / 2**20:.2f} MiB")
    print(f"- total: {total / 2**20:.2f} MiB (anyio, h11, click and idna come with v2m's other dependencies)")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--only", choices=["load"], help="only the dictation-under-load table")
    args = parser.parse_args()
    local = FasterWhisperTranscriber("tiny.en", bundled_model(), WhisperOptions(cpu_threads=2))
    local.load()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        if args.only == "load":
            dictation_under_load(local, work, args.reps)
            return
        fws = remote_asr.FasterWhisperServer(bundled_model(), work).start()
        try:
            client = OpenAiAudioClient(RemoteOptions(base_url=fws.base_url, api_key_env=""))
            remote = FallbackTranscriber(OpenAiRemoteTranscriber(client), local,
                                         EngineChoice(lambda: True, lambda: None))
            remote.transcribe(silence(1.0) + read_pcm(say(POOL[0], work / "warm.wav")))  # the server loads its model
            stop_to_text(local, remote, work, args.reps)
            assert remote.choice.fallbacks == 0, remote.choice.last_error
            client_overhead(work)
        finally:
            fws.kill()
        serve_load(local, work, args.seconds)
        dictation_under_load(local, work, args.reps)
    install_size()


if __name__ == "__main__":
    main()
