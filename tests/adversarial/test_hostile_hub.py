"""`v2m models pull` against hostile model hubs (security review, issue 12).

The `hub` fixture (tests/conftest.py) is a real loopback FakeHub; a second
one on another port plays "another origin". Every test is bounded in time.
"""

from __future__ import annotations

import filecmp
import time
from pathlib import Path

import pytest

from tests.support.fake_hub import FakeHub
from v2m.config import paths
from v2m.bootstrap import model_manager
from v2m.domain.errors import ModelError
from v2m.infrastructure.models.hf_model_hub import HfModelHub, StallLimits
from v2m.infrastructure.models.model_locator import bundled_model

TOKEN = "hf_hostileTEST0123456789abcdefSECRET"
REPO = "Systran/faster-whisper-tiny.en"
WINDOW_S = 1.0

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def other(hub):
    """Another origin (same host, another port) serving the same repos."""
    server = FakeHub({name: bundled_model() for name in hub.repos}).start()
    yield server
    server.stop()


def bearer(headers: dict[str, str]) -> str | None:
    return next((value for name, value in headers.items() if name.lower() == "authorization"), None)


def authorized(headers: dict[str, str]) -> bool:
    return bearer(headers) is not None or TOKEN in str(headers)


def quick_hub() -> HfModelHub:
    return HfModelHub(progress=False, stall=StallLimits(window_s=WINDOW_S))


# -- HF_TOKEN stays with HF_ENDPOINT ------------------------------------------------

@pytest.mark.parametrize("status", [302, 307])
def test_a_download_redirected_to_another_origin_does_not_carry_the_token(hub, other, monkeypatch, status):
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    for name in ("model.bin", "config.json"):
        hub.redirects[name] = (status, other.endpoint)
    result = model_manager(progress=False).pull("tiny.en")
    assert filecmp.cmp(Path(result["path"]) / "model.bin", bundled_model() / "model.bin", shallow=False)
    # The token was in play: the configured hub got it with every request...
    ours = [bearer(h) for (_, path, _), h in zip(hub.requests, hub.request_headers) if REPO in path]
    assert len(ours) == 5 and set(ours) == {f"Bearer {TOKEN}"}, ours
    # ...and the other origin served both redirected files without ever seeing it.
    served = {path.rsplit("/", 1)[1] for _, path, _ in other.requests}
    assert served == {"model.bin", "config.json"}
    assert not any(authorized(h) for h in other.request_headers), other.request_headers


def test_an_api_call_redirected_to_another_origin_does_not_carry_the_token(hub, other, monkeypatch):
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    hub.redirects["api"] = (302, other.endpoint)
    remote = quick_hub().resolve(REPO, "main")
    assert remote.commit == other.commit
    assert any("/api/models/" in path for _, path, _ in other.requests)
    assert not any(authorized(h) for h in other.request_headers), other.request_headers


# -- time: a dripping hub is cut, not waited on -----------------------------------

@pytest.mark.parametrize("key, where", [("api", "headers"), ("model.bin", "headers"), ("model.bin", "body")])
def test_a_dripping_hub_is_cut_with_a_clear_error(hub, key, where, tmp_path):
    hub.drip[key] = where
    client = quick_hub()
    started = time.monotonic()
    with pytest.raises(ModelError) as caught:
        if key == "api":
            client.resolve(REPO, "main")
        else:
            client.download(REPO, hub.commit, key, str(tmp_path), hub.repos[REPO][key].size)
    elapsed = time.monotonic() - started
    assert elapsed < WINDOW_S + 2.0, f"took {elapsed:.1f} s"
    assert f"{hub.endpoint} stalled" in caught.value.message and "resumes" in caught.value.hint


def test_a_healthy_hub_passes_the_same_guard(hub, tmp_path):
    size = hub.repos[REPO]["model.bin"].size
    path = quick_hub().download(REPO, hub.commit, "model.bin", str(tmp_path), size)
    assert filecmp.cmp(path, bundled_model() / "model.bin", shallow=False)


# -- size: more than announced is refused, and does not poison the next pull ------

def test_a_hub_sending_more_than_it_announced_is_refused_and_the_next_pull_works(hub):
    hub.oversize["model.bin"] = 50 * 2**20
    manager = model_manager(progress=False)
    with pytest.raises(ModelError) as caught:
        manager.pull("tiny.en")
    size = (bundled_model() / "model.bin").stat().st_size
    assert f"sent more than the {size} bytes it announced" in caught.value.message
    staged = [p.stat().st_size for p in (paths.models_dir() / ".staging").rglob("model.bin*")]
    assert all(s <= size for s in staged), staged  # nothing past the announced size on disk
    hub.oversize.clear()
    assert manager.pull("tiny.en")["commit"] == hub.commit


def test_a_hub_that_always_cuts_the_body_short_ends_in_a_clear_error(hub):
    hub.sticky_drops, hub.drop_after_bytes["model.bin"] = True, 2**20  # FIN after 1 MiB, every time
    started = time.monotonic()
    with pytest.raises(ModelError) as caught:
        model_manager(progress=False).pull("tiny.en")
    assert time.monotonic() - started < 20  # huggingface_hub retries 5 times, 1 s apart
    assert hub.endpoint in caught.value.message and "resumes" in caught.value.hint
