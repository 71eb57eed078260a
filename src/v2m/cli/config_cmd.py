"""`v2m config`: through the daemon when it runs, so changes apply at once;
straight to the file otherwise."""

from __future__ import annotations

import json
from typing import Any

import click

from v2m.ipc import client
from v2m.config import schema as config_schema, paths
from v2m.domain.errors import DaemonNotRunning


def _current() -> dict[str, Any]:
    try:
        return client.call("GET_CONFIG")["config"]
    except DaemonNotRunning:
        return config_schema.load_effective(paths.config_file())


@click.group()
def config() -> None:
    """Show or change settings (user file: `v2m config path`)."""


@config.command()
@click.option("--defaults", is_flag=True, help="Show the packaged defaults, with comments.")
def show(defaults: bool) -> None:
    """Print the effective configuration as JSON."""
    if defaults:
        from importlib import resources

        click.echo(resources.files("v2m").joinpath("config.toml").read_text(encoding="utf-8"), nl=False)
        return
    click.echo(json.dumps(_current(), indent=2))


@config.command()
def path() -> None:
    """Print the path of the user's config file."""
    click.echo(str(paths.config_file()))


@config.command()
@click.argument("key")
def get(key: str) -> None:
    """Print one setting, e.g. `v2m config get transcription.model`."""
    flat = config_schema.flatten(_current())
    if key not in flat:
        config_schema.parse_value(key, "")  # raises the unknown-key error with suggestions
    value = flat[key]
    click.echo(value if isinstance(value, str) else json.dumps(value))


@config.command(name="set")
@click.argument("key")
@click.argument("value")
def set_(key: str, value: str) -> None:
    """Change one setting in the user's file, e.g. `v2m config set log.level debug`."""
    # Checked here too, so the value echoed is the one stored (a language
    # name becomes its code) and bad values never reach the daemon.
    flat = config_schema.validate_partial({key: config_schema.parse_value(key, value)}, "command line")
    partial = config_schema.unflatten(flat)
    try:
        client.call("UPDATE_CONFIG", {"updates": partial})
    except DaemonNotRunning:
        from v2m.bootstrap import open_config_store  # only this path needs tomlkit

        open_config_store().update(partial)
    click.echo(f"{key} = {json.dumps(flat[key])}")
