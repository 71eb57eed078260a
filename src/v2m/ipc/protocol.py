"""Sans-IO framing for the v2m socket protocol.

A frame is a 4-byte big-endian length followed by that many bytes of UTF-8
JSON. This is the wire format of the original voice2machine backend, kept so
its clients keep working. Nothing here touches a socket: the server and the
client feed bytes in and take frames out.
"""

from __future__ import annotations

import json
import struct
from typing import Any

from v2m.domain.errors import V2mError

HEADER = struct.Struct(">I")
MAX_FRAME_BYTES = 1024 * 1024  # 1 MiB; bigger frames are refused


class ProtocolError(V2mError, ValueError):
    """The peer sent bytes that are not a valid frame or message: a V2mError,
    so a malformed reply reaches the CLI's one exit-code handler."""


def encode_frame(message: dict[str, Any]) -> bytes:
    # allow_nan=False: NaN is not JSON, and a peer's parser would choke on it.
    payload = json.dumps(message, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode("utf-8")
    if len(payload) > MAX_FRAME_BYTES:
        raise ProtocolError(f"frame of {len(payload)} bytes exceeds the {MAX_FRAME_BYTES}-byte limit")
    return HEADER.pack(len(payload)) + payload


def decode_payload(payload: bytes) -> dict[str, Any]:
    """Parse one frame's payload into a JSON object."""
    try:
        message = json.loads(payload.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ProtocolError(f"frame is not valid UTF-8: {exc.reason}") from None
    except json.JSONDecodeError as exc:
        raise ProtocolError(f"frame is not valid JSON: {exc.msg} at byte {exc.pos}") from None
    except RecursionError:  # 100k nested lists: the frame was whole, so the stream stays in sync
        raise ProtocolError("frame's JSON is nested too deeply") from None
    if not isinstance(message, dict):
        raise ProtocolError(f"frame must hold a JSON object, not {type(message).__name__}")
    return message


class FrameDecoder:
    """Accumulates bytes and yields complete frame payloads.

    `feed()` accepts any split of the stream, down to one byte at a time.
    An oversized length header raises a fatal ProtocolError before the body
    is buffered, so a hostile peer cannot make us allocate it.
    """

    def __init__(self, max_frame_bytes: int = MAX_FRAME_BYTES) -> None:
        self._buffer = bytearray()
        self._max = max_frame_bytes
        self.last_length = 0  # the length header last read, for messages

    def feed(self, data: bytes) -> list[bytes]:
        self._buffer += data
        frames: list[bytes] = []
        while len(self._buffer) >= HEADER.size:
            (length,) = HEADER.unpack_from(self._buffer)
            self.last_length = length
            if length > self._max:
                self._buffer.clear()
                raise ProtocolError(f"frame of {length} bytes exceeds the {self._max}-byte limit")
            end = HEADER.size + length
            if len(self._buffer) < end:
                break
            frames.append(bytes(self._buffer[HEADER.size:end]))
            del self._buffer[:end]
        return frames

    @property
    def pending(self) -> int:
        """Bytes of an incomplete frame still buffered (non-zero at EOF = truncated)."""
        return len(self._buffer)


def request(cmd: str, data: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"cmd": cmd, "data": data or {}}


def success(data: Any = None) -> dict[str, Any]:
    return {"status": "success", "data": data if data is not None else {}, "error": None}


def error(message: str, data: Any = None) -> dict[str, Any]:
    return {"status": "error", "data": data if data is not None else {}, "error": message}


def event(data: dict[str, Any]) -> dict[str, Any]:
    return {"status": "event", "data": data}
