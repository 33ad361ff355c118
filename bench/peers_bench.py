"""driftctl detect beside its Python peers drifty and tfdrift on one generated plan (I/O: subprocesses, pip).

Installs drifty 0.8.0 and tfdrift 0.5.5 into a throwaway venv (kept under ~/.cache/driftctl-bench, so a
second run reuses it), generates a plan with bench/gen_plan.py (5,000 resources, 500 drifted by
default), and gives every tool the same input: the peers call `terraform` themselves, so a stand-in
`terraform` on PATH answers `init`/`version`/`plan` at once and prints the generated plan for
`show -json` (and, for drifty's `plan -json`, the UI stream's `resource_drift` lines). driftctl runs
both ways: on the plan file, and on the workspace with the same stand-in. Rounds are interleaved, one
run of each command per round, each a fresh process (wall time and peak RSS from os.wait4). Prints a
Markdown table with ratios against each peer; asserts nothing about timing.

    .venv/bin/python bench/peers_bench.py [--repeat 5] [--resources 5000 --drifted 500]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

try:
    from bench.detect_bench import DRIFTCTL, Series, child_env, run, say, table
    from bench.gen_plan import generate, render
except ImportError:  # run as `python bench/peers_bench.py`
    from detect_bench import DRIFTCTL, Series, child_env, run, say, table  # type: ignore[no-redef]
    from gen_plan import generate, render  # type: ignore[no-redef]

PEERS = {"drifty": "0.8.0", "tfdrift": "0.5.5"}
TARGET_RATIO = 0.4
TARGET_RSS_MB = 100.0
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "driftctl-bench"

# A POSIX shell stand-in: no interpreter start-up to speak of, so the peers are timed, not it.
STAND_IN = """#!/bin/sh
cmd="$1"; shift
case "$cmd" in
  version) echo '{"terraform_version":"1.11.4","platform":"linux_amd64"}' ;;
  init) echo "Terraform has been successfully initialized!" ;;
  plan)
    for a in "$@"; do
      case "$a" in -out=*) : > "${a#-out=}" ;; esac
    done
    for a in "$@"; do
      case "$a" in -json) cat "%(stream)s" ;; esac
    done
    exit 2 ;;
  show) cat "%(plan)s" ;;
  *) echo "stand-in terraform: $cmd not supported" >&2; exit 1 ;;
esac
"""


def peer_venv() -> Path:
    """A venv with both peers at their pinned versions, made once."""
    venv = CACHE / ("peers-" + "-".join(f"{k}{v}" for k, v in sorted(PEERS.items())))
    if not (venv / "bin" / "tfdrift").exists() or not (venv / "bin" / "drifty").exists():
        say(f"installing {', '.join(f'{k}=={v}' for k, v in PEERS.items())} into {venv}")
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        pins = [f"{k}=={v}" for k, v in PEERS.items()]
        subprocess.run([str(venv / "bin" / "pip"), "install", "--quiet", *pins], check=True)
    return venv


def ui_stream(plan: dict[str, object]) -> str:
    """The `resource_drift` lines `terraform plan -json` prints for this plan's drift."""
    lines = []
    for rc in plan.get("resource_drift", []):  # type: ignore[union-attr]
        assert isinstance(rc, dict)
        lines.append(
            json.dumps(
                {
                    "@level": "info",
                    "@message": f"{rc['address']}: Drift detected (update)",
                    "type": "resource_drift",
                    "change": {
                        "resource": {
                            "addr": rc["address"],
                            "module": rc.get("module_address", ""),
                            "resource": f"{rc['type']}.{rc['name']}",
                            "resource_type": rc["type"],
                            "resource_name": rc["name"],
                        },
                        "action": "update",
                    },
                }
            )
        )
    return "\n".join(lines) + "\n"


def workspace(workdir: Path, plan_path: Path, plan: dict[str, object]) -> tuple[Path, Path]:
    """A workspace directory (one .tf file, for the peers' discovery) and the stand-in's bin directory."""
    ws = workdir / "ws"
    ws.mkdir()
    (ws / "main.tf").write_text("# the stand-in terraform answers for this workspace\n")
    stream = workdir / "stream.jsonl"
    stream.write_text(ui_stream(plan))
    bin_dir = workdir / "bin"
    bin_dir.mkdir()
    stand_in = bin_dir / "terraform"
    stand_in.write_text(STAND_IN % {"stream": stream, "plan": plan_path})
    stand_in.chmod(0o755)
    return ws, bin_dir


