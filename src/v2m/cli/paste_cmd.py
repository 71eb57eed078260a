"""`v2m paste-last`: deliver the newest dictation again (bind it to a key,
for when the focus was in the wrong window). The daemon delivers it: it has
the desktop session that a keybinding's client may lack."""

from __future__ import annotations

import click

from v2m.cli.conventions import exit_on_failed_outputs
from v2m.ipc import client

# Typing a long dictation takes a while (about 300 characters a second).
PASTE_TIMEOUT_S = 120.0


@click.command(name="paste-last")
@click.option("--type", "typed", is_flag=True, help="Type the text into the focused window instead of pasting it.")
def paste_last(typed: bool) -> None:
    """Deliver the newest dictation in the history again, into the window
    that has the focus now. It goes where a dictation goes (output.sinks),
    pasted rather than typed; --type types it. The text is also printed.

    \b
    Examples:
      v2m paste-last          # in sway: bindsym $mod+Shift+d exec v2m paste-last
      v2m paste-last --type   # for apps that do not take a paste
    """
    data = client.call("PASTE_LAST", {"type": typed}, timeout_s=PASTE_TIMEOUT_S) or {}
    text = data.get("text")
    if text:
        click.echo(text)
    exit_on_failed_outputs(data.get("outputs"), "`v2m doctor` checks the outputs")
