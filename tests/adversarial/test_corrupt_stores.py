"""Corrupt stores: a history file torn by a power cut, edited by hand or
filled with garbage must never lose the next dictation, and `v2m history`
must never show a traceback (issue 12, finding 7)."""

from __future__ import annotations

import json
import math
import tempfile
from pathlib import Path

from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.e2e.conftest import run_v2m
from v2m.infrastructure.system.jsonl_history import JsonlHistoryStore


def good(i: int, text: str | None = None) -> dict:
    return {"time": 1_700_000_000 + i, "duration_s": 1.5, "model": "tiny.en", "text": text or f"words {i}"}


def line(record: dict) -> bytes:
    return json.dumps(record, ensure_ascii=False).encode() + b"\n"


def test_append_after_a_torn_line_starts_a_fresh_line(tmp_path):
    path = tmp_path / "history.jsonl"
    path.write_bytes(line(good(1)) + b'{"time": 17000000, "te')  # power cut mid-write
    store = JsonlHistoryStore(path)
    store.append(good(2, "the next dictation"))
    assert [r["text"] for r in store.recent(10)] == ["words 1", "the next dictation"]
    assert store.read(10).skipped == 1
    assert path.read_bytes().endswith(line(good(2, "the next dictation")))


def test_append_to_an_empty_or_missing_file_adds_no_blank_line(tmp_path):
    path = tmp_path / "sub" / "history.jsonl"
    store = JsonlHistoryStore(path)
    store.append(good(1))
    path.write_bytes(b"")
    store.append(good(2))
    store.append(good(3))
    assert path.read_bytes() == line(good(2)) + line(good(3))


def test_line_separators_inside_the_text_do_not_split_a_record(tmp_path):
    # json.dumps(ensure_ascii=False) leaves U+2028, U+0085, \x1c... as they
    # are; only "\n" ends a record.
    store = JsonlHistoryStore(tmp_path / "history.jsonl")
    text = "one\u2028two\x85three\x1cfour\rfive"
    store.append(good(1, text))
    assert [r["text"] for r in store.recent(5)] == [text]
    assert store.read(5).skipped == 0


def test_recent_returns_the_last_valid_records_and_counts_the_rest(tmp_path):
    path = tmp_path / "history.jsonl"
    bad = [b"[1, 2]", b'"a string"', b"42", b"null", b'{"time": "yesterday", "text": "x"}',
           b'{"time": 1, "text": 5}', b'{"text": "no time"}', b'{"time": 1}',
           b'{"time": true, "text": "bool time"}', b'{"time": NaN, "text": "nan"}',
           b'{"time": 1e400, "text": "inf"}', b'{"time": 1, "text": "x", "duration_s": "long"}',
           b'{"time": 1, "text": "x", "model": NaN}', b'{"time": 1e300, "text": "far future"}',
           b'{"time": 1, "text": "\\ud800 lone surrogate"}',
           b'{"time": 1, "text": "\xff\xfe not utf-8"}', b"[" * 100_000 + b"]" * 100_000,
           b'{"time": ' + b"9" * 5000 + b', "text": "huge int"}', b"\x00\x01garbage"]
    path.write_bytes(line(good(1)) + b"\n".join(bad) + b"\n\n" + line(good(2)) + line(good(3)))
    page = JsonlHistoryStore(path).read(2)
    assert [r["text"] for r in page.records] == ["words 2", "words 3"]
    assert page.skipped == len(bad)
    assert [r["text"] for r in JsonlHistoryStore(path).recent(100)] == ["words 1", "words 2", "words 3"]


def test_history_cli_skips_counts_and_never_tracebacks(xdg):
    state = xdg["XDG_STATE_HOME"] / "v2m"
    state.mkdir(parents=True)
    (state / "history.jsonl").write_bytes(
        line(good(1)) + b'{"time": "x", "text": 1}\n\xff\xff\n{"time": 1, "text": "\\udc80"}\n'
        + b'{"time": 1, "text": "ok", "duration_s": NaN}\n["list"]\n' + line(good(2)) + b'{"time": 1, "te')
    out = run_v2m("history")
    assert out.returncode == 0, out.stderr
    assert "Traceback" not in out.stderr
    assert "words 1" in out.stdout and "words 2" in out.stdout
    assert "skipped 6 unreadable lines" in out.stderr
    as_json = run_v2m("history", "--json")
    assert as_json.returncode == 0 and "Traceback" not in as_json.stderr
    records = json.loads(as_json.stdout, parse_constant=lambda c: 1 / 0)  # strict: no NaN
    assert [r["text"] for r in records] == ["words 1", "words 2"]


def test_history_cli_on_an_unreadable_file_is_a_clear_error(xdg):
    state = xdg["XDG_STATE_HOME"] / "v2m"
    (state / "history.jsonl").mkdir(parents=True)  # a directory where the file should be
    out = run_v2m("history")
    assert out.returncode == 1 and "Traceback" not in out.stderr
    assert "history.jsonl" in out.stderr


VALID_RECORD = st.fixed_dictionaries(
    {"time": st.floats(0, 4e9), "text": st.text(max_size=40)},
    optional={"duration_s": st.floats(0, 1e4), "recovered": st.booleans(), "raw": st.text(max_size=10)})
LINES = st.lists(st.one_of(
    VALID_RECORD.map(lambda r: json.dumps(r, ensure_ascii=False).encode()),
    st.binary(max_size=60).filter(lambda b: b"\n" not in b),
    st.recursive(st.none() | st.booleans() | st.floats() | st.text(max_size=8),
                 lambda kids: st.lists(kids, max_size=3) | st.dictionaries(
                     st.sampled_from(["time", "text", "duration_s", "recovered", "x"]), kids, max_size=4),
                 max_leaves=8).map(lambda v: json.dumps(v).encode()),
), max_size=25)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=LINES, torn=st.booleans(), limit=st.integers(-2, 30))
def test_any_history_file_reads_as_valid_records_only(lines, torn, limit):
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "history.jsonl"
        path.write_bytes(b"\n".join(lines) + (b"" if torn else b"\n"))
        store = JsonlHistoryStore(path)
        page = store.read(limit)
        assert len(page.records) <= max(limit, 0)
        for record in page.records:
            assert isinstance(record, dict)
            assert isinstance(record["text"], str)
            assert isinstance(record["time"], (int, float)) and math.isfinite(record["time"])
            json.dumps(record, allow_nan=False, ensure_ascii=False).encode()  # printable as strict JSON
        if limit >= len(lines):
            nonblank = [x for x in lines if x.strip()]
            assert len(page.records) + page.skipped == len(nonblank)
        # The next dictation always survives whatever the file held.
        store.append(good(99, "survivor"))
        assert store.recent(1)[-1]["text"] == "survivor"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=LINES)
def test_history_command_never_tracebacks(lines, monkeypatch):
    with tempfile.TemporaryDirectory() as d:
        monkeypatch.setenv("XDG_STATE_HOME", d)
        (Path(d) / "v2m").mkdir()
        (Path(d) / "v2m" / "history.jsonl").write_bytes(b"\n".join(lines))
        from v2m.cli.main import cli

        for args in (["history", "-n", "30"], ["history", "--json", "-n", "30"]):
            result = CliRunner().invoke(cli, args)
            assert result.exit_code == 0 and result.exception is None, (result.output, result.exception)
            if "--json" in args:
                records = json.loads(result.stdout, parse_constant=lambda c: 1 / 0)
                assert all(isinstance(r, dict) for r in records)
