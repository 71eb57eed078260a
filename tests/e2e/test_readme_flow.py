"""The README's Set-up, followed step by step as a newcomer would (issue 16):
what `make run` runs, then `v2m setup --yes` in another terminal, then the
key: `v2m toggle`, speak, `v2m toggle`. The text must land where setup said
it would, and in the history. Runs against the binary too (V2M_BIN)."""

from __future__ import annotations

import json
import re
import subprocess
import time
from pathlib import Path

from tests.e2e.conftest import run_v2m
from tests.support.speech import SENTENCES
from tests.support.wer import wer

ROOT = Path(__file__).resolve().parents[2]
DICTATION_WER_BOUND = 0.3  # as tests/e2e/test_dictation.py


def set_up_section() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    start = text.index("\n## Set-up\n")
    return text[start:text.index("\n## ", start + 1)]


def test_the_readme_set_up_leads_to_a_first_dictation(start_daemon, pulse, xvfb, notifications, speech_dir,
                                                      xdg, monkeypatch):
    section = set_up_section()
    # The README's order: make run (the daemon), then `v2m setup`, then the key.
    assert section.index("make run") < section.index("v2m setup") < section.index("v2m toggle"), section
    # `make run` runs the daemon on the bundled model: the same command here.
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert re.search(r"^run: venv\n\t\$\(VENV\)/bin/v2m daemon$", makefile, re.M), "make run changed"
    for key, value in pulse.env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("DISPLAY", xvfb.display)
    monkeypatch.setenv("XDG_CURRENT_DESKTOP", "sway")
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    daemon = start_daemon().wait_model_loaded()

    setup = run_v2m("setup", "--yes", "--no-enable", "--listen-seconds", "1", timeout=120)
    assert setup.returncode == 0, setup.stdout + setup.stderr
    assert "Model: tiny.en" in setup.stdout, setup.stdout
    binding = re.search(r"bindsym \S+ exec (\S*v2m) toggle", setup.stdout)
    assert binding, setup.stdout  # the line to paste into the sway config
    sinks = json.loads(run_v2m("config", "get", "output.sinks").stdout)  # what setup chose for this desktop

    # The key, twice, with speech between.
    assert run_v2m("toggle").returncode == 0
    pulse.play(speech_dir / "dictation.wav").wait()
    time.sleep(0.8)
    out = run_v2m("toggle", timeout=120)
    assert out.returncode == 0, out.stderr + daemon.output()
    text = out.stdout.strip()
    assert wer(" ".join(SENTENCES), text) <= DICTATION_WER_BOUND, text
    if "clipboard" in sinks:
        clip = subprocess.run(["xclip", "-selection", "clipboard", "-out"], capture_output=True, text=True,
                              timeout=10, env={"DISPLAY": xvfb.display, "PATH": "/usr/bin:/bin"})
        assert clip.stdout == text
    assert text in notifications.read_text()
    assert json.loads(run_v2m("history", "--json").stdout)[-1]["text"] == text
