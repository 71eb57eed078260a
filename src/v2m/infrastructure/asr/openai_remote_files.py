"""Files through the remote engine: decoded here, uploaded compressed, in chunks.

The file is opened and checked as for the local engine (media_files), decoded
to 16 kHz mono and cut into chunks at quiet points (audio_chunks), so the
upload stays under the API's size limit (OpenAI: 25 MB) whatever the file's
length. Each chunk goes up as FLAC (lossless; 10 min of speech is about
10 MB), Opus (about 2.4 MB at 32 kbit/s) or WAV, asking for verbose_json
with segment timestamps; a server that answers plain json gives one cue
per chunk.
"""

from __future__ import annotations

import io
import logging
from typing import Any, Callable

from v2m.domain import transcript as text_tools
from v2m.domain.subtitles import clean_timeline
from v2m.domain.transcript import FileTranscript, TimedSegment
from v2m.infrastructure.asr.openai_remote import OpenAiAudioClient, request_fields
from v2m.infrastructure.audio.wav_encoding import wav_bytes
from v2m.infrastructure.audio.audio_chunks import ChunkOptions, chunks
from v2m.infrastructure.audio.media_files import SAMPLE_RATE_HZ, open_audio

log = logging.getLogger(__name__)

CHUNK_S = 600.0
UPLOAD_FORMATS = ("flac", "opus", "wav")
OPUS_BITRATE = 32_000
# Uploads this short go as WAV whatever the format: nothing to gain.
WAV_BELOW_S = 10.0


class OpenAiRemoteFileTranscriber:
    """The FileTranscriber port over the remote engine."""

    def __init__(self, client: OpenAiAudioClient, upload_format: str | Callable[[], str] = "flac",
                 chunk_s: float = CHUNK_S) -> None:
        self._client = client
        self._format = upload_format if callable(upload_format) else (lambda: upload_format)
        self._chunks = ChunkOptions(chunk_s=chunk_s)

    def transcribe_file(self, path: str, on_progress: Callable[[float, float], None] | None = None,
                        prompt: str = "") -> FileTranscript:
        o = self._client.options
        with open_audio(path) as media:
            declared = media.duration_s or 0.0
            cues: list[TimedSegment] = []
            language, end = "", 0
            for chunk in chunks(media.blocks(), self._chunks):
                end = chunk.end_sample
                total = end / SAMPLE_RATE_HZ if chunk.last else max(declared, end / SAMPLE_RATE_HZ)
                if len(chunk.audio) == 0:
                    continue
                told = text_tools.join([c.text for c in cues])
                context = text_tools.join([prompt, text_tools.prompt_tail(told)])
                data, name, ctype = encode(chunk.audio, self._format())
                fields = request_fields(o, None, context, "verbose_json")
                fields["timestamp_granularities[]"] = "segment"
                reply = self._client.post_audio(data, name, ctype, fields, o.file_timeout_s,
                                                translate=o.task == "translate")
                offset = chunk.start_sample / SAMPLE_RATE_HZ
                cues += _cues(reply, offset, len(chunk.audio) / SAMPLE_RATE_HZ)
                language = language or _language(reply.get("language"))
                if on_progress:
                    on_progress(min(end / SAMPLE_RATE_HZ, total), total)
        duration = end / SAMPLE_RATE_HZ
        language = language or ("" if o.language == "auto" else o.language)
        return clean_timeline(FileTranscript(path, duration, language, tuple(cues)))


def encode(audio, fmt: str) -> tuple[bytes, str, str]:
    """(bytes, file name, content type) of float32 16 kHz mono samples."""
    import numpy as np

    pcm = np.clip(np.round(audio * 32768.0), -32768, 32767).astype(np.int16)
    if fmt == "wav" or len(pcm) < WAV_BELOW_S * SAMPLE_RATE_HZ:
        return wav_bytes(pcm.tobytes()), "audio.wav", "audio/wav"
    if fmt not in UPLOAD_FORMATS:
        raise ValueError(f"unknown upload format {fmt!r}; use one of {', '.join(UPLOAD_FORMATS)}")
    import av

    out = io.BytesIO()
    container_format, codec = ("flac", "flac") if fmt == "flac" else ("ogg", "libopus")
    with av.open(out, "w", format=container_format) as container:
        stream = container.add_stream(codec, rate=SAMPLE_RATE_HZ, layout="mono")
        if codec == "libopus":
            stream.bit_rate = OPUS_BITRATE
        frame = av.AudioFrame.from_ndarray(pcm[None, :], format="s16", layout="mono")
        frame.sample_rate = SAMPLE_RATE_HZ
        for packet in [*stream.encode(frame), *stream.encode(None)]:
            container.mux(packet)
    return out.getvalue(), f"audio.{'flac' if fmt == 'flac' else 'ogg'}", f"audio/{'flac' if fmt == 'flac' else 'ogg'}"


def _cues(reply: dict[str, Any], offset_s: float, length_s: float) -> list[TimedSegment]:
    segments = reply.get("segments")
    if isinstance(segments, list) and segments:
        found = []
        for seg in segments:
            try:
                start, end, text = float(seg["start"]), float(seg["end"]), str(seg["text"]).strip()
            except (KeyError, TypeError, ValueError):
                continue
            if text:
                found.append(TimedSegment(offset_s + start, offset_s + end, text))
        if found:
            return found
    text = reply["text"].strip()
    return [TimedSegment(offset_s, offset_s + length_s, text)] if text else []


def _language(value: Any) -> str:
    """The reply's language as a code: OpenAI says "english", others "en"."""
    from v2m.domain.languages import parse_language

    if not isinstance(value, str) or not value.strip():
        return ""
    try:
        return parse_language(value)[0]
    except ValueError:
        return ""
