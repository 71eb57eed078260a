"""At least 2,000 random and malformed frames; the daemon must answer PING after."""

from __future__ import annotations

import json
import socket

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.integration.conftest import raw_connect, send
from v2m.ipc import protocol

SAFE_COMMANDS = ["PING", "GET_STATUS", "GET_CONFIG", "UPDATE_CONFIG", "PAUSE_DAEMON",
                 "RESUME_DAEMON", "TOGGLE_RECORDING", "SUBSCRIBE", "PROCESS_TEXT", "NOPE", ""]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=10,
)
requests = st.fixed_dictionaries(
    {"cmd": st.sampled_from(SAFE_COMMANDS) | st.text(max_size=12) | json_values},
    optional={"data": json_values},
).map(lambda m: json.dumps(m).encode())


def framed(body: bytes) -> bytes:
    return len(body).to_bytes(4, "big") + body


frames = st.one_of(
    st.binary(max_size=64),                                     # raw garbage
    st.binary(max_size=64).map(framed),                          # valid header, garbage body
    requests.map(framed),                                        # well-formed JSON requests
    json_values.map(lambda v: framed(json.dumps(v).encode())),  # JSON that is not a request
    st.tuples(requests, st.integers(1, 50)).map(                 # header promises more than sent
        lambda t: framed(t[0])[: max(1, len(t[0]) + 4 - t[1])]),
    st.integers(protocol.MAX_FRAME_BYTES + 1, 2**32 - 1).map(lambda n: n.to_bytes(4, "big")),
)


def exchange(payload: bytes) -> list[dict]:
    """Send bytes, half-close, and collect every reply until the server closes."""
    sock = raw_connect(timeout_s=10)
    try:
        sock.sendall(payload)
        sock.shutdown(socket.SHUT_WR)
        decoder, replies = protocol.FrameDecoder(), []
        while True:
            try:
                chunk = sock.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            replies += [protocol.decode_payload(p) for p in decoder.feed(chunk)]
        return replies
    finally:
        sock.close()


@settings(max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(frame=frames)
def test_random_frames_never_kill_the_daemon(daemon, frame):
    for reply in exchange(frame):
        assert reply["status"] in ("success", "error", "event")
        if reply["status"] == "error":
            assert isinstance(reply["error"], str) and reply["error"]


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(bodies=st.lists(st.binary(max_size=40) | requests, max_size=8))
def test_bad_frames_do_not_desynchronise_a_connection(daemon, bodies):
    bodies = [b for b in bodies if b"SUBSCRIBE" not in b]
    sock = raw_connect()
    try:
        sock.sendall(b"".join(framed(b) for b in bodies))
        sock.sendall(protocol.encode_frame(protocol.request("PING")))
        # Every frame gets exactly one reply, in order; the last is our PING's.
        from tests.integration.conftest import read_frame
        replies = [read_frame(sock) for _ in range(len(bodies) + 1)]
        assert all(r is not None for r in replies)
        assert replies[-1]["data"] == {"message": "PONG"}
    finally:
        sock.close()


def test_daemon_answers_ping_after_the_fuzzing(daemon):
    # Runs the same kind of abuse once more inline, then checks liveness.
    for garbage in (b"\xff" * 10, framed(b"\x00\x01"), (2**31).to_bytes(4, "big")):
        exchange(garbage)
    sock = raw_connect()
    assert send(sock, "PING")["data"]["message"] == "PONG"
    status = send(sock, "GET_STATUS")["data"]
    assert status["pid"] > 0
    sock.close()
