"""`v2m serve`: the daemon's model as an OpenAI-compatible endpoint for other apps."""

import sys

import click


@click.group(invoke_without_command=True)
@click.pass_context
def serve(ctx: click.Context) -> None:
    """Run the daemon with the OpenAI audio API on (as `v2m daemon --serve`).

    \b
    Other apps then POST audio to http://127.0.0.1:8765/v1/audio/transcriptions
    with the key `v2m serve token` prints. Set [server] listen to serve at
    every daemon start.

    \b
    Examples:
      v2m serve                  # the daemon in the foreground, serving
      v2m serve token            # the key for OPENAI_API_KEY in other apps
    """
    if ctx.invoked_subcommand is None:
        from v2m.daemon import run

        sys.exit(run(serve=True))


@serve.command()
def token() -> None:
    """Print the bearer token clients must send (made on first use, 0600).

    \b
    Examples:
      OPENAI_API_KEY=$(v2m serve token) some-app --base-url http://127.0.0.1:8765/v1
    """
    from v2m import bootstrap

    click.echo(bootstrap.server_token())
