import sys

import click


@click.command()
@click.option("--serve", is_flag=True,
              help="Also serve the model to other apps (OpenAI audio API) on [server] listen, "
                   "or 127.0.0.1:8765; `v2m serve token` prints the key.")
def daemon(serve: bool) -> None:
    """Run the daemon in the foreground (start it at login).

    \b
    Examples:
      v2m daemon                 # Ctrl+C stops it
      v2m service install        # or let systemd start it at login
    """
    from v2m.daemon import run

    sys.exit(run(serve=serve))
