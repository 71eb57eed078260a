"""Shared fixtures: every test gets private XDG directories."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

XDG_VARS = ("XDG_RUNTIME_DIR", "XDG_CONFIG_HOME", "XDG_STATE_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME")


@pytest.fixture
def xdg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    """Point every XDG directory at a fresh temp dir (runtime dir 0700)."""
    dirs = {}
    for var in XDG_VARS:
        d = tmp_path / var.lower()
        d.mkdir(mode=0o700)
        monkeypatch.setenv(var, str(d))
        dirs[var] = d
    for name in list(os.environ):
        if name.startswith("V2M_") and "__" in name:
            monkeypatch.delenv(name)
    return dirs
