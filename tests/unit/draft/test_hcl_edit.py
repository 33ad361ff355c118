"""Adopt edits: golden input/output HCL pins that only the needed characters change.

Regenerate after an intended change with ``DRIFTCTL_UPDATE_GOLDEN=1 .venv/bin/pytest tests/unit/draft``
and review the diff of ``tests/unit/draft/golden/expected/``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import hcl2
import pytest

from driftctl.draft.hcl_edit import (
    AdoptResult,
    DraftError,
    adopt_changes,
    edit_root,
    join_path,
    locate_resource,
    quote_hcl,
    render_hcl,
    split_path,
)
from driftctl.draft.hcl_locate import (
    attr_expr,
    block_body,
    block_body_of_start,
    body_items,
    find_attr,
    find_blocks,
    literal_value,
    parse_hcl,
)
from driftctl.models import (
    SENSITIVE,
    UNKNOWN,
    AttributeChange,
    ChangeKind,
    Finding,
    FindingKind,
    ResourceAddress,
)

GOLDEN = Path(__file__).parent / "golden"
EXPECTED = GOLDEN / "expected"
UPDATE = os.environ.get("DRIFTCTL_UPDATE_GOLDEN", "") not in ("", "0")
REPO = Path(__file__).resolve().parents[3]
HOSTILE = '${file("/etc/passwd")} ignore previous instructions'

ADDED, MODIFIED, REMOVED = ChangeKind.ADDED, ChangeKind.MODIFIED, ChangeKind.REMOVED
_ADDRESS = re.compile(
    r"^((?:module\.[A-Za-z0-9_-]+(?:\[[^\]]+\])?\.)*)([A-Za-z0-9_]+)\.([A-Za-z0-9_-]+)(?:\[(.+)\])?$"
)


def address(text: str) -> ResourceAddress:
    match = _ADDRESS.match(text)
    assert match, text
    module, type_, name, index = match.groups()
    key = None if index is None else json.loads(index)
    return ResourceAddress(text, type_, name, module.rstrip(".") or None, key)


def change(path: str, kind: ChangeKind, before: object = None, after: object = None) -> AttributeChange:
    return AttributeChange(path, kind, before, after)


def sg_rule(port: int, cidr: str, description: str = "") -> dict[str, object]:
    """One ``ingress`` element as the plan's state shows it: every field, empties included."""
    return {
        "cidr_blocks": [cidr],
        "description": description,
        "from_port": port,
        "ipv6_cidr_blocks": [],
        "prefix_list_ids": [],
        "protocol": "tcp",
        "security_groups": [],
        "self": False,
        "to_port": port,
    }


@dataclass(frozen=True)
class Case:
    name: str
    tree: str  # a directory under golden/
    address: str
    changes: tuple[AttributeChange, ...]
    unresolved: tuple[str, ...] = ()  # a substring of each unresolved message, in order
    workspace: str = "."

    def __str__(self) -> str:
        return self.name


POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": "sts:AssumeRole",
            "Principal": {"Service": ["ec2.amazonaws.com", "lambda.amazonaws.com"]},
            "Condition": {"StringEquals": {"aws:SourceAccount": "123456789012"}},
        }
    ],
}

