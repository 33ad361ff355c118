"""checkov on a fix's before and after states: new, repaired and still failing checks (I/O: runs checkov).

checkov never runs in our interpreter: its ``bc-python-hcl2`` replaces the ``hcl2`` package the draft
stage needs. It runs as its own process from its own virtualenv (``make install`` creates
``.venv-checkov``) and we read its JSON. From the fix's plan we write two small plan documents holding
only the changed resources, one with each resource's state before the change and one with its state
after, scan both in one checkov run, and diff the failed checks by (check ID, address).

Every way checkov can fail to give an answer raises ``CheckovError``: a missing binary, a crash,
output that is not its JSON, a timeout, or fewer resources parsed than written. checkov skips a plan
without ``terraform_version``, a broken file or a resource of an unknown mode silently, and when no
check applies to what it parsed (``aws_s3_bucket_versioning`` has none) its JSON is a bare summary that
says nothing was parsed either. So each document also carries a canary resource that some check
always evaluates: its results prove the document was scanned, and make checkov's resource count
(which includes resources no check applies to) reach us to compare with what we wrote.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
from collections.abc import Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from driftctl.assess.checkov_process import POOL, WorkerFailure, interpreter_of
from driftctl.errors import ConfigError, DriftctlError
from driftctl.scratch import scratch_dir
from driftctl.shipped import policy_file, source_checkout
from driftctl.terraform.runner import drain, signal_group

SHIPPED_SEVERITIES = policy_file("checkov_severity.yaml")
SEVERITIES = ("critical", "high", "medium", "low", "info")
ENV_BINARY = "DRIFTCTL_CHECKOV"
# checkov pins old boto3/packaging, so a checkout keeps it in its own venv; an installed wheel has none.
_CHECKOUT = source_checkout()
VENV_BINARY = None if _CHECKOUT is None else _CHECKOUT / ".venv-checkov" / "bin" / "checkov"

_NOT_CHANGES = frozenset({"no-op", "read", "forget"})  # forget: leaves state, the resource lives on
_FALLBACK_TF_VERSION = "1.5.0"  # checkov skips a plan whose terraform_version is missing or empty
_SIDES = ("before", "after")
_RESOURCE_KEYS = ("address", "mode", "type", "name", "index", "provider_name")
# Nothing from our environment may steer checkov: no API key, config, check selection or Python path
# (a PYTHONPATH into our venv would mix the two hcl2 packages again).
_DROPPED_ENV_PREFIXES = ("BC_", "CKV_", "CHECKOV_", "PRISMA_", "PYTHON")
_DROPPED_ENV = frozenset({"LOG_LEVEL", "EVAL_TF_PLAN_AFTER_UNKNOWN", "EXTERNAL_MODULES_DIR"})
_OFFLINE_ENV: Mapping[str, str] = {
    "BC_SKIP_MAPPING": "TRUE",  # no download of the check-ID mapping
    "CKV_SKIP_PACKAGE_UPDATE_CHECK": "true",  # no "is there a newer checkov" call to PyPI on import
}
# Not --quiet: with JSON output it drops the passed checks, which we count as scanned resources.
_FLAGS = ("--framework", "terraform_plan", "-o", "json", "--skip-download", "--compact")
# A resource that checkov checks in any version: SQS encryption (CKV_AWS_27) is one of its oldest checks.
_CANARY: Mapping[str, Any] = {
    "address": "aws_sqs_queue.driftctl_checkov_canary",
    "mode": "managed",
    "type": "aws_sqs_queue",
    "name": "driftctl_checkov_canary",
    "provider_name": "registry.terraform.io/hashicorp/aws",
    "values": {"name": "driftctl-checkov-canary"},
}
_STDERR_TAIL = 1500


class CheckovError(DriftctlError):
    """checkov could not give an answer, so the fix is not known to be safe (fail closed)."""

    def __init__(self, message: str, *, stderr: str = "", hint: str | None = None) -> None:
        tail = _tail(stderr)
        super().__init__(f"{message}\ncheckov stderr (last lines):\n{tail}" if tail else message, hint=hint)
        self.stderr = stderr


@dataclass(frozen=True, slots=True)
class CheckFinding:
    check_id: str
    title: str
    address: str
    severity: str  # from our table: open-source checkov has none


@dataclass(frozen=True, slots=True)
class CheckovResult:
    """Failed checks of the changed resources, diffed between their before and after states.

    ``removed`` are failures of resources the fix deletes: they leave with the resource, which is not a
    repair, so they are kept out of ``fixed``. Findings are sorted worst first.
    """

    new_failures: tuple[CheckFinding, ...] = ()
    fixed: tuple[CheckFinding, ...] = ()
    still_failing: tuple[CheckFinding, ...] = ()
    scanned_before: int = 0  # resources checkov evaluated at least one check on
    scanned_after: int = 0
    removed: tuple[CheckFinding, ...] = ()


@dataclass(frozen=True, slots=True)
class SeverityTable:
    checks: Mapping[str, str]
    default: str = "medium"

    def of(self, check_id: str) -> str:
        return self.checks.get(check_id, self.default)


def load_severities(path: Path | None = None) -> SeverityTable:
    """Our severity per checkov check ID; a file that cannot be used is a ``ConfigError``."""
    import yaml

    file = path or SHIPPED_SEVERITIES
    try:
        data = yaml.safe_load(file.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"{file}: not a usable checkov severity file: {exc}") from None
    problem = _severity_file_problem(data)
    if problem:
        raise ConfigError(f"{file}: not a usable checkov severity file: {problem}")
    return SeverityTable(checks=dict(data["checks"]), default=data.get("default", "medium"))


def _severity_file_problem(data: Any) -> str | None:
    if not isinstance(data, dict):
        return "expected a mapping with `checks` and `default`"
    unknown = set(data) - {"version", "default", "checks"}
    if unknown:
        return f"unknown keys {sorted(unknown)} (expected version, default, checks)"
    if data.get("version", 1) != 1:
        return f"unsupported version {data['version']!r} (1 expected)"
    if data.get("default", "medium") not in SEVERITIES:
        return f"default {data.get('default')!r} is not one of {', '.join(SEVERITIES)}"
    checks = data.get("checks")
    if not isinstance(checks, dict):
        return "`checks` must map check IDs to severities"
    bad = sorted(f"{k}: {v!r}" for k, v in checks.items() if not isinstance(k, str) or v not in SEVERITIES)
    if bad:
        return f"severity must be one of {', '.join(SEVERITIES)}: {'; '.join(bad)}"
    return None


def resolve_checkov(environ: Mapping[str, str] | None = None) -> Path:
    """``$DRIFTCTL_CHECKOV``, else ``<repo>/.venv-checkov/bin/checkov``, else ``checkov`` on PATH."""
    env = os.environ if environ is None else environ
    explicit = env.get(ENV_BINARY)
    if explicit:
        found = shutil.which(explicit, path=env.get("PATH"))
        if found is None:
            raise CheckovError(
                f"{ENV_BINARY}={explicit}: no executable checkov there",
                hint=f"point {ENV_BINARY} at a checkov executable, or unset it to use .venv-checkov",
            )
        return Path(found)
    if VENV_BINARY is not None and VENV_BINARY.is_file() and os.access(VENV_BINARY, os.X_OK):
        return VENV_BINARY
    found = shutil.which("checkov", path=env.get("PATH"))
    if found is None:
        raise CheckovError(
            f"no checkov found ({ENV_BINARY} unset, no {VENV_BINARY or '.venv-checkov'}, none on PATH)",
            hint="`make install` creates .venv-checkov with checkov in it (kept apart from .venv on "
            f"purpose); from an installed driftctl, install checkov in its own venv and set {ENV_BINARY}",
        )
    return Path(found)


def scan_fix(
    plan: Mapping[str, Any],
    *,
    addresses: Collection[str] | None = None,
    severity_file: Path | None = None,
    timeout: float = 120,
) -> CheckovResult:
    """Scan the before and after states of the plan's changed resources; diff their failed checks.

    ``addresses`` limits the scan like ``terraform -target``: a resource address also takes its
    instances, a module address everything inside it. An address that matches no resource of the plan
    is a ``ConfigError`` rather than a silently empty scan.
    """
    severities = load_severities(severity_file)
    sides = _changed_states(plan, addresses)
    if not any(sides.values()):
        return CheckovResult()
    binary = resolve_checkov()
    with scratch_dir("checkov-") as tmp:  # under .driftctl/tmp in a reconcile (see driftctl.scratch)
        work = tmp
        files: list[Path] = []
        for side, resources in sides.items():
            if resources:
                files.append(work / f"{side}.json")
                files[-1].write_text(json.dumps(_plan_document(plan, resources)))
        output = _scan(binary, files, work, timeout)
    return _diff(output, sides, severities)


def warm_up() -> None:
    """Start the long-lived checkov worker now, so its import overlaps Terraform's planning.

    Never raises: a checkov that cannot start is reported by the scan that needs it.
    """
    try:
        python = interpreter_of(resolve_checkov()) if POOL.enabled() else None
        if python is not None:
            POOL.start(python, _environment)
    except (CheckovError, OSError):
        pass


def _scan(binary: Path, files: list[Path], work: Path, timeout: float) -> _Output:
    """One scan: by the long-lived worker when checkov has its own interpreter, else one checkov run."""
    python = interpreter_of(binary) if POOL.enabled() else None
    if python is None:
        return _run(binary, files, work, timeout)
    try:
        return _Output(POOL.scan(python, _environment, files, timeout), "")
    except WorkerFailure as exc:
        raise CheckovError(str(exc), stderr=exc.stderr) from None


def _changed_states(
    plan: Mapping[str, Any], addresses: Collection[str] | None
) -> dict[str, list[dict[str, Any]]]:
    """Side → the planned-values resources for it; a resource whose state is null is not on that side."""
    changes = [rc for rc in plan.get("resource_changes") or () if isinstance(rc, Mapping)]
    if addresses is not None:
        addresses = (addresses,) if isinstance(addresses, str) else tuple(addresses)
        missing = [a for a in addresses if not any(_targets(a, str(rc.get("address", ""))) for rc in changes)]
        if missing:
            raise ConfigError(f"not in the plan's resource changes: {', '.join(sorted(missing))}")
        changes = [rc for rc in changes if any(_targets(a, str(rc.get("address", ""))) for a in addresses)]
    sides: dict[str, list[dict[str, Any]]] = {side: [] for side in _SIDES}
    deleted = _deleted_out_of_band(plan)
    for rc in changes:
        change = rc.get("change") or {}
        if set(change.get("actions") or ("no-op",)) <= _NOT_CHANGES:
            continue
        if change.get("actions") == ["create"] and rc.get("address") in deleted:
            # Re-creating an object deleted outside Terraform: its failures existed before it was
            # deleted, so the object as last applied is the "before" (they are not new to this fix).
            change = dict(change, before=deleted[str(rc.get("address"))])
        for side in _SIDES:
            values = change.get(side)
            if values is not None:
                sides[side].append(_planned_resource(rc, values))
    return sides


def _deleted_out_of_band(plan: Mapping[str, Any]) -> dict[str, Any]:
    """Address → the object as last applied, for each object the plan's refresh found deleted."""
    deleted = {}
    for rd in plan.get("resource_drift") or ():
        change = rd.get("change") if isinstance(rd, Mapping) else None
        if isinstance(change, Mapping) and change.get("actions") == ["delete"] and change.get("before"):
            deleted[str(rd.get("address"))] = change["before"]
    return deleted


