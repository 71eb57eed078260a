"""`v2m doctor`: what works, what does not, and how to fix it."""

from __future__ import annotations

import json

import click


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print the findings as JSON.")
def doctor(as_json: bool) -> None:
    """Check microphone, clipboard and typing tools, notifications, the model,
    the socket directory and CUDA. Exits 1 if something needs fixing."""
    from v2m.bootstrap import diagnose

    findings = diagnose()
    if as_json:
        click.echo(json.dumps(findings, indent=2))
    else:
        for f in findings:
            click.echo(f"{'ok ' if f['ok'] else 'FIX'}  {f['check']:<22}{f['detail']}")
            if not f["ok"] and f["fix"]:
                click.echo(f"     {'':<22}-> {f['fix']}")
    if not all(f["ok"] for f in findings):
        raise SystemExit(1)
