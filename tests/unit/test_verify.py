"""Verification helpers that need no Terraform: workspace roots and safe edit application."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from driftctl.errors import DriftctlError
from driftctl.models import Draft, FileEdit, Finding, FindingKind, ResourceAddress, Strategy
from driftctl.verify import VerifyContext, apply_edits, verify, workspace_root


def test_workspace_root_covers_local_modules(tmp_path: Path) -> None:
    ws = tmp_path / "repo/terraform/prod"
    (ws / ".terraform/modules").mkdir(parents=True)
    (tmp_path / "repo/modules/app").mkdir(parents=True)
    manifest = {"Modules": [{"Key": "", "Dir": "."}, {"Key": "app", "Dir": "../../modules/app"}]}
    (ws / ".terraform/modules/modules.json").write_text(json.dumps(manifest))
    assert workspace_root(ws) == (tmp_path / "repo").resolve()
    assert workspace_root(tmp_path / "repo/modules/app") == (tmp_path / "repo/modules/app").resolve()


def test_apply_edits_refuses_escapes_and_stale_files(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text("a = 1\n")
    with pytest.raises(DriftctlError, match="escapes"):
        apply_edits(tmp_path, [FileEdit("../evil.tf", "", "x")])
    with pytest.raises(DriftctlError, match="changed since"):
        apply_edits(tmp_path, [FileEdit("main.tf", "a = 2\n", "a = 3\n")])
    apply_edits(tmp_path, [FileEdit("main.tf", "a = 1\n", "a = 3\n")])
    assert (tmp_path / "main.tf").read_text() == "a = 3\n"


def test_a_draft_that_needs_a_human_is_not_verified(tmp_path: Path) -> None:
    address = ResourceAddress("aws_s3_bucket.b", "aws_s3_bucket", "b")
    draft = Draft("aws_s3_bucket.b", Strategy.ADOPT, "rules", needs_human="tags come from a local")

    def no_terraform(_: Path) -> object:
        raise AssertionError("verification must not run Terraform for a refused draft")

    ctx = VerifyContext(tmp_path, no_terraform, {})  # type: ignore[arg-type]
    result = verify(Finding(address, FindingKind.CHANGED, ()), draft, ctx, tmp_path / "scratch")
    assert not result.ok and "tags come from a local" in result.reason
