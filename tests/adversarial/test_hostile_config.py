"""Hostile config: oversized, non-finite, deeply nested, undecodable or
unknown values, and files that cannot be written (issue 12, findings 9 and 12).
Every failure is a ConfigError with a bounded message, never a traceback."""

from __future__ import annotations

import errno
import json
import math
import os
import subprocess

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.e2e.conftest import run_v2m, running_daemon, start_daemon, v2m_argv  # noqa: F401 (fixtures)
from v2m.config import paths, schema as config_schema, sources as config_sources, values as config_values
from v2m.domain.errors import ConfigError, V2mError
from v2m.config.toml_store import TomlConfigStore

BIG = "x" * 600_000
MESSAGE_BOUND = 1000  # characters: an error quotes at most a short prefix of the input


def config_error(call, *args, **kwargs) -> str:
    with pytest.raises(ConfigError) as info:
        call(*args, **kwargs)
    message = str(info.value)
    assert len(message) < MESSAGE_BOUND, message[:300]
    return message


def nested(depth: int, leaf=1) -> dict:
    tree = leaf
    for _ in range(depth):
        tree = {"a": tree}
    return tree


# --- sizes (finding 9) -----------------------------------------------------

@pytest.mark.parametrize("partial", [
    {"llm": {"model": BIG}},
    {"audio": {"device": "y" * 4097}},
    {"text": {"vocabulary": ["word"] * 1001}},
    {"text": {"vocabulary": ["w" * 5000]}},
    {"text": {"replacements": [("a" * 3000) + " => b"]}},
    # Small enough item by item, too big together: 1000 control characters
    # are 6000 bytes of JSON each.
    {"text": {"vocabulary": ["\x01" * 250] * 1000}},
])
def test_oversized_values_are_refused_with_a_short_message(partial):
    message = config_error(config_schema.merge, config_schema.load_defaults(), partial, "update")
    assert "…" in message or "limit" in message or "at most" in message


def test_oversized_update_is_not_written(xdg):
    store = TomlConfigStore(paths.config_file(), environ={})
    config_error(store.update, {"llm": {"model": BIG}})
    config_error(store.preview, {"llm": {"api_key_env": BIG}})
    assert not paths.config_file().exists()


def test_a_file_already_holding_an_oversized_value_is_a_clear_error(xdg):
    cfg = paths.config_file()
    cfg.parent.mkdir(parents=True)
    cfg.write_text(f'[llm]\nmodel = "{BIG}"\n')
    message = config_error(config_sources.load_effective, cfg, environ={})
    assert str(cfg) in message and "llm.model" in message
    out = run_v2m("config", "show")
    assert out.returncode == 1 and "Traceback" not in out.stderr and len(out.stderr) < MESSAGE_BOUND
    # Setting the offending key repairs the file.
    assert run_v2m("config", "set", "llm.model", "llama3.2").returncode == 0
    assert config_sources.load_effective(cfg, environ={})["llm"]["model"] == "llama3.2"


def test_unknown_keys_are_quoted_short(xdg):
    message = config_error(config_schema.validate_partial, {"k" * 100_000: 1}, "update")
    assert "…" in message
    config_error(config_values.parse_value, "x" * 100_000, "1")


def test_deeply_nested_update_is_a_config_error():
    config_error(config_schema.validate_partial, nested(5000), "update")
    config_error(config_schema.validate_partial, {"text": {"vocabulary": nested(3000)}}, "update")
    deep_list: list = []
    for _ in range(5000):
        deep_list = [deep_list]
    config_error(config_schema.validate_partial, {"text": {"vocabulary": deep_list}}, "update")


def test_daemon_refuses_oversized_values_and_keeps_answering(running_daemon):  # noqa: F811
    from v2m.ipc import client

    for key in ("model", "api_key_env"):
        with pytest.raises(V2mError) as info:
            client.call("UPDATE_CONFIG", {"updates": {"llm": {key: BIG}}})
        assert len(str(info.value)) < MESSAGE_BOUND
    show = run_v2m("config", "show")
    assert show.returncode == 0 and json.loads(show.stdout)["llm"]["model"] == "llama3.2"
    assert run_v2m("config", "set", "log.level", "debug").returncode == 0


# --- non-finite numbers ------------------------------------------------------

