"""How fast the text lands in a real app, and whether all of it does.

For foot (headless sway) and xterm (Xvfb), the `type` and `paste` sinks
deliver texts of 1, 10 and 100 words; measured from the sink call until the
app's `cat` has written the whole text (polled every millisecond), and until
the sink returns (paste: after the previous clipboard is back). Typing speed
is the 100-word text's characters over its landing time. Each cell is the
median of `--runs` runs; "exact" counts runs where the app got exactly the
text. Targets: a 100-word paste lands within 150 ms; typing >= 300 chars/s.

Live mode (output.live, bench/live_delivery.py): a daemon hears sentences
with a pause after each and types them into foot while they are spoken;
measured from the end of each utterance until its text has landed. Target:
within 1 s.

    .venv/bin/python bench/delivery.py [--runs 5] [--busy] [--modes sinks,live] [--live-runs 3]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "src"))

from tests.integration.test_desktops import WORDS, busy_cores  # noqa: E402
from tests.support.wayland import SwaySession  # noqa: E402
from tests.support.x11_apps import XtermSession  # noqa: E402
from bench.live_delivery import bench_live  # noqa: E402
from v2m.infrastructure.output.keyboard import PasteSink, TypeSink  # noqa: E402
from v2m.infrastructure.output.recent import RecentDeliveries  # noqa: E402

SESSION_VARS = ("DISPLAY", "WAYLAND_DISPLAY", "SWAYSOCK", "HYPRLAND_INSTANCE_SIGNATURE")


def words(n: int) -> str:
    return " ".join(WORDS[i % len(WORDS)] for i in range(n))


@contextlib.contextmanager
def session_env(env: dict[str, str]):
    saved = {k: os.environ.get(k) for k in SESSION_VARS}
    for k in SESSION_VARS:
        os.environ.pop(k, None)
    os.environ.update(env)
    try:
        yield
    finally:
        for k, v in saved.items():
            os.environ.pop(k, None)
            if v is not None:
                os.environ[k] = v


def one_run(desk, sink, text: str) -> tuple[float, float, bool]:
    """(ms until the text has landed, ms until the sink returned, exact)."""
    desk.wait_quiet(0.05)
    desk.clear()
    target = text.encode()
    returned: list[float] = []
    t0 = time.monotonic()
    worker = threading.Thread(target=lambda: (sink.deliver(text), returned.append(time.monotonic())))
    worker.start()
    landed = None
    while time.monotonic() - t0 < 120:
        if landed is None and target in desk.typed_bytes():
            landed = time.monotonic()
        if landed is not None and not worker.is_alive():
            break
        time.sleep(0.001)
    worker.join(120)
    exact = desk.wait_quiet(0.1) == text
    land_ms = (landed - t0) * 1000 if landed else float("nan")
    return land_ms, (returned[0] - t0) * 1000 if returned else float("nan"), exact


def bench(desk, name: str, runs: int) -> list[tuple]:
    rows = []
    with session_env(desk.env):
        for mode, make in (("type", lambda: TypeSink(recent=RecentDeliveries())),
                           ("paste", lambda: PasteSink(recent=RecentDeliveries()))):
            for n in (1, 10, 100):
                text = words(n)
                make().deliver(text)  # warm: the first use looks up tools and the seat
                results = [one_run(desk, make(), text) for _ in range(runs)]
                land = statistics.median(r[0] for r in results)
                back = statistics.median(r[1] for r in results)
                exact = sum(r[2] for r in results)
                speed = len(text) / (land / 1000) if mode == "type" and n == 100 else None
                rows.append((name, mode, n, len(text), land, back, speed, f"{exact}/{runs}"))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--busy", action="store_true", help="keep both cores busy (yes > /dev/null x2)")
    parser.add_argument("--modes", default="sinks,live", help="sinks (type, paste), live, or both")
    parser.add_argument("--live-runs", type=int, default=3, help="live mode: dictations of 4 utterances")
    args = parser.parse_args()
    modes = set(args.modes.split(","))
    sway = SwaySession().start()
    xterm = XtermSession().start() if "sinks" in modes else None
    rows = []
    try:
        with busy_cores(2) if args.busy else contextlib.nullcontext():
            if xterm is not None:
                rows = bench(sway, "foot (sway)", args.runs) + bench(xterm, "xterm (X11)", args.runs)
            if "live" in modes:
                bench_live(sway, args.live_runs)
    finally:
        sway.stop()
        if xterm is not None:
            xterm.stop()
    if not rows:
        return
    print(f"\n{'app':<12} {'mode':<6} {'words':>5} {'chars':>6} {'lands ms':>9} {'returns ms':>10} "
          f"{'chars/s':>8} {'exact':>6}")
    for app, mode, n, chars, land, back, speed, exact in rows:
        print(f"{app:<12} {mode:<6} {n:>5} {chars:>6} {land:>9.0f} {back:>10.0f} "
              f"{(f'{speed:.0f}' if speed else ''):>8} {exact:>6}")


if __name__ == "__main__":
    main()
