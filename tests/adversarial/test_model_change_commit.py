"""A model change whose config write fails is dropped, not applied later.

Review finding: with the config directory read-only, UPDATE_CONFIG of
transcription.model answered an error; once the directory was writable
again, an unrelated `config set log.level` swapped in the model prepared
for the failed update, while the config still named the old one.

The read-only directory is real: a tmpfs mounted over the config dir and
remounted read-only (root ignores permission bits, not a read-only mount).
"""

from __future__ import annotations

import subprocess

import pytest

from tests.integration.conftest import raw_connect, send
from v2m.infrastructure.models.model_locator import bundled_model


@pytest.fixture
def config_mount(xdg):
    mount = xdg["XDG_CONFIG_HOME"] / "v2m"
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m,mode=0700", "tmpfs", str(mount)], check=True)
    (mount / "config.toml").write_text("[log]\nlevel = \"info\"\n")

    def remount(mode: str) -> None:
        subprocess.run(["mount", "-o", f"remount,{mode}", str(mount)], check=True)
    yield remount
    subprocess.run(["umount", "-l", str(mount)], check=True)


def test_a_failed_model_change_is_never_applied_by_a_later_update(config_mount, daemon):
    daemon.wait_model_loaded(120)
    before = daemon.transcriber.current
    other = str(bundled_model())  # the same weights by path: a different model setting, a real load
    config_mount("ro")
    sock = raw_connect(timeout_s=120)
    failed = send(sock, "UPDATE_CONFIG", {"transcription": {"model": other}})
    assert failed["status"] == "error"
    assert "internal error" not in failed["error"], failed  # says what failed instead
    config_mount("rw")
    ok = send(sock, "UPDATE_CONFIG", {"log": {"level": "debug"}})
    assert ok["status"] == "success", ok
    assert ok["data"]["config"]["transcription"]["model"] == "tiny.en"
    assert daemon.transcriber.current is before  # the model prepared for the failed update was dropped
    status = send(sock, "GET_STATUS")["data"]
    assert status["model"] == "tiny.en" and status["model_path"] == str(before.path)
