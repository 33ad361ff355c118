"""Trojan-source characters (issue 16 item 9): never raw in HCL, patches or the console.

Bidi controls (U+202A to U+202E, U+2066 to U+2069, U+200E/F, U+061C) and zero-width characters
(U+200B to U+200D, U+2060, U+FEFF) become ``\\uXXXX`` escapes; an LLM block carrying one is refused;
a ``\\r`` or a bidi control in an LLM rationale reaches the console escaped.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from driftctl.draft.guardrails import check_block
from driftctl.draft.hcl_edit import adopt_changes, quote_hcl
from driftctl.draft.hcl_locate import attr_expr, block_body_of_start, body_items, literal_value, parse_hcl
from driftctl.invisible import INVISIBLE, escape_invisible, find_invisible, printable
from driftctl.models import AttributeChange, ChangeKind, Finding, FindingKind, ResourceAddress
from driftctl.reconcile.pipeline import ItemResult, Outcome, ReconcileReport, Status, WorkspaceResult
from driftctl.report.console import plain
from driftctl.report.reconcile import render_reconcile
from tests.unit.draft.fake_openai import fake_openai, reply_json

TROJAN = [
    *(chr(c) for c in range(0x202A, 0x202F)),
    *(chr(c) for c in range(0x2066, 0x206A)),
    "\u200e",
    "\u200f",
    "\u061c",
    "\u200b",
    "\u200c",
    "\u200d",
    "\u2060",
    "\ufeff",
]
# What a reviewer would read as "admin" while the bytes say something else, and a hidden character.
SNEAKY = "access\u202e\u2066nimda\u2069\u202c\u200bok"


@pytest.mark.parametrize("ch", TROJAN, ids=lambda c: f"U+{ord(c):04X}")
def test_every_listed_character_is_escaped_everywhere(ch: str) -> None:
    escape = f"\\u{ord(ch):04x}"
    assert INVISIBLE.fullmatch(ch)
    assert escape_invisible(f"a{ch}b") == f"a{escape}b"
    assert quote_hcl(f"a{ch}b") == f'"a{escape}b"'
    assert plain(f"a{ch}b") == f"a{escape}b"


def test_ordinary_unicode_is_left_alone() -> None:
    text = "café — naïve 日本語 ✓"
    assert escape_invisible(text) == printable(text) == text
    assert quote_hcl(text) == f'"{text}"'


def test_printable_escapes_carriage_returns_and_sequences() -> None:
    assert printable("fine\r\nnext") == "fine\nnext"
    assert printable("looks safe\rFORGED") == "looks safe\\x0dFORGED"
    assert printable("\x1b[31mred\x1b[0m \x07") == "red \\x07"
    assert find_invisible("ok\nx\u202ey") == ["U+202E at line 2"]


def test_an_escaped_hcl_string_reads_back_as_the_same_value() -> None:
    tree = parse_hcl(f"x = {quote_hcl(SNEAKY)}\n", "test")
    assert literal_value(attr_expr(body_items(block_body_of_start(tree))[0])) == SNEAKY


MAIN_TF = """\
resource "aws_s3_bucket" "logs" {
  bucket = "logs"

  tags = {
    team = "platform"
  }

  policy = <<EOT
{"a": 1}
EOT
}
"""


def _adopt(tmp_path: Path, *changes: AttributeChange) -> str:
    (tmp_path / "main.tf").write_text(MAIN_TF)
    finding = Finding(
        ResourceAddress("aws_s3_bucket.logs", "aws_s3_bucket", "logs"), FindingKind.CHANGED, changes
    )
    result = adopt_changes(tmp_path, finding)
    assert not result.unresolved, result.unresolved
    (edit,) = result.edits
    patch = edit.diff()
    assert not INVISIBLE.search(edit.after) and not INVISIBLE.search(patch)
    return patch


def test_an_adopted_tag_is_written_escaped_into_the_file_and_the_patch(tmp_path: Path) -> None:
    patch = _adopt(tmp_path, AttributeChange("tags.note", ChangeKind.ADDED, None, SNEAKY))
    assert '+    note = "access\\u202e\\u2066nimda\\u2069\\u202c\\u200bok"' in patch


def test_a_heredoc_value_with_hidden_characters_becomes_an_escaped_string(tmp_path: Path) -> None:
    change = AttributeChange("policy", ChangeKind.MODIFIED, '{"a": 1}\n', '{"a": "x\u202ey"}\n')
    patch = _adopt(tmp_path, change)
    assert "<<EOT" not in [line[1:] for line in patch.splitlines() if line.startswith("+")]
    assert "\\u202e" in patch


@pytest.mark.parametrize(
    "where",
    ['  note = "a\u202eb"\n', "  # comment \u2067 hidden\n", "  bucket\u200b = 1\n"],
    ids=["string", "comment", "identifier"],
)
def test_guardrails_refuse_an_llm_block_with_a_hidden_character(where: str) -> None:
    original = 'resource "aws_s3_bucket" "logs" {\n  bucket = "logs"\n}\n'
    edited = original.replace('  bucket = "logs"\n', '  bucket = "logs"\n' + where)
    (violation,) = check_block(original, edited, "aws_s3_bucket", "logs")
    assert "invisible or bidirectional control characters" in violation
    assert "at line 3" in violation
    escaped = original.replace('  bucket = "logs"\n', '  bucket = "logs"\n  note = "a\\u202eb"\n')
    assert not any("invisible" in v for v in check_block(original, escaped, "aws_s3_bucket", "logs"))


def test_an_llm_rationale_reaches_the_console_escaped(monkeypatch: pytest.MonkeyPatch) -> None:
    from driftctl.draft.llm import LlmConfig, LlmDrafter
    from driftctl.draft.prompt import LlmContext
    from driftctl.models import Strategy

    monkeypatch.setenv("DRIFTCTL_TEST_KEY", "k")
    hostile = "Reverting.\rAPPROVED BY SECURITY \u202eevah\u200b ok"
    finding = Finding(
        ResourceAddress("aws_s3_bucket.logs", "aws_s3_bucket", "logs"),
        FindingKind.CHANGED,
        (AttributeChange("tags.owner", ChangeKind.ADDED, None, "alice"),),
    )
    context = LlmContext(finding, MAIN_TF, "main.tf", Strategy.REVERT, ())
    reply = reply_json(strategy="revert", block=None, rationale=hostile, confidence=0.5)
    with fake_openai([reply]) as server:
        config = LlmConfig(base_url=server.base_url, model="m", api_key_env="DRIFTCTL_TEST_KEY")
        drafted = LlmDrafter(config, sleep=lambda _s: None).draft(context)
    assert drafted.rationale == "Reverting.\\x0dAPPROVED BY SECURITY \\u202eevah\\u200b ok"


def test_the_reconcile_console_escapes_whatever_reaches_it() -> None:
    item = ItemResult(
        address="aws_s3_bucket.logs",
        severity="low",
        outcome=Outcome.PROPOSED,
        rationale="fine\rFORGED \u202eevil",
        where="patch /tmp/x\u200b.patch",
    )
    ws = WorkspaceResult("dev", "propose", Status.DRIFT, items=(item,), alerts=("alert\r\u2066x",))
    text = render_reconcile(ReconcileReport("run1", False, (ws,)), "console")
    assert "\r" not in text and not INVISIBLE.search(text)
    assert "fine\\x0dFORGED \\u202eevil" in text
    assert "patch /tmp/x\\u200b.patch" in text and "alert: alert\\x0d\\u2066x" in text
