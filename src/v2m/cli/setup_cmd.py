"""`v2m setup`: a guided first run. Microphone (with a level meter), model,
output for this desktop, the login service, and the keybinding line.

Interactive on a terminal; `--yes` takes every suggestion without asking,
for scripts. Settings go through the daemon when it runs (they apply at
once), else to the user's config file.
"""

from __future__ import annotations

import json
import os
import shlex
import sys
from typing import Any

import click

from v2m.cli import setup_desktop as desk
from v2m.cli.conventions import conflicts
from v2m.config import schema as config_schema
from v2m.domain.errors import V2mError

OUTPUTS = {1: (["clipboard"], "clipboard: you paste it (Ctrl+V)"),
           2: (["type"], "type: typed into the focused window"),
           3: (["paste"], "paste: clipboard, Ctrl+V, then your old clipboard back"),
           4: (["clipboard", "type"], "clipboard and type")}


class Ask:
    """Questions on the terminal, or the suggested answers with --yes."""

    def __init__(self, yes: bool) -> None:
        self.yes = yes

    def number(self, question: str, default: int, count: int) -> int:
        if self.yes:
            click.echo(f"{question}: {default}")
            return default
        return click.prompt(question, default=default, type=click.IntRange(1, count))

    def name(self, question: str, default: str, names: list[str]) -> str:
        if self.yes:
            click.echo(f"{question}: {default}")
            return default
        return click.prompt(question, default=default, type=click.Choice(names), show_choices=False)

    def confirm(self, question: str, default: bool = True) -> bool:
        if self.yes:
            click.echo(f"{question} {'yes' if default else 'no'}")
            return default
        return click.confirm(question, default=default)


@click.command()
@click.option("-y", "--yes", is_flag=True, help="Take every suggested answer without asking (for scripts).")
@click.option("--no-service", is_flag=True, help="Leave the systemd user service alone.")
@click.option("--no-enable", is_flag=True, help="Write the service unit, but print the systemctl lines "
                                                "instead of running them.")
@click.option("--listen-seconds", type=click.FloatRange(0.5, 10), default=2.0, show_default=True,
              help="How long the microphone test listens.")
@click.pass_context
def setup(ctx: click.Context, yes: bool, no_service: bool, no_enable: bool, listen_seconds: float) -> None:
    """Guided first run: test and pick the microphone, pick a model, pick the
    output for this desktop, start v2m at login, and print the line that
    binds a key to `v2m toggle`.

    \b
    Examples:
      v2m setup                          # asks at each step
      v2m setup --yes --no-enable        # suggestions only; prints the systemctl lines
    """
    conflicts(ctx, (no_service and no_enable, "--no-service and --no-enable conflict"),
              (not yes and not sys.stdin.isatty(),
               "no terminal to ask in: run `v2m setup` in one, or pass --yes to take the suggestions"))
    from v2m.cli.config_cmd import current_config

    ask, config, desktop = Ask(yes), current_config(), desk.detect(os.environ)
    click.echo(f"v2m setup on {desktop.label}.")
    settings: dict[str, Any] = {}
    _heading("1/5", "Microphone")
    settings.update(_microphone(ask, config, listen_seconds))
    _heading("2/5", "Model")
    settings.update(_model(ask, config))
    _heading("3/5", "Output")
    settings.update(_output(ask, config, desktop))
    _save(settings)
    _heading("4/5", "Start at login")
    _service(ask, no_service, no_enable)
    _heading("5/5", "Keybinding")
    _keybinding(desktop)


def _heading(step: str, title: str) -> None:
    click.echo(f"\n{step} {title}")


