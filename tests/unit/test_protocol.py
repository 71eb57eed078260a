import json

import pytest

from v2m.ipc import protocol



def test_encode_matches_golden_bytes():
    assert protocol.encode_frame(protocol.request("PING")) == b'\x00\x00\x00\x18{"cmd":"PING","data":{}}'


def test_encode_utf8_length_counts_bytes_not_characters():
    frame = protocol.encode_frame({"text": "ñé€"})
    payload = '{"text":"ñé€"}'.encode()
    assert frame == len(payload).to_bytes(4, "big") + payload
    assert frame[:4] == b"\x00\x00\x00\x12"


def test_decoder_golden_reply():
    raw = b'\x00\x00\x00\x3b{"status":"success","data":{"message":"PONG"},"error":null}'
    assert len(raw) - 4 == 0x3B
    (payload,) = protocol.FrameDecoder().feed(raw)
    assert protocol.decode_payload(payload) == {"status": "success", "data": {"message": "PONG"}, "error": None}


def test_decoder_fed_one_byte_at_a_time():
    messages = [protocol.request("PING"), protocol.request("UPDATE_CONFIG", {"log": {"level": "debug"}}),
                {"cmd": "X", "data": {"text": "ünïcode " * 50}}]
    stream = b"".join(protocol.encode_frame(m) for m in messages)
    decoder = protocol.FrameDecoder()
    out = []
    for i in range(len(stream)):
        out += decoder.feed(stream[i:i + 1])
    assert [protocol.decode_payload(p) for p in out] == messages
    assert decoder.pending == 0


def test_decoder_keeps_partial_frame_pending():
    frame = protocol.encode_frame(protocol.request("PING"))
    decoder = protocol.FrameDecoder()
    assert decoder.feed(frame[:-3]) == []
    assert decoder.pending == len(frame) - 3


def test_oversized_header_is_fatal_before_buffering():
    decoder = protocol.FrameDecoder()
    with pytest.raises(protocol.ProtocolError) as info:
        decoder.feed((protocol.MAX_FRAME_BYTES + 1).to_bytes(4, "big"))
    assert "exceeds" in str(info.value)


def test_frame_of_exactly_the_limit_is_accepted():
    body = b"x" * protocol.MAX_FRAME_BYTES
    (payload,) = protocol.FrameDecoder().feed(len(body).to_bytes(4, "big") + body)
    assert len(payload) == protocol.MAX_FRAME_BYTES


def test_encode_refuses_oversized_message():
    with pytest.raises(protocol.ProtocolError):
        protocol.encode_frame({"text": "x" * protocol.MAX_FRAME_BYTES})


@pytest.mark.parametrize("payload, fragment", [
    (b"{not json", "not valid JSON"),
    (b"\xff\xfe", "not valid UTF-8"),
    (b"[1, 2]", "JSON object"),
    (b'"PING"', "JSON object"),
])
def test_decode_payload_errors_are_not_fatal(payload, fragment):
    with pytest.raises(protocol.ProtocolError) as info:
        protocol.decode_payload(payload)
    assert fragment in str(info.value)


def test_reply_shapes():
    assert protocol.success({"a": 1}) == {"status": "success", "data": {"a": 1}, "error": None}
    assert protocol.error("boom") == {"status": "error", "data": {}, "error": "boom"}
    assert json.loads(protocol.encode_frame(protocol.event({"type": "t"}))[4:]) == {
        "status": "event", "data": {"type": "t"}}
