"""Timed transcripts of files and their output formats (txt, srt, vtt, json).
Pure functions, no I/O."""

from __future__ import annotations

import dataclasses
import json
import math
from typing import Any, Mapping, Sequence

from v2m.domain.transcript import FileTranscript, TimedSegment, TimedWord

FORMATS = ("txt", "srt", "vtt", "json")


@dataclasses.dataclass(frozen=True)
class CueOptions:
    max_cue_s: float = 7.0     # a subtitle stays on screen at most this long
    max_chars: int = 84        # two lines of 42, the usual subtitle limit
    pause_s: float = 0.7       # a silence this long between words starts a new cue


_SENTENCE_END = (".", "?", "!", "。", "？", "！")


def cues_from_words(words: Sequence[TimedWord], options: CueOptions = CueOptions()) -> list[TimedSegment]:
    """Group timed words into subtitle cues.

    A cue ends after a sentence, before a pause, or before it would grow too
    long to read. Word times come from Whisper's alignment, which follows the
    speech far closer than its segment timestamps do.
    """
    cues: list[list[TimedWord]] = []
    for word in words:
        if not word.text.strip():
            continue
        current = cues[-1] if cues else None
        if current is None or _breaks(current, word, options):
            cues.append([word])
        else:
            current.append(word)
    return [TimedSegment(c[0].start_s, c[-1].end_s, "".join(w.text for w in c).strip()) for c in cues]


def _breaks(cue: list[TimedWord], word: TimedWord, options: CueOptions) -> bool:
    last = cue[-1]
    return (last.text.rstrip().endswith(_SENTENCE_END)
            or word.start_s - last.end_s >= options.pause_s
            or word.end_s - cue[0].start_s > options.max_cue_s
            or len("".join(w.text for w in cue).strip()) + len(word.text) > options.max_chars)


def clean_timeline(transcript: FileTranscript) -> FileTranscript:
    """Drop empty segments; make times monotonic, end >= start, within the file.

    Whisper's timestamps may overlap the previous segment or run past the end
    of the audio; subtitle players mis-order or drop such cues, so a segment
    starts no earlier than the previous one ended.
    """
    limit = transcript.duration_s if _finite(transcript.duration_s) and transcript.duration_s > 0 else math.inf
    segments, floor = [], 0.0
    for seg in transcript.segments:
        text = " ".join(seg.text.split())
        if not text:
            continue
        start = min(max(_or(seg.start_s, floor), floor), limit)
        end = min(max(_or(seg.end_s, start), start), limit)
        segments.append(TimedSegment(start, end, text))
        floor = end
    return dataclasses.replace(transcript, segments=tuple(segments))


def render(transcript: FileTranscript, fmt: str) -> str:
    """The transcript as txt, srt, vtt or json text; ValueError for another format."""
    renderers = {"txt": _txt, "srt": _srt, "vtt": _vtt, "json": _json}
    if fmt not in renderers:
        raise ValueError(f"unknown transcript format {fmt!r}; use one of {', '.join(FORMATS)}")
    return renderers[fmt](clean_timeline(transcript))


def timestamp(seconds: float, separator: str = ",") -> str:
    """HH:MM:SS,mmm (SRT) or, with separator ".", HH:MM:SS.mmm (WebVTT).

    Rounded to whole milliseconds first, so 59.9996 s gives 00:01:00,000.
    Hours grow past two digits for very long files; both formats allow that.
    """
    ms = max(0, round(seconds * 1000))
    hours, ms = divmod(ms, 3_600_000)
    minutes, ms = divmod(ms, 60_000)
    secs, ms = divmod(ms, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{separator}{ms:03d}"


def _txt(t: FileTranscript) -> str:
    return "".join(f"{s.text}\n" for s in t.segments)


def _srt(t: FileTranscript) -> str:
    cues = [f"{i}\n{timestamp(s.start_s)} --> {timestamp(s.end_s)}\n{s.text}\n"
            for i, s in enumerate(t.segments, 1)]
    return "\n".join(cues)


def _vtt(t: FileTranscript) -> str:
    cues = [f"{timestamp(s.start_s, '.')} --> {timestamp(s.end_s, '.')}\n{_vtt_text(s.text)}\n"
            for s in t.segments]
    return "\n".join(["WEBVTT\n", *cues])


def _vtt_text(text: str) -> str:
    # WebVTT cue text is markup: & and < start entities and tags, and "-->"
    # would be read as a timing line.
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _json(t: FileTranscript) -> str:
    data = to_dict(t)
    data["duration_s"] = round(t.duration_s, 3)
    data["segments"] = [{"start": round(s.start_s, 3), "end": round(s.end_s, 3), "text": s.text}
                        for s in t.segments]
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


def to_dict(transcript: FileTranscript) -> dict[str, Any]:
    """JSON-ready form, for IPC replies; `from_dict` reverses it exactly."""
    return {"path": transcript.path, "duration_s": transcript.duration_s, "language": transcript.language,
            "text": transcript.text,
            "segments": [{"start": s.start_s, "end": s.end_s, "text": s.text} for s in transcript.segments]}


def from_dict(data: Mapping[str, Any]) -> FileTranscript:
    """A transcript from `to_dict`'s form (or the json format); ValueError if malformed."""
    try:
        segments = tuple(TimedSegment(_number(s["start"]), _number(s["end"]), str(s["text"]))
                         for s in data["segments"])
        return FileTranscript(str(data["path"]), _number(data["duration_s"]), str(data["language"]), segments)
    except (KeyError, TypeError) as exc:
        raise ValueError(f"not a transcript: {exc!r}") from exc


def _number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"not a transcript: {value!r} is not a number of seconds")
    return float(value)


def _finite(value: float) -> bool:
    return isinstance(value, (int, float)) and math.isfinite(value)


def _or(value: float, default: float) -> float:
    return value if _finite(value) else default
