"""Benchmark of `driftctl detect`: wall time and peak RSS on a big plan, beside baselines (I/O: subprocesses).

Generates a plan with bench/gen_plan.py, then runs `driftctl detect --plan-file big.json --output json` and
its baselines interleaved, one of each per round, so that noise hits them alike. Each run is a fresh
process: wall time is Popen to reaped, peak RSS is the child's ru_maxrss from os.wait4. Also checks the
report (finding and pending counts, no CANARY secret in stdout or stderr) and which heavy packages
`detect` imports. With --sandbox, times `detect` against raw `terraform plan -refresh-only` + `show -json`
on the sandbox stack, with and without the reattached provider. Prints Markdown tables; asserts nothing
about timing.

    .venv/bin/python bench/detect_bench.py [--repeat 7] [--resources 5000 --modules 50 --drifted 500]
                                           [--seed 0] [--sandbox] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

try:
    from bench.gen_plan import CANARY, expected_counts, generate, render
except ImportError:  # run as `python bench/detect_bench.py`: bench/ itself is on sys.path
    from gen_plan import CANARY, expected_counts, generate, render  # type: ignore[no-redef]

TARGET_WALL_S = 0.4
TARGET_RSS_MB = 100.0
TARGET_SANDBOX_RATIO = 1.15
HEAVY = ("boto3", "botocore", "checkov", "openai", "moto", "grpc")
ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable


def _tool(name: str) -> str:
    for directory in (ROOT / ".venv" / "bin", Path(sys.executable).parent):
        if (directory / name).exists():
            return str(directory / name)
    return name


DRIFTCTL = _tool("driftctl")


@dataclass(frozen=True, slots=True)
class Run:
    wall_s: float
    rss_kib: int
    returncode: int
    stdout: bytes
    stderr: bytes


@dataclass(slots=True)
class Series:
    label: str
    runs: list[Run] = field(default_factory=list)

    @property
    def walls(self) -> list[float]:
        return [r.wall_s for r in self.runs]

    @property
    def peak_mb(self) -> float:
        return max(r.rss_kib for r in self.runs) * 1024 / 1e6


# Linux keeps a process's peak RSS across exec, so a child forked straight from this (large) process
# would report at least our own RSS. A small launcher forks the command instead, reaps it with
# os.wait4 and writes back its wall time, ru_maxrss (KiB) and exit code.
_LAUNCHER = """
import os, sys, time
start = time.perf_counter()
pid = os.fork()
if pid == 0:
    try:
        os.execvp(sys.argv[2], sys.argv[2:])
    except OSError as exc:
        sys.stderr.write(f"cannot run {sys.argv[2]}: {exc}\\n")
        os._exit(127)
_, status, usage = os.wait4(pid, 0)
wall = time.perf_counter() - start
with open(sys.argv[1], "w") as f:
    f.write(f"{wall} {usage.ru_maxrss} {os.waitstatus_to_exitcode(status)}")
