"""`driftctl detect` on 1, 10 and 50 workspaces: wall time and memory as the work grows (I/O: subprocesses).

Each workspace is a directory listed in one driftctl.yaml; a stand-in `terraform` answers for all of
them: `plan` waits a fixed latency (default 0.5 s: what a real plan spends waiting on the cloud's APIs
while refreshing, and why workspaces are planned in parallel) and `show -json` prints a generated plan
(200 resources, 20 drifted). What is measured is driftctl's own scaling: threads, parsing, reporting.
Prints a Markdown table (median of --repeat runs each, interleaved); asserts nothing about timing.

    .venv/bin/python bench/scale_bench.py [--repeat 3] [--latency 0.5] [--parallel 4]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
from pathlib import Path

try:
    from bench.detect_bench import DRIFTCTL, Series, child_env, run, say, table
    from bench.gen_plan import generate, render
except ImportError:  # run as `python bench/scale_bench.py`
    from detect_bench import DRIFTCTL, Series, child_env, run, say, table  # type: ignore[no-redef]
    from gen_plan import generate, render  # type: ignore[no-redef]

COUNTS = (1, 10, 50)
STAND_IN = """#!/bin/sh
cmd="$1"; shift
case "$cmd" in
  version) echo '{"terraform_version":"1.11.4","platform":"linux_amd64"}' ;;
  init) echo "Terraform has been successfully initialized!" ;;
  plan)
    sleep %(latency)s
    for a in "$@"; do
      case "$a" in -out=*) : > "${a#-out=}" ;; esac
    done
    exit 2 ;;
  show) cat "%(plan)s" ;;
  *) echo "stand-in terraform: $cmd not supported" >&2; exit 1 ;;
esac
"""


def estate(root: Path, count: int, stand_in: Path, parallel: int) -> Path:
    """``count`` workspace directories (already initialised) and the driftctl.yaml naming them."""
    lines = [
        "version: 1",
        "defaults:",
        f"  terraform: {stand_in}",
        f"  parallel: {parallel}",
        "  ignore_file: null",
        "workspaces:",
    ]
    for i in range(count):
        ws = root / f"ws{i:03d}"
        (ws / ".terraform").mkdir(parents=True)
        (ws / "main.tf").write_text("# planned by the stand-in terraform\n")
        lines += [f"  - name: ws{i:03d}", f"    path: {ws.name}"]
    config = root / "driftctl.yaml"
    config.write_text("\n".join(lines) + "\n")
    return config


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--latency", type=float, default=0.5, help="seconds each stand-in plan waits")
    parser.add_argument("--parallel", type=int, default=4, help="workspaces at once (detect --parallel)")
    args = parser.parse_args()
    env, _ = child_env()
    with tempfile.TemporaryDirectory(prefix="driftctl-scale-") as tmp:
        work = Path(tmp)
        plan = work / "plan.json"
        plan.write_bytes(render(generate(200, 5, 20, 0)))
        stand_in = work / "terraform"
        stand_in.write_text(STAND_IN % {"latency": args.latency, "plan": plan})
        stand_in.chmod(0o755)
        configs = {}
        for count in COUNTS:
            root = work / f"estate{count}"
            root.mkdir()
            configs[count] = estate(root, count, stand_in, args.parallel)
        series = {count: Series(f"{count} workspaces") for count in COUNTS}
        for i in range(args.repeat):
            say(f"round {i + 1}/{args.repeat}")
            for count, config in configs.items():
                out = work / f"report{count}.json"
                cmd = [DRIFTCTL, "detect", "-c", str(config), "-o", "json", "-q", "--out", str(out)]
                result = run(cmd, work, env=env, cwd=config.parent)
                if result.returncode != 2:
                    raise SystemExit(
                        f"detect on {count} workspaces exited {result.returncode}: {result.stderr!r}"
                    )
                series[count].runs.append(result)
    one = statistics.median(series[1].walls)
    cores = os.cpu_count() or 1
    rows = []
    for count, s in series.items():
        median = statistics.median(s.walls)
        ideal = one * max(1.0, count / args.parallel)  # the latency-bound floor with --parallel P
        rows.append(
            [
                str(count),
                f"{median:.2f}",
                f"{median / count:.3f}",
                f"{median / one:.1f}x",
                f"{count / cores:.1f}x",
                f"{median / ideal:.2f}",
                f"{s.peak_mb:.1f}",
            ]
        )
    print("# detect on 1, 10 and 50 workspaces\n")
    print(
        f"Stand-in terraform: plan waits {args.latency} s, shows a 200-resource plan with 20 drifted. "
        f"--parallel {args.parallel}, {cores} CPUs, median of {args.repeat} interleaved runs.\n"
    )
    headers = [
        "workspaces",
        "wall s",
        "s / workspace",
        "wall vs 1",
        "workspaces / cores",
        f"wall / (1-ws wall * N/{args.parallel})",
        "peak RSS MB",
    ]
    print(table(headers, rows))


if __name__ == "__main__":
    main()