def _targets(target: str, address: str) -> bool:
    return address == target or address.startswith((f"{target}.", f"{target}["))


def _planned_resource(rc: Mapping[str, Any], values: Any) -> dict[str, Any]:
    # Module resources go in the root module with their full address: checkov flattens child modules
    # anyway and reports the address it is given.
    resource = {key: rc[key] for key in _RESOURCE_KEYS if key in rc}
    resource["values"] = values
    return resource


def _plan_document(plan: Mapping[str, Any], resources: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "format_version": plan.get("format_version") or "1.2",
        "terraform_version": plan.get("terraform_version") or _FALLBACK_TF_VERSION,
        "planned_values": {"root_module": {"resources": [*resources, dict(_CANARY)]}},
    }


@dataclass(frozen=True, slots=True)
class _Output:
    report: Any  # checkov's parsed JSON
    stderr: str


def _environment(home: Path) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(_DROPPED_ENV_PREFIXES) and key not in _DROPPED_ENV
    }
    env.update(_OFFLINE_ENV)
    env["HOME"] = str(home)  # checkov reads ~/.checkov.yaml (and ./.checkov.yaml: cwd is ours too)
    return env


def _run(binary: Path, files: list[Path], work: Path, timeout: float) -> _Output:
    argv = [str(binary), *(arg for file in files for arg in ("-f", str(file))), *_FLAGS]
    try:
        proc = subprocess.Popen(
            argv,
            cwd=work,
            env=_environment(work),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
            errors="replace",
            start_new_session=True,  # a timeout kills checkov's worker processes too
        )
    except OSError as exc:
        raise CheckovError(f"cannot execute {binary}: {exc.strerror or exc}") from exc
    try:
        stdout, stderr = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        signal_group(proc, signal.SIGKILL)
        _, stderr = drain(proc)
        raise CheckovError(
            f"checkov did not finish within {timeout:g} s and was killed", stderr=stderr
        ) from None
    except BaseException:
        signal_group(proc, signal.SIGKILL)
        drain(proc)
        raise
    try:
        output = json.loads(stdout)
    except ValueError:
        output = None
    # checkov exits 1 when a check fails and 2 when it crashes; only its JSON tells a verdict apart.
    if output is None or proc.returncode not in (0, 1):
        raise CheckovError(
            f"checkov exited {proc.returncode} without a usable JSON report "
            f"({'not JSON' if output is None else 'unexpected exit code'}; stdout starts {stdout[:200]!r})",
            stderr=stderr,
        )
    if proc.returncode == 1 and _count(output, "failed") == 0:
        raise CheckovError("checkov exited 1 but its report has no failed check", stderr=stderr)
    return _Output(output, stderr)


