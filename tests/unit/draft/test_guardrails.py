"""Guardrails on LLM-edited blocks: one resource, same address, nothing that runs code or hides drift."""

from __future__ import annotations

import pytest

from driftctl.draft.guardrails import check_block

ORIGINAL = """\
resource "aws_instance" "web" {
  # the web tier
  count      = 2
  ami        = "ami-123"
  provider   = aws.west
  depends_on = [aws_s3_bucket.assets]

  tags = {
    Name = "web"
  }

  lifecycle {
    prevent_destroy = true
    ignore_changes  = [user_data]
  }
}
"""


def _edit(old: str, new: str) -> str:
    assert old in ORIGINAL
    return ORIGINAL.replace(old, new)


def _check(new_block: str, original: str = ORIGINAL) -> tuple[str, ...]:
    return check_block(original, new_block, "aws_instance", "web")


def test_a_tag_edit_is_allowed() -> None:
    assert _check(_edit('Name = "web"', 'Name = "web"\n    owner = "alice"')) == ()


def test_an_unchanged_block_is_allowed() -> None:
    assert _check(ORIGINAL) == ()


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ('resource "aws_iam_user" "backdoor" {\n  name = "x"\n}', "aws_iam_user.backdoor"),
        ('resource "aws_instance" "web2" {\n  ami = "a"\n}', "aws_instance.web2"),
        ('provider "aws" {\n  region = "us-east-1"\n}', "`provider` block"),
        ('terraform {\n  backend "s3" {}\n}', "`terraform` block"),
        ('module "m" {\n  source = "./m"\n}', "`module` block"),
        ('data "aws_ami" "x" {\n  most_recent = true\n}', "`data` block"),
        ('data "external" "x" {\n  program = ["sh"]\n}', 'data "external"'),
        ("locals {\n  a = 1\n}", "`locals` block"),
        ('variable "v" {}', "`variable` block"),
        ('output "o" {\n  value = 1\n}', "`output` block"),
        ("stray = 1", "top-level attribute `stray`"),
    ],
)
def test_anything_beside_the_resource_is_rejected(extra: str, expected: str) -> None:
    violations = _check(ORIGINAL + "\n" + extra + "\n")
    assert any(expected in v for v in violations), violations


def test_a_different_resource_in_place_of_ours_is_rejected() -> None:
    violations = _check(ORIGINAL.replace('"web"', '"api"', 1))
    assert any("aws_instance.api" in v for v in violations)


@pytest.mark.parametrize(
    "text", ["", "   \n# only a comment\n", 'resource "aws_instance" "web" {', "resource = {", "}{"]
)
def test_empty_or_invalid_hcl_is_rejected(text: str) -> None:
    violations = _check(text)
    assert violations, text


def test_invalid_hcl_names_the_parse_problem() -> None:
    (violation,) = _check('resource "aws_instance" "web" {\n  ami = \n}\n')
    assert violation.startswith("The edited block is not valid HCL")


@pytest.mark.parametrize("kind", ["local-exec", "remote-exec", "file"])
def test_provisioners_are_rejected(kind: str) -> None:
    violations = _check(
        _edit("  lifecycle {", f'  provisioner "{kind}" {{\n    command = "x"\n  }}\n\n  lifecycle {{')
    )
    assert any(f'provisioner "{kind}"' in v for v in violations), violations


def test_a_provisioner_nested_in_another_block_is_rejected() -> None:
    nested = (
        'root_block_device {\n    provisioner "local-exec" {\n      command = "x"\n    }\n  }\n\n'
        "  lifecycle {"
    )
    violations = _check(_edit("lifecycle {", nested))
    assert any("provisioner" in v for v in violations), violations


def test_a_connection_block_is_rejected() -> None:
    violations = _check(_edit("  lifecycle {", '  connection {\n    host = "1.2.3.4"\n  }\n\n  lifecycle {'))
    assert any("`connection`" in v for v in violations), violations


def test_a_tag_named_provisioner_is_fine() -> None:
    assert _check(_edit('Name = "web"', 'Name = "web"\n    provisioner = "terraform"')) == ()


@pytest.mark.parametrize("spelling", ["all", '"all"', "[all]"])
def test_ignore_changes_all_is_rejected(spelling: str) -> None:
    violations = _check(_edit("ignore_changes  = [user_data]", f"ignore_changes  = {spelling}"))
    assert any("ignore_changes = all" in v for v in violations), violations


def test_growing_ignore_changes_is_rejected() -> None:
    violations = _check(_edit("[user_data]", "[user_data, tags]"))
    assert any("tags to `ignore_changes`" in v for v in violations), violations


def test_removing_prevent_destroy_is_rejected() -> None:
    for new in ("prevent_destroy = false", ""):
        violations = _check(_edit("prevent_destroy = true", new))
        assert any("prevent_destroy" in v for v in violations), (new, violations)


def test_prevent_destroy_is_only_required_when_the_original_had_it() -> None:
    original = ORIGINAL.replace("prevent_destroy = true", "")
    assert _check(original, original=original) == ()


@pytest.mark.parametrize(
    ("old", "new", "name"),
    [
        ("count      = 2", "count      = 3", "count"),
        ("count      = 2", 'for_each   = toset(["a"])', "count"),
        ("provider   = aws.west", "provider   = aws.east", "provider"),
        ("provider   = aws.west", "", "provider"),
        ("depends_on = [aws_s3_bucket.assets]", "depends_on = []", "depends_on"),
    ],
)
def test_meta_arguments_must_not_change(old: str, new: str, name: str) -> None:
    violations = _check(_edit(old, new))
    assert any(f"`{name}` meta-argument" in v for v in violations), violations


def test_adding_for_each_is_rejected() -> None:
    violations = _check(_edit("ami        =", 'for_each   = toset(["a"])\n  ami        ='))
    assert any("`for_each` meta-argument" in v for v in violations), violations


def test_formatting_and_comments_do_not_count_as_changes() -> None:
    reformatted = ORIGINAL.replace("count      = 2", "count = 2  # two of them").replace(
        "  # the web tier\n", ""
    )
    assert _check(reformatted) == ()


def test_an_unreadable_original_is_reported() -> None:
    violations = _check(ORIGINAL, original="resource {")
    assert any("could not be read" in v for v in violations)
