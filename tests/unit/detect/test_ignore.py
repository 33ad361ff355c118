"""Ignore rules: the file, --ignore specs, literal brackets in globs, and what apply_ignores keeps."""

from __future__ import annotations

import textwrap
from datetime import date
from pathlib import Path

import pytest

from driftctl.detect.ignore import (
    IgnoreRule,
    apply_ignores,
    glob_matches,
    load_ignore_file,
    parse_cli_ignore,
)
from driftctl.errors import ConfigError
from driftctl.models import (
    Alert,
    AttributeChange,
    ChangeKind,
    Finding,
    FindingKind,
    IgnoredChange,
    ResourceAddress,
)

TODAY = date(2026, 6, 1)


def finding(address: str, *paths: str, kind: FindingKind = FindingKind.CHANGED) -> Finding:
    type_, name = address.split(".")[-2:]
    changes = tuple(AttributeChange(p, ChangeKind.MODIFIED, "old", "new") for p in paths)
    return Finding(ResourceAddress(address, type_, name.split("[")[0]), kind, changes)


def rule(address: str, path: str = "*", expires: date | None = None, source: str = "test") -> IgnoreRule:
    return IgnoreRule(address, path, reason="known", owner="team-a", expires=expires, source=source)


def paths_of(findings: tuple[Finding, ...]) -> list[tuple[str, list[str]]]:
    return [(f.address, [c.path for c in f.changes]) for f in findings]


# --- globs ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "text", "matches"),
    [
        ("aws_instance.web[*]", "aws_instance.web[0]", True),
        ("aws_instance.web[*]", 'aws_instance.web["blue"]', True),
        ("aws_instance.web[*]", "aws_instance.web", False),
        ("aws_instance.web[0]", "aws_instance.web[0]", True),  # fnmatch reads [0] as a class and fails
        ("aws_instance.web[0]", "aws_instance.web0", False),
        ('module.storage["logs"].aws_s3_bucket.this', 'module.storage["logs"].aws_s3_bucket.this', True),
        ("module.storage[*].*", 'module.storage["logs"].aws_s3_bucket.this', True),
        ("module.app.*", "module.app.aws_instance.web", True),
        ("module.app.*", "module.application.aws_instance.web", False),
        ("aws_instance.web", "aws_instance.web[0]", False),  # whole-string match
        ("tags.*", "tags.owner", True),
        ("tags.*", "tags_all.owner", False),
        ("tags.???", "tags.env", True),
        ("tags.???", "tags.owner", False),
    ],
)
def test_globs_treat_brackets_literally(pattern: str, text: str, matches: bool) -> None:
    assert glob_matches(pattern, text) is matches


# --- the file ------------------------------------------------------------------------------------------


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / ".driftctl-ignore.yaml"
    path.write_text(textwrap.dedent(text))
    return path


