"""Help conventions, on every command the CLI has: -h works, each help has an
example, and the top level documents the exit codes."""

import click
import pytest
from click.testing import CliRunner

from v2m.cli.main import COMMANDS, cli


def command_paths() -> list[list[str]]:
    paths = []
    ctx = click.Context(cli)
    for name in COMMANDS:
        command = cli.get_command(ctx, name)
        paths.append([name])
        if isinstance(command, click.Group):
            paths += [[name, sub] for sub in command.list_commands(ctx)]
    return paths


def test_every_command_is_listed():
    assert len(command_paths()) > len(COMMANDS) + 10  # groups' subcommands included


@pytest.mark.parametrize("path", command_paths(), ids=" ".join)
def test_dash_h_shows_help_with_an_example(path):
    result = CliRunner().invoke(cli, [*path, "-h"], prog_name="v2m")
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"Usage: v2m {' '.join(path)}")
    assert "Example" in result.output, f"`v2m {' '.join(path)} -h` has no example"


def test_top_level_help_documents_exit_codes_and_suggests():
    result = CliRunner().invoke(cli, ["-h"], prog_name="v2m")
    assert "Exit codes:" in result.output and "3  partly done" in result.output
    wrong = CliRunner().invoke(cli, ["togle"], prog_name="v2m")
    assert wrong.exit_code == 2 and "Did you mean toggle?" in wrong.output
    far = CliRunner().invoke(cli, ["xyzzy"], prog_name="v2m")
    assert far.exit_code == 2 and "Did you mean" not in far.output
    sub = CliRunner().invoke(cli, ["config", "sett"], prog_name="v2m")
    assert sub.exit_code == 2 and "Did you mean set?" in sub.output
