"""Assessment benchmark: one-resource fix warm, a 500-resource plan with 50 changes, and cold start.

Side by side in one run: Rego + blast radius + score (in process), checkov (its own process and venv),
and the whole `driftctl assess` command cold. Prints Markdown tables; asserts nothing.

    .venv/bin/python bench/assess_bench.py [--repeat 7]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.gen_plan import generate  # noqa: E402
from driftctl.assess.blast import blast_radius, load_weights  # noqa: E402
from driftctl.assess.decide import Gate, decide  # noqa: E402
from driftctl.assess.engine import policy_input, rego_engine  # noqa: E402
from driftctl.assess.rego import SHIPPED_POLICIES  # noqa: E402
from driftctl.assess.score import score  # noqa: E402

CPU_MS: dict[int, float] = {}  # row → median CPU ms of this process (in-process rows only)


def median_ms(repeat: int, fn: Callable[[], Any]) -> float:
    """Median wall ms; the median CPU ms of this process goes to CPU_MS (steadier on a busy machine)."""
    samples, cpu = [], []
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - start_cpu) * 1000)
    CPU_MS[len(CPU_MS)] = statistics.median(cpu)
    return statistics.median(samples)


def in_process(plan: dict[str, Any]) -> None:
    rego = rego_engine((SHIPPED_POLICIES,)).evaluate(policy_input(plan))
    blast = blast_radius(plan, load_weights())
    decide(score(blast=blast, rego=rego), Gate(mode="auto"))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()

    one = json.loads((ROOT / "tests/fixtures/fixes/revert_sg_open.json").read_text())
    big = generate(resources=500, modules=10, drifted=50, seed=1)
    changes = sum(1 for rc in big["resource_changes"] if rc["change"]["actions"] not in (["no-op"], ["read"]))
    rows = []
    in_process(one)  # warm: imports, policy parse caches
    rows.append(
        ("one-resource fix: Rego + blast + score (warm)", median_ms(args.repeat, lambda: in_process(one)))
    )
    rows.append(
        (
            f"{len(big['resource_changes'])}-resource plan, {changes} changes: Rego + blast + score (warm)",
            median_ms(max(3, args.repeat // 2), lambda: in_process(big)),
        )
    )
    from driftctl.assess.checkov_scan import scan_fix

    rows.append(("one-resource fix: checkov (own process)", median_ms(3, lambda: scan_fix(one))))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "fix.json"
        path.write_text(json.dumps(one))
        cmd = [str(ROOT / ".venv/bin/driftctl"), "assess", "--plan-file", str(path), "-o", "json"]
        cold = median_ms(3, lambda: subprocess.run([*cmd, "--no-checkov"], capture_output=True, check=False))
        rows.append(("cold: `driftctl assess --no-checkov` (new process)", cold))
        full = median_ms(3, lambda: subprocess.run(cmd, capture_output=True, check=False))
        rows.append(("cold: `driftctl assess` with checkov (new process)", full))

    print("| what | median wall ms | median CPU ms (this process) | target |")
    print("|---|---|---|---|")
    targets = {0: "< 100 ms", 1: "< 1500 ms"}
    for i, (what, ms) in enumerate(rows):
        cpu = f"{CPU_MS[i]:.1f}" if i < 2 else "— (child process)"
        print(f"| {what} | {ms:.1f} | {cpu} | {targets.get(i, 'reported')} |")


if __name__ == "__main__":
    main()