def test_rules_are_read_in_order_with_their_line(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        rules:
          - address: 'module.app.aws_instance.web[*]'
            path: 'tags.*'
            reason: "Tags are managed by the cost team"
            owner: "team-finops"
            expires: 2027-01-31
          - address: aws_sqs_queue.jobs
            reason: quoted date
            owner: team-queues
            expires: "2026-12-31"
        """,
    )
    assert load_ignore_file(path) == (
        IgnoreRule(
            "module.app.aws_instance.web[*]",
            "tags.*",
            "Tags are managed by the cost team",
            "team-finops",
            date(2027, 1, 31),
            f"file {path}:2",
        ),
        IgnoreRule(
            "aws_sqs_queue.jobs", "*", "quoted date", "team-queues", date(2026, 12, 31), f"file {path}:7"
        ),
    )


def test_a_missing_or_empty_file_has_no_rules(tmp_path: Path) -> None:
    assert load_ignore_file(tmp_path / "absent.yaml") == ()
    assert load_ignore_file(write(tmp_path, "# nothing ignored yet\n")) == ()
    assert load_ignore_file(write(tmp_path, "rules: []\n")) == ()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            "rules:\n  - address: a.b\n    owner: me\n",
            ":2: rules[0].reason: required key is missing",
            id="missing-reason",
        ),
        pytest.param(
            "rules:\n  - address: a.b\n    reason: x\n    owner: '  '\n",
            ":4: rules[0].owner: should not be empty",
            id="blank-owner",
        ),
        pytest.param(
            "rules:\n  - address: a.b\n    reason: x\n    owner: me\n    expires: someday\n",
            ":5: rules[0].expires: should be a valid date",
            id="bad-date",
        ),
        pytest.param(
            "rules:\n  - address: a.b\n    reason: x\n    owner: me\n    paths: tags.*\n",
            ":5: rules[0].paths: unknown key; allowed: address, path, reason, owner, expires "
            "(did you mean 'path'?)",
            id="unknown-key",
        ),
        pytest.param("rules:\n  address: a.b\n", ":1: rules: should be a list", id="not-a-list"),
        pytest.param("rules:\n  - address: [a.b\n", ":3: invalid YAML", id="bad-yaml"),
    ],
)
def test_a_malformed_file_names_file_and_line(tmp_path: Path, text: str, expected: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_ignore_file(path)
    assert info.value.message.startswith(f"{path}{expected}")


# --- --ignore ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "address", "path"),
    [
        ("aws_instance.web", "aws_instance.web", "*"),
        ("module.app.*:tags.*", "module.app.*", "tags.*"),
        ("aws_instance.web[*]:tags.a:b", "aws_instance.web[*]", "tags.a:b"),  # the path keeps its colons
        (
            'aws_iam_role_policy_attachment.x["arn:aws:iam::aws:policy/ro"]:tags.*',
            'aws_iam_role_policy_attachment.x["arn:aws:iam::aws:policy/ro"]',
            "tags.*",
        ),
        ('aws_instance.web["a:b"]', 'aws_instance.web["a:b"]', "*"),
        ("  aws_instance.web : tags.* ", "aws_instance.web", "tags.*"),
    ],
)
def test_cli_ignore_splits_on_the_first_colon_outside_brackets(spec: str, address: str, path: str) -> None:
    parsed = parse_cli_ignore(spec)
    assert (parsed.address, parsed.path, parsed.owner, parsed.reason) == (address, path, "cli", "--ignore")
    assert parsed.expires is None
    assert parsed.source.startswith("--ignore ")


@pytest.mark.parametrize(
    ("spec", "why"),
    [
        (":tags.*", "address glob is empty"),
        ("aws_instance.web:", "path glob after ':' is empty"),
        ("x[0", "unbalanced"),
    ],
)
def test_cli_ignore_rejects(spec: str, why: str) -> None:
    with pytest.raises(ConfigError, match=why):
        parse_cli_ignore(spec)


# --- applying ------------------------------------------------------------------------------------------


def test_matching_changes_are_ignored_and_empty_findings_disappear_in_order() -> None:
    findings = [
        finding("aws_instance.a", "tags.owner", "instance_type"),
        finding("aws_instance.b", "tags.owner"),
        finding("aws_s3_bucket.c", "tags.owner"),
    ]
    outcome = apply_ignores(findings, [rule("aws_instance.*", "tags.*")], today=TODAY)
    assert paths_of(outcome.findings) == [
        ("aws_instance.a", ["instance_type"]),
        ("aws_s3_bucket.c", ["tags.owner"]),
    ]
    assert outcome.ignored == (
        IgnoredChange("aws_instance.a", "tags.owner", "aws_instance.* tags.* (team-a: known)"),
        IgnoredChange("aws_instance.b", "tags.owner", "aws_instance.* tags.* (team-a: known)"),
    )
    assert outcome.alerts == ()


def test_untouched_findings_are_returned_as_they_were() -> None:
    original = finding("aws_instance.a", "ami")
    outcome = apply_ignores([original], [rule("aws_instance.a", "tags.*")], today=TODAY)
    assert outcome.findings == (original,)
    assert outcome.ignored == ()


def test_a_deleted_resource_is_ignored_only_by_a_rule_for_every_path() -> None:
    gone = finding("aws_sqs_queue.jobs", kind=FindingKind.DELETED)
    tags_only = apply_ignores([gone], [rule("aws_sqs_queue.*", "tags.*")], today=TODAY)
    assert tags_only.findings == (gone,)
    assert [a.kind for a in tags_only.alerts] == ["ignore-unmatched"]

    whole = apply_ignores([gone], [rule("aws_sqs_queue.*")], today=TODAY)
    assert whole.findings == ()
    assert whole.ignored == (IgnoredChange("aws_sqs_queue.jobs", "*", "aws_sqs_queue.* * (team-a: known)"),)
    assert whole.alerts == ()


def test_a_deleted_resource_with_listed_changes_is_still_ignored_whole() -> None:
    gone = finding("aws_sqs_queue.jobs", "tags.owner", kind=FindingKind.DELETED)
    assert apply_ignores([gone], [rule("aws_sqs_queue.jobs", "tags.*")], today=TODAY).findings == (gone,)
    assert apply_ignores([gone], [rule("aws_sqs_queue.jobs", "*")], today=TODAY).findings == ()


def test_the_first_matching_rule_is_credited_and_a_shadowed_one_is_not_unmatched() -> None:
    rules = [rule("aws_instance.a", "tags.*", source="first"), rule("aws_instance.*", "*", source="second")]
    outcome = apply_ignores([finding("aws_instance.a", "tags.owner")], rules, today=TODAY)
    assert outcome.ignored == (
        IgnoredChange("aws_instance.a", "tags.owner", "aws_instance.a tags.* (team-a: known)"),
    )
    assert outcome.alerts == ()


def test_an_expired_rule_no_longer_applies_and_is_reported() -> None:
    expired = rule(
        "aws_instance.a", "tags.*", expires=date(2026, 5, 31), source="file .driftctl-ignore.yaml:3"
    )
    outcome = apply_ignores([finding("aws_instance.a", "tags.owner")], [expired], today=TODAY)
    assert paths_of(outcome.findings) == [("aws_instance.a", ["tags.owner"])]
    assert outcome.ignored == ()
    (alert,) = outcome.alerts
    assert alert.kind == "ignore-expired"
    for part in ("file .driftctl-ignore.yaml:3", "team-a", "2026-05-31"):
        assert part in alert.message


def test_a_rule_still_applies_on_its_expiry_day() -> None:
    last_day = rule("aws_instance.a", "tags.*", expires=TODAY)
    outcome = apply_ignores([finding("aws_instance.a", "tags.owner")], [last_day], today=TODAY)
    assert outcome.findings == ()
    assert outcome.alerts == ()


def test_a_rule_that_matched_nothing_is_reported() -> None:
    stale = rule("aws_instance.gone", source="--ignore 'aws_instance.gone'")
    outcome = apply_ignores([finding("aws_instance.a", "ami")], [stale], today=TODAY)
    assert outcome.alerts == (
        Alert(
            "ignore-unmatched",
            "ignore rule --ignore 'aws_instance.gone' (aws_instance.gone *, owner team-a) matched no drift; "
            "remove it if that drift is gone for good",
        ),
    )


def test_alerts_follow_rule_order() -> None:
    rules = [rule("x.unused", source="one"), rule("x.old", expires=date(2020, 1, 1), source="two")]
    outcome = apply_ignores([], rules, today=TODAY)
    assert [(a.kind, a.message.split()[2]) for a in outcome.alerts] == [
        ("ignore-unmatched", "one"),
        ("ignore-expired", "two"),
    ]