def count_findings(label: str, stdout: bytes, out_file: Path | None) -> str:
    """What each tool reported, read from its own JSON (a sanity check that all did the work)."""
    try:
        text = out_file.read_text() if out_file is not None else stdout.decode()
        start = min(i for i in (text.find("{"), text.find("[")) if i >= 0)
        doc = json.loads(text[start:])
    except (ValueError, OSError) as exc:
        return f"unreadable ({type(exc).__name__})"
    if isinstance(doc, dict):
        summary = doc.get("summary") if isinstance(doc.get("summary"), dict) else {}
        for key in ("findings", "total_drift_count"):  # driftctl; tfdrift (drift + pending changes)
            if isinstance(summary.get(key), int):
                return str(summary[key])
        if isinstance(doc.get("total"), int):  # drifty
            return str(doc["total"])
    if isinstance(doc, list):
        return str(len(doc))
    return "?"


def main() -> None:
    raw = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=raw)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--resources", type=int, default=5000)
    parser.add_argument("--modules", type=int, default=50)
    parser.add_argument("--drifted", type=int, default=500)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    venv = peer_venv()
    env, env_note = child_env()
    with tempfile.TemporaryDirectory(prefix="driftctl-peers-") as tmp:
        workdir = Path(tmp)
        say(f"generating a plan: {args.resources} resources, {args.drifted} drifted")
        plan = generate(args.resources, args.modules, args.drifted, args.seed)
        plan_path = workdir / "big.json"
        plan_path.write_bytes(render(plan))
        ws, bin_dir = workspace(workdir, plan_path, plan)
        env = {**env, "PATH": f"{bin_dir}:{env['PATH']}", "DRIFTCTL_TERRAFORM": str(bin_dir / "terraform")}
        outs = {"driftctl": workdir / "d.json", "tfdrift": workdir / "t.json"}
        drifty, tfdrift = str(venv / "bin" / "drifty"), str(venv / "bin" / "tfdrift")
        ours = [DRIFTCTL, "detect", "--plan-file", str(plan_path), "-o", "json", "-q"]
        commands: dict[str, tuple[list[str], Path | None]] = {
            "driftctl detect --plan-file -o json --out f": (
                [*ours, "--out", str(outs["driftctl"])],
                outs["driftctl"],
            ),
            f"drifty {PEERS['drifty']} scan -o json": ([drifty, "scan", "-w", str(ws), "-o", "json"], None),
            f"tfdrift {PEERS['tfdrift']} scan -f json -o f": (
                [tfdrift, "scan", "-p", str(ws), "-f", "json", "-o", str(outs["tfdrift"]), "-q"],
                outs["tfdrift"],
            ),
        }
        series = {label: Series(label) for label in commands}
        found: dict[str, str] = {}
        for label, (cmd, out) in commands.items():  # warm-up: page cache, .pyc files; not counted
            r = run(cmd, workdir, env=env, cwd=ws)
            found[label] = f"exit {r.returncode}; findings: {count_findings(label, r.stdout, out)}"
        for i in range(args.repeat):
            say(f"round {i + 1}/{args.repeat}")
            for label, (cmd, _out) in commands.items():
                series[label].runs.append(run(cmd, workdir, env=env, cwd=ws))

    mine = series[next(iter(commands))]
    ours_median = statistics.median(mine.walls)
    rows = []
    for label, s in series.items():
        median = statistics.median(s.walls)
        rows.append(
            [
                label,
                f"{median:.3f}",
                f"{min(s.walls):.3f}",
                f"{max(s.walls):.3f}",
                f"{s.peak_mb:.1f}",
                "—" if s is mine else f"{ours_median / median:.2f}x",
                found[label],
            ]
        )
    print("# driftctl detect beside drifty and tfdrift\n")
    print(
        f"Plan: {args.resources} resources, {args.drifted} drifted; {args.repeat} interleaved rounds after "
        f"a warm-up; {os.cpu_count()} CPUs. A stand-in `terraform` on PATH prints the plan. {env_note}\n"
    )
    headers = ["command", "median s", "min s", "max s", "peak RSS MB", "driftctl / this", "first run"]
    print(table(headers, rows))
    worst = max(ours_median / statistics.median(s.walls) for s in series.values() if s is not mine)
    print(
        f"\nTargets: driftctl ≤ {TARGET_RATIO}x of every peer (worst ratio here: {worst:.2f}x), "
        f"≤ {TARGET_RSS_MB:.0f} MB (here: {mine.peak_mb:.1f} MB)."
    )


if __name__ == "__main__":
    main()
