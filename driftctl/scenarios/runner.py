"""Runs scenarios on a live sandbox and checks what reconcile made of each (I/O: sandbox, Terraform, DB).

Per scenario: restore the code and heal the sandbox to a clean baseline, inject the out-of-band
changes (and the pending code change, if any), run the real reconcile pipeline, then compare what it
detected, decided and did with the scenario's expectations, and what a fresh detect still finds with
its expected end state. The clock runs from the first injection to the end of reconcile's confirming
plan, so "seconds" is the time from injection to a verified heal.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from driftctl.errors import DriftctlError, SandboxError
from driftctl.reconcile.options import ReconcileOptions
from driftctl.scenarios.results import ScenarioResult
from driftctl.scenarios.spec import ScenarioFile

if TYPE_CHECKING:
    from driftctl.assess.engine import AssessOptions
    from driftctl.detect.engine import Target
    from driftctl.reconcile.results import ReconcileReport
    from driftctl.reconcile.runtime import Runtime
    from driftctl.sandbox.sandbox import Sandbox

Progress = Callable[[str], None]


@dataclass
class ScenarioRun:
    """One sandbox, one store, many scenarios."""

    sandbox: Sandbox
    rt: Runtime
    target: Target
    progress: Progress = field(default=lambda _m: None)
    options: ReconcileOptions = field(default_factory=ReconcileOptions)
    _pristine: dict[Path, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        root = self.sandbox.layout.stack_root
        self._pristine = {p: p.read_text() for p in sorted(root.rglob("*.tf")) if ".terraform" not in p.parts}

    # -- baseline -------------------------------------------------------------------------------------
    def restore(self) -> None:
        """The code as it was, reality as the code says, and no drift recorded in state."""
        for path, text in self._pristine.items():
            if path.read_text() != text:
                path.write_text(text)
        tf = self.sandbox.terraform()
        plan_file = self.sandbox.layout.root / "scenario-heal.tfplan"
        if tf.plan(out=plan_file).changes:
            tf.apply(plan_file)
        plan_file.unlink(missing_ok=True)
        # Record reality in state too (a drift adopted in code only would otherwise linger in state).
        tf.run(("apply", "-refresh-only", "-auto-approve", "-input=false", "-no-color"))

    # -- one scenario ---------------------------------------------------------------------------------
    def run(self, sf: ScenarioFile) -> ScenarioResult:
        s = sf.scenario
        self.progress(f"scenario {s.name}: restoring a clean baseline")
        try:
            self.restore()
        except DriftctlError as exc:
            return ScenarioResult(s.name, s.summary, False, (f"baseline failed: {exc.message}",))
        self.progress(f"scenario {s.name}: injecting {len(s.inject)} change(s)")
        started = time.perf_counter()
        injected = []
        try:
            for inj in s.inject:
                done = self.sandbox.drift(inj.mutation, address=inj.address, params=inj.params)
                injected.append(f"{done.address}: {done.change}")
            if s.code_change is not None:
                self._change_code(s.code_change.file, s.code_change.find, s.code_change.replace)
                injected.append(
                    f"code: {s.code_change.file}: {s.code_change.find!r} → {s.code_change.replace!r}"
                )
        except DriftctlError as exc:
            return ScenarioResult(
                s.name, s.summary, False, (f"injection failed: {exc.message}",), tuple(injected)
            )
        report = self._reconcile(s.mode, s.strategy)
        seconds = round(time.perf_counter() - started, 2)
        result = self._check(sf, report, tuple(injected), seconds)
        self.progress(f"scenario {s.name}: {'pass' if result.passed else 'FAIL'} in {seconds:.1f}s")
        return result

    def _change_code(self, file: str, find: str, replace: str) -> None:
        path = self.sandbox.layout.stack_root / file
        text = path.read_text()
        if find not in text:
            raise SandboxError(f"code_change: {find!r} is not in {file}")
        path.write_text(text.replace(find, replace, 1))

    def _reconcile(self, mode: str, strategy: str | None) -> ReconcileReport:
        from driftctl.core import reconcile

        options = self.options.replace(mode=mode, strategy=strategy)
        return reconcile([self.target], self.rt, options)

    def _check(
        self, sf: ScenarioFile, report: ReconcileReport, injected: tuple[str, ...], seconds: float
    ) -> ScenarioResult:
        from driftctl.detect.engine import detect_workspace

        s, expect = sf.scenario, sf.scenario.expect
        problems: list[str] = []
        ws = report.workspaces[0]
        if ws.error:
            problems.append(f"reconcile failed: {ws.error.splitlines()[0]}")
        items = {i.address: i for i in ws.items}
        detected = tuple(items)
        for address, want in expect.findings.items():
            got = items.get(address)
            if got is None:
                problems.append(f"{address} was not detected")
                continue
            decision = got.decision or "none"
            checks = (
                ("severity", want.severity, got.severity),
                ("decision", want.decision, decision),
                ("outcome", want.outcome, got.outcome.value),
                ("strategy", want.strategy, got.strategy),
            )
            for what, wanted, actual in checks:
                if wanted is not None and wanted != actual:
                    problems.append(f"{address}: {what} {actual}, expected {wanted}")
        for address in sorted(set(items) - set(expect.findings)):
            problems.append(f"unexpected finding {address} ({items[address].outcome.value})")
        if expect.exit_code is not None and report.exit_code != expect.exit_code:
            problems.append(f"exit code {report.exit_code}, expected {expect.exit_code}")
        after = detect_workspace(self.target, self.rt.policy, lambda _m: None)
        remaining = sorted(f.address for f in after.findings)
        if remaining != sorted(expect.remaining):
            left = expect.remaining or "nothing"
            problems.append(f"still drifting after reconcile: {remaining or 'nothing'}, expected {left}")
        pending = sorted(p.address for p in after.pending)
        missing_pending = sorted(set(expect.pending) - set(pending))
        if missing_pending:
            problems.append(f"pending code changes were applied or lost: {missing_pending}")
        if expect.patch_contains:
            problems.extend(self._check_patch(ws.items, expect.patch_contains))
        healed = sum(1 for i in ws.items if i.outcome.value == "healed")
        decisions = tuple(f"{i.address}: {i.decision or 'none'} → {i.outcome.value}" for i in ws.items)
        return ScenarioResult(
            s.name,
            s.summary,
            not problems,
            tuple(problems),
            injected,
            detected,
            decisions,
            healed,
            sum(1 for e in expect.findings.values() if e.outcome == "healed"),
            seconds,
            report.exit_code,
            report.run_id,
        )

    def _check_patch(self, items: Sequence[object], needles: Sequence[str]) -> list[str]:
        texts = []
        for item in items:
            pid = getattr(item, "proposal_id", None)
            if pid is None:
                continue
            row = self.rt.store.proposal(pid)
            if row.patch_path and Path(row.patch_path).is_file():
                texts.append(Path(row.patch_path).read_text())
        if not texts:
            return ["no adopt patch was written"]
        text = "\n".join(texts)
        return [f"the patch does not contain {n!r}" for n in needles if n not in text]


def open_run(
    sandbox: Sandbox,
    data_dir: Path,
    *,
    assess: AssessOptions | None = None,
    checkov: bool | None = None,
    progress: Progress | None = None,
) -> ScenarioRun:
    """A run on ``sandbox`` with its own store under ``data_dir``; limits lifted so scenarios stay
    independent (each heals many times an hour, one failure must not open the breaker for the next, and
    the same address healed in scenario after scenario is not an address flapping)."""
    from driftctl.config import load_config
    from driftctl.core import build_runtime
    from driftctl.detect.targets import from_workspace

    config = load_config(sandbox.layout.config_file)
    target = dataclasses.replace(
        from_workspace(config.workspace("sandbox")),
        max_applies_per_hour=10_000,
        breaker_failures=100,
        flapping_heals=0,
    )
    data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    say = progress or (lambda _m: None)
    rt = build_runtime(
        sandbox.layout.config_file,
        progress=say,
        database_url=f"sqlite:///{data_dir / 'scenarios.db'}",
        data_dir=data_dir,
    )
    with_checkov = checkov if checkov is not None else (assess.checkov if assess is not None else True)
    options = ReconcileOptions(drafter="rules", checkov=with_checkov, trigger="scenario", lock_base_delay=0.5)
    return ScenarioRun(sandbox, rt, target, say, options)
