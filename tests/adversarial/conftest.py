"""The adversarial suite: hostile peers, files, servers and interleavings.

Every test here is bounded in time and count and talks only to loopback and
Unix sockets. Other users are simulated with setpriv (tests/support/other_user).
"""

from __future__ import annotations

import shutil

import pytest


@pytest.fixture
def other_user():
    from tests.support import other_user as module

    assert shutil.which("setpriv"), "setpriv (util-linux) is needed to act as another user"
    return module


from tests.integration.conftest import daemon  # noqa: E402,F401 - the in-process daemon, shared