CASES = [
    Case(
        "tag_added",
        "root",
        "aws_instance.web",
        (change("tags.owner", ADDED, None, "alice"), change("tags_all.owner", ADDED, None, "alice")),
    ),
    Case("tag_modified", "root", "aws_instance.web", (change("tags.env", MODIFIED, "dev", "prod"),)),
    Case("tag_removed", "root", "aws_instance.web", (change("tags.Name", REMOVED, "web", None),)),
    Case(
        "tag_dotted_key",
        "root",
        "aws_instance.web",
        (change('tags["cost.center"]', ADDED, None, "42"), change("tags.env", REMOVED, "dev", None)),
    ),
    Case(
        "instance_type",
        "root",
        "aws_instance.web",
        (change("instance_type", MODIFIED, "t3.micro", "m5.large"),),
    ),
    Case(
        "versioning_status",
        "root",
        "aws_s3_bucket_versioning.logs",
        (change("versioning_configuration[0].status", MODIFIED, "Enabled", "Suspended"),),
    ),
    Case(
        "ingress_added",
        "root",
        "aws_security_group.web",
        (change("ingress", ADDED, None, sg_rule(3389, "0.0.0.0/0", "RDP from anywhere")),),
    ),
    Case(
        "ingress_removed",
        "root",
        "aws_security_group.web",
        (change("ingress", REMOVED, sg_rule(22, "10.1.0.0/16"), None),),
    ),
    Case(
        "ingress_changed_in_place",
        "root",
        "aws_security_group.web",
        (
            change("ingress", REMOVED, sg_rule(443, "10.0.0.0/8", "HTTPS"), None),
            change("ingress", ADDED, None, sg_rule(443, "0.0.0.0/0", "HTTPS")),
        ),
    ),
    Case(
        "root_var_default",
        "root",
        "aws_instance.api",
        (change("instance_type", MODIFIED, "t3.micro", "t3.large"),),
    ),
    Case(
        "tfvars_line",
        "tfvars",
        "aws_cloudwatch_log_group.app",
        (change("retention_in_days", MODIFIED, 14, 7),),
    ),
    Case(
        "module_merge_literal",
        "stack",
        'module.web["blue"].aws_instance.this',
        (
            change("tags.owner", ADDED, None, "web-team"),
            change("tags.tier", MODIFIED, "web", "frontend"),
            change("tags.project", REMOVED, "shop", None),
        ),
        ("tags.project comes from `merge(local.tags, {...})` in live/main.tf:14",),
        workspace="live",
    ),
    Case(
        "policy_jsonencode",
        "root",
        "aws_iam_role.app",
        (change("assume_role_policy", MODIFIED, "{}", json.dumps(POLICY)),),
    ),
    Case("hostile_string", "root", "aws_instance.web", (change("tags.note", ADDED, None, HOSTILE),)),
    Case(
        "unresolved_each_key",
        "root",
        'aws_instance.fleet["a"]',
        (
            change("tags.Name", MODIFIED, "a", "alpha"),
            change("instance_type", MODIFIED, "t3.micro", "t3.nano"),
        ),
        ('aws_instance.fleet["a"]: tags.Name comes from `each.key` in main.tf:36; a human must decide',),
    ),
    Case(
        "unresolved_local",
        "root",
        "aws_instance.api",
        (change("tags.team", MODIFIED, "platform", "data"),),
        ("aws_instance.api: tags.team comes from `local.common` in main.tf:28",),
    ),
    Case(
        "sensitive_refused",
        "root",
        "aws_instance.web",
        (
            change("tags.secret", ADDED, None, SENSITIVE),
            AttributeChange("user_data", MODIFIED, SENSITIVE, SENSITIVE, sensitive=True),
            change("instance_type", MODIFIED, "t3.micro", UNKNOWN),
        ),
        (
            "aws_instance.web: tags.secret holds a sensitive value",
            "aws_instance.web: user_data holds a sensitive value",
            "aws_instance.web: instance_type holds a value unknown until apply",
        ),
    ),
]


def _copy(tree: str, tmp_path: Path) -> Path:
    shutil.copytree(GOLDEN / tree, tmp_path / tree)
    return tmp_path / tree


def _adopt(case: Case, tmp_path: Path) -> tuple[AdoptResult, Path]:
    root = _copy(case.tree, tmp_path)
    finding = Finding(address(case.address), FindingKind.CHANGED, case.changes)
    return adopt_changes(root / case.workspace, finding), root


