"""Client commands: each sends one request to the daemon.

Data (a transcript, `status` and its --json) goes to stdout; what happened
("v2m: recording", "v2m: paused") goes to stderr.
"""

from __future__ import annotations

import json
from typing import Any

import click

from v2m.cli.conventions import conflicts, exit_on_failed_outputs, say
from v2m.ipc import client

# Stopping may wait for the last words to be transcribed.
RECORDING_TIMEOUT_S = 120.0


def _print_recording_reply(data: dict[str, Any]) -> None:
    text = data.get("transcription")
    if text:
        click.echo(text)  # data on stdout, so `v2m stop | ...` works
    else:
        # A tap's reply says why nothing was recorded (audio.min_hold_ms).
        say(data.get("message") or ("cancelled" if data.get("cancelled") else data.get("state", "ok")))
    exit_on_failed_outputs(data.get("outputs"), "the text is in `v2m history`; `v2m doctor` checks the outputs")


def _recording_command(name: str, cmd: str, doc: str, example: str, language: bool = False) -> click.Command:
    def command(language: str | None = None) -> None:
        data = {"language": language} if language is not None else None
        _print_recording_reply(client.call(cmd, data, timeout_s=RECORDING_TIMEOUT_S) or {})
    if language:
        # The fast C client (build/fastclient) sends this option itself: its
        # generator reads the request off this command, so keep it one value.
        command = click.option(
            "--language", metavar="LANG",
            help="The spoken language of the dictation this starts: a code (es) or an English name "
                 "(Spanish), or auto to detect it. For this dictation only; the next one uses "
                 "transcription.language again.")(command)
    return click.command(name=name, help=f"{doc}\n\n\b\nExample:\n  {example}")(command)


toggle = _recording_command("toggle", "TOGGLE_RECORDING",
                            "Start recording, or stop and deliver the text (bind it to a key).",
                            "v2m toggle            # in sway: bindsym $mod+d exec v2m toggle\n"
                            "  v2m toggle --language es   # one key per language", language=True)
start = _recording_command("start", "START_RECORDING", "Start recording.", "v2m start --language de",
                           language=True)
stop = _recording_command("stop", "STOP_RECORDING", "Stop recording and deliver the text (also on stdout).",
                          "v2m stop | tee -a notes.txt")
cancel = _recording_command("cancel", "CANCEL_RECORDING", "Stop recording and discard it.", "v2m cancel")


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print the full status as JSON.")
@click.option("--follow", is_flag=True,
              help="Keep running: print a line at each state change (and each second while recording).")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "waybar"]), default=None,
              help="Line format for --follow (default text); waybar gives Waybar's custom-module JSON.")
@click.option("--idle-text", default=None, metavar="TEXT",
              help="With --format waybar: the module's text while idle (default 🎙), so there is "
                   "always something to click; \"\" hides the module when idle.")
@click.pass_context
def status(ctx: click.Context, as_json: bool, follow: bool, fmt: str | None, idle_text: str | None) -> None:
    """Show the daemon's state, pid, uptime, model and resource use.

    \b
    Examples:
      v2m status
      v2m status --json | jq .state
      v2m status --follow --format waybar --idle-text "🎤"   # a Waybar module
    """
    conflicts(ctx, (as_json and follow, "--json and --follow conflict: use --follow --format json"),
              (fmt is not None and not follow, "--format is for --follow; for one status as JSON use --json"),
              (idle_text is not None and fmt != "waybar", "--idle-text is for --follow --format waybar"))
    if follow:
        _follow(fmt or "text", idle_text)
        return
    data = client.call("GET_STATUS")
    if as_json:
        click.echo(json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False))
        return
    tel = data.get("telemetry", {})
    click.echo(f"state:   {data['state']}\npid:     {data['pid']}\n"
               f"uptime:  {data['uptime_s']:.0f} s\nmodel:   {data['model']}\n"
               f"memory:  {tel.get('rss_mib', '?')} MiB RSS\n"
               f"cpu:     {tel.get('cpu_percent', '?')} % since last status")
    if data.get("language"):  # the dictation in progress: its language, set or detected
        click.echo(f"language: {data['language']}")


def _follow(fmt: str, idle_text: str | None) -> None:
    from v2m.cli import status_follow

    text = status_follow.DEFAULT_IDLE_TEXT if idle_text is None else idle_text
    try:
        status_follow.follow(fmt, lambda line: click.echo(line), idle_text=text)
    except KeyboardInterrupt:
        return


def _simple(name: str, cmd: str, doc: str, report) -> click.Command:
    @click.command(name=name, help=f"{doc}\n\n\b\nExample:\n  v2m {name}")
    def command() -> None:
        report(client.call(cmd) or {})
    return command


ping = _simple("ping", "PING", "Check that the daemon answers (prints PONG on stdout).",
               lambda data: click.echo(data.get("message", "PONG")))
pause = _simple("pause", "PAUSE_DAEMON", "Pause the daemon: recordings are refused until `v2m resume`.",
                lambda data: say(data.get("state", "paused")))
resume = _simple("resume", "RESUME_DAEMON", "Resume a paused daemon.",
                 lambda data: say(data.get("state", "idle")))
shutdown = _simple("shutdown", "SHUTDOWN", "Stop the daemon.", lambda data: say("shutting down"))
