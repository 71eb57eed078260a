"""File transcription with the real tiny.en model and PyAV, on synthesized speech."""

from __future__ import annotations

import json
import os
import stat

import pytest

from tests.support.media import mux, sentence_onsets, speech_wav, video_only
from tests.support.speech import write_pcm
from tests.support.wer import wer
from tests.unit.test_subtitles import assert_monotonic, parse_srt, parse_vtt
from v2m.domain.errors import MediaError, ModelError
from v2m.domain.hallucination import GateOptions
from v2m.domain.subtitles import render
from v2m.infrastructure.asr import whisper_file_transcriber
from v2m.infrastructure.asr.faster_whisper_transcriber import FasterWhisperTranscriber, WhisperOptions
from v2m.infrastructure.audio.media_files import check_readable, decode
from v2m.infrastructure.models.model_locator import bundled_model
from v2m.infrastructure.asr.whisper_file_transcriber import WhisperFileTranscriber

# As for dictation (test_audio_adapters): tiny.en scores well under 0.1 on
# espeak-ng's voice; a broken decode (wrong rate, channels, stream) gives ~1.
WER_BOUND = 0.25


@pytest.fixture(scope="module")
def tiny_en():
    transcriber = FasterWhisperTranscriber("tiny.en", bundled_model(), WhisperOptions(cpu_threads=2))
    transcriber.load()
    return transcriber


@pytest.fixture(scope="module")
def files(tiny_en):
    return WhisperFileTranscriber(tiny_en.whisper_model, lambda: tiny_en.options)


@pytest.fixture(scope="module")
def media(tmp_path_factory):
    d = tmp_path_factory.mktemp("media")
    wav, reference = speech_wav(d / "talk.wav")
    return {"wav": wav, "mkv": mux(wav, d / "talk.mkv", video=True), "mp4": mux(wav, d / "talk.mp4"),
            "reference": reference, "onsets": sentence_onsets(d / "talk.wav")}


@pytest.fixture(scope="module")
def wav_result(files, media):
    progress = []
    result = files.transcribe_file(str(media["wav"]), on_progress=lambda done, total: progress.append((done, total)))
    return result, progress


def test_wav_transcribes_within_wer_bound(wav_result, media):
    result, _ = wav_result
    assert wer(media["reference"], result.text) <= WER_BOUND, result.text
    assert result.language == "en" and result.path == str(media["wav"])
    assert result.duration_s == pytest.approx(len(decode(str(media["wav"]))) / 16000)


@pytest.mark.parametrize("kind", ["mkv", "mp4"])
def test_container_audio_transcribes_within_wer_bound(files, media, kind):
    """Opus in Matroska behind a video track; AAC in MP4."""
    result = files.transcribe_file(str(media[kind]))
    assert wer(media["reference"], result.text) <= WER_BOUND, result.text
    wav_s = len(decode(str(media["wav"]))) / 16000
    assert abs(result.duration_s - wav_s) < 0.1  # codec priming and padding only


def test_progress_rises_to_the_duration(wav_result):
    result, progress = wav_result
    done = [d for d, _ in progress]
    assert done == sorted(done) and len(done) >= 2
    assert progress[-1] == (result.duration_s, result.duration_s)
    assert all(total == result.duration_s for _, total in progress)


def test_cues_start_where_the_sentences_start(wav_result, media):
    """Cues come from word timestamps: one per sentence, near its onset (segment
    timestamps were 0.4-1.1 s off here; word timestamps 0.0-0.4 s)."""
    result, _ = wav_result
    starts = [c.start_s for c in result.segments]
    assert len(starts) == len(media["onsets"]), result.segments
    assert all(abs(s - t) < 0.6 for s, t in zip(starts, media["onsets"])), (starts, media["onsets"])


@pytest.mark.parametrize("fmt", ["srt", "vtt", "json"])
def test_real_run_renders_well_formed_monotonic_subtitles(wav_result, fmt):
    result, _ = wav_result
    out = render(result, fmt)
    if fmt == "srt":
        cues = parse_srt(out)
        assert [c[0] for c in cues] == list(range(1, len(cues) + 1))
        times = [(s, e) for _, s, e, _ in cues]
    elif fmt == "vtt":
        times = [(s, e) for s, e, _ in parse_vtt(out)]
    else:
        data = json.loads(out)
        assert data["text"] == result.text and data["language"] == "en"
        times = [(s["start"], s["end"]) for s in data["segments"]]
    assert len(times) == len(result.segments) >= 2
    assert_monotonic(times, round(result.duration_s, 3))


