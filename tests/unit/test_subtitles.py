"""Transcript formats: parsed back, timestamps monotonic, IPC round trip."""

from __future__ import annotations

import json
import math
import re

import pytest

from v2m.domain.subtitles import (FORMATS, CueOptions, clean_timeline, cues_from_words, from_dict, render, timestamp,
                                  to_dict)
from v2m.domain.transcript import FileTranscript, TimedSegment, TimedWord

SRT_CUE = re.compile(r"(\d+)\n(\d{2,}):(\d{2}):(\d{2}),(\d{3}) --> (\d{2,}):(\d{2}):(\d{2}),(\d{3})\n(.+)\n")
VTT_CUE = re.compile(r"(\d{2,}):(\d{2}):(\d{2})\.(\d{3}) --> (\d{2,}):(\d{2}):(\d{2})\.(\d{3})\n(.+)\n")


def transcript(*segments: tuple[float, float, str], duration_s: float = 10.0) -> FileTranscript:
    return FileTranscript("/tmp/talk.mkv", duration_s, "en", tuple(TimedSegment(*s) for s in segments))


SAMPLE = transcript((0.5, 2.25, " Hello there."), (2.5, 4.0, "General Kenobi."), (5.0, 7.125, "You are a bold one."))
# Whisper output as it can come: overlaps, a segment inside the previous one,
# an end before its start, an empty segment, times past the end of the file.
MESSY = transcript((1.0, 3.0, "one"), (2.0, 2.5, "two"), (2.8, 4.0, "three"), (5.0, 4.5, "four"),
                   (6.0, 6.5, "  "), (9.0, 12.0, "five"), (-1.0, 0.5, "six"), duration_s=10.0)


def seconds(h: str, m: str, s: str, ms: str) -> float:
    return int(h) * 3600 + int(m) * 60 + int(s) + int(ms) / 1000


def parse_srt(text: str) -> list[tuple[int, float, float, str]]:
    blocks = text.split("\n\n")
    cues = [SRT_CUE.fullmatch(b if b.endswith("\n") else b + "\n") for b in blocks]
    assert all(cues), text
    return [(int(c[1]), seconds(*c.groups()[1:5]), seconds(*c.groups()[5:9]), c[10]) for c in cues]


def parse_vtt(text: str) -> list[tuple[float, float, str]]:
    header, *blocks = text.split("\n\n")
    assert header == "WEBVTT"
    cues = [VTT_CUE.fullmatch(b if b.endswith("\n") else b + "\n") for b in blocks]
    assert all(cues), text
    return [(seconds(*c.groups()[0:4]), seconds(*c.groups()[4:8]), c[9]) for c in cues]


def assert_monotonic(times: list[tuple[float, float]], duration_s: float) -> None:
    previous_end = 0.0
    for start, end in times:
        assert previous_end <= start <= end <= duration_s, times
        previous_end = end


def test_srt_parses_back():
    cues = parse_srt(render(SAMPLE, "srt"))
    assert cues == [(1, 0.5, 2.25, "Hello there."), (2, 2.5, 4.0, "General Kenobi."),
                    (3, 5.0, 7.125, "You are a bold one.")]


def test_vtt_parses_back():
    assert parse_vtt(render(SAMPLE, "vtt")) == [(0.5, 2.25, "Hello there."), (2.5, 4.0, "General Kenobi."),
                                               (5.0, 7.125, "You are a bold one.")]


def test_json_has_path_duration_language_text_and_segments():
    data = json.loads(render(SAMPLE, "json"))
    assert data["path"] == "/tmp/talk.mkv" and data["duration_s"] == 10.0 and data["language"] == "en"
    assert data["text"] == "Hello there. General Kenobi. You are a bold one."
    assert data["segments"][0] == {"start": 0.5, "end": 2.25, "text": "Hello there."}
    assert len(data["segments"]) == 3


def test_txt_is_one_segment_per_line():
    assert render(SAMPLE, "txt") == "Hello there.\nGeneral Kenobi.\nYou are a bold one.\n"


@pytest.mark.parametrize("fmt", FORMATS)
def test_overlapping_segments_give_monotonic_timestamps_within_the_file(fmt):
    out = render(MESSY, fmt)
    if fmt == "srt":
        times = [(s, e) for _, s, e, _ in parse_srt(out)]
    elif fmt == "vtt":
        times = [(s, e) for s, e, _ in parse_vtt(out)]
    elif fmt == "json":
        times = [(s["start"], s["end"]) for s in json.loads(out)["segments"]]
    else:
        assert out.splitlines() == ["one", "two", "three", "four", "five", "six"]
        return
    assert len(times) == 6
    assert_monotonic(times, MESSY.duration_s)


