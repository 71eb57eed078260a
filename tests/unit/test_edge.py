"""The socket edge: request data, old clients' shapes included, into typed commands."""

import pytest

from v2m.application import commands as c
from v2m.domain.errors import InvalidRequest
from v2m.ipc.edge import parse, resolve_path


def test_update_config_accepts_the_seed_shape_and_ours_and_names_the_keys():
    assert parse("UPDATE_CONFIG", {"log": {"level": "debug"}}) == c.UpdateConfig({"log": {"level": "debug"}},
                                                                                ("log.level",))
    wrapped = parse("UPDATE_CONFIG", {"updates": {"audio": {"device": "usb", "preroll_ms": 200}}})
    assert wrapped.keys == ("audio.device", "audio.preroll_ms")
    with pytest.raises(InvalidRequest, match="table of settings"):
        parse("UPDATE_CONFIG", {})


def test_relative_paths_are_the_clients_and_need_its_cwd():
    assert resolve_path("a/../b.wav", "/home/u/rec") == "/home/u/rec/b.wav"
    assert resolve_path("/abs/x.mkv", None) == "/abs/x.mkv"
    with pytest.raises(InvalidRequest, match="cwd"):
        resolve_path("b.wav", None)
    with pytest.raises(InvalidRequest, match="cwd"):
        resolve_path("b.wav", "relative/dir")
    with pytest.raises(InvalidRequest, match="data.path"):
        resolve_path(None, "/x")
    with pytest.raises(InvalidRequest, match="NUL"):
        resolve_path("/a\0b.wav", None)


def test_seed_field_names_still_work():
    assert parse("TRANSCRIBE_FILE", {"file_path": "/x/talk.wav"}) == c.TranscribeFile("/x/talk.wav")
    assert parse("TRANSLATE_TEXT", {"text": "hola", "target_lang": "en"}) == c.TranslateText("hola", "en")


def test_a_dictations_language_is_a_known_code_or_auto():
    assert parse("TOGGLE_RECORDING", {"language": "es"}) == c.ToggleRecording("es")
    assert parse("START_RECORDING", {"language": "Spanish"}) == c.StartRecording("es")
    assert parse("START_RECORDING", {}) == c.StartRecording(None)
    assert parse("TOGGLE_RECORDING", {"language": "auto"}).language == "auto"
    with pytest.raises(InvalidRequest, match="unknown language"):
        parse("START_RECORDING", {"language": "zz"})


def test_text_is_required_and_bounded():
    with pytest.raises(InvalidRequest, match="data.text"):
        parse("PROCESS_TEXT", {"text": "  "})
    with pytest.raises(InvalidRequest, match="limit"):
        parse("PROCESS_TEXT", {"text": "x" * 200_000})