@pytest.mark.parametrize("text", ["nan", "NaN", "inf", "-inf", "infinity", "1e999"])
def test_non_finite_numbers_are_refused_everywhere(xdg, text):
    config_error(config_values.parse_value, "llm.timeout_s", text)
    value = float(text)
    config_error(config_schema.validate_partial, {"llm": {"timeout_s": value}}, "update")
    config_error(config_sources.env_overrides, {"V2M_LLM__TIMEOUT_S": text})
    cfg = paths.config_file()
    cfg.parent.mkdir(parents=True, exist_ok=True)
    toml = {"nan": "nan", "inf": "inf", "-inf": "-inf"}.get(text.lower(), "inf")
    cfg.write_text(f"[llm]\ntimeout_s = {toml}\n")
    config_error(config_sources.load_effective, cfg, environ={})
    cfg.unlink()
    config_error(TomlConfigStore(cfg, environ={}).update, {"llm": {"timeout_s": value}})


def test_config_set_nan_exits_1_and_writes_nothing(xdg):
    out = run_v2m("config", "set", "llm.timeout_s", "nan")
    assert out.returncode == 1 and "finite" in out.stderr and "Traceback" not in out.stderr
    assert not paths.config_file().exists()


# --- languages ---------------------------------------------------------------

def test_unknown_language_is_refused_with_suggestions():
    message = config_error(config_schema.validate_partial, {"transcription": {"language": "zz"}}, "update")
    assert "'zz'" in message and "auto" in message
    message = config_error(config_schema.validate_partial, {"transcription": {"language": "germn"}}, "u")
    assert "German" in message
    config_error(config_schema.validate_partial, {"transcription": {"language": ""}}, "update")


@pytest.mark.parametrize("given_, code", [("auto", "auto"), ("en", "en"), ("DE", "de"), ("German", "de"),
                                          ("jv", "jw"), ("haw", "haw")])
def test_languages_by_code_or_name_are_stored_as_codes(xdg, given_, code):
    flat = config_schema.validate_partial({"transcription": {"language": given_}}, "update")
    assert flat["transcription.language"] == code
    store = TomlConfigStore(paths.config_file(), environ={})
    # A multilingual model: an English-only one takes only "en" or "auto".
    updated = store.update({"transcription": {"model": "tiny", "language": given_}})
    assert updated["transcription"]["language"] == code
    assert f'language = "{code}"' in paths.config_file().read_text()


def test_config_set_language_name_prints_the_code(xdg):
    assert run_v2m("config", "set", "transcription.model", "tiny").returncode == 0  # multilingual
    out = run_v2m("config", "set", "transcription.language", "french")
    assert out.returncode == 0 and out.stdout.strip() == 'transcription.language = "fr"'
    bad = run_v2m("config", "set", "transcription.language", "zz")
    assert bad.returncode == 1 and "zz" in bad.stderr and "Traceback" not in bad.stderr


# --- broken files ------------------------------------------------------------

BROKEN_FILES = {
    "invalid utf-8": b'[log]\nlevel = "\xff\xfe"\n',
    "nested arrays": b"[text]\nvocabulary = " + b"[" * 5000 + b"]" * 5000 + b"\n",
    "nested tables": b"[text]\nvocabulary = " + b"{a = " * 5000 + b"1" + b"}" * 5000 + b"\n",
    "medium nesting": b"[text]\nvocabulary = " + b"[" * 300 + b"]" * 300 + b"\n",
    "huge integer": b"[audio]\nvad_aggressiveness = " + b"9" * 5000 + b"\n",
    "section is a value": b"log = 3\n",
    "section is a list": b"log = [1]\n",
}


@pytest.mark.parametrize("name", list(BROKEN_FILES))
def test_broken_files_are_config_errors(xdg, name):
    cfg = paths.config_file()
    cfg.parent.mkdir(parents=True)
    cfg.write_bytes(BROKEN_FILES[name])
    message = config_error(config_sources.load_effective, cfg, environ={})
    assert str(cfg) in message
    store = TomlConfigStore(cfg, environ={})
    config_error(store.load)
    config_error(store.preview, {"log": {"level": "debug"}})
    config_error(store.update, {"log": {"level": "debug"}})
    assert cfg.read_bytes() == BROKEN_FILES[name]
    out = run_v2m("config", "set", "log.level", "debug")
    assert out.returncode == 1 and "Traceback" not in out.stderr and str(cfg) in out.stderr


def test_config_file_that_is_a_directory_is_a_config_error(xdg):
    paths.config_file().mkdir(parents=True)
    config_error(config_sources.load_effective, paths.config_file(), environ={})


# --- writing -----------------------------------------------------------------

def test_symlinked_config_file_is_written_through(xdg, tmp_path):
    real = tmp_path / "dotfiles" / "v2m.toml"
    real.parent.mkdir()
    real.write_text('# mine\n[log]\nlevel = "info"\n')
    real.chmod(0o644)
    link = paths.config_file()
    link.parent.mkdir(parents=True)
    link.symlink_to(real)
    TomlConfigStore(link, environ={}).update({"log": {"level": "debug"}})
    assert link.is_symlink() and link.resolve() == real
    assert real.read_text() == '# mine\n[log]\nlevel = "debug"\n'
    assert real.stat().st_mode & 0o777 == 0o644
    assert sorted(os.listdir(real.parent)) == ["v2m.toml"]
    assert sorted(os.listdir(link.parent)) == ["config.toml"]


