"""Language settings as a user meets them."""

from tests.e2e.conftest import run_v2m


def test_an_english_only_model_with_another_language_is_refused_naming_both_keys(xdg):
    out = run_v2m("config", "set", "transcription.language", "es")
    assert out.returncode == 1
    assert "transcription.model" in out.stderr and "transcription.language" in out.stderr
    assert run_v2m("config", "get", "transcription.language").stdout.strip() == "en"  # nothing written


def test_auto_with_an_english_only_model_is_accepted(xdg):
    assert run_v2m("config", "set", "transcription.language", "auto").returncode == 0