def _reports(output: Any) -> Iterator[Mapping[str, Any]]:
    """checkov prints one report, a list of them (one per framework), or a bare summary when it parsed
    nothing at all."""
    for report in output if isinstance(output, list) else [output]:
        if not isinstance(report, Mapping):
            raise CheckovError(f"unexpected checkov report: {str(report)[:200]!r}")
        yield report


def _count(output: Any, key: str) -> int:
    total = 0
    for report in _reports(output):
        summary = report.get("summary", report)
        total += int(summary.get(key) or 0) if isinstance(summary, Mapping) else 0
    return total


def _diff(output: _Output, sides: Mapping[str, list[dict[str, Any]]], table: SeverityTable) -> CheckovResult:
    written = {side: {str(r["address"]) for r in resources} for side, resources in sides.items()}
    failed: dict[str, dict[tuple[str, str], CheckFinding]] = {side: {} for side in _SIDES}
    scanned: dict[str, set[str]] = {side: set() for side in _SIDES}
    canaries: set[str] = set()
    for outcome, check in _checks(output):
        side = _side_of(check, output.stderr)
        address = str(check.get("resource_address") or check.get("resource") or "")
        if address == _CANARY["address"]:
            canaries.add(side)
        if address not in written[side]:
            continue  # the canary, or e.g. a provider block: not one of the resources we asked about
        scanned[side].add(address)
        if outcome == "failed_checks":
            check_id = str(check.get("check_id"))
            finding = CheckFinding(check_id, str(check.get("check_name") or ""), address, table.of(check_id))
            failed[side][(check_id, address)] = finding
    _check_coverage(output, sides, canaries)
    before, after = failed["before"], failed["after"]
    fixed = [f for key, f in before.items() if key not in after and f.address in written["after"]]
    removed = [f for key, f in before.items() if key not in after and f.address not in written["after"]]
    return CheckovResult(
        new_failures=_sorted(f for key, f in after.items() if key not in before),
        fixed=_sorted(fixed),
        still_failing=_sorted(f for key, f in after.items() if key in before),
        scanned_before=len(scanned["before"]),
        scanned_after=len(scanned["after"]),
        removed=_sorted(removed),
    )


