"""`driftctl --help`: every command's summary whole (not cut mid-sentence), and nothing heavy imported."""

from __future__ import annotations

import subprocess
import sys

from click.testing import CliRunner

from driftctl.cli import COMMANDS, main


def test_every_summary_fits_without_being_cut() -> None:
    out = CliRunner().invoke(main, ["--help"], terminal_width=80).output
    commands = out.split("Commands:\n", 1)[1].splitlines()
    listed = {line.split()[0]: line.split(None, 1)[1] for line in commands if line.strip()}
    assert set(listed) == set(COMMANDS)
    for name, summary in listed.items():
        assert not summary.endswith("..."), f"{name}: {summary}"
        assert summary.endswith("."), f"{name}: {summary}"


def test_help_imports_no_store_no_models_no_llm_client() -> None:
    code = (
        "import sys\n"
        "from driftctl.cli import main\n"
        "try:\n"
        "    main(['--help'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "heavy = [m for m in ('sqlalchemy', 'sqlmodel', 'openai', 'boto3', 'driftctl.models', 'hcl2')\n"
        "         if m in sys.modules]\n"
        "print('HEAVY=' + ','.join(heavy))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.splitlines()[-1] == "HEAVY="


def test_no_group_cuts_a_subcommand_summary() -> None:
    import click

    ctx = click.Context(main)
    groups = [
        name for name in main.list_commands(ctx) if isinstance(main.get_command(ctx, name), click.Group)
    ]
    assert {"audit", "breaker", "proposals", "sandbox", "scenarios"} <= set(groups)
    for group in groups:
        out = CliRunner().invoke(main, [group, "--help"], terminal_width=80).output
        listing = out.split("Commands:\n", 1)[1].splitlines()
        cut = [line for line in listing if line.rstrip().endswith("...")]
        assert cut == [], f"driftctl {group} --help: {cut}"
