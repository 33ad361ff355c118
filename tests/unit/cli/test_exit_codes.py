"""Usage errors exit 1 in every command and subcommand, so that 2 always means "drift found"."""

from __future__ import annotations

import click
import pytest
from click.testing import CliRunner

from driftctl.cli import main
from driftctl.errors import EXIT_ERROR


def _command_paths(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Every command under ``group`` (lazy ones loaded), groups included, as argv prefixes."""
    ctx = click.Context(group)
    paths: list[tuple[str, ...]] = []
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        assert command is not None, name
        paths.append((*prefix, name))
        if isinstance(command, click.Group):
            paths += _command_paths(command, (*prefix, name))
    return paths


ALL_COMMANDS = _command_paths(main)


def test_the_walk_finds_the_lazy_commands_and_their_subcommands() -> None:
    for path in [("detect",), ("audit", "verify"), ("proposals", "approve"), ("sandbox", "up"), ("runs",)]:
        assert path in ALL_COMMANDS
    assert len(ALL_COMMANDS) > 25


@pytest.mark.parametrize("path", ALL_COMMANDS, ids=" ".join)
def test_an_unknown_flag_exits_1_everywhere(path: tuple[str, ...]) -> None:
    result = CliRunner().invoke(main, [*path, "--frobnicate"])
    assert result.exit_code == EXIT_ERROR, result.output
    assert "--frobnicate" in result.output and "Error:" in result.output  # click's own usage message


@pytest.mark.parametrize(
    "argv",
    [
        ["detect", "-o", "drift.json"],  # a bad choice: -o is the format, --out the file
        ["detect", "--parallel", "0"],  # out of range
        ["nosuch"],  # no such command
        ["audit", "show", "not-a-number"],  # a bad argument type
        ["proposals", "approve"],  # a missing argument
        ["reject", "abc"],  # a missing required option
        ["audit"],  # a group without its subcommand
    ],
    ids=" ".join,
)
def test_other_usage_errors_exit_1(argv: list[str]) -> None:
    result = CliRunner().invoke(main, argv)
    assert result.exit_code == EXIT_ERROR, result.output


def test_help_still_exits_0() -> None:
    for argv in (["--help"], ["detect", "--help"], ["audit", "list", "-h"], ["--version"]):
        assert CliRunner().invoke(main, argv).exit_code == 0
