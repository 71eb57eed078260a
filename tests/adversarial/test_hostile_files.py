"""Hostile files given to `v2m transcribe`: hours of audio, paths swapped after
the check, devices, FIFOs, playlists that name other files.

Each test is bounded: a call that could hang runs in a thread, and a FIFO it
may be stuck on is released when the bound passes, so a regression fails the
test instead of hanging the suite.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from tests.support.media import sentence_onsets, silence_flac, speech_wav
from tests.support.speech import POOL
from tests.support.wer import wer
from tests.unit.test_subtitles import assert_monotonic
from v2m.domain.errors import MediaError
from v2m.infrastructure.audio import media_files
from v2m.infrastructure.asr.whisper_file_transcriber import WhisperFileTranscriber
from tests.integration.test_file_transcription import files, tiny_en  # noqa: F401 (fixtures)

REFUSED_WITHIN_S = 10.0     # a refusal is immediate; this only bounds a hang
WER_BOUND = 0.25            # as tests/integration/test_file_transcription.py
PEAK_RSS_BOUND_MIB = 900    # 3 h of silence: 2,537 MiB decoded whole; about 600 in 10 min chunks


@pytest.fixture(scope="module")
def talk(tmp_path_factory):
    """Two sentences, and a third said only in another user's private file."""
    d = tmp_path_factory.mktemp("talk")
    wav, reference = speech_wav(d / "talk.wav", POOL[:2])
    private, secret = speech_wav(d / "secret.wav", [POOL[8]])
    return {"wav": wav, "reference": reference, "secret_wav": private, "secret": secret}


