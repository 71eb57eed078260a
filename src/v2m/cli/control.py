"""Client commands: each sends one request to the daemon."""

from __future__ import annotations

import json
from typing import Any

import click

from v2m.ipc import client

# Stopping may wait for the last words to be transcribed.
RECORDING_TIMEOUT_S = 120.0


def _print_recording_reply(data: dict[str, Any]) -> None:
    text = data.get("transcription")
    if text:
        click.echo(text)  # data on stdout, so `v2m stop | ...` works
    else:
        click.echo(f"v2m: {data.get('state', 'ok')}", err=True)


def _recording_command(name: str, cmd: str, doc: str) -> click.Command:
    @click.command(name=name, help=doc)
    def command() -> None:
        _print_recording_reply(client.call(cmd, timeout_s=RECORDING_TIMEOUT_S) or {})
    return command


toggle = _recording_command("toggle", "TOGGLE_RECORDING",
                            "Start recording, or stop and deliver the text.")
start = _recording_command("start", "START_RECORDING", "Start recording.")
stop = _recording_command("stop", "STOP_RECORDING", "Stop recording and deliver the text.")
cancel = _recording_command("cancel", "CANCEL_RECORDING", "Stop recording and discard it.")


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print the full status as JSON.")
@click.option("--follow", is_flag=True,
              help="Keep running: print a line at each state change (and each second while recording).")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "waybar"]), default="text",
              help="Line format for --follow; waybar gives Waybar's custom-module JSON.")
def status(as_json: bool, follow: bool, fmt: str) -> None:
    """Show the daemon's state, pid, uptime, model and resource use."""
    if follow:
        from v2m.cli.status_follow import follow as follow_status

        try:
            follow_status(fmt, lambda line: click.echo(line))
        except KeyboardInterrupt:
            return
    data = client.call("GET_STATUS")
    if as_json:
        click.echo(json.dumps(data, indent=2, sort_keys=True))
        return
    tel = data.get("telemetry", {})
    click.echo(f"state:   {data['state']}\npid:     {data['pid']}\n"
               f"uptime:  {data['uptime_s']:.0f} s\nmodel:   {data['model']}\n"
               f"memory:  {tel.get('rss_mib', '?')} MiB RSS\n"
               f"cpu:     {tel.get('cpu_percent', '?')} % since last status")


def _simple(name: str, cmd: str, doc: str, key: str) -> click.Command:
    @click.command(name=name, help=doc)
    def command() -> None:
        data = client.call(cmd) or {}
        click.echo(data.get(key, "ok"))
    return command


ping = _simple("ping", "PING", "Check that the daemon answers (prints PONG).", "message")
pause = _simple("pause", "PAUSE_DAEMON", "Pause the daemon: recordings are refused.", "state")
resume = _simple("resume", "RESUME_DAEMON", "Resume a paused daemon.", "state")
shutdown = _simple("shutdown", "SHUTDOWN", "Stop the daemon.", "message")