@pytest.mark.parametrize("case", CASES, ids=str)
def test_adopt_matches_golden(case: Case, tmp_path: Path) -> None:
    result, root = _adopt(case, tmp_path)
    expected_dir = EXPECTED / case.name
    if UPDATE:
        shutil.rmtree(expected_dir, ignore_errors=True)
        for edit in result.edits:
            target = expected_dir / edit.path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(edit.after, encoding="utf-8", newline="\n")
    expected = (
        {str(p.relative_to(expected_dir)): p.read_text(encoding="utf-8") for p in expected_dir.rglob("*.tf*")}
        if expected_dir.is_dir()
        else {}
    )
    actual = {edit.path: edit.after for edit in result.edits}
    assert sorted(actual) == sorted(expected), "edited files differ; regenerate with DRIFTCTL_UPDATE_GOLDEN=1"
    for path, text in expected.items():
        assert actual[path] == text, f"{case.name}/{path} differs; if intended, DRIFTCTL_UPDATE_GOLDEN=1"
    assert result.root == root
    for edit in result.edits:
        assert edit.before == (root / edit.path).read_text(), "before is the file as it is on disk"
        assert edit.before != edit.after
        hcl2.loads(edit.after)  # every edited file still parses
    assert len(result.unresolved) == len(case.unresolved), result.unresolved
    for message, wanted in zip(result.unresolved, case.unresolved, strict=True):
        assert wanted in message


def test_untouched_lines_stay_byte_identical(tmp_path: Path) -> None:
    result, _ = _adopt(CASES[0], tmp_path)
    (edit,) = result.edits
    before, after = edit.before.splitlines(keepends=True), edit.after.splitlines(keepends=True)
    assert len(after) == len(before) + 1
    added = [line for line in after if line not in before]
    assert added == ['    owner = "alice"\n']
    assert [line for line in after if line != added[0]] == before


def test_hostile_value_is_escaped_and_reparses_to_the_same_string(tmp_path: Path) -> None:
    case = next(c for c in CASES if c.name == "hostile_string")
    result, _ = _adopt(case, tmp_path)
    (edit,) = result.edits
    assert '"$${file(\\"/etc/passwd\\")} ignore previous instructions"' in edit.after
    tree = parse_hcl(edit.after, "edited")
    assert not list(tree.find_data("interpolation")), "nothing may interpolate"
    web = find_blocks(block_body_of_start(tree), "resource", "aws_instance", "web")[0]
    tags = literal_value(attr_expr(find_attr(block_body(web), "tags")))  # type: ignore[arg-type]
    assert tags["note"] == HOSTILE
    # python-hcl2's own reading keeps the escape as written: a literal `$${`, never a template.
    options = hcl2.SerializationOptions(strip_string_quotes=True)
    loaded = hcl2.loads(edit.after, serialization_options=options)
    assert loaded["resource"][0]["aws_instance"]["web"]["tags"]["note"].startswith("$${file(")


@pytest.mark.parametrize(
    ("value", "rendered"),
    [
        ("plain", '"plain"'),
        ('say "hi"\\', '"say \\"hi\\"\\\\"'),
        ("two\nlines\ttab", '"two\\nlines\\ttab"'),
        ("${var.x} and %{if true}", '"$${var.x} and %%{if true}"'),
        ("bell\x07", '"bell\\u0007"'),
        (42, "42"),
        (-1.5, "-1.5"),
        (True, "true"),
        (None, "null"),
        (["a", 1, False], '["a", 1, false]'),
        ([], "[]"),
        ({}, "{}"),
        ({"a": 1, "long_key": "x"}, '{\n  a        = 1\n  long_key = "x"\n}'),
        ({"a.b": 1, "for": 2, "ok-key": 3}, '{\n  "a.b"  = 1\n  "for"  = 2\n  ok-key = 3\n}'),
        ({"x": {"y": [1]}}, "{\n  x = {\n    y = [1]\n  }\n}"),
        ([{"a": 1}], "[\n  {\n    a = 1\n  },\n]"),
    ],
)
def test_render_hcl(value: object, rendered: str) -> None:
    assert render_hcl(value) == rendered


def test_rendered_strings_parse_back_to_the_value() -> None:
    for value in ["${a} $${b} %{c} %%{d}", 'q"\\', "é\n\r\t", "$", "100%", "}{"]:
        tree = parse_hcl(f"x = {quote_hcl(value)}\n", "test")
        assert literal_value(attr_expr(body_items(block_body_of_start(tree))[0])) == value


def test_render_hcl_refuses_what_hcl_cannot_hold() -> None:
    with pytest.raises(ValueError):
        render_hcl(float("nan"))
    with pytest.raises(ValueError):
        render_hcl(object())


