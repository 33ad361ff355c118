"""Consistent names and options: the proposals group and its top-level aliases, --database on every
store command, `-o` everywhere, DRIFTCTL_CONFIG, and every DRIFTCTL_* variable documented."""

from __future__ import annotations

import re
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from driftctl.audit.store import Store
from driftctl.cli import main

ROOT = Path(__file__).parents[3]
STORE_COMMANDS = [
    ("reconcile",),
    ("proposals",),
    ("proposals", "list"),
    ("proposals", "approve"),
    ("proposals", "reject"),
    ("proposals", "apply"),
    ("approve",),
    ("reject",),
    ("apply",),
    ("breaker", "status"),
    ("breaker", "reset"),
    ("audit", "list"),
    ("audit", "show"),
    ("audit", "verify"),
    ("audit", "export"),
    ("runs",),
]


def _command(*path: str) -> click.Command:
    command: click.Command = main
    for name in path:
        assert isinstance(command, click.Group)
        found = command.get_command(click.Context(command), name)
        assert found is not None, path
        command = found
    return command


def _option(command: click.Command, name: str) -> click.Option:
    for param in command.params:
        if isinstance(param, click.Option) and name in param.opts + param.secondary_opts:
            return param
    raise AssertionError(f"{command.name} has no {name}")


@pytest.mark.parametrize("path", STORE_COMMANDS, ids=" ".join)
def test_every_store_command_takes_database_and_config(path: tuple[str, ...]) -> None:
    command = _command(*path)
    assert _option(command, "--database").envvar == "DRIFTCTL_DATABASE_URL"
    assert _option(command, "--config").envvar == "DRIFTCTL_CONFIG"


def test_top_level_approve_reject_apply_are_aliases_of_the_proposals_subcommands() -> None:
    for name in ("approve", "reject", "apply"):
        alias, canonical = _command(name), _command("proposals", name)
        assert alias.callback is canonical.callback
        assert alias.short_help == f"Same as `driftctl proposals {name}`."
    assert "Same as `driftctl proposals apply`" in CliRunner().invoke(main, ["--help"]).output


def test_proposals_alone_lists_like_proposals_list(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DRIFTCTL_DATABASE_URL", raising=False)
    url = f"sqlite:///{tmp_path / 'd.db'}"
    Store(url).close()
    runner = CliRunner()
    alone = runner.invoke(main, ["proposals", "--database", url, "--all"])
    listed = runner.invoke(main, ["proposals", "list", "--database", url, "--all"])
    assert alone.exit_code == listed.exit_code == 0
    assert alone.stdout == listed.stdout == "no proposals\n"


def test_audit_export_takes_o_like_every_other_command(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'd.db'}"
    with Store(url) as store:
        store.append("run", run_id="r", status="started", data={"mode": "detect"})
    runner = CliRunner()
    by_o = runner.invoke(main, ["audit", "export", "--database", url, "-o", "jsonl"])
    by_format = runner.invoke(main, ["audit", "export", "--database", url, "--format", "jsonl"])
    assert by_o.exit_code == by_format.exit_code == 0
    assert by_o.stdout == by_format.stdout and by_o.stdout.count("\n") == 1


def test_driftctl_config_names_the_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DRIFTCTL_DATABASE_URL", raising=False)
    monkeypatch.chdir(tmp_path)
    infra = tmp_path / "infra"
    infra.mkdir()
    (infra / "driftctl.yaml").write_text("version: 1\n")
    Store.open(infra / ".driftctl" / "driftctl.db").close()
    monkeypatch.setenv("DRIFTCTL_CONFIG", str(infra / "driftctl.yaml"))
    result = CliRunner().invoke(main, ["audit", "verify"])
    assert result.exit_code == 0, result.output
    assert f"store: sqlite:///{infra / '.driftctl' / 'driftctl.db'}" in result.stderr


def test_propose_and_reconcile_default_to_the_same_drafter() -> None:
    for path in (("propose",), ("reconcile",)):
        drafter = _option(_command(*path), "--drafter")
        assert drafter.default == "auto"
        assert isinstance(drafter.type, click.Choice) and set(drafter.type.choices) == {
            "auto",
            "rules",
            "llm",
        }


def test_reconcile_and_assess_render_markdown() -> None:
    for path in (("reconcile",), ("assess",), ("detect",)):
        output = _option(_command(*path), "--output")
        assert isinstance(output.type, click.Choice) and "markdown" in output.type.choices


def test_every_driftctl_variable_is_documented() -> None:
    used = set()
    for source in (ROOT / "driftctl").rglob("*.py"):
        used |= set(re.findall(r"\bDRIFTCTL_[A-Z][A-Z0-9_]*\b", source.read_text(encoding="utf-8")))
    documented = set(re.findall(r"`(DRIFTCTL_[A-Z0-9_]+)`", (ROOT / "docs" / "environment.md").read_text()))
    assert used, "the walk found no variable at all"
    assert used <= documented, f"undocumented: {sorted(used - documented)}"


def test_detect_severity_choices_are_the_models_severities() -> None:
    from driftctl.cli.detect import SEVERITY_CHOICES
    from driftctl.detect.thresholds import SEVERITY_CHOICES as FROM_MODELS

    assert SEVERITY_CHOICES == FROM_MODELS
