"""Commands that work without the daemon: devices and history."""

from __future__ import annotations

import datetime
import json

import click


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def devices(as_json: bool) -> None:
    """List microphones (input devices) for audio.device; * marks the default.

    \b
    Example:
      v2m devices && v2m config set audio.device USB
    """
    from v2m.bootstrap import list_input_devices

    found = list_input_devices()
    if as_json:
        click.echo(json.dumps(found, indent=2, ensure_ascii=False))
        return
    if not found:
        click.echo("v2m: no input devices found", err=True)
    for dev in found:
        mark = "*" if dev["default"] else " "
        click.echo(f"{mark} {dev['index']:>3}  {dev['name']}  ({dev['channels']} ch, {dev['sample_rate_hz']} Hz)")


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
