"""`make demo`: sandbox up → out-of-band changes → Terraform sees the drift → revert → clean (I/O)."""

from __future__ import annotations

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
    ("tag", "module.app.aws_cloudwatch_log_group.app", {"key": "owner", "value": "team-observability"}),
    ("versioning-suspend", 'module.storage["assets"].aws_s3_bucket_versioning.this', {}),
    ("queue-delete", "module.app.aws_sqs_queue.jobs[1]", {}),
)


def step(text: str) -> None:
    click.echo("\n" + click.style(f"==> {text}", fg="cyan", bold=True))


def _short(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def propose_cli(config: Path) -> int:
    """Run the real `driftctl propose`; exit 2 (some need a human) is expected here."""
    return subprocess.run(
        [sys.executable, "-m", "driftctl.cli", "propose", "sandbox", "-c", str(config)], check=False
    ).returncode


def detect_cli(config: Path) -> int:
    """Run the real `driftctl detect` as a user would, in its own process."""
    color = "--color" if sys.stdout.isatty() else "--no-color"
    return subprocess.run(
        [sys.executable, "-m", "driftctl.cli", "detect", "-c", str(config), color], check=False
    ).returncode


def run() -> int:
    sandbox = Sandbox(SandboxLayout.resolve(), progress=lambda m: click.echo(f"   · {m}", err=True))

    step("1. Start the sandbox cloud (moto on 127.0.0.1) and apply the sample stack")
    report = sandbox.up(reattach=True)
    click.echo(f"   {len(report.resources)} resources in {report.workspace} ({report.timings['total']:.1f}s)")

    tf = sandbox.terraform()
    step("2. Make out-of-band changes with boto3, as a person in the console would")
    for mutation, address, params in DRIFTS:
        result = sandbox.drift(mutation, address=address, params=params)
        click.echo(f"   {result.address}: {result.change}")

    config = sandbox.layout.config_file
    step(f"3. driftctl detect -c {_short(config)}  (exact addresses, paths, severities)")
    t = time.perf_counter()
    code = detect_cli(config)
    click.echo(f"   exit code {code} (2 = drift found), {time.perf_counter() - t:.1f}s")
    if code != 2:
        return 1

    step(f"4. driftctl propose sandbox -c {_short(config)}  (a verified fix per finding; none applied)")
    propose_cli(config)

    step("5. Heal by reverting to the code: a saved plan, then apply exactly that plan")
    plan_file = sandbox.layout.root / "demo-heal.tfplan"
    heal = tf.plan(out=plan_file)
    summary = [line for line in heal.result.stdout.splitlines() if line.startswith("Plan:")]
    click.echo("   " + (summary[0] if summary else "no changes planned"))
    tf.apply(plan_file)
    plan_file.unlink(missing_ok=True)

    step("6. Confirm: driftctl detect finds nothing left")
    code = detect_cli(config)
    if code != 0 or tf.plan().changes:
        click.echo(click.style("   drift remains after the heal", fg="red"))
        return 1
    click.echo(click.style("   exit code 0: no drift, and a full plan is clean.", fg="green"))
    click.echo(
        "\nThe sandbox keeps running. Try `driftctl sandbox mutations`, `driftctl sandbox drift NAME`,\n"
        "`driftctl sandbox plan`; stop it with `driftctl sandbox down`."
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
