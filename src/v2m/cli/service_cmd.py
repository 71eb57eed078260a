"""`v2m service`: start the daemon at login with a systemd user unit."""

from __future__ import annotations

import click

from v2m.cli.conventions import CONTEXT_SETTINGS, SuggestingGroup, say
from v2m.domain.errors import V2mError


def _systemd():
    from v2m.bootstrap import systemd_service

    return systemd_service()


def install_unit(no_enable: bool) -> None:
    """Write the unit; enable and start it unless `no_enable` (then print the lines to run)."""
    systemd = _systemd()
    path = systemd.install()
    say(f"wrote {path}")
    lines = [" ".join(argv) for argv in systemd.ENABLE]
    if no_enable:
        say("to start it now and at every login, run:")
        click.echo("\n".join(lines))
        return
    failures = systemd.run_systemctl(systemd.ENABLE)
    if failures:
        raise V2mError("could not enable the unit: " + "; ".join(failures),
                       "run these yourself: " + " && ".join(lines))
    say("enabled and started v2m.service (systemctl --user status v2m)")


@click.group(cls=SuggestingGroup, context_settings=CONTEXT_SETTINGS)
def service() -> None:
    """Install or remove the systemd user unit that starts `v2m daemon` at login.

    \b
    Examples:
      v2m service install
      systemctl --user restart v2m     # after changing the daemon's environment
    """


@service.command()
@click.option("--no-enable", is_flag=True, help="Only write the unit; print the systemctl lines to run.")
def install(no_enable: bool) -> None:
    """Write ~/.config/systemd/user/v2m.service and enable it.

    \b
    Examples:
      v2m service install
      v2m service install --no-enable   # prints the systemctl lines instead
    """
    install_unit(no_enable)


@service.command()
@click.option("--no-enable", is_flag=True, help="Only remove the file; print the systemctl lines to run.")
def uninstall(no_enable: bool) -> None:
    """Stop and disable the unit, and remove its file.

    \b
    Example:
      v2m service uninstall
    """
    systemd = _systemd()
    lines = [" ".join(argv) for argv in systemd.DISABLE]
    failures = [] if no_enable else systemd.run_systemctl(systemd.DISABLE[:1])
    path = systemd.uninstall()
    if path is None:
        raise V2mError(f"no unit at {systemd.unit_path()}", "nothing to remove")
    say(f"removed {path}")
    if no_enable or failures:
        say("to stop it and forget the unit, run:")
        click.echo("\n".join(lines))
    else:
        systemd.run_systemctl(systemd.DISABLE[1:])
