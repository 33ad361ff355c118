"""checkov out of process on captured fix plans: new, repaired and removed failures, and failing closed.

Each real scan costs ~5 s, nearly all of it checkov importing itself, so the module starts every scan it
needs at once on a thread pool (one checkov process each) and each test waits for its own.
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor, wait
from pathlib import Path
from typing import Any

import pytest

from driftctl.assess.checkov_scan import (
    CheckFinding,
    CheckovError,
    CheckovResult,
    load_severities,
    resolve_checkov,
    scan_fix,
)
from driftctl.errors import ConfigError

pytestmark = pytest.mark.slow

try:
    resolve_checkov()
except CheckovError as exc:
    if os.environ.get("CI"):
        raise  # `make install` creates .venv-checkov: in CI a missing checkov is a broken install
    pytest.skip(f"no checkov binary resolves: {exc.message}", allow_module_level=True)

FIXES = Path(__file__).parents[2] / "fixtures" / "fixes"
SG = "module.app.module.network.aws_security_group.web"
PAB_LOGS = 'module.storage["logs"].aws_s3_bucket_public_access_block.this'
PAB_ASSETS = 'module.storage["assets"].aws_s3_bucket_public_access_block.this'
PUBLIC_ACCESS_CHECKS = {"CKV_AWS_53", "CKV_AWS_54", "CKV_AWS_55", "CKV_AWS_56"}


def plan(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXES / f"{name}.json").read_text())
    return data


def without_terraform_version() -> dict[str, Any]:
    doc = plan("adopt_sg_open")
    del doc["terraform_version"]
    return doc


def with_unscannable_mode() -> dict[str, Any]:
    # A mode checkov does not know (a future Terraform's, say) is skipped without a word.
    doc = plan("adopt_tag")
    for rc in doc["resource_changes"]:
        rc["mode"] = "list"
    return doc


def without_drift(doc: dict[str, Any]) -> dict[str, Any]:
    # The same create with no record of a deletion: a brand-new queue.
    doc.pop("resource_drift", None)
    return doc


SCANS: dict[str, Callable[[], CheckovResult]] = {
    "adopt_sg_open": lambda: scan_fix(plan("adopt_sg_open")),
    "revert_sg_open": lambda: scan_fix(plan("revert_sg_open")),
    "adopt_tag": lambda: scan_fix(plan("adopt_tag")),
    "adopt_public_access": lambda: scan_fix(plan("adopt_public_access")),
    "no_terraform_version": lambda: scan_fix(without_terraform_version()),
    "unscannable_mode": lambda: scan_fix(with_unscannable_mode()),
    "heal_all": lambda: scan_fix(plan("heal_all")),
    "heal_all_sg_module": lambda: scan_fix(plan("heal_all"), addresses=["module.app.module.network"]),
    "delete_bucket": lambda: scan_fix(plan("code_delete_bucket")),
    "recreate_queue": lambda: scan_fix(plan("revert_queue_deleted")),
    "create_queue_unknown": lambda: scan_fix(without_drift(plan("revert_queue_deleted"))),
}


@pytest.fixture(scope="module")
def scans() -> Iterator[dict[str, Future[CheckovResult]]]:
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        yield {name: pool.submit(job) for name, job in SCANS.items()}


@pytest.fixture
def idle(scans: dict[str, Future[CheckovResult]], monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """For tests that change the environment: the pooled scans read it, so let them finish first."""
    wait(scans.values())
    return monkeypatch


def checks(findings: tuple[CheckFinding, ...], address: str | None = None) -> set[str]:
    return {f.check_id for f in findings if address is None or f.address == address}


def test_opening_rdp_to_the_world_is_a_new_critical_failure(scans: dict[str, Future[CheckovResult]]) -> None:
    result = scans["adopt_sg_open"].result()
    assert checks(result.new_failures) == {"CKV_AWS_25"}
    (finding,) = result.new_failures
    assert finding.address == SG
    assert finding.severity == "critical"  # from policies/checkov_severity.yaml, not from checkov
    assert "3389" in finding.title
    assert "CKV_AWS_382" in checks(result.still_failing, SG)  # the egress rule was open before too
    assert result.fixed == () and result.removed == ()
    assert (result.scanned_before, result.scanned_after) == (1, 1)


def test_closing_ssh_to_the_world_repairs_the_port_22_check(scans: dict[str, Future[CheckovResult]]) -> None:
    result = scans["revert_sg_open"].result()
    assert checks(result.fixed, SG) == {"CKV_AWS_24"}
    assert result.new_failures == ()


def test_adding_a_tag_adds_no_failure(scans: dict[str, Future[CheckovResult]]) -> None:
    result = scans["adopt_tag"].result()
    assert result.new_failures == () and result.fixed == ()
    assert (result.scanned_before, result.scanned_after) == (1, 1)  # scanned, not skipped
    assert result.still_failing  # the log group's KMS and retention checks fail on both sides


def test_turning_the_public_access_block_off_fails_its_four_checks(
    scans: dict[str, Future[CheckovResult]],
) -> None:
    result = scans["adopt_public_access"].result()
    assert checks(result.new_failures, PAB_LOGS) == PUBLIC_ACCESS_CHECKS
    assert {f.severity for f in result.new_failures} == {"high"}
    assert [f.severity for f in result.new_failures] == sorted(f.severity for f in result.new_failures)


def test_a_plan_without_terraform_version_is_still_scanned(scans: dict[str, Future[CheckovResult]]) -> None:
    result = scans["no_terraform_version"].result()
    assert result == scans["adopt_sg_open"].result()


def test_a_change_checkov_silently_skips_fails_closed(scans: dict[str, Future[CheckovResult]]) -> None:
    with pytest.raises(CheckovError, match=r"parsed 2 of the 4 resources"):
        scans["unscannable_mode"].result()


def test_a_fix_of_many_resources_reports_each_repair(scans: dict[str, Future[CheckovResult]]) -> None:
    result = scans["heal_all"].result()
    assert checks(result.fixed, SG) == {"CKV_AWS_24"}
    assert checks(result.fixed, PAB_ASSETS) == PUBLIC_ACCESS_CHECKS
    assert result.new_failures == ()
    assert result.fixed[0].severity == "critical"  # worst first


def test_addresses_restrict_the_scan_like_terraform_target(scans: dict[str, Future[CheckovResult]]) -> None:
    result = scans["heal_all_sg_module"].result()
    assert {f.address for f in result.fixed + result.still_failing} == {SG}
    assert checks(result.fixed) == {"CKV_AWS_24"}
    assert (result.scanned_before, result.scanned_after) == (1, 1)


def test_failures_of_a_deleted_resource_are_removed_not_fixed(
    scans: dict[str, Future[CheckovResult]],
) -> None:
    result = scans["delete_bucket"].result()
    assert result.fixed == () and result.new_failures == ()
    assert 'module.storage["assets"].aws_s3_bucket.this' in {f.address for f in result.removed}
    assert result.scanned_after == 0


def test_recreating_an_object_deleted_out_of_band_adds_no_new_failure(
    scans: dict[str, Future[CheckovResult]],
) -> None:
    # The queue had its failures (no encryption: CKV_AWS_27) before it was deleted; putting it back
    # as it was is not a new failure. The same create without a recorded deletion is a new queue.
    recreated = scans["recreate_queue"].result()
    assert recreated.new_failures == ()
    assert "CKV_AWS_27" in checks(recreated.still_failing)
    brand_new = scans["create_queue_unknown"].result()
    assert "CKV_AWS_27" in checks(brand_new.new_failures)


def test_a_missing_binary_is_named(idle: pytest.MonkeyPatch) -> None:
    idle.setenv("DRIFTCTL_CHECKOV", "/nonexistent/checkov")
    with pytest.raises(CheckovError, match="/nonexistent/checkov") as raised:
        scan_fix(plan("adopt_sg_open"))
    assert raised.value.hint and "DRIFTCTL_CHECKOV" in raised.value.hint


def test_nothing_to_scan_runs_no_checkov(idle: pytest.MonkeyPatch) -> None:
    idle.setenv("DRIFTCTL_CHECKOV", "/nonexistent/checkov")
    # The queues are no-ops in this plan: there is no change to scan, so no binary is needed.
    assert scan_fix(plan("heal_all"), addresses=["module.app.aws_sqs_queue.jobs"]) == CheckovResult()


def test_an_address_not_in_the_plan_is_an_error_not_an_empty_scan() -> None:
    with pytest.raises(ConfigError, match=r"aws_security_group\.typo"):
        scan_fix(plan("heal_all"), addresses=["module.app.module.network.aws_security_group.typo"])


def fake_checkov(tmp_path: Path, body: str) -> str:
    script = tmp_path / "checkov"
    script.write_text(f"#!/bin/sh\n{body}\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return str(script)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("echo 'Traceback: boom' >&2; exit 2", "exited 2 without a usable JSON report"),
        ("echo 'not json'; exit 1", "not JSON"),
        # What checkov prints when it parsed nothing, or nothing it has checks for.
        ('echo \'{"passed": 0, "failed": 0, "resource_count": 0}\'', "did not scan the before and after"),
        ("sleep 30", "did not finish within 0.5 s"),
    ],
)
def test_checkov_that_gives_no_answer_fails_closed(
    idle: pytest.MonkeyPatch, tmp_path: Path, body: str, message: str
) -> None:
    idle.setenv("DRIFTCTL_CHECKOV", fake_checkov(tmp_path, body))
    with pytest.raises(CheckovError, match=message) as raised:
        scan_fix(plan("adopt_sg_open"), timeout=0.5)
    if "boom" in body:
        assert "Traceback: boom" in raised.value.message  # checkov's stderr tail is in the message


def test_the_shipped_severity_table() -> None:
    table = load_severities()
    assert table.default == "medium"
    assert {table.of(c) for c in ("CKV_AWS_24", "CKV_AWS_25", "CKV_AWS_260", "CKV_AWS_277")} == {"critical"}
    assert table.of("CKV_AWS_382") == "medium" and table.of("CKV_AWS_18") == "low"
    assert {table.of(c) for c in PUBLIC_ACCESS_CHECKS} == {"high"}
    assert table.of("CKV_AWS_9999") == "medium"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("checks: [CKV_AWS_24\n", "not a usable checkov severity file"),
        ("default: medium\nchecks:\n  CKV_AWS_24: urgent\n", "urgent"),
        ("default: medium\nchecks: {}\nseverity: {}\n", "unknown keys"),
        ("- CKV_AWS_24\n", "expected a mapping"),
    ],
)
def test_a_broken_severity_file_is_a_config_error(tmp_path: Path, text: str, message: str) -> None:
    bad = tmp_path / "severity.yaml"
    bad.write_text(text)
    with pytest.raises(ConfigError, match=message):
        scan_fix(plan("adopt_sg_open"), severity_file=bad)