def test_clean_timeline_clamps_overlaps_to_the_previous_end():
    cleaned = [(s.start_s, s.end_s) for s in clean_timeline(MESSY).segments]
    assert cleaned == [(1.0, 3.0), (3.0, 3.0), (3.0, 4.0), (5.0, 5.0), (9.0, 10.0), (10.0, 10.0)]


def test_nan_times_do_not_break_the_timeline():
    cleaned = clean_timeline(transcript((1.0, math.nan, "a"), (math.nan, 2.0, "b")))
    assert [(s.start_s, s.end_s) for s in cleaned.segments] == [(1.0, 1.0), (1.0, 2.0)]


def test_hours_and_millisecond_rounding():
    assert timestamp(3 * 3600 + 25 * 60 + 7.25) == "03:25:07,250"
    assert timestamp(59.9996, ".") == "00:01:00.000"
    assert timestamp(123 * 3600) == "123:00:00,000"
    long = transcript((3661.5, 3662.0, "late"), duration_s=4000.0)
    assert "01:01:01,500 --> 01:01:02,000" in render(long, "srt")
    assert "01:01:01.500 --> 01:01:02.000" in render(long, "vtt")


def test_cue_text_cannot_break_the_format():
    tricky = transcript((0.0, 1.0, "a\n\nb"), (1.0, 2.0, "x --> y <b> & z"))
    assert [c[3] for c in parse_srt(render(tricky, "srt"))] == ["a b", "x --> y <b> & z"]
    assert parse_vtt(render(tricky, "vtt"))[1][2] == "x --&gt; y &lt;b&gt; &amp; z"


def test_empty_transcript_renders_valid_empty_documents():
    empty = transcript()
    assert render(empty, "srt") == "" and render(empty, "txt") == ""
    assert render(empty, "vtt").strip() == "WEBVTT"
    assert json.loads(render(empty, "json"))["segments"] == []


def test_unknown_format_is_a_value_error():
    with pytest.raises(ValueError, match="unknown transcript format 'docx'"):
        render(SAMPLE, "docx")


def test_dict_round_trip_is_exact_and_json_safe():
    data = json.loads(json.dumps(to_dict(SAMPLE)))
    assert from_dict(data) == SAMPLE
    assert from_dict(json.loads(render(SAMPLE, "json"))) == clean_timeline(SAMPLE)


@pytest.mark.parametrize("bad", [{}, {"path": "x", "duration_s": 1, "language": "en", "segments": [{"start": 0}]},
                                 {"path": "x", "duration_s": "1", "language": "en", "segments": []}, []])
def test_from_dict_refuses_malformed_data(bad):
    with pytest.raises(ValueError, match="not a transcript"):
        from_dict(bad)


def spoken(text: str, start_s: float = 0.0, word_s: float = 0.3, gaps: dict[int, float] | None = None):
    """Timed words as Whisper gives them (leading spaces), `gaps` adding silence before word i."""
    out, t = [], start_s
    for i, w in enumerate(text.split()):
        t += (gaps or {}).get(i, 0.0)
        out.append(TimedWord(t, t + word_s, " " + w))
        t += word_s
    return out


def test_cues_end_at_sentence_ends():
    cues = cues_from_words(spoken("Hello there. How are you? Fine!"))
    assert [c.text for c in cues] == ["Hello there.", "How are you?", "Fine!"]
    assert (cues[1].start_s, cues[1].end_s) == pytest.approx((0.6, 1.5))


def test_a_pause_starts_a_new_cue():
    cues = cues_from_words(spoken("one two three four", gaps={2: 1.0}))
    assert [(c.text, round(c.start_s, 2)) for c in cues] == [("one two", 0.0), ("three four", 1.6)]


def test_long_speech_is_split_into_readable_cues():
    text = " ".join(["word"] * 60)
    cues = cues_from_words(spoken(text), CueOptions(max_cue_s=5.0, max_chars=42))
    assert " ".join(c.text for c in cues) == text
    assert all(len(c.text) <= 42 and c.end_s - c.start_s <= 5.0 for c in cues)


def test_no_words_no_cues():
    assert cues_from_words([]) == [] and cues_from_words([TimedWord(0, 1, " ")]) == []
