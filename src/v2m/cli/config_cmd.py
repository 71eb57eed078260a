"""`v2m config`: through the daemon when it runs, so changes apply at once;
straight to the file otherwise."""

from __future__ import annotations

import json
from typing import Any, Mapping

import click

from v2m.cli.conventions import CONTEXT_SETTINGS, SuggestingGroup, say
from v2m.config import applies, paths, schema as config_schema, sources as config_sources
from v2m.config.values import parse_value
from v2m.domain.errors import ConfigError, DaemonNotRunning
from v2m.ipc import client

RESTART_HINT = "`systemctl --user restart v2m` (or stop and start `v2m daemon`)"


def current_config() -> dict[str, Any]:
    try:
        return client.call("GET_CONFIG")["config"]
    except DaemonNotRunning:
        return config_sources.load_effective(paths.config_file())


def _dump(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


@click.group(cls=SuggestingGroup, context_settings=CONTEXT_SETTINGS)
def config() -> None:
    """Show or change settings (user file: `v2m config path`).

    \b
    Examples:
      v2m config show
      v2m config get transcription.model
      v2m config set log.level debug
      v2m config add text.vocabulary Kubernetes
    """


@config.command()
@click.option("--defaults", is_flag=True, help="Show the packaged defaults, with comments.")
def show(defaults: bool) -> None:
    """Print the effective configuration as JSON.

    \b
    Examples:
      v2m config show | jq .output
      v2m config show --defaults     # every setting, documented
    """
    if defaults:
        from importlib import resources

        click.echo(resources.files("v2m").joinpath("config.toml").read_text(encoding="utf-8"), nl=False)
        return
    click.echo(json.dumps(current_config(), indent=2, ensure_ascii=False))


@config.command()
def path() -> None:
    """Print the path of the user's config file.

    \b
    Example:
      $EDITOR "$(v2m config path)"
    """
    click.echo(str(paths.config_file()))


@config.command()
@click.argument("key")
def get(key: str) -> None:
    """Print one setting: text as is, other values as JSON.

    \b
    Example:
      v2m config get transcription.model
    """
    flat = config_schema.flatten(current_config())
    if key not in flat:
        parse_value(key, "")  # raises the unknown-key error with suggestions
    click.echo(_dump(flat[key]))


@config.command(name="set")
@click.argument("key")
@click.argument("value")
def set_(key: str, value: str) -> None:
    """Change one setting in the user's file; says whether it applies now.

    \b
    Examples, one per VALUE form:
      text             v2m config set transcription.language de
      number           v2m config set audio.min_silence_ms 800
      true / false     v2m config set output.notify false
      list, JSON/TOML  v2m config set output.sinks '["clipboard", "type"]'
      list, commas     v2m config set output.sinks clipboard,type
      empty list       v2m config set text.vocabulary '[]'

    Use the JSON or TOML form when an item holds a comma, e.g.
    '["Smith, Jones"]'. `v2m config add` and `v2m config remove` change
    single items of a list. With the daemon running the change applies at
    once; stderr says so, or what else it needs.
    """
    save(key, parse_value(key, value))


@config.command()
@click.argument("key")
@click.argument("items", nargs=-1, required=True)
def add(key: str, items: tuple[str, ...]) -> None:
    """Add ITEMS to the list KEY (items already there are kept once).

    \b
    Examples:
      v2m config add text.vocabulary Kubernetes PyAudio
      v2m config add text.replacements "vee two em => v2m"
      v2m config add output.sinks type
    """
    current = _list_setting(key)
    save(key, current + [item for item in dict.fromkeys(items) if item not in current])


@config.command()
@click.argument("key")
@click.argument("items", nargs=-1, required=True)
def remove(key: str, items: tuple[str, ...]) -> None:
    """Remove ITEMS from the list KEY.

    \b
    Example:
      v2m config remove output.sinks type
    """
    current = _list_setting(key)
    missing = [item for item in items if item not in current]
    if missing:
        raise ConfigError(f"{key} has no {', '.join(map(json.dumps, missing))}",
                          f"it holds {json.dumps(current, ensure_ascii=False)}")
    save(key, [item for item in current if item not in items])


def _list_setting(key: str) -> list[str]:
    flat = config_schema.flatten(current_config())
    if key not in flat:
        parse_value(key, "")  # the unknown-key error, with suggestions
    if not isinstance(flat[key], list):
        raise ConfigError(f"{key} is not a list", f"use `v2m config set {key} VALUE`")
    return list(flat[key])


def save(key: str, value: Any) -> None:
    """Write one setting and say what it is now and when it applies."""
    flat, effective = write_settings({key: value})
    click.echo(f"{key} = {json.dumps(flat[key], ensure_ascii=False)}")
    say(applies_message(key, flat[key], effective))


def write_settings(settings: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """Validate and write flat settings: through the daemon when it runs (so
    they apply at once), else to the file. Returns them normalized (a language
    name becomes its code), and the daemon's effective config (None when the
    daemon is not running)."""
    # Checked here too, so the value echoed is the one stored and bad values
    # never reach the daemon.
    flat = config_schema.validate_partial(config_schema.unflatten(settings), "command line")
    partial = config_schema.unflatten(flat)
    try:
        effective = client.call("UPDATE_CONFIG", {"updates": partial})["config"]
    except DaemonNotRunning:
        from v2m.bootstrap import open_config_store  # only this path needs tomlkit

        open_config_store().update(partial)
        effective = None
    return flat, effective


def applies_message(key: str, value: Any, effective: Mapping[str, Any] | None) -> str:
    """When the change reaches the daemon: now, after a restart, or at its start."""
    if effective is None:
        return f"saved in {paths.config_file()}; the daemon is not running, and reads it when it starts"
    if config_schema.flatten(effective).get(key) != value:
        variable = config_schema.ENV_PREFIX + key.upper().replace(".", "__")
        return (f"saved, but the daemon's environment sets {variable}, which wins over the file; "
                f"unset it where the daemon starts, then {RESTART_HINT}")
    how, why = applies.applies(key)
    if how == applies.RESTART:
        return f"saved; takes effect after {RESTART_HINT} ({why})"
    if how == applies.RELOAD:
        return f"applies now: {why}"
    return f"applies now ({why})"
