"""Commands that work without the daemon: devices and history."""

from __future__ import annotations

import datetime
import json

import click


@click.command()
@click.option("--all", "show_all", is_flag=True, help="Also list monitor sources (what an output plays).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def devices(show_all: bool, as_json: bool) -> None:
    """List microphones for audio.device: ALSA's devices (by index or name),
    then the PulseAudio/PipeWire sources by name and description. audio.device
    takes an index, part of a device's name, or a source's name; * marks the
    default (audio.device = "").

    \b
    Examples:
      v2m devices
      v2m config set audio.device alsa_input.usb-Blue_Yeti-00.analog-stereo
      v2m devices --all --json | jq -r '.[] | select(.monitor) | .name'
    """
    from v2m.bootstrap import list_input_devices

    found = [d for d in list_input_devices() if show_all or not d.get("monitor")]
    if as_json:
        click.echo(json.dumps(found, indent=2, ensure_ascii=False))
        return
    if not found:
        click.echo("v2m: no input devices found", err=True)
    alsa = [d for d in found if d.get("kind", "alsa") == "alsa"]
    sources = [d for d in found if d.get("kind") == "pulse"]
    if alsa:
        click.echo("ALSA devices:")
    for dev in alsa:
        mark = "*" if dev["default"] else " "
        click.echo(f"{mark} {dev['index']:>3}  {dev['name']}  ({dev['channels']} ch, {dev['sample_rate_hz']} Hz)")
    if sources:
        click.echo("PulseAudio/PipeWire sources:")
    width = max((len(d["name"]) for d in sources), default=0)
    for dev in sources:
        mark = "*" if dev["default"] else " "
        what = " ".join(part for part in (dev["description"], "(monitor)" if dev["monitor"] else "") if part)
        click.echo(f"{mark} {dev['name']:<{width}}  {what}".rstrip())


@click.command()
@click.option("-n", "limit", default=10, show_default=True, help="How many recent dictations.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON, one object per dictation.")
def history(limit: int, as_json: bool) -> None:
    """List recent dictations, newest last.

    \b
    Examples:
      v2m history -n 20
      v2m history -n 1 --json | jq -r '.[-1].text'
    """
    from v2m.bootstrap import open_history

    store = open_history()
    page = store.read(limit)
    if page.skipped:
        click.echo(f"v2m: skipped {page.skipped} unreadable line{'s' if page.skipped != 1 else ''} "
                   f"in {store.path}", err=True)
    if as_json:
        click.echo(json.dumps(page.records, ensure_ascii=False, indent=2))
        return
    for record in page.records:
        when = datetime.datetime.fromtimestamp(record["time"]).strftime("%Y-%m-%d %H:%M")
        flag = " (recovered)" if record.get("recovered") else ""
        click.echo(f"{when}  {record.get('duration_s', 0):5.1f}s{flag}  {record['text']}")