def finishes(call, within_s: float = REFUSED_WITHIN_S, fifo: Path | None = None):
    """call() in a thread: its result, or its exception raised here. Fails if
    it runs past `within_s`; a `fifo` it may be blocked on is then opened for
    writing and closed, which releases the reader."""
    box: dict = {}

    def run() -> None:
        try:
            box["result"] = call()
        except BaseException as exc:  # handed to the test's thread
            box["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(within_s)
    if thread.is_alive():
        if fifo is not None:
            try:
                os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
            except OSError:  # no reader: it hangs somewhere else
                pass
            thread.join(within_s)
        pytest.fail(f"hung: still running after {within_s} s")
    if "error" in box:
        raise box["error"]
    return box["result"]


# -- length: memory is flat in the file's length -------------------------------------------------

CHILD = """
import json, resource, sys, time
from v2m.infrastructure.asr.faster_whisper_transcriber import FasterWhisperTranscriber, WhisperOptions
from v2m.infrastructure.models.model_locator import bundled_model
from v2m.infrastructure.asr.whisper_file_transcriber import WhisperFileTranscriber

model = FasterWhisperTranscriber("tiny.en", bundled_model(), WhisperOptions(cpu_threads=2))
model.load()
started = time.monotonic()
result = WhisperFileTranscriber(model.whisper_model, lambda: model.options).transcribe_file(sys.argv[1])
print(json.dumps({"text": result.text, "cues": len(result.segments), "duration_s": result.duration_s,
                  "seconds": round(time.monotonic() - started, 1),
                  "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}))
"""


@pytest.mark.timeout(900)
def test_three_hours_of_silence_in_bounded_memory_and_no_text(tmp_path):
    """Its own process, so the peak is this file's: the model, then the file."""
    flac = silence_flac(tmp_path / "three-hours.flac", 3 * 3600)
    proc = subprocess.run([sys.executable, "-c", CHILD, str(flac)], capture_output=True, text=True, timeout=800)
    assert proc.returncode == 0, proc.stderr[-3000:]
    run = json.loads(proc.stdout.strip().splitlines()[-1])
    print(f"3 h of silence (FLAC): peak RSS {run['peak_rss_mib']} MiB, transcribed in {run['seconds']} s")
    assert (run["text"], run["cues"]) == ("", 0)
    assert run["duration_s"] == pytest.approx(3 * 3600)
    assert run["peak_rss_mib"] < PEAK_RSS_BOUND_MIB, run


# -- a path swapped after the check ------------------------------------------------------------

@pytest.fixture
def swap_when_ffmpeg_opens(monkeypatch):
    """arm(path, replacement): the first av.open, after every check, finds
    `replacement` at `path`. Decoding must read what was checked."""
    import av

    real_open = av.open

    def arm(path: Path, replacement: Path) -> None:
        def swapping_open(file, *args, **kwargs):
            if os.path.lexists(replacement):
                path.unlink()
                os.rename(replacement, path)
            return real_open(file, *args, **kwargs)

        monkeypatch.setattr(av, "open", swapping_open)

    return arm


def _replacement(kind: str, d: Path, talk: dict) -> Path:
    new = d / "new"
    if kind == "fifo":
        os.mkfifo(new)  # no writer: opening it for reading blocks for ever
    elif kind == "dev-zero-link":
        new.symlink_to("/dev/zero")
    elif kind == "directory":
        new.mkdir()
    else:  # another user's private recording, which root could open
        new.write_bytes(talk["secret_wav"].read_bytes())
        new.chmod(0o600)
        os.chown(new, 65534, 65534)
    return new


@pytest.mark.timeout(120)
@pytest.mark.parametrize("kind", ["fifo", "dev-zero-link", "directory", "private-file"])
def test_swapped_after_the_check_decodes_what_was_checked(files, talk, tmp_path, swap_when_ffmpeg_opens, kind):
    if kind == "private-file" and os.geteuid() != 0:
        pytest.skip("chown needs root")
    path = tmp_path / "talk.wav"
    path.write_bytes(talk["wav"].read_bytes())
    swap_when_ffmpeg_opens(path, _replacement(kind, tmp_path, talk))
    result = finishes(lambda: files.transcribe_file(str(path)), 60, fifo=path if kind == "fifo" else None)
    assert wer(talk["reference"], result.text) <= WER_BOUND, result.text
    assert wer(talk["secret"], result.text) > 0.5, result.text


@pytest.mark.timeout(60)
def test_swapped_between_the_look_and_the_open_is_refused(files, talk, tmp_path, monkeypatch):
    """The path is a regular file when looked at (stat) and a FIFO when opened:
    the open returns at once (O_NONBLOCK), and what it opened is refused."""
    path, fifo = tmp_path / "talk.wav", tmp_path / "pipe"
    path.write_bytes(talk["wav"].read_bytes())
    os.mkfifo(fifo)
    real_open = os.open

    def swapping_open(name, flags, *args, **kwargs):
        if os.fspath(name) == str(path) and fifo.exists():
            os.replace(fifo, path)
        return real_open(name, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", swapping_open)
    with pytest.raises(MediaError, match="not a regular file"):
        finishes(lambda: files.transcribe_file(str(path)), fifo=path)


def test_an_opened_descriptor_is_checked_and_kept(talk, tmp_path):
    path = tmp_path / "talk.wav"
    path.write_bytes(talk["wav"].read_bytes())
    fd = media_files.open_checked(str(path))
    try:
        path.unlink()
        os.mkfifo(path)
        assert os.stat(path).st_ino != os.fstat(fd).st_ino and os.fstat(fd).st_size > 0
    finally:
        os.close(fd)


# -- what is not a regular file is refused at once --------------------------------------------------

def _not_a_file(kind: str, d: Path) -> tuple[str, str]:
    if kind == "fifo":
        os.mkfifo(d / "pipe.wav")
        return str(d / "pipe.wav"), "not a regular file \\(a FIFO\\)"
    if kind == "dev-zero-link":
        (d / "zero.wav").symlink_to("/dev/zero")
        return str(d / "zero.wav"), "character device"
    if kind == "socket":
        with socket.socket(socket.AF_UNIX) as sock:
            sock.bind(str(d / "sock.wav"))
        return str(d / "sock.wav"), "a socket"
    if kind == "directory":
        return str(d), "is a directory"
    return kind, "character device"  # /dev/zero, /dev/null, /dev/urandom


@pytest.mark.timeout(60)
@pytest.mark.parametrize("kind", ["fifo", "dev-zero-link", "socket", "directory", "/dev/zero", "/dev/null",
                                  "/dev/urandom"])
def test_not_a_regular_file_is_refused_at_once(files, tmp_path, kind):
    path, message = _not_a_file(kind, tmp_path)
    with pytest.raises(MediaError, match=message):
        finishes(lambda: files.transcribe_file(path), fifo=Path(path) if kind == "fifo" else None)


# -- files that name other files or streams ---------------------------------------------------------

def _playlist(kind: str, d: Path) -> tuple[Path, Path | None]:
    fifo = d / "segment.ts"
    os.mkfifo(fifo)
    texts = {
        "hls": f"#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:10,\n{fifo}\n#EXT-X-ENDLIST\n",
        "m3u": f"file://{fifo}\n",
        "ffconcat": f"ffconcat version 1.0\nfile {fifo}\n",
        # RTP over UDP: FFmpeg would listen on the port until a packet comes
        "sdp": "v=0\no=- 0 0 IN IP4 127.0.0.1\ns=x\nc=IN IP4 127.0.0.1\nt=0 0\nm=audio 5004 RTP/AVP 0\n",
    }
    path = d / {"hls": "list.m3u8", "m3u": "list.m3u", "ffconcat": "list.ffconcat", "sdp": "stream.sdp"}[kind]
    path.write_text(texts[kind])
    return path, fifo


@pytest.mark.timeout(60)
@pytest.mark.parametrize("kind", ["hls", "m3u", "ffconcat", "sdp"])
def test_a_file_naming_other_files_or_streams_is_refused(files, tmp_path, kind):
    """FFmpeg may open nothing on its own: a playlist's FIFO segment hung the
    daemon, and an SDP file would have it wait on a UDP port."""
    path, fifo = _playlist(kind, tmp_path)
    with pytest.raises(MediaError, match="not an audio or video file"):
        finishes(lambda: files.transcribe_file(str(path)), fifo=fifo)


@pytest.mark.timeout(60)
def test_decoding_past_its_deadline_is_given_up(files, talk, monkeypatch):
    monkeypatch.setattr(media_files, "DECODE_GRACE_S", 0.0)
    monkeypatch.setattr(media_files, "DECODE_S_PER_AUDIO_S", 0.0)
    with pytest.raises(MediaError, match="gave up decoding .*talk.wav"):
        files.transcribe_file(str(talk["wav"]))


# -- chunks: long files in bounded pieces, cut where it is quiet ----------------------------------

def test_chunks_cut_in_the_quiet_and_lose_no_sample():
    from v2m.infrastructure.audio.audio_chunks import ChunkOptions, chunks

    rng = np.random.default_rng(7)
    audio = rng.uniform(-0.5, 0.5, 50 * 16000).astype(np.float32)
    gap = slice(int(17.3 * 16000), int(17.5 * 16000))
    audio[gap] = 0.0  # the only quiet moment in the first chunk's last 5 s
    blocks = np.array_split(audio, 7)  # blocks do not line up with chunks
    out = list(chunks(blocks, ChunkOptions(chunk_s=20.0)))
    assert np.array_equal(np.concatenate([c.audio for c in out]), audio)
    assert [c.start_sample for c in out] == list(np.cumsum([0] + [len(c.audio) for c in out[:-1]]))
    assert all(len(c.audio) <= 20 * 16000 for c in out) and [c.last for c in out] == [False] * (len(out) - 1) + [True]
    assert gap.start <= out[0].end_sample <= gap.stop
    whole = list(chunks(blocks, ChunkOptions(chunk_s=60.0)))
    assert len(whole) == 1 and whole[0].last and np.array_equal(whole[0].audio, audio)
    empty = list(chunks([], ChunkOptions(chunk_s=20.0)))
    assert len(empty) == 1 and empty[0].last and len(empty[0].audio) == 0


@pytest.fixture(scope="module")
def long_talk(tmp_path_factory, tiny_en):
    """About 80 s of speech (18 sentences), and its transcript in one piece."""
    d = tmp_path_factory.mktemp("long")
    wav, reference = speech_wav(d / "long.wav", POOL + POOL[:6])
    whole = WhisperFileTranscriber(tiny_en.whisper_model, lambda: tiny_en.options).transcribe_file(str(wav))
    return {"wav": wav, "reference": reference, "onsets": sentence_onsets(wav), "whole": whole}


@pytest.mark.timeout(300)
@pytest.mark.parametrize("chunk_s", [20.0, 70.0])  # 4 sequential chunks; a batched one, then a sequential one
def test_chunked_transcript_has_the_same_words_and_covers_the_file(tiny_en, long_talk, chunk_s):
    whole, reference = long_talk["whole"], long_talk["reference"]
    progress: list[tuple[float, float]] = []
    chunked = WhisperFileTranscriber(tiny_en.whisper_model, lambda: tiny_en.options, chunk_s=chunk_s).transcribe_file(
        str(long_talk["wav"]), on_progress=lambda done, total: progress.append((done, total)))
    print(f"chunks of {chunk_s:.0f} s: WER {wer(reference, chunked.text):.3f}, "
          f"in one piece {wer(reference, whole.text):.3f}")
    assert wer(reference, chunked.text) <= min(WER_BOUND, wer(reference, whole.text) + 0.05), chunked.text
    assert (chunked.duration_s, chunked.language) == (whole.duration_s, "en")
    assert_monotonic([(c.start_s, c.end_s) for c in chunked.segments], chunked.duration_s)
    starts = [c.start_s for c in chunked.segments]
    assert all(min(abs(s - onset) for s in starts) < 0.6 for onset in long_talk["onsets"]), (starts,
                                                                                           long_talk["onsets"])
    assert chunked.segments[-1].end_s > chunked.duration_s - 1.5
    done = [d for d, _ in progress]
    assert done == sorted(done) and len(done) > chunked.duration_s / chunk_s
    assert progress[-1] == (chunked.duration_s, chunked.duration_s)
    assert all(d <= t for d, t in progress)