"""


def run(cmd: list[str], workdir: Path, *, env: dict[str, str] | None = None, cwd: Path | None = None) -> Run:
    """One fresh process; its output goes to files (a pipe could fill up and stall it while we wait)."""
    out, err, stats = workdir / "stdout", workdir / "stderr", workdir / "stats"
    with out.open("wb") as o, err.open("wb") as e:
        launcher = [PYTHON, "-S", "-c", _LAUNCHER, str(stats), *cmd]
        subprocess.run(launcher, stdout=o, stderr=e, stdin=subprocess.DEVNULL, env=env, cwd=cwd, check=True)
    wall, rss, code = stats.read_text().split()
    return Run(float(wall), int(rss), int(code), out.read_bytes(), err.read_bytes())


def run_all(steps: list[list[str]], workdir: Path, **kwargs: Any) -> Run:
    """Commands in sequence as one measurement: summed wall time, the largest RSS, the last output."""
    runs = [run(cmd, workdir, **kwargs) for cmd in steps]
    failed = next((r for r in runs if r.returncode != 0), runs[-1])
    return Run(
        sum(r.wall_s for r in runs),
        max(r.rss_kib for r in runs),
        failed.returncode,
        runs[-1].stdout,
        b"".join(r.stderr for r in runs),
    )


def table(headers: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    return "\n".join(lines + ["| " + " | ".join(r) + " |" for r in rows])


def say(message: str) -> None:
    print(f"… {message}", file=sys.stderr, flush=True)


# -- plan-file benchmark ---------------------------------------------------------------------------------
def plan_commands(plan: Path) -> dict[str, list[str]]:
    read = "import sys; from pathlib import Path; from driftctl.terraform.plan import read_plan_file"
    return {
        "driftctl detect --plan-file --output json": [
            DRIFTCTL,
            "detect",
            "--plan-file",
            str(plan),
            "--output",
            "json",
        ],
        "baseline: parse_plan only (in python -c)": [
            PYTHON,
            "-c",
            f"{read}; read_plan_file(Path(sys.argv[1]))",
            str(plan),
        ],
        "baseline: json.load of the plan": [
            PYTHON,
            "-c",
            "import json,sys; json.load(open(sys.argv[1]))",
            str(plan),
        ],
        "baseline: python -c 'import driftctl'": [PYTHON, "-c", "import driftctl"],
        "baseline: driftctl --version": [DRIFTCTL, "--version"],
        "floor: true (the method's own RSS floor)": ["true"],
    }


def child_env() -> tuple[dict[str, str], str]:
    """The environment the measured commands run in, and a note on how it differs from ours."""
    env = dict(os.environ)
    if env.pop("PYTHONDONTWRITEBYTECODE", None) is None:
        return env, ""
    # An installed package has its .pyc files (pip compiles them); without them every run would
    # compile driftctl from source and we would time the compiler.
    return env, "PYTHONDONTWRITEBYTECODE is unset for the measured commands, so the warm-up caches bytecode."


def bench_plan(
    commands: dict[str, list[str]], repeat: int, workdir: Path, env: dict[str, str]
) -> list[Series]:
    series = [Series(label) for label in commands]
    for cmd in commands.values():  # warms the page cache and writes .pyc files; not counted
        run(cmd, workdir, env=env, cwd=workdir)
    for i in range(repeat):
        say(f"round {i + 1}/{repeat}")
        for s, cmd in zip(series, commands.values(), strict=True):
            s.runs.append(run(cmd, workdir, env=env, cwd=workdir))
    return series


def plan_table(series: list[Series]) -> str:
    rows = []
    for s in series:
        median = statistics.median(s.walls)
        rows.append(
            [
                s.label,
                f"{median:.3f}",
                f"{min(s.walls):.3f}",
                f"{max(s.walls):.3f}",
                f"{s.peak_mb:.1f}",
                f"{median / TARGET_WALL_S:.2f}x",
                f"{s.peak_mb / TARGET_RSS_MB:.2f}x",
            ]
        )
    headers = ["command", "median s", "min s", "max s", "peak RSS MB", "wall / 0.4 s", "RSS / 100 MB"]
    return table(headers, rows)


def verify(detect: Series, expected_drift: int, expected_pending: int) -> list[list[str]]:
    """Checks every detect run's report; returns table rows."""
    rows = []
    codes = sorted({r.returncode for r in detect.runs})
    rows.append(["exit code 2 (drift) on every run", "yes" if codes == [2] else f"NO: {codes}"])
    leaked = sum(CANARY.encode() in r.stdout + r.stderr for r in detect.runs)
    rows.append(
        ["no CANARY secret in stdout+stderr", "yes" if not leaked else f"NO: leaked in {leaked} run(s)"]
    )
    try:
        doc = json.loads(detect.runs[-1].stdout)
    except ValueError as exc:
        return [*rows, ["stdout is JSON", f"NO: {exc}"]]
    findings = sum(len(w.get("findings", [])) for w in doc.get("workspaces", []))
    pending = sum(len(w.get("pending", [])) for w in doc.get("workspaces", []))
    summary = doc.get("summary", {})
    for what, got, want in (
        ("findings", findings, expected_drift),
        ("summary.findings", summary.get("findings"), expected_drift),
        ("pending", pending, expected_pending),
        ("summary.pending", summary.get("pending"), expected_pending),
    ):
        rows.append([f"{what} = {want}", "yes" if got == want else f"NO: {got}"])
    return rows


