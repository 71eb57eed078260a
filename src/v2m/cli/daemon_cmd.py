import sys

import click


@click.command()
def daemon() -> None:
    """Run the daemon in the foreground (start it at login).

    \b
    Examples:
      v2m daemon                 # Ctrl+C stops it
      v2m service install        # or let systemd start it at login
    """
    from v2m.daemon import run

    sys.exit(run())
