"""What every v2m command shares: help options, suggestions for a mistyped
command, exit codes, the message style, and errors shown on the desktop when
there is no terminal to show them (a keybinding).

Standard library and click only: `v2m toggle` imports this.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from typing import Any

import click

CONTEXT_SETTINGS: dict[str, Any] = {"help_option_names": ["-h", "--help"]}

# Exit codes (documented in `v2m --help`).
EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_PARTIAL = 0, 1, 2, 3
EXIT_CODES_HELP = """\b
Exit codes:
  0  done
  1  an error; stderr says what to do next (e.g. the daemon is not running)
  2  wrong usage: unknown command or option, or options that conflict
  3  partly done: the text is on stdout (and in `v2m history`), but an
     output failed (clipboard, typing) or the LLM was not used and
     refine/translate printed the raw text
\b
Data (transcripts, --json) goes to stdout; messages ("v2m: paused") and
errors go to stderr. Run from a keybinding (stderr not a terminal), the
errors of toggle, start, stop, cancel, paste-last, pause and resume also
show as a desktop notification (notify-send)."""

# Commands that a keybinding or a status bar click runs.
KEYBINDING_COMMANDS = frozenset({"toggle", "start", "stop", "cancel", "paste-last", "pause", "resume"})


class SuggestingGroup(click.Group):
    """A group that answers a mistyped command with the close ones."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("context_settings", dict(CONTEXT_SETTINGS))
        super().__init__(*args, **kwargs)

    def resolve_command(self, ctx: click.Context, args: list[str]) -> Any:
        try:
            return super().resolve_command(ctx, args)
        except click.UsageError as exc:
            name = args[0] if args else ""
            if name.startswith("-") or self.get_command(ctx, name) is not None:
                raise
            import difflib

            close = difflib.get_close_matches(name, self.list_commands(ctx), n=3, cutoff=0.6)
            if not close:
                raise
            raise click.UsageError(f"{exc.message} Did you mean {' or '.join(close)}?", ctx) from None


def say(message: str) -> None:
    """A status message: on stderr, as `v2m: message`."""
    click.echo(f"v2m: {message}", err=True)


def conflicts(ctx: click.Context, *rules: tuple[bool, str]) -> None:
    """Refuse the first rule that holds: (condition, what is wrong)."""
    for broken, message in rules:
        if broken:
            raise click.UsageError(message, ctx)


def stderr_is_terminal() -> bool:
    try:
        return sys.stderr is not None and sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


def notify_without_terminal(message: str) -> bool:
    """Show `message` as a desktop notification when stderr is not a terminal
    (a keybinding, a status bar click); return whether one was sent."""
    if stderr_is_terminal():
        return False
    tool = shutil.which("notify-send")
    if tool is None:
        return False
    # build/fastclient derives the C client's notification from this very call:
    # keep its keyword arguments as they are (it refuses to build otherwise).
    argv = [tool, "--app-name=v2m", "--expire-time=8000", "--", "v2m", message[:500]]
    try:
        done = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, timeout=5, start_new_session=True)
    except (OSError, subprocess.SubprocessError):
        return False  # no notification server: stderr still has the message
    return done.returncode == 0


def exit_on_failed_outputs(outputs: dict[str, str] | None, hint: str) -> None:
    """Outputs that did not say "ok": named with their reasons on stderr and,
    from a key, in a notification; then exit EXIT_PARTIAL."""
    failures = {name: result for name, result in (outputs or {}).items() if result != "ok"}
    if failures:
        message = "; ".join(f"{name} {result}" for name, result in failures.items()) + f" ({hint})"
        say(message)
        notify_without_terminal(message)
        sys.exit(EXIT_PARTIAL)
