"""`make demo`: sandbox up → out-of-band changes → `reconcile --mode auto` heals the safe ones and proposes
the rest → proposals → what still drifts → `audit verify` (I/O: all of it, through the real CLI)."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

import click

from driftctl.errors import DriftctlError
from driftctl.sandbox.layout import SandboxLayout
from driftctl.sandbox.sandbox import Sandbox

DRIFTS: tuple[tuple[str, str | None, dict[str, str]], ...] = (
    ("sg-open-world", None, {}),
    ("versioning-suspend", 'module.storage["assets"].aws_s3_bucket_versioning.this', {}),
    ("queue-delete", "module.app.aws_sqs_queue.jobs[1]", {}),
    ("tag", "module.app.aws_cloudwatch_log_group.app", {"key": "owner", "value": "team-observability"}),
    ("tag", "module.app.aws_sqs_queue.jobs[0]", {"key": "cost-center", "value": "1234"}),
)


def step(text: str) -> None:
    click.echo("\n" + click.style(f"==> {text}", fg="cyan", bold=True))


def _short(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def cli(*args: str) -> int:
    """Run the real `driftctl` command line as a user would, in its own process."""
    color = ["--color"] if sys.stdout.isatty() and args[0] in ("detect", "reconcile") else []
    return subprocess.run([sys.executable, "-m", "driftctl.cli", *args, *color], check=False).returncode


def run() -> int:
    sandbox = Sandbox(SandboxLayout.resolve(), progress=lambda m: click.echo(f"   · {m}", err=True))

    step("1. Start the sandbox cloud (moto on 127.0.0.1) and apply the sample stack")
    report = sandbox.up(reattach=True)
    click.echo(f"   {len(report.resources)} resources in {report.workspace} ({report.timings['total']:.1f}s)")
    config = sandbox.layout.config_file
    data = config.parent / ".driftctl"
    if data.exists():
        shutil.rmtree(data)  # a fresh audit trail and proposal list for this demo run
    tf = sandbox.terraform()
    plan_file = sandbox.layout.root / "demo.tfplan"
    if tf.plan(out=plan_file).changes:  # left over from an earlier demo: start clean
        tf.apply(plan_file)
    plan_file.unlink(missing_ok=True)

    step("2. Make out-of-band changes with boto3, as a person in the console would")
    for mutation, address, params in DRIFTS:
        result = sandbox.drift(mutation, address=address, params=params)
        click.echo(f"   {result.address}: {result.change}")

    c = _short(config)
    step(f"3. driftctl reconcile --mode auto -c {c}")
    click.echo(
        "   detect → draft a fix → verify it (re-plan) → score it (blast radius, checkov, Rego) → decide →\n"
        "   apply only the exact scored plan of safe reverts → confirm with a fresh plan"
    )
    t = time.perf_counter()
    code = cli("reconcile", "-c", str(config), "--mode", "auto")
    click.echo(
        f"   exit code {code} (3 = all healed, 2 = some wait for a human), {time.perf_counter() - t:.1f}s"
    )
    if code not in (2, 3):
        return 1

    step(f"4. driftctl proposals -c {c}  (what waits for a human, and why)")
    cli("proposals", "-c", str(config))

    step(f"5. driftctl detect -c {c}  (what still drifts: only what a human must decide)")
    cli("detect", "-c", str(config), "-q")

    step(f"6. driftctl audit verify -c {c}  (every step above is a hash-chained audit row)")
    cli("audit", "list", "-c", str(config), "--kind", "action")
    code = cli("audit", "verify", "-c", str(config))
    if code != 0:
        return 1
    click.echo(
        "\nThe sandbox keeps running. Try `driftctl proposals approve ID` then `driftctl proposals apply ID`,"
        "\n`driftctl runs`, `driftctl scenarios run`, `driftctl sandbox drift NAME`; stop it with "
        "`driftctl sandbox down`."
    )
    return 0


def main() -> None:
    try:
        sys.exit(run())
    except DriftctlError as exc:
        click.echo(exc.render(), err=True)
        sys.exit(exc.exit_code)


if __name__ == "__main__":
    main()
