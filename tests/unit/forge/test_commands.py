"""The comment grammar: Atlantis-style commands, flags, refusals and "did you mean"."""

from __future__ import annotations

import pytest

from driftctl.forge.commands import Command, Refusal, Verb, parse_comment


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("driftctl plan", Command(Verb.PLAN)),
        ("  driftctl   PLAN -w prod  ", Command(Verb.PLAN, workspace="prod")),
        ("@drift-bot apply 0a1b2c3d4e5f", Command(Verb.APPLY, proposal_id="0a1b2c3d4e5f")),
        ("DriftCtl Approve", Command(Verb.APPROVE)),
        ("driftctl approve ABCDEF -w prod", Command(Verb.APPROVE, "abcdef", "prod")),
        (
            'driftctl reject 0a1b2c --reason "not now, sorry"',
            Command(Verb.REJECT, "0a1b2c", None, "not now, sorry"),
        ),
        ("driftctl reject --reason=later", Command(Verb.REJECT, reason="later")),
        ("driftctl unlock --workspace=prod", Command(Verb.UNLOCK, workspace="prod")),
        ("driftctl", Command(Verb.HELP)),
        ("driftctl help", Command(Verb.HELP)),
        ("driftctl apply -h", Command(Verb.HELP)),
    ],
)
def test_commands(body: str, expected: Command) -> None:
    assert parse_comment(body, "drift-bot") == expected


@pytest.mark.parametrize(
    "body",
    ["LGTM", "please run driftctl plan", "@someone-else plan", "", "atlantis plan", "driftctlplan"],
)
def test_comments_not_for_us(body: str) -> None:
    assert parse_comment(body, "drift-bot") is None


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ("driftctl aply 0a1b2c", "Did you mean `driftctl apply`?"),
        ("driftctl plna", "Did you mean `driftctl plan`?"),
        ("driftctl destroy", "is not a driftctl command"),
        ("driftctl apply -- -target=aws_instance.x", "Extra Terraform arguments are never accepted"),
        ("driftctl apply 0a1b2c -var x=1", "is not a flag"),
        ("driftctl plan\n-w prod", "single line"),
        ("driftctl reject 0a1b2c", "needs a reason"),
        ('driftctl reject 0a1b2c --reason "  "', "needs a reason"),
        ("driftctl plan extra", "takes no arguments"),
        ("driftctl apply abc123 def456", "takes one proposal ID"),
        ("driftctl apply not-an-id", "takes one proposal ID"),
        ("driftctl plan -w", "needs a value"),
        ("driftctl plan -w ../etc", "is not a workspace name"),
        ('driftctl reject 0a1b2c --reason "unclosed', "Could not read the command"),
        ("driftctl approve --reason x", "goes with `driftctl reject`"),
    ],
)
def test_refusals(body: str, says: str) -> None:
    result = parse_comment(body, "drift-bot")
    assert isinstance(result, Refusal), result
    assert says in result.message


def test_a_hostile_unknown_command_is_not_echoed_raw() -> None:
    result = parse_comment("driftctl <img src=x onerror=alert(1)>`@everyone`", "drift-bot")
    assert isinstance(result, Refusal)
    assert "<" not in result.message and "@" not in result.message