def _check_coverage(output: _Output, sides: Mapping[str, list[dict[str, Any]]], canaries: set[str]) -> None:
    unscanned = [side for side, resources in sides.items() if resources and side not in canaries]
    if unscanned:
        raise CheckovError(
            f"checkov did not scan the {' and '.join(unscanned)} state of the change (its canary resource "
            "has no result); an unscanned change is not a clean one",
            stderr=output.stderr,
        )
    expected = sum(len(resources) + 1 for resources in sides.values() if resources)  # + the canary
    parsed = _count(output.report, "resource_count")
    if parsed < expected:
        raise CheckovError(
            f"checkov parsed {parsed} of the {expected} resources it was given (before: "
            f"{len(sides['before'])}, after: {len(sides['after'])}, a canary in each); an unscanned change "
            "is not a clean one",
            stderr=output.stderr,
        )


def _checks(output: _Output) -> Iterator[tuple[str, Mapping[str, Any]]]:
    for report in _reports(output.report):
        results = report.get("results")
        if not isinstance(results, Mapping):
            continue  # a bare summary: nothing parsed, caught by the resource count
        for outcome in ("passed_checks", "failed_checks"):
            for check in results.get(outcome) or ():
                if isinstance(check, Mapping):
                    yield outcome, check


def _side_of(check: Mapping[str, Any], stderr: str) -> str:
    name = Path(str(check.get("file_abs_path") or check.get("file_path") or "")).name
    side = name.removesuffix(".json")
    if side not in _SIDES:
        raise CheckovError(f"checkov reported a result for a file it was not given: {name!r}", stderr=stderr)
    return side


def _sorted(findings: Iterable[CheckFinding]) -> tuple[CheckFinding, ...]:
    rank = {severity: i for i, severity in enumerate(SEVERITIES)}
    return tuple(sorted(findings, key=lambda f: (rank.get(f.severity, len(rank)), f.check_id, f.address)))


def _tail(stderr: str) -> str:
    text = stderr.strip()
    return text if len(text) <= _STDERR_TAIL else "…" + text[-_STDERR_TAIL:]
