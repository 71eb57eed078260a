"""`v2m refine` and `v2m translate`: LLM post-processing of text.

Through the daemon when it runs (PROCESS_TEXT, TRANSLATE_TEXT), in this
process otherwise: the LLM client is standard library only, so both are
cheap. When the LLM fails the raw text is printed, stderr says why, and the
exit code is 3 (partly done), so a script can tell.
"""

from __future__ import annotations

import sys
from typing import Any

import click

from v2m.cli.conventions import EXIT_PARTIAL, say
from v2m.ipc import client
from v2m.domain.errors import DaemonNotRunning

LLM_TIMEOUT_S = 660.0  # the daemon's own LLM timeout and retries end sooner


def _read(text: str | None) -> str:
    if text is None or text == "-":
        text = sys.stdin.read()
    if not text.strip():
        raise click.UsageError("no text: give TEXT, or pipe it in with -")
    return text


def _run(cmd: str, data: dict[str, Any]) -> None:
    try:
        reply = client.call(cmd, data, timeout_s=LLM_TIMEOUT_S)
    except DaemonNotRunning:
        from v2m.bootstrap import local_text_commands, open_config_store
        from v2m.ipc.edge import parse  # the daemon's own checks of the request

        commands = local_text_commands(open_config_store().load())
        reply = (commands.process_text if cmd == "PROCESS_TEXT" else commands.translate_text)(parse(cmd, data))
    click.echo(reply["text"])
    if not reply.get("refined"):
        say(f"the LLM failed ({reply.get('fallback_reason')}); printed the raw text")
        sys.exit(EXIT_PARTIAL)


@click.command()
@click.argument("text", required=False)
def refine(text: str | None) -> None:
    """Fix recognition errors and punctuation in TEXT (or stdin, with -) with the
    LLM in [llm]; your words and their order are kept. If the LLM fails, the
    raw text is printed and the exit code is 3.

    \b
    Examples:
      v2m refine "their going too the store"
      v2m history -n 1 --json | jq -r '.[-1].text' | v2m refine -
    """
    _run("PROCESS_TEXT", {"text": _read(text)})


@click.command()
@click.option("--to", "to", required=True, help="Target language: a code (de) or a name (German).")
@click.argument("text", required=False)
def translate(to: str, text: str | None) -> None:
    """Translate TEXT (or stdin, with -) with the LLM in [llm]. If the LLM
    fails, the raw text is printed and the exit code is 3.

    \b
    Examples:
      v2m translate --to de "good morning"
      echo "good morning" | v2m translate --to German -
    """
    _run("TRANSLATE_TEXT", {"text": _read(text), "to": to})