@pytest.mark.parametrize("fallback", [False, True])
def test_batched_pipeline_path_gives_the_same_words(tiny_en, media, monkeypatch, fallback):
    """The path long files take; with `fallback`, every chunk counts as unsure
    and is decoded again sequentially."""
    monkeypatch.setattr(whisper_file_transcriber, "BATCHED_MIN_S", 0.0)
    if fallback:
        monkeypatch.setattr(whisper_file_transcriber, "GateOptions", lambda: GateOptions(logprob_threshold=0.0))
    batched = WhisperFileTranscriber(tiny_en.whisper_model, lambda: tiny_en.options, batched=True)
    result = batched.transcribe_file(str(media["wav"]))
    assert wer(media["reference"], result.text) <= WER_BOUND, result.text
    assert len(result.segments) == len(media["onsets"]), result.segments
    assert_monotonic([(s.start_s, s.end_s) for s in result.segments], result.duration_s)


def test_silence_gives_no_text(files, speech_dir):
    assert files.transcribe_file(str(speech_dir / "silence.wav")).segments == ()


def test_a_file_with_no_samples_gives_an_empty_transcript(files, tmp_path):
    result = files.transcribe_file(str(write_pcm(tmp_path / "empty.wav", b"")))
    assert (result.duration_s, result.segments, result.language) == (0.0, (), "en")


def test_missing_file(files, tmp_path):
    with pytest.raises(MediaError, match="no such file: .*nothing.wav"):
        files.transcribe_file(str(tmp_path / "nothing.wav"))


def test_text_file_named_wav_is_not_audio(files, tmp_path):
    fake = tmp_path / "notes.wav"
    fake.write_text("These are my meeting notes, not a recording.\n" * 20)
    with pytest.raises(MediaError, match="notes.wav is not an audio or video file"):
        files.transcribe_file(str(fake))


def test_empty_file_is_not_audio(files, tmp_path):
    (tmp_path / "empty.mp3").write_bytes(b"")
    with pytest.raises(MediaError, match="not an audio or video file"):
        files.transcribe_file(str(tmp_path / "empty.mp3"))


def test_video_without_sound_track(files, tmp_path):
    with pytest.raises(MediaError, match="has no audio stream"):
        files.transcribe_file(str(video_only(tmp_path / "silent-film.mkv")))


def test_directory(files, tmp_path):
    with pytest.raises(MediaError, match="is a directory"):
        files.transcribe_file(str(tmp_path))


def test_fifo_is_refused_without_blocking(files, tmp_path):
    fifo = tmp_path / "pipe.wav"
    os.mkfifo(fifo)
    with pytest.raises(MediaError, match="not a regular file \\(a FIFO\\)"):
        files.transcribe_file(str(fifo))


@pytest.mark.parametrize("device", ["/dev/zero", "link"])
def test_devices_are_refused_even_through_a_symlink(files, tmp_path, device):
    if device == "link":
        (tmp_path / "zero.wav").symlink_to("/dev/zero")
        device = str(tmp_path / "zero.wav")
    with pytest.raises(MediaError, match="character device"):
        files.transcribe_file(device)


def test_unreadable_file_is_refused_even_as_root(files, media, tmp_path):
    locked = tmp_path / "locked.wav"
    locked.write_bytes(media["wav"].read_bytes())
    locked.chmod(0)
    with pytest.raises(MediaError, match="locked.wav is not readable by you \\(mode ----------"):
        files.transcribe_file(str(locked))


@pytest.mark.skipif(os.geteuid() != 0, reason="chown needs root")
def test_root_does_not_read_another_users_private_file(media, tmp_path):
    private = tmp_path / "private.wav"
    private.write_bytes(media["wav"].read_bytes())
    private.chmod(0o600)
    os.chown(private, 65534, 65534)  # nobody
    with pytest.raises(MediaError, match="not readable by you"):
        check_readable(str(private))
    private.chmod(0o604)  # readable by others: root, as an "other", may read it
    check_readable(str(private))


@pytest.mark.skipif(os.geteuid() != 0, reason="chown needs root")
def test_group_read_bit_applies_to_members(tmp_path):
    shared = tmp_path / "shared.wav"
    shared.write_bytes(b"x")
    os.chown(shared, 65534, os.getegid())
    shared.chmod(stat.S_IRGRP)
    check_readable(str(shared))
    shared.chmod(stat.S_IROTH)  # a member of the group gets the group's bits, not other's
    with pytest.raises(MediaError, match="not readable by you"):
        check_readable(str(shared))


def test_model_error_passes_through(media):
    def no_model():
        raise ModelError("model tiny.en is not loaded")

    with pytest.raises(ModelError, match="not loaded"):
        WhisperFileTranscriber(no_model, WhisperOptions).transcribe_file(str(media["wav"]))
