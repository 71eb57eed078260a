"""Seed-compatible entry point of the original voice2machine backend.

    python -m v2m.main --daemon          run the daemon
    python -m v2m.main PING              send any protocol command
    python -m v2m.main UPDATE_CONFIG '{"log": {"level": "debug"}}'
    python -m v2m.main PROCESS_TEXT "some text"

The reply is printed as JSON; the exit code is 0 on success, 1 otherwise.
"""

from __future__ import annotations

import json
import sys

TEXT_COMMANDS = {"PROCESS_TEXT", "TRANSLATE_TEXT"}


def _data_from(cmd: str, args: list[str]) -> dict:
    if not args:
        return {}
    joined = " ".join(args)
    try:
        data = json.loads(joined)
        if isinstance(data, dict):
            return data
    except json.JSONDecodeError:
        pass
    if cmd in TEXT_COMMANDS:
        return {"text": joined}
    if cmd == "TRANSCRIBE_FILE":
        return {"file": joined}
    raise SystemExit(f"v2m.main: data for {cmd} must be a JSON object")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__.strip())
        return 0 if argv else 1
    if argv[0] == "--daemon":
        from v2m.daemon import run

        return run()
    from v2m.ipc.client import DaemonClient
    from v2m.domain.errors import V2mError

    cmd = argv[0].upper()
    try:
        with DaemonClient(timeout_s=None if cmd.endswith("RECORDING") else 30.0) as conn:
            reply = conn.request(cmd, _data_from(cmd, argv[1:]))
    except V2mError as exc:
        print(f"v2m: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(reply, ensure_ascii=False))
    return 0 if reply.get("status") == "success" else 1


if __name__ == "__main__":
    sys.exit(main())