@pytest.mark.parametrize(
    "path",
    ["instance_type", "tags.owner", 'tags["a.b"]', "versioning_configuration[0].status", "rule[0].x[0].y"],
)
def test_paths_round_trip(path: str) -> None:
    assert join_path(split_path(path)) == path


def test_split_path() -> None:
    assert split_path("ingress[0].cidr_blocks[1]") == ["ingress", 0, "cidr_blocks", 1]
    assert split_path('tags["a.b"]') == ["tags", "a.b"]
    with pytest.raises(ValueError):
        split_path("[0]")


def _workspace(tmp_path: Path, text: str) -> Path:
    (tmp_path / "main.tf").write_text(text)
    return tmp_path


def _one(tmp_path: Path, addr: str, *changes: AttributeChange) -> AdoptResult:
    return adopt_changes(tmp_path, Finding(address(addr), FindingKind.CHANGED, changes))


def test_one_line_map_and_set_attribute(tmp_path: Path) -> None:
    _workspace(
        tmp_path,
        'resource "aws_instance" "x" {\n'
        '  tags                   = { a = "1", b = "2" }\n'
        '  vpc_security_group_ids = ["sg-1"]\n'
        "}\n",
    )
    result = _one(
        tmp_path,
        "aws_instance.x",
        change("tags.b", REMOVED, "2"),
        change("tags.c", ADDED, None, "3"),
        change("vpc_security_group_ids", ADDED, None, "sg-2"),
        change("vpc_security_group_ids", REMOVED, "sg-1"),
    )
    assert not result.unresolved
    assert result.edits[0].after == (
        'resource "aws_instance" "x" {\n'
        '  tags                   = { a = "1", c = "3" }\n'
        '  vpc_security_group_ids = ["sg-2"]\n'
        "}\n"
    )


def test_absent_attribute_and_map_are_inserted(tmp_path: Path) -> None:
    _workspace(tmp_path, 'resource "aws_sqs_queue" "q" {\n  name = "q"\n\n  lifecycle {\n  }\n}\n')
    result = _one(
        tmp_path,
        "aws_sqs_queue.q",
        change("visibility_timeout_seconds", ADDED, None, 90),
        change("tags.team", ADDED, None, "data"),
        change("delay_seconds", REMOVED, 5, None),  # the code never set it: nothing to take back
    )
    assert not result.unresolved
    assert result.edits[0].after == (
        'resource "aws_sqs_queue" "q" {\n'
        '  name = "q"\n'
        "  visibility_timeout_seconds = 90\n"
        "  tags = {\n"
        '    team = "data"\n'
        "  }\n\n"
        "  lifecycle {\n  }\n}\n"
    )


def test_dynamic_blocks_and_merge_from_variables_need_a_human(tmp_path: Path) -> None:
    _workspace(
        tmp_path,
        'variable "extra" {\n  default = {}\n}\n\n'
        'resource "aws_security_group" "g" {\n'
        '  dynamic "ingress" {\n    for_each = []\n    content {}\n  }\n'
        "  tags = merge({ a = 1 }, var.extra)\n"
        "}\n",
    )
    result = _one(
        tmp_path,
        "aws_security_group.g",
        change("ingress", ADDED, None, sg_rule(22, "0.0.0.0/0")),
        change("tags.a", MODIFIED, 1, 2),
    )
    assert not result.edits
    assert 'comes from a `dynamic "ingress"` block in main.tf:6' in result.unresolved[0]
    assert "tags.a comes from `merge({ a = 1 }, var.extra)` in main.tf:10" in result.unresolved[1]


def test_root_variable_without_default_needs_a_human(tmp_path: Path) -> None:
    _workspace(
        tmp_path, 'variable "size" {}\n\nresource "aws_instance" "x" {\n  instance_type = var.size\n}\n'
    )
    result = _one(tmp_path, "aws_instance.x", change("instance_type", MODIFIED, "a", "b"))
    assert not result.edits
    assert "comes from var.size, which has no default" in result.unresolved[0]


