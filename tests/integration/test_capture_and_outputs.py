"""PyAudio capture through a private PulseAudio server, and xclip on Xvfb."""

from __future__ import annotations

import os
import subprocess
import threading

import pytest

from tests.support.speech import SENTENCES, read_pcm
from tests.support.wer import wer
from v2m.domain.audio_math import FRAME_BYTES
from v2m.domain.errors import AudioDeviceError, OutputError
from v2m.infrastructure.output.clipboard import ClipboardSink
from v2m.infrastructure.asr.faster_whisper_transcriber import FasterWhisperTranscriber, WhisperOptions
from v2m.infrastructure.models.model_locator import bundled_model
from v2m.infrastructure.audio.pyaudio_source import PyAudioSource, list_input_devices


@pytest.fixture
def mic_env(pulse, monkeypatch):
    for key, value in pulse.env.items():
        monkeypatch.setenv(key, value)
    return pulse


def capture_while_playing(pulse, wav, device=""):
    frames: list[bytes] = []
    errors: list[Exception] = []
    first = threading.Event()
    source = PyAudioSource(device)
    source.start(lambda frame: (frames.append(frame), first.set()), errors.append)
    # The sound server starts the stream a little after start() returns (later
    # on a busy machine): play once it hears, so the whole file is due.
    assert first.wait(10), errors
    pulse.play(wav).wait()
    source.stop()  # right after the last sample was played: the worst case for the tail
    return source, frames, errors


def test_capture_keeps_the_last_word(mic_env, speech_dir):
    source, frames, errors = capture_while_playing(mic_env, speech_dir / "s2.wav")
    assert errors == [] and all(len(f) == FRAME_BYTES for f in frames)
    played = len(read_pcm(speech_dir / "s2.wav")) / 32000
    assert len(frames) * 0.03 >= played  # nothing dropped
    transcriber = FasterWhisperTranscriber("tiny.en", bundled_model(), WhisperOptions(cpu_threads=2))
    transcriber.load()
    text = " ".join(s.text for s in transcriber.transcribe(b"".join(frames)))
    assert wer(SENTENCES[2], text) <= 0.25, text
    assert text.lower().rstrip(". ").endswith("word"), text


def test_device_by_name_substring_and_index(mic_env, speech_dir):
    devices = list_input_devices()
    names = [d["name"] for d in devices]
    assert "pulse" in names and any(d["default"] for d in devices)
    _, frames, errors = capture_while_playing(mic_env, speech_dir / "s0.wav", device="puls")
    assert errors == [] and len(frames) > 50
    index = str(next(d["index"] for d in devices if d["name"] == "pulse"))
    _, frames, _ = capture_while_playing(mic_env, speech_dir / "s0.wav", device=index)
    assert len(frames) > 50


def test_unknown_device_is_a_clear_error_listing_inputs(mic_env):
    with pytest.raises(AudioDeviceError) as info:
        PyAudioSource("no-such-mic").start(lambda f: None, lambda e: None)
    assert "no-such-mic" in str(info.value) and "pulse" in str(info.value)


def test_microphone_open_only_while_recording(mic_env):
    def source_outputs() -> str:
        return subprocess.run(["pactl", "list", "short", "source-outputs"], env=mic_env.client_env(),
                              capture_output=True, text=True, check=True).stdout
    source = PyAudioSource("")
    source.start(lambda f: None, lambda e: None)
    assert source_outputs().strip() != ""
    source.stop()
    assert source_outputs().strip() == ""


@pytest.fixture
def x_display(xvfb, monkeypatch):
    monkeypatch.setenv("DISPLAY", xvfb.display)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    return xvfb


def test_clipboard_round_trip_on_xvfb(x_display):
    sink = ClipboardSink()
    text = "Voice dictation — ünïcode, \"quotes\" and\nnew lines."
    sink.deliver(text)
    out = subprocess.run(["xclip", "-selection", "clipboard", "-out"], capture_output=True, text=True,
                         timeout=10, env=dict(os.environ))
    assert out.stdout == text
    assert sink.read() == text


def test_clipboard_without_a_display_fails_clearly(monkeypatch):
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    with pytest.raises(OutputError, match="no graphical session"):
        ClipboardSink().deliver("x")


def test_clipboard_deliver_does_not_hang(x_display):
    # xclip forks a child to own the selection; deliver must still return.
    done = threading.Event()
    threading.Thread(target=lambda: (ClipboardSink().deliver("quick"), done.set()), daemon=True).start()
    assert done.wait(10)


def test_paste_restores_the_previous_clipboard(x_display):
    from v2m.infrastructure.output.keyboard import PasteSink, TypeSink, usable_tools

    assert "xdotool" in usable_tools()
    ClipboardSink().deliver("what the user had copied")
    PasteSink(settle_s=0.05).deliver("dictated text")  # ctrl+v goes to the (empty) focused root
    assert ClipboardSink().read() == "what the user had copied"
    TypeSink().deliver("typed")  # xdotool accepts it; nothing on the root window records it


def test_resampling_keeps_the_pitch():
    import numpy as np

    from v2m.infrastructure.audio.resample import to_16k

    t = np.arange(48_000) / 48_000
    tone = (np.sin(2 * np.pi * 440 * t) * 10_000).astype(np.int16).tobytes()
    out = np.frombuffer(to_16k(tone, 48_000), dtype=np.int16).astype(np.float32)
    assert out.size == 16_000
    spectrum = np.abs(np.fft.rfft(out))
    assert abs(np.argmax(spectrum) - 440) <= 1  # 1 Hz bins over one second
    assert 9_000 < out.max() < 10_500
