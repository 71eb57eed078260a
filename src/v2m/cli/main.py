"""The `v2m` command. Subcommands load lazily, so `v2m toggle` imports only
the standard library, click and the socket client."""

from __future__ import annotations

import importlib
from typing import Any

import click

from v2m import __version__
from v2m.cli.conventions import (CONTEXT_SETTINGS, EXIT_CODES_HELP, KEYBINDING_COMMANDS, SuggestingGroup,
                                 notify_without_terminal)
from v2m.domain.errors import V2mError

# name -> (module, attribute, one-line help shown by `v2m --help`)
COMMANDS: dict[str, tuple[str, str, str]] = {
    "daemon": ("v2m.cli.daemon_cmd", "daemon", "Run the daemon in the foreground."),
    "toggle": ("v2m.cli.control", "toggle", "Start recording, or stop and deliver the text."),
    "start": ("v2m.cli.control", "start", "Start recording."),
    "stop": ("v2m.cli.control", "stop", "Stop recording and deliver the text."),
    "cancel": ("v2m.cli.control", "cancel", "Stop recording and discard it."),
    "paste-last": ("v2m.cli.paste_cmd", "paste_last", "Deliver the newest dictation again (paste, or --type)."),
    "status": ("v2m.cli.control", "status", "Show the daemon's state."),
    "ping": ("v2m.cli.control", "ping", "Check that the daemon answers."),
    "pause": ("v2m.cli.control", "pause", "Pause the daemon: refuse recordings."),
    "resume": ("v2m.cli.control", "resume", "Resume a paused daemon."),
    "shutdown": ("v2m.cli.control", "shutdown", "Stop the daemon."),
    "transcribe": ("v2m.cli.transcribe_cmd", "transcribe", "Transcribe audio or video files (txt, srt, vtt, json)."),
    "refine": ("v2m.cli.text_cmd", "refine", "Fix recognition errors and punctuation with an LLM."),
    "translate": ("v2m.cli.text_cmd", "translate", "Translate text with an LLM."),
    "history": ("v2m.cli.local_cmds", "history", "List recent dictations."),
    "devices": ("v2m.cli.local_cmds", "devices", "List microphones."),
    "models": ("v2m.cli.models_cmd", "models", "Pull, list, remove and import Whisper models."),
    "config": ("v2m.cli.config_cmd", "config", "Show or change settings."),
    "service": ("v2m.cli.service_cmd", "service", "Start the daemon at login (systemd user unit)."),
    "serve": ("v2m.cli.serve_cmd", "serve", "Serve the model to other apps (OpenAI audio API); `serve token`."),
    "doctor": ("v2m.cli.doctor_cmd", "doctor", "Check the daemon, microphone, outputs, model and socket."),
    "setup": ("v2m.cli.setup_cmd", "setup", "Guided first run: microphone, model, output, service, key."),
    "self": ("v2m.cli.self_cmd", "self_group", "Where this v2m runs from; remove what the .run unpacked."),
}


class LazyGroup(SuggestingGroup):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in COMMANDS:
            return None
        module, attr, _ = COMMANDS[name]
        return getattr(importlib.import_module(module), attr)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # Help text comes from the table, so `v2m --help` imports nothing more.
        with formatter.section("Commands"):
            formatter.write_dl([(name, help_) for name, (_, _, help_) in COMMANDS.items()])

    def invoke(self, ctx: click.Context) -> Any:
        # The one place where errors become messages and exit codes.
        try:
            return super().invoke(ctx)
        except V2mError as exc:
            click.echo(f"v2m: {exc}", err=True)
            if ctx.invoked_subcommand in KEYBINDING_COMMANDS:
                notify_without_terminal(str(exc))  # a keybinding has no terminal to show stderr
            ctx.exit(exc.exit_code)


@click.group(cls=LazyGroup, context_settings=CONTEXT_SETTINGS, epilog=EXIT_CODES_HELP)
@click.version_option(__version__, "-V", "--version", prog_name="v2m")
def cli() -> None:
    """v2m: local-first voice dictation for Linux desktops.

    \b
    Examples:
      v2m setup                 # first run: microphone, model, output, service, key
      v2m toggle                # bind this to a key: start, then stop and deliver
      v2m COMMAND -h            # help and examples for one command
    """


def main() -> None:
    cli(prog_name="v2m")