def import_profile(
    plan: Path, workdir: Path, env: dict[str, str]
) -> tuple[list[list[str]], list[list[str]], int]:
    """Which heavy packages `detect` imports, and the packages that cost most to import."""
    cmd = [
        PYTHON,
        "-X",
        "importtime",
        "-m",
        "driftctl.cli",
        "detect",
        "--plan-file",
        str(plan),
        "--output",
        "json",
    ]
    result = run(cmd, workdir, env=env, cwd=workdir)
    self_us: dict[str, int] = {}
    for line in result.stderr.decode(errors="replace").splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        own, _cumulative, name = line[len("import time:") :].split("|", 2)
        package = name.strip().split(".")[0]
        self_us[package] = self_us.get(package, 0) + int(own)
    heavy = [[name, "IMPORTED" if name in self_us else "not imported"] for name in HEAVY]
    top = sorted(self_us.items(), key=lambda kv: -kv[1])[:12]
    return heavy, [[name, f"{us / 1000:.1f}"] for name, us in top], len(self_us)


# -- sandbox side by side --------------------------------------------------------------------------------
def sandbox_env(directory: Path) -> dict[str, str]:
    """The `export K=V` lines of `driftctl sandbox env`, as a dict."""
    text = subprocess.run(
        [DRIFTCTL, "sandbox", "env", "--dir", str(directory)], capture_output=True, text=True, check=True
    ).stdout
    env = {}
    for line in text.splitlines():
        if line.startswith("export "):
            key, _, value = line[len("export ") :].partition("=")
            env[key] = shlex.split(value)[0] if value else ""
    return env


RAW = "raw: terraform plan -refresh-only -out=F + show -json F"


def sandbox_steps(directory: Path, workdir: Path) -> dict[str, list[list[str]]]:
    """What is timed: detect (with and without the pending plan) and the raw Terraform it wraps."""
    from driftctl.terraform import resolve_binary

    terraform = list(resolve_binary().command)
    plan_file = workdir / "raw.tfplan"
    detect = [DRIFTCTL, "detect", "--config", str(directory / "driftctl.yaml"), "--output", "json", "--quiet"]
    return {
        "driftctl detect --config": [detect],
        "driftctl detect --config --no-pending": [[*detect, "--no-pending"]],
        RAW: [
            [*terraform, "plan", "-refresh-only", "-input=false", f"-out={plan_file}"],
            [*terraform, "show", "-json", str(plan_file)],
        ],
    }


def sandbox_table(series: list[Series]) -> str:
    raw = statistics.median(next(s for s in series if s.label == RAW).walls)
    rows = []
    for s in series:
        median = statistics.median(s.walls)
        codes = ",".join(str(c) for c in sorted({r.returncode for r in s.runs}))
        walls = [f"{median:.2f}", f"{min(s.walls):.2f}", f"{max(s.walls):.2f}"]
        rows.append([s.label, *walls, f"{s.peak_mb:.0f}", f"{median / raw:.2f}x", codes])
    ratio = f"vs raw (target ≤ {TARGET_SANDBOX_RATIO}x)"
    return table(["command", "median s", "min s", "max s", "peak RSS MB", ratio, "exit"], rows)