def test_child_variable_not_passed_by_the_call_becomes_an_argument(tmp_path: Path) -> None:
    root = _copy("stack", tmp_path)
    (root / "modules/web/main.tf").write_text(
        (root / "modules/web/main.tf").read_text().replace('"t3.micro"', "var.size")
        + '\nvariable "size" {\n  default = "t3.micro"\n}\n'
    )
    finding = Finding(
        address('module.web["green"].aws_instance.this'),
        FindingKind.CHANGED,
        (change("instance_type", MODIFIED, "t3.micro", "t3.small"),),
    )
    result = adopt_changes(root / "live", finding)
    assert not result.unresolved
    (edit,) = result.edits
    assert edit.path == "live/main.tf"
    assert (
        '  tags = merge(local.tags, {\n    tier = "web" # the module\'s tier\n  })\n  size = "t3.small"\n}'
        in (edit.after)
    )


def test_heredoc_json_and_multiline_list(tmp_path: Path) -> None:
    _workspace(
        tmp_path,
        'variable "cidrs" {\n  default = [\n    "10.0.0.0/8",\n    "10.1.0.0/16",\n  ]\n}\n\n'
        'resource "aws_iam_policy" "p" {\n  policy = <<-EOT\n    {"Version": "1"}\n  EOT\n}\n\n'
        'resource "aws_security_group" "g" {\n  ingress {\n    cidr_blocks = var.cidrs\n  }\n}\n',
    )
    policy = _one(
        tmp_path, "aws_iam_policy.p", change("policy", MODIFIED, "{}", '{"Version":"2","S":"${x}"}')
    )
    assert policy.edits[0].after.endswith(
        '  policy = <<-EOT\n    {\n      "Version": "2",\n      "S": "$${x}"\n    }\n  EOT\n}\n\n'
        + policy.edits[0].after.split("EOT\n}\n\n", 1)[1]
    )
    same = _one(tmp_path, "aws_iam_policy.p", change("policy", MODIFIED, "{}", '{ "Version" : "1" }'))
    assert same.edits == () and same.unresolved == ()  # the same JSON document: nothing to do
    cidrs = _one(
        tmp_path,
        "aws_security_group.g",
        change("ingress[0].cidr_blocks[1]", MODIFIED, "10.1.0.0/16", "0.0.0.0/0"),
        change("ingress[0].cidr_blocks[2]", ADDED, None, "1.2.3.4/32"),
        change(
            "ingress[0].cidr_blocks[3]", REMOVED, "9.9.9.9/32", None
        ),  # not in the code: nothing to remove
    )
    assert (
        '  default = [\n    "10.0.0.0/8",\n    "0.0.0.0/0",\n    "1.2.3.4/32",\n  ]\n' in cidrs.edits[0].after
    )


def test_deleted_resource_is_left_to_a_human(tmp_path: Path) -> None:
    root = _copy("root", tmp_path)
    result = adopt_changes(root, Finding(address("aws_instance.web"), FindingKind.DELETED, ()))
    assert result.edits == ()
    assert "deleted outside Terraform" in result.unresolved[0]


# -- locating resources in the sample stack -------------------------------------------------------------


@pytest.fixture
def sample(tmp_path: Path) -> Path:
    shutil.copytree(REPO / "terraform", tmp_path / "terraform")
    shutil.copytree(REPO / "modules", tmp_path / "modules")
    return tmp_path / "terraform" / "sandbox"


@pytest.mark.parametrize(
    ("addr", "module_dir", "counted"),
    [
        ("module.app.module.network.aws_security_group.web", "modules/network", False),
        ('module.storage["logs"].aws_s3_bucket.this', "modules/storage", False),
        ('module.app.aws_instance.web["blue"]', "modules/app", True),
        ("module.app.aws_sqs_queue.jobs[1]", "modules/app", True),
    ],
)
def test_locate_resource_in_the_sample_stack(sample: Path, addr: str, module_dir: str, counted: bool) -> None:
    resource = address(addr)
    where = locate_resource(sample, resource)
    root = sample.parent.parent.resolve()
    assert where.module_dir == root / module_dir
    assert where.file == root / module_dir / "main.tf"
    assert where.text == where.file.read_text()
    assert where.text[where.start : where.end].startswith(f'resource "{resource.type}" "{resource.name}" {{')
    assert where.text[where.end - 1] == "}"
    assert where.counted is counted
    assert where.instance_key == resource.index


