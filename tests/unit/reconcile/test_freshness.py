"""freshness: the code digest and what counts as a moved world (files only, no Terraform)."""

from __future__ import annotations

from pathlib import Path

import pytest

from driftctl.reconcile.freshness import Fingerprint, code_digest


@pytest.fixture
def code(tmp_path: Path) -> Path:
    (tmp_path / "env").mkdir()
    (tmp_path / "env/main.tf").write_text('resource "x" "y" {}\n')
    (tmp_path / "env/prod.tfvars").write_text('region = "eu-west-1"\n')
    (tmp_path / "modules/app").mkdir(parents=True)
    (tmp_path / "modules/app/main.tf").write_text("variable a {}\n")
    return tmp_path


def test_code_digest_is_stable_for_the_same_code(code: Path) -> None:
    assert code_digest(code) == code_digest(code)
    assert len(code_digest(code)) == 64


@pytest.mark.parametrize(
    "edit",
    [
        lambda root: (root / "modules/app/main.tf").write_text("variable b {}\n"),
        lambda root: (root / "env/prod.tfvars").write_text('region = "us-east-1"\n'),
        lambda root: (root / "env/extra.tf").write_text(""),
        lambda root: (root / "env/main.tf").rename(root / "env/other.tf"),  # same bytes, new name
        lambda root: (root / "modules/app/main.tf").unlink(),
    ],
    ids=["module-edited", "tfvars-edited", "file-added", "file-renamed", "file-removed"],
)
def test_code_digest_moves_when_the_code_does(code: Path, edit: object) -> None:
    before = code_digest(code)
    edit(code)  # type: ignore[operator]
    assert code_digest(code) != before


def test_code_digest_ignores_what_is_not_code(code: Path) -> None:
    before = code_digest(code)
    (code / "env/README.md").write_text("notes")
    (code / "env/terraform.tfstate").write_text("{}")
    for skipped in (".terraform", ".git", ".driftctl"):
        (code / "env" / skipped).mkdir()
        (code / "env" / skipped / "main.tf").write_text("provider cache or a saved copy")
    assert code_digest(code) == before


def test_changes_since_is_empty_when_nothing_moved() -> None:
    fp = Fingerprint(7, "lin-a", "c0de")
    assert fp.changes_since(Fingerprint(7, "lin-a", "c0de")) == []


def test_changes_since_names_what_moved() -> None:
    earlier = Fingerprint(7, "lin-a", "c0de")
    assert Fingerprint(8, "lin-a", "c0de").changes_since(earlier) == ["state serial 7 → 8"]
    assert Fingerprint(7, "lin-a", "beef").changes_since(earlier) == ["the Terraform code changed"]
    # A new lineage is a different state altogether: the serial is not compared across lineages.
    assert Fingerprint(1, "lin-b", "beef").changes_since(earlier) == [
        "state lineage lin-a → lin-b",
        "the Terraform code changed",
    ]
    # No state before, a state now (first apply by someone else) is a move too.
    assert Fingerprint(1, "lin-a", "c0de").changes_since(Fingerprint(None, None, "c0de"))


def test_fingerprint_round_trips_through_json() -> None:
    fp = Fingerprint(3, "lin", "abc")
    assert Fingerprint.from_json(fp.to_json()) == fp
    assert Fingerprint.from_json({}).changes_since(fp)  # an unknown fingerprint is never fresh


def test_a_replanned_fix_must_change_what_was_approved() -> None:
    # An approved plan applied on another host (no plan file there) is re-planned; the new plan is
    # applied only if it changes the same addresses in the same ways.
    from driftctl.reconcile.freshness import changes_differ

    approved = (("aws_sqs_queue.q", ("update",)),)
    assert changes_differ(approved, (("aws_sqs_queue.q", ("update",)),)) is None
    assert changes_differ(None, (("aws_sqs_queue.q", ("update",)),)) is None  # nothing was pinned
    replace = changes_differ(approved, (("aws_sqs_queue.q", ("delete", "create")),))
    assert replace == (
        "the new plan changes delete/create aws_sqs_queue.q; the approved one changed update aws_sqs_queue.q"
    )
    wider = changes_differ(approved, (("aws_sqs_queue.q", ("update",)), ("aws_s3_bucket.b", ("update",))))
    assert wider is not None and "update aws_s3_bucket.b" in wider
    assert changes_differ(approved, ()) == (
        "the new plan changes nothing; the approved one changed update aws_sqs_queue.q"
    )