def bench_sandbox(repeat: int, workdir: Path, env: dict[str, str]) -> str:
    """Both provider modes on one sandbox, one drift made by hand; the sandbox always goes down."""
    directory = workdir / "sandbox"
    sandbox = [DRIFTCTL, "sandbox"]
    sections = []
    try:
        for flag, mode in (("--no-reattach", "provider per command"), ("--reattach", "reattached provider")):
            say(f"sandbox up {flag}")
            up = subprocess.run(
                [*sandbox, "up", "--dir", str(directory), flag], capture_output=True, text=True
            )
            if up.returncode != 0:
                return f"`sandbox up {flag}` failed; skipped:\n\n```\n{up.stderr[-2000:]}\n```"
            if not (directory / "driftctl.yaml").exists():
                return f"no {directory / 'driftctl.yaml'} after `sandbox up`; sandbox comparison skipped"
            # `up` re-applies the stack, so the drift is made again after each one.
            drift = [*sandbox, "drift", "sg-open-world", "--dir", str(directory)]
            subprocess.run(drift, capture_output=True, check=False)
            run_env = {**env, **sandbox_env(directory)}
            stack = directory / "stack" / "terraform" / "sandbox"
            steps = sandbox_steps(directory, workdir)
            series = [Series(label) for label in steps]
            for i in range(repeat):
                say(f"sandbox, {mode}: round {i + 1}/{repeat}")
                for s, cmds in zip(series, steps.values(), strict=True):
                    s.runs.append(run_all(cmds, workdir, env=run_env, cwd=stack))
            sections.append(f"### {mode} ({repeat} runs each, interleaved)\n\n" + sandbox_table(series))
        return "\n\n".join(sections)
    finally:
        say("sandbox down")
        subprocess.run([*sandbox, "down", "--dir", str(directory)], capture_output=True, check=False)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeat", type=int, default=7, help="timed runs of each command (default 7)")
    parser.add_argument("--resources", type=int, default=5000)
    parser.add_argument("--modules", type=int, default=50)
    parser.add_argument("--drifted", type=int, default=500)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--sandbox", action="store_true", help="also compare with raw terraform on the sandbox"
    )
    parser.add_argument("--json", type=Path, default=None, help="also write the raw samples here")
    args = parser.parse_args()

    detect_help = subprocess.run([DRIFTCTL, "detect", "--help"], capture_output=True)
    env, note = child_env()
    with tempfile.TemporaryDirectory(prefix="driftctl-detect-bench-") as tmp:
        workdir = Path(tmp)
        plan = workdir / "big.json"
        say(f"generating {args.resources} resources, {args.modules} modules, {args.drifted} drifted")
        started = time.perf_counter()
        doc = generate(args.resources, args.modules, args.drifted, args.seed)
        expected_drift, expected_pending = expected_counts(doc)
        changes = len(doc["resource_changes"])
        plan.write_bytes(render(doc))
        del doc
        size = plan.stat().st_size
        print("# driftctl detect benchmark\n")
        print(
            f"Plan: {args.resources} resources in {args.modules} modules, {expected_drift} drifted, "
            f"{expected_pending} pending, {changes} resource_changes; {size:,} bytes ({size / 1e6:.1f} MB), "
            f"generated in {time.perf_counter() - started:.1f}s. Machine: {os.cpu_count()} CPUs, "
            f"Python {sys.version.split()[0]}. Targets: median wall < {TARGET_WALL_S} s, "
            f"peak RSS < {TARGET_RSS_MB:.0f} MB (MB = 10^6 bytes). {note}\n"
        )

        commands = plan_commands(plan)
        if detect_help.returncode != 0:
            print("`driftctl detect` does not exist yet: only the baselines run.\n")
            commands = {k: v for k, v in commands.items() if "detect" not in k}
        series = bench_plan(commands, args.repeat, workdir, env)
        print(f"## Plan file ({args.repeat} runs each, interleaved, after one warm-up run)\n")
        print(plan_table(series) + "\n")

        if detect_help.returncode == 0:
            print("## Report checks\n")
            print(table(["check", "ok"], verify(series[0], expected_drift, expected_pending)) + "\n")
            say("import profile")
            heavy, top, count = import_profile(plan, workdir, env)
            print("## Heavy imports in `detect` (python -X importtime; none may be imported)\n")
            print(table(["package", "detect --plan-file"], heavy) + "\n")
            print(f"Import cost by top-level package (self time summed; {count} packages in all):\n")
            print(table(["package", "ms"], top) + "\n")

        if args.sandbox:
            print("## Sandbox: detect vs raw Terraform\n")
            print(bench_sandbox(args.repeat, workdir, env) + "\n")

        if args.json is not None:
            raw = {s.label: [{"wall_s": r.wall_s, "rss_kib": r.rss_kib} for r in s.runs] for s in series}
            args.json.write_text(json.dumps({"plan_bytes": size, "runs": raw}, indent=2) + "\n")


if __name__ == "__main__":
    main()
