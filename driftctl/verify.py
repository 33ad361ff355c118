"""Proves a drafted fix before anyone trusts it: validate and re-plan (I/O: copies files, runs Terraform).

* revert — a targeted saved plan (``plan -target=ADDR -out``) in the workspace itself; it must change
  the drifted address and nothing else.
* adopt — the edits applied to a scratch copy of the workspace and its local modules; HCL must parse,
  ``terraform validate`` must pass, and a re-plan must show the drifted address unchanged while every
  other address plans exactly what it planned before the edit (no new create, delete or replace).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from driftctl.errors import DriftctlError
from driftctl.models import Draft, FileEdit, Finding, FindingKind, Strategy, Verification, VerifiedFix
from driftctl.terraform import Terraform
from driftctl.terraform.plan import ChangeRecord, parse_plan

TerraformAt = Callable[[Path], Terraform]
Changes = Mapping[str, tuple[str, ...]]  # address → actions


@dataclass(frozen=True, slots=True)
class Planned:
    """What a plan does to one address: its actions and (canonical JSON of) the values it plans."""

    actions: tuple[str, ...]
    after: str


def planned_from(records: Iterable[ChangeRecord]) -> dict[str, Planned]:
    return {
        r.resource.address: Planned(r.actions, json.dumps(r.after, sort_keys=True, default=str))
        for r in records
    }


_COPY_IGNORE = shutil.ignore_patterns(".git", "*.tfplan", ".terraform.tfstate.lock.info")


@dataclass(frozen=True, slots=True)
class VerifyContext:
    workspace: Path
    terraform_at: TerraformAt  # a Terraform bound to a working directory, with the workspace's env
    baseline: Mapping[str, Planned]  # what the workspace plans before any fix
    var_files: tuple[str, ...] = ()


def workspace_root(workspace: Path) -> Path:
    """The directory holding the workspace and every local module it calls (edits are relative to it)."""
    dirs = [workspace.resolve()]
    manifest = workspace / ".terraform" / "modules" / "modules.json"
    try:
        modules = json.loads(manifest.read_text()).get("Modules", [])
    except (OSError, ValueError):
        modules = []
    for module in modules:
        directory = module.get("Dir") if isinstance(module, dict) else None
        if isinstance(directory, str) and directory:
            dirs.append((workspace / directory).resolve())
    return Path(os.path.commonpath([str(d) for d in dirs]))


def planned_changes(tf: Terraform, plan_file: Path, source: str) -> tuple[dict[str, Planned], VerifiedFix]:
    """What a saved plan does (non-no-op changes only), and the plan as a fix: its file, the sha256 of
    its bytes, its summary of changes and its JSON document (what the assessment scores)."""
    shown = tf.run(("show", "-json", "-no-color", str(plan_file)))
    plan = parse_plan(shown.stdout, source=source)
    digest = hashlib.sha256(plan_file.read_bytes()).hexdigest()
    changes = planned_from(plan.changes)
    return changes, VerifiedFix(plan_file, digest, _listed(changes), json.loads(shown.stdout))


def _listed(changes: Mapping[str, Planned]) -> tuple[tuple[str, tuple[str, ...]], ...]:
    return tuple(sorted((address, planned.actions) for address, planned in changes.items()))


def verify_revert(finding: Finding, ctx: VerifyContext, scratch: Path) -> Verification:
    tf = ctx.terraform_at(ctx.workspace)
    plan_file = scratch / "revert.tfplan"
    tf.plan(out=plan_file, targets=[finding.address], var_files=ctx.var_files)
    changes, fix = planned_changes(tf, plan_file, f"{finding.address}: targeted plan")
    listed, digest = fix.changes, fix.sha256
    if finding.address not in changes:
        return Verification(False, f"the targeted plan would not change {finding.address}", listed, digest)
    others = sorted(a for a in changes if a != finding.address)
    if others:
        return Verification(False, f"the targeted plan also changes {', '.join(others)}", listed, digest)
    actions = changes[finding.address].actions
    expected = ("create",) if finding.kind is FindingKind.DELETED else ("update",)
    if actions != expected:
        return Verification(
            False,
            f"reverting needs {'/'.join(actions)} of {finding.address}, not an in-place fix",
            listed,
            digest,
        )
    return Verification(
        True,
        f"a targeted plan {'/'.join(actions)}s {finding.address} and nothing else",
        listed,
        digest,
        fix=fix,
    )


def apply_edits(root: Path, edits: Sequence[FileEdit]) -> list[Path]:
    """Write each edit under ``root``; refuses paths that escape it or files that changed meanwhile."""
    written = []
    for edit in edits:
        target = (root / edit.path).resolve()
        if not target.is_relative_to(root.resolve()):
            raise DriftctlError(f"edit path {edit.path!r} escapes {root}")
        current = target.read_text() if target.exists() else ""
        if current != edit.before:
            raise DriftctlError(f"{edit.path} changed since the fix was drafted; draft again")
        target.write_text(edit.after)
        written.append(target)
    return written


def verify_adopt(finding: Finding, draft: Draft, ctx: VerifyContext, scratch: Path) -> Verification:
    import hcl2

    root = workspace_root(ctx.workspace)
    copy = scratch / "tree"
    shutil.copytree(root, copy, symlinks=True, ignore=_COPY_IGNORE)
    workspace = copy / ctx.workspace.resolve().relative_to(root)
    try:
        edited = apply_edits(copy, draft.edits)
    except DriftctlError as exc:
        return Verification(False, exc.message)
    for path in edited:
        try:
            hcl2.loads(path.read_text())
        except Exception as exc:  # python-hcl2 raises lark errors of many kinds
            return Verification(False, f"{path.relative_to(copy)} does not parse: {str(exc).splitlines()[0]}")
    tf = ctx.terraform_at(workspace)
    tf.fmt([str(p) for p in edited])
    formatted = tuple((str(p.relative_to(copy)), p.read_text()) for p in edited)
    validation = tf.validate()
    if not validation.valid:
        return Verification(False, f"terraform validate: {validation.message}")
    plan_file = scratch / "adopt.tfplan"
    tf.plan(out=plan_file, var_files=ctx.var_files, lock=False)
    changes, fix = planned_changes(tf, plan_file, f"{finding.address}: plan with the edit")
    listed, digest = fix.changes, fix.sha256
    if finding.address in changes:
        return Verification(
            False,
            f"with the edit {finding.address} still plans {'/'.join(changes[finding.address].actions)}: "
            "the code does not match reality yet",
            listed,
            digest,
        )
    # Same addresses, same actions and the same planned values: an edit shared by other instances
    # (a module call, a for_each map) shows up here even where those already planned an update.
    expected = {a: p for a, p in ctx.baseline.items() if a != finding.address}
    collateral = sorted(
        set(changes) ^ set(expected) | {a for a in changes if a in expected and expected[a] != changes[a]}
    )
    if collateral:
        return Verification(
            False, f"the edit also changes what is planned for {', '.join(collateral)}", listed, digest
        )
    return Verification(
        True,
        f"with the edit {finding.address} plans no change and nothing else moves",
        listed,
        digest,
        formatted=formatted,
        fix=fix,
    )


def verify(finding: Finding, draft: Draft, ctx: VerifyContext, scratch: Path) -> Verification:
    """Verify one draft; expected failures are a rejected Verification, never an exception.

    An accepted one carries its :class:`VerifiedFix`: for a revert, the targeted plan an apply uses.
    """
    if draft.needs_human is not None:
        return Verification(False, f"not verified: {draft.needs_human}")
    scratch.mkdir(parents=True, exist_ok=True)
    try:
        if draft.strategy is Strategy.REVERT:
            return verify_revert(finding, ctx, scratch)
        return verify_adopt(finding, draft, ctx, scratch)
    except DriftctlError as exc:
        # Terraform's whole diagnostic: an LLM redraft needs the detail, not just the summary line.
        return Verification(False, exc.message[:2000] or type(exc).__name__)
