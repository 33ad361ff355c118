"""Drift of a sensitive value (issue 16 item 1): reported as a change, never shown, never adopted.

Terraform masks both sides of a changed secret the same way; the parser compares the real values
before it masks them and keeps only where they differed.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from driftctl.cli import main
from driftctl.detect.findings import detect_plan, diff_values, hidden_paths
from driftctl.draft.llm import LlmReply
from driftctl.draft.prompt import drift_json
from driftctl.draft.rules import RulesDrafter, adopt_refusal, preferred_strategy, rationale
from driftctl.models import (
    HIDDEN_CHANGE_NOTE,
    SENSITIVE,
    ChangeKind,
    Finding,
    FindingKind,
    Severity,
    Strategy,
)
from driftctl.report.console import change_line
from driftctl.terraform.plan import parse_plan

OLD = "CANARY-old-4b1d9e"
NEW = "CANARY-new-77c0aa"
BUCKET = 'module.storage["assets"].aws_s3_bucket.this'


def _entry(
    before: dict[str, Any],
    after: dict[str, Any],
    before_sensitive: Any,
    after_sensitive: Any,
    actions: tuple[str, ...] = ("update",),
    address: str = BUCKET,
    type_: str = "aws_s3_bucket",
) -> dict[str, Any]:
    return {
        "address": address,
        "module_address": 'module.storage["assets"]' if address == BUCKET else None,
        "mode": "managed",
        "type": type_,
        "name": "this",
        "provider_name": "registry.terraform.io/hashicorp/aws",
        "change": {
            "actions": list(actions),
            "before": before,
            "after": after,
            "after_unknown": {},
            "before_sensitive": before_sensitive,
            "after_sensitive": after_sensitive,
        },
    }


def _bucket(secret: str, **tags: str) -> dict[str, Any]:
    # As Terraform writes it: the mark on tags.secret is lost in tags_all (the provider copies it).
    all_tags = {"project": "x", "secret": secret, **tags}
    return {"bucket": "b", "tags": dict(all_tags), "tags_all": dict(all_tags)}


MARKS = {"tags": {"secret": True}, "tags_all": {}}


def _plan(drift: list[dict[str, Any]], changes: list[dict[str, Any]] | None = None) -> str:
    return json.dumps(
        {
            "format_version": "1.2",
            "terraform_version": "1.15.5",
            "resource_drift": drift,
            "resource_changes": changes or [],
        }
    )


def _drifted_secret(**tags: str) -> str:
    return _plan([_entry(_bucket(OLD), _bucket(NEW, **tags), MARKS, MARKS)])


def _one(text: str) -> Finding:
    findings, _ = detect_plan(parse_plan(text))
    (finding,) = findings
    return finding


def test_a_changed_secret_is_a_change_with_both_sides_masked() -> None:
    plan = parse_plan(_drifted_secret())
    (record,) = plan.drift
    assert record.hidden == (("tags", "secret"), ("tags_all", "secret"))
    finding = _one(_drifted_secret())
    assert finding.kind is FindingKind.CHANGED
    (change,) = finding.changes  # tags_all.secret is the same edit, reported once
    assert (change.path, change.kind, change.before, change.after, change.sensitive) == (
        "tags.secret",
        ChangeKind.MODIFIED,
        SENSITIVE,
        SENSITIVE,
        True,
    )
    assert change.note == HIDDEN_CHANGE_NOTE
    assert OLD not in repr(plan) + repr(finding) and NEW not in repr(plan) + repr(finding)


def test_an_unchanged_secret_is_no_drift() -> None:
    findings, pending = detect_plan(parse_plan(_plan([_entry(_bucket(OLD), _bucket(OLD), MARKS, MARKS)])))
    assert findings == [] and pending == []


def test_a_non_secret_change_beside_it_is_reported_too() -> None:
    finding = _one(_drifted_secret(owner="alice"))
    assert [(c.path, c.kind, c.after, c.note) for c in finding.changes] == [
        ("tags.owner", ChangeKind.ADDED, "alice", None),
        ("tags.secret", ChangeKind.MODIFIED, SENSITIVE, HIDDEN_CHANGE_NOTE),
    ]


def test_a_wholly_sensitive_block_and_a_list_element() -> None:
    before = {"name": "db", "auth": {"user": "admin", "password": OLD}, "keys": ["k1-aaaa", OLD]}
    after = {"name": "db", "auth": {"user": "admin", "password": NEW}, "keys": ["k1-aaaa", NEW]}
    marks = {"auth": True, "keys": [False, True]}
    text = _plan([_entry(before, after, marks, marks, address="aws_db_instance.db", type_="aws_db_instance")])
    finding = _one(text)
    assert [(c.path, c.before, c.after, c.sensitive) for c in finding.changes] == [
        ("auth", SENSITIVE, SENSITIVE, True),
        ("keys[1]", SENSITIVE, SENSITIVE, True),
    ]


def test_inside_a_set_block_the_set_attribute_is_reported() -> None:
    rule = {"from_port": 22, "to_port": 22, "cidr_blocks": ["10.0.0.0/8"]}
    before = {"ingress": [{**rule, "description": OLD}]}
    after = {"ingress": [{**rule, "description": NEW}]}
    marks = {"ingress": [{"description": True}]}
    sg = "aws_security_group.web"
    finding = _one(_plan([_entry(before, after, marks, marks, address=sg, type_="aws_security_group")]))
    (change,) = finding.changes
    assert (change.path, change.before, change.after, change.sensitive) == (
        "ingress",
        SENSITIVE,
        SENSITIVE,
        True,
    )


def test_hidden_paths_and_diff_values() -> None:
    assert hidden_paths([("tags", "secret"), ("rules", 2, "x")]) == {
        "",
        "tags",
        "tags.secret",
        "rules",
        "rules[2]",
        "rules[2].x",
    }
    assert hidden_paths([("ingress", 0, "description")], frozenset({"ingress"})) == {"", "ingress"}
    same = {"tags": {"secret": SENSITIVE}}
    assert list(diff_values(same, same)) == []
    (change,) = diff_values(same, same, hidden=hidden_paths([("tags", "secret")]))
    assert (change.path, change.kind) == ("tags.secret", ChangeKind.MODIFIED)


def test_a_code_change_of_a_secret_is_pending_and_a_revert_of_drift_is_not() -> None:
    code_change = _entry(_bucket(OLD), _bucket(NEW), MARKS, MARKS)
    findings, pending = detect_plan(parse_plan(_plan([], [code_change])))
    assert findings == []
    assert [(p.address, p.paths) for p in pending] == [(BUCKET, ("tags.secret",))]

    drift = _entry(_bucket(OLD), _bucket(NEW), MARKS, MARKS)
    revert = _entry(_bucket(NEW), _bucket(OLD), MARKS, MARKS)
    findings, pending = detect_plan(parse_plan(_plan([drift], [revert])))
    assert [f.address for f in findings] == [BUCKET] and pending == []


@pytest.mark.parametrize("fmt", ["console", "json", "markdown", "sarif"])
def test_detect_plan_file_reports_it_in_every_format_without_the_value(fmt: str, tmp_path: Path) -> None:
    plan_file = tmp_path / "plan.json"
    plan_file.write_text(_drifted_secret())
    result = CliRunner().invoke(main, ["detect", "--quiet", "--plan-file", str(plan_file), "-o", fmt])
    assert result.exit_code == 2, result.output
    assert "tags.secret" in result.stdout
    assert OLD not in result.output and NEW not in result.output
    if fmt == "console":
        assert "tags.secret: (sensitive value) → (sensitive value) (the value changed)" in result.stdout
    if fmt == "json":
        (finding,) = json.loads(result.stdout)["workspaces"][0]["findings"]
        assert finding["changes"] == [
            {
                "path": "tags.secret",
                "kind": "modified",
                "before": SENSITIVE,
                "after": SENSITIVE,
                "sensitive": True,
                "note": HIDDEN_CHANGE_NOTE,
            }
        ]


def test_console_line_and_prompt_say_the_value_changed() -> None:
    finding = _one(_drifted_secret())
    assert change_line(finding.changes[0]).endswith("(the value changed)")
    prompt = json.loads(drift_json(finding))
    assert prompt["changes"][0]["note"] == HIDDEN_CHANGE_NOTE
    assert prompt["changes"][0]["before"] == prompt["changes"][0]["after"] == SENSITIVE


# -- drafting: revert is possible, adopt never writes the secret -------------------------------------


def test_a_changed_secret_is_reverted_even_when_benign() -> None:
    finding = _one(_drifted_secret(owner="alice"))
    assert finding.severity is Severity.INFO  # unclassified here; benign drift would prefer adopt
    assert preferred_strategy(finding) is Strategy.REVERT
    text = rationale(finding, Strategy.REVERT)
    assert "a sensitive value changed (tags.secret)" in text


def test_the_rules_drafter_reverts_and_refuses_to_adopt(tmp_path: Path) -> None:
    finding = _one(_drifted_secret(owner="alice"))
    revert = RulesDrafter().draft(finding, tmp_path)
    assert (revert.strategy, revert.needs_human, revert.edits) == (Strategy.REVERT, None, ())
    adopt = RulesDrafter().draft(finding, tmp_path, Strategy.ADOPT)
    assert adopt.edits == () and adopt.needs_human is not None
    assert "tags.secret holds a sensitive value" in adopt.needs_human
    assert "never" in adopt.needs_human and "--strategy revert" in adopt.needs_human
    assert adopt_refusal(_one(_plan([_entry({"a": "x"}, {"a": "y"}, {}, {})]))) is None


class _AdoptingLlm:
    """An LLM that answers adopt with a block writing a value into the code."""

    def __init__(self) -> None:
        self.calls = 0

    def draft(self, ctx: object) -> LlmReply:
        self.calls += 1
        block = 'resource "aws_s3_bucket" "this" {\n  bucket = "b"\n  tags = { secret = "guess" }\n}'
        return LlmReply(Strategy.ADOPT, block, "adopt the console value", 0.99)


def test_an_llm_adopt_of_a_secret_is_refused(tmp_path: Path) -> None:
    from driftctl.reconcile.heal import _llm_draft

    (tmp_path / "main.tf").write_text('resource "aws_s3_bucket" "this" {\n  bucket = "b"\n}\n')
    finding = _one(_plan([_entry(_bucket(OLD), _bucket(NEW), MARKS, MARKS, address="aws_s3_bucket.this")]))
    llm = _AdoptingLlm()
    draft, problem = _llm_draft(llm, finding, tmp_path, Strategy.REVERT, ())  # type: ignore[arg-type]
    assert llm.calls == 1
    assert draft is None
    assert "the LLM chose adopt, refused" in problem and "never" in problem


def test_a_short_new_secret_does_not_show_through_tags_all() -> None:
    # "x" is too short to be masked wherever it appears; tags_all.secret would print it in clear.
    finding = _one(_plan([_entry(_bucket(OLD), _bucket("x"), MARKS, MARKS)]))
    assert [(c.path, c.after, c.sensitive) for c in finding.changes] == [("tags.secret", SENSITIVE, True)]
    assert "x" not in [c.after for c in finding.changes]
