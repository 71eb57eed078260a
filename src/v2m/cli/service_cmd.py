"""`v2m service`: start the daemon at login with a systemd user unit."""

from __future__ import annotations

import click

from v2m.domain.errors import V2mError


def _systemd():
    from v2m.bootstrap import systemd_service

    return systemd_service()


@click.group()
def service() -> None:
    """Install or remove the systemd user unit that starts `v2m daemon` at login."""


@service.command()
@click.option("--no-enable", is_flag=True, help="Only write the unit; print the systemctl lines to run.")
def install(no_enable: bool) -> None:
    """Write ~/.config/systemd/user/v2m.service and enable it."""
    systemd = _systemd()
    path = systemd.install()
    click.echo(f"wrote {path}", err=True)
    lines = [" ".join(argv) for argv in systemd.ENABLE]
    if no_enable:
        click.echo("to start it now and at every login, run:", err=True)
        click.echo("\n".join(lines))
        return
    failures = systemd.run_systemctl(systemd.ENABLE)
    if failures:
        raise V2mError("could not enable the unit: " + "; ".join(failures),
                       "run these yourself: " + " && ".join(lines))
    click.echo("enabled and started v2m.service (systemctl --user status v2m)", err=True)


@service.command()
@click.option("--no-enable", is_flag=True, help="Only remove the file; print the systemctl lines to run.")
def uninstall(no_enable: bool) -> None:
    """Stop and disable the unit, and remove its file."""
    systemd = _systemd()
    lines = [" ".join(argv) for argv in systemd.DISABLE]
    failures = [] if no_enable else systemd.run_systemctl(systemd.DISABLE[:1])
    path = systemd.uninstall()
    if path is None:
        raise V2mError(f"no unit at {systemd.unit_path()}", "nothing to remove")
    click.echo(f"removed {path}", err=True)
    if no_enable or failures:
        click.echo("to stop it and forget the unit, run:", err=True)
        click.echo("\n".join(lines))
    else:
        systemd.run_systemctl(systemd.DISABLE[1:])
