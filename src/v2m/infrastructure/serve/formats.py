"""The OpenAI audio API's response formats, from a transcription result.

A result is the dict the daemon's transcribe callable returns:
{"text", "language" (a code), "duration" (s), "segments": [{"start", "end",
"text", and optionally "avg_logprob", "no_speech_prob", "compression_ratio"}],
"words": [{"word", "start", "end"}] (when asked for)}.
"""

from __future__ import annotations

import json
from typing import Any, Mapping

from v2m.domain.languages import LANGUAGES
from v2m.domain.subtitles import render
from v2m.domain.transcript import FileTranscript, TimedSegment

FORMATS = ("json", "text", "srt", "vtt", "verbose_json")
GRANULARITIES = ("segment", "word")
MEDIA_TYPES = {"json": "application/json", "verbose_json": "application/json",
               "text": "text/plain; charset=utf-8", "srt": "application/x-subrip; charset=utf-8",
               "vtt": "text/vtt; charset=utf-8"}


def body(result: Mapping[str, Any], fmt: str, task: str, granularities: tuple[str, ...]) -> tuple[bytes, str]:
    """(body, media type) of `result` in `fmt`."""
    if fmt == "json":
        text = json.dumps({"text": result["text"]}, ensure_ascii=False)
    elif fmt == "text":
        text = result["text"] + "\n"
    elif fmt in ("srt", "vtt"):
        segments = tuple(TimedSegment(float(s["start"]), float(s["end"]), str(s["text"]))
                         for s in result["segments"])
        text = render(FileTranscript("", float(result["duration"]), str(result["language"]), segments), fmt)
    else:
        text = json.dumps(verbose(result, task, granularities), ensure_ascii=False)
    return text.encode(), MEDIA_TYPES[fmt]


def verbose(result: Mapping[str, Any], task: str, granularities: tuple[str, ...]) -> dict[str, Any]:
    code = str(result.get("language") or "")
    out: dict[str, Any] = {"task": task, "language": LANGUAGES.get(code, code).lower(),
                           "duration": round(float(result["duration"]), 3), "text": result["text"]}
    if "segment" in granularities or not granularities:
        out["segments"] = [_segment(i, s) for i, s in enumerate(result["segments"])]
    if "word" in granularities:
        out["words"] = [{"word": str(w["word"]).strip(), "start": round(float(w["start"]), 3),
                         "end": round(float(w["end"]), 3)} for w in result.get("words", ())]
    return out


def _segment(index: int, s: Mapping[str, Any]) -> dict[str, Any]:
    return {"id": index, "seek": 0, "start": round(float(s["start"]), 3), "end": round(float(s["end"]), 3),
            "text": str(s["text"]), "tokens": list(s.get("tokens", [])),
            "temperature": float(s.get("temperature", 0.0)),
            "avg_logprob": float(s.get("avg_logprob", 0.0)),
            "compression_ratio": float(s.get("compression_ratio", 1.0)),
            "no_speech_prob": float(s.get("no_speech_prob", 0.0))}


def error(message: str, kind: str = "invalid_request_error", code: str | None = None,
          param: str | None = None) -> bytes:
    return json.dumps({"error": {"message": message, "type": kind, "param": param, "code": code}}).encode()
