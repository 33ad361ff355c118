"""`make demo`: sandbox up → out-of-band changes → Terraform sees the drift → revert → clean (I/O)."""

from __future__ import annotations

import sys
import time

import click

from driftctl.errors import DriftctlError
from driftctl.sandbox.layout import SandboxLayout
from driftctl.sandbox.sandbox import Sandbox

DRIFTS: tuple[tuple[str, str | None, dict[str, str]], ...] = (
    ("sg-open-world", None, {}),
    ("tag", 'module.storage["logs"].aws_s3_bucket.this', {"key": "owner", "value": "someone-else"}),
    ("versioning-suspend", 'module.storage["assets"].aws_s3_bucket_versioning.this', {}),
    ("queue-delete", "module.app.aws_sqs_queue.jobs[1]", {}),
)


def step(text: str) -> None:
    click.echo("\n" + click.style(f"==> {text}", fg="cyan", bold=True))


def drift_section(plan_text: str) -> str:
    """The part of Terraform's output that describes changes made outside Terraform."""
    lines = [line for line in plan_text.splitlines() if "Refreshing state" not in line]
    return "\n".join(lines).strip()


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

    step("3. Terraform sees the drift (terraform plan -refresh-only)")
    t = time.perf_counter()
    detected = tf.plan(refresh_only=True)
    click.echo(drift_section(detected.result.stdout))
    click.echo(
        f"   (plan took {time.perf_counter() - t:.1f}s; `driftctl detect` and `reconcile` build on this)"
    )

    step("4. Heal by reverting to the code: a saved plan, then apply exactly that plan")
    plan_file = sandbox.layout.root / "demo-heal.tfplan"
    heal = tf.plan(out=plan_file)
    summary = [line for line in heal.result.stdout.splitlines() if line.startswith("Plan:")]
    click.echo("   " + (summary[0] if summary else "no changes planned"))
    tf.apply(plan_file)
    plan_file.unlink(missing_ok=True)

    step("5. Confirm: a fresh plan is clean")
    final = tf.plan()
    if final.changes:
        click.echo(click.style("   drift remains after the heal", fg="red"))
        return 1
    click.echo(click.style("   No changes. Infrastructure matches the configuration.", fg="green"))
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