def _microphone(ask: Ask, config: dict[str, Any], seconds: float) -> dict[str, Any]:
    from v2m.bootstrap import build_source, list_input_devices
    from v2m.cli.setup_mic import check_microphone, current_choice, device_setting

    devices = [d for d in list_input_devices() if not d.get("monitor")]  # a monitor hears the speakers
    if not devices:
        click.echo("No microphone found: connect one, and check that PulseAudio or PipeWire runs "
                   "(`v2m devices` lists them).")
        return {}
    for number, d in enumerate(devices, 1):
        click.echo(f"  {number}. {d.get('description') or d['name']}" + ("  (system default)" if d["default"] else ""))
    while True:
        chosen = devices[ask.number("Microphone", current_choice(devices, config["audio"]["device"]),
                                    len(devices)) - 1]
        setting = device_setting(devices, chosen)
        try:
            heard = check_microphone(setting, seconds, build_source)
        except V2mError as exc:
            click.echo(f"Cannot open it: {exc}")
            heard = False
        if heard or ask.yes or not click.confirm("Try again?", default=True):
            break
    return {"audio.device": setting} if setting != config["audio"]["device"] else {}


def _model(ask: Ask, config: dict[str, Any]) -> dict[str, Any]:
    from v2m.bootstrap import model_manager

    in_use = config["transcription"]["model"]
    manager = model_manager(None)
    rows = manager.list(in_use)
    for r in rows:
        size = f"{r['size_bytes'] / 10**6:,.0f} MB" if r["size_bytes"] else "?"
        state = ("bundled (ships with v2m)" if r.get("bundled") else "installed" if r["installed"]
                 else "by path" if r["installed"] is None else "download")
        click.echo(f"  {r['name']:<17}{size:>9}  {state}" + ("  <- in use" if r["in_use"] else ""))
    click.echo("Bigger models are more accurate and slower; names ending in .en know only English.")
    names = [r["name"] for r in rows]
    name = ask.name("Model", in_use, names)
    if rows[names.index(name)]["installed"] is False:
        if not ask.confirm(f"Download {name} now?", default=True):
            click.echo(f"Keeping {in_use}.")
            return {}
        click.echo(f"installed {name} at {manager.pull(name)['path']}")
    if name.endswith(".en") and config["transcription"]["language"] not in ("en",):
        return {"transcription.model": name, "transcription.language": "en"}
    return {"transcription.model": name} if name != in_use else {}


def _output(ask: Ask, config: dict[str, Any], desktop: desk.Desktop) -> dict[str, Any]:
    clip, typer = desk.clipboard_tool(desktop), desk.typing_tool(desktop)
    click.echo(f"Clipboard tool: {clip or 'none found'}; typing tool: {typer or 'none found'}.")
    if not (clip and typer):
        click.echo(f"  ({desk.install_hint(desktop)})")
    for number, (_, text) in OUTPUTS.items():
        click.echo(f"  {number}. {text}")
    current = config["output"]["sinks"]
    defaults = config_schema.load_defaults()["output"]["sinks"]
    wanted = current if current != defaults else desk.suggested_sinks(desktop)
    default = next((n for n, (sinks, _) in OUTPUTS.items() if sinks == wanted), 1)
    sinks = OUTPUTS[ask.number("Output", default, len(OUTPUTS))][0]
    return {"output.sinks": sinks} if sinks != current else {}


def _save(settings: dict[str, Any]) -> None:
    if not settings:
        click.echo("\nNo settings changed.")
        return
    from v2m.cli.config_cmd import write_settings

    flat, effective = write_settings(settings)
    saved = ", ".join(f"{key} = {json.dumps(value, ensure_ascii=False)}" for key, value in flat.items())
    click.echo(f"\nSaved: {saved}" + (" (the running daemon uses them now)." if effective is not None else "."))


def _service(ask: Ask, no_service: bool, no_enable: bool) -> None:
    from v2m.cli.service_cmd import install_unit

    if no_service or not ask.confirm("Start v2m at login (systemd user service)?", default=True):
        click.echo("Not installed; `v2m service install` does it later, `v2m daemon` runs it now.")
        return
    try:
        install_unit(no_enable)
    except V2mError as exc:
        click.echo(f"Could not enable it: {exc}")


def _keybinding(desktop: desk.Desktop) -> None:
    from v2m.bootstrap import systemd_service

    command = f"{shlex.quote(str(systemd_service().this_executable()))} toggle"
    for line in desk.keybinding_lines(desktop, command):
        click.echo(line)
    click.echo("\nPress the key, speak, press it again. `v2m doctor` checks everything.")