def test_read_only_config_dir_is_a_config_error(xdg):
    """A read-only config dir: a tmpfs remounted read-only (root ignores
    permission bits, not a read-only mount)."""
    cfg_dir = xdg["XDG_CONFIG_HOME"] / "v2m"
    cfg_dir.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k,mode=0700", "tmpfs", str(cfg_dir)], check=True)
    try:
        cfg = cfg_dir / "config.toml"
        cfg.write_text('[log]\nlevel = "info"\n')
        subprocess.run(["mount", "-o", "remount,ro", str(cfg_dir)], check=True)
        out = run_v2m("config", "set", "log.level", "debug")
        assert out.returncode == 1, out.stderr
        assert "Traceback" not in out.stderr and "cannot write" in out.stderr and str(cfg) in out.stderr
        assert cfg.read_text() == '[log]\nlevel = "info"\n'
        assert os.listdir(cfg_dir) == ["config.toml"]
    finally:
        subprocess.run(["umount", "-l", str(cfg_dir)], check=True)


@pytest.fixture
def tiny_fs(tmp_path):
    """A 64 KiB tmpfs: the suite runs as root, which may mount one."""
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mnt)], check=True)
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


def test_full_disk_is_a_config_error_and_leaves_no_temp_file(tiny_fs):
    cfg = tiny_fs / "v2m" / "config.toml"
    cfg.parent.mkdir()
    cfg.write_text('[log]\nlevel = "info"\n')
    try:
        with open(tiny_fs / "filler", "wb") as fh:
            while True:
                fh.write(b"\0" * 4096)
                fh.flush()
    except OSError as exc:
        assert exc.errno == errno.ENOSPC
    message = config_error(TomlConfigStore(cfg, environ={}).update, {"text": {"vocabulary": ["w" * 200] * 100}})
    assert "cannot write" in message and "space" in message
    assert os.listdir(cfg.parent) == ["config.toml"]
    assert cfg.read_text() == '[log]\nlevel = "info"\n'


def test_read_only_file_system_is_a_config_error(tiny_fs):
    cfg = tiny_fs / "v2m" / "config.toml"
    cfg.parent.mkdir()
    subprocess.run(["mount", "-o", "remount,ro", str(tiny_fs)], check=True)
    message = config_error(TomlConfigStore(cfg, environ={}).update, {"log": {"level": "debug"}})
    assert "cannot write" in message and "read-only" in message


# --- anything at all ---------------------------------------------------------

DEFAULTS = config_schema.flatten(config_schema.load_defaults())
VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda kids: st.lists(kids, max_size=4) | st.dictionaries(st.text(max_size=5), kids, max_size=3),
    max_leaves=10)


def of_the_keys_type(default):
    """Values of the right type, mostly: these get past the type check."""
    if isinstance(default, bool):
        return st.booleans()
    if isinstance(default, (int, float)):
        return st.integers() | st.floats() | st.sampled_from([math.nan, math.inf, -math.inf])
    if isinstance(default, list):
        return st.lists(st.text(max_size=10), max_size=5)
    return st.text(max_size=20)


ITEM = st.sampled_from([*sorted(DEFAULTS), "nope", "log", ""]).flatmap(
    lambda key: st.tuples(st.just(key), of_the_keys_type(DEFAULTS.get(key, "")) | VALUES))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(flat=st.lists(ITEM, max_size=4).map(dict))
def test_any_update_is_valid_or_a_config_error(flat):
    partial: dict = {}
    for dotted, value in flat.items():  # nested like a TOML file or UPDATE_CONFIG, clashes skipped
        *sections, leaf = dotted.split(".")
        node = partial
        for name in sections:
            node = node.setdefault(name, {}) if isinstance(node.get(name, {}), dict) else {}
        node[leaf] = value
    try:
        result = config_schema.merge(config_schema.load_defaults(), partial, "update")
    except ConfigError as exc:
        assert len(str(exc)) < MESSAGE_BOUND
        return
    json.dumps(result, allow_nan=False, ensure_ascii=False).encode()  # GET_CONFIG can always send it
    for value in config_schema.flatten(result).values():
        if isinstance(value, float):
            assert math.isfinite(value)


def test_every_default_passes_the_bounds():
    defaults = config_schema.load_defaults()
    assert config_schema.merge(defaults, defaults, "defaults") == defaults