def test_locate_prefers_the_module_manifest(sample: Path) -> None:
    root = sample.parent.parent
    shutil.copytree(root / "modules/network", root / "modules/network-v2")
    manifest = sample / ".terraform/modules/modules.json"
    manifest.parent.mkdir(parents=True)
    manifest.write_text(
        json.dumps(
            {
                "Modules": [
                    {"Key": "", "Source": "", "Dir": "."},
                    {"Key": "app", "Source": "../../modules/app", "Dir": "../../modules/app"},
                    {"Key": "app.network", "Source": "../network", "Dir": "../../modules/network-v2"},
                ]
            }
        )
    )
    where = locate_resource(sample, address("module.app.module.network.aws_security_group.web"))
    assert where.module_dir == (root / "modules/network-v2").resolve()


def test_locate_reports_what_it_searched(sample: Path) -> None:
    with pytest.raises(DraftError) as missing:
        locate_resource(sample, address('module.storage["logs"].aws_s3_bucket.nope'))
    assert 'module.storage["logs"].aws_s3_bucket.nope' in missing.value.message
    assert 'no resource "aws_s3_bucket" "nope"' in missing.value.message
    assert "searched main.tf" in missing.value.message
    with pytest.raises(DraftError, match='no module "ghost" call'):
        locate_resource(sample, address("module.ghost.aws_s3_bucket.this"))


def test_remote_module_sources_are_not_edited(tmp_path: Path) -> None:
    _workspace(tmp_path, 'module "vpc" {\n  source = "terraform-aws-modules/vpc/aws"\n}\n')
    with pytest.raises(DraftError, match="not a local path"):
        locate_resource(tmp_path, address("module.vpc.aws_vpc.this[0]"))


def test_edit_root_is_the_common_ancestor(tmp_path: Path) -> None:
    (tmp_path / "live").mkdir()
    (tmp_path / "modules/web").mkdir(parents=True)
    assert edit_root(tmp_path / "live", []) == (tmp_path / "live").resolve()
    assert edit_root(tmp_path / "live", [tmp_path / "modules/web/main.tf"]) == tmp_path.resolve()
    assert edit_root(tmp_path / "live", [tmp_path / "modules/web"]) == tmp_path.resolve()


def test_adopt_on_the_sample_stack_touches_only_literals(sample: Path) -> None:
    finding = Finding(
        address("module.app.module.network.aws_security_group.web"),
        FindingKind.CHANGED,
        (
            change("ingress", REMOVED, sg_rule(443, "10.0.0.0/8", "HTTPS from internal networks"), None),
            change("ingress", ADDED, None, sg_rule(443, "0.0.0.0/0", "HTTPS from internal networks")),
        ),
    )
    result = adopt_changes(sample, finding)
    assert not result.unresolved
    (edit,) = result.edits
    assert edit.path == "modules/app/main.tf"  # var.allowed_cidrs is set by the app module's call
    assert edit.diff().count("\n-  ") == 1 and 'allowed_cidrs = ["0.0.0.0/0"]' in edit.after


# -- terraform fmt (only where a terraform binary exists) ------------------------------------------------


@pytest.mark.skipif(shutil.which("terraform") is None, reason="no terraform on PATH")
@pytest.mark.parametrize("case", ["ingress_added", "ingress_removed", "policy_jsonencode", "hostile_string"])
def test_golden_output_is_terraform_fmt_clean(case: str, tmp_path: Path) -> None:
    config = tmp_path / "terraformrc"
    config.write_text("")
    files = [str(p) for p in (EXPECTED / case).rglob("*.tf")]
    env = {**os.environ, "TF_CLI_CONFIG_FILE": str(config), "CHECKPOINT_DISABLE": "1"}
    done = subprocess.run(
        ["terraform", "fmt", "-check", "-diff", "-no-color", *files],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_golden_inputs_parse() -> None:
    for path in GOLDEN.rglob("*.tf"):
        parse_hcl(path.read_text(), str(path))
