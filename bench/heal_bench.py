"""Time to heal: every scenario, with and without checkov, side by side in one run on one sandbox.

"seconds" is the scenario runner's clock: from the first out-of-band change to the end of reconcile
(for a heal, its confirming plan). The two configurations alternate per scenario so drift in machine
load hits both alike. Prints a Markdown table with the ratio; asserts nothing.

    .venv/bin/python bench/heal_bench.py [--repeat 1] [--sandbox-dir DIR] [NAME ...]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from driftctl.assess.engine import AssessOptions  # noqa: E402
from driftctl.sandbox.layout import SandboxLayout  # noqa: E402
from driftctl.sandbox.sandbox import Sandbox  # noqa: E402
from driftctl.scenarios.runner import open_run  # noqa: E402
from driftctl.scenarios.spec import load_scenarios  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="scenarios (default: all)")
    parser.add_argument("--repeat", type=int, default=1, help="runs per scenario and configuration")
    parser.add_argument(
        "--sandbox-dir", type=Path, default=None, help="reuse this sandbox (default: a new one)"
    )
    args = parser.parse_args()

    scenarios = load_scenarios(ROOT / "scenarios", tuple(args.names))
    with tempfile.TemporaryDirectory(prefix="driftctl-heal-bench-") as tmp:
        own = args.sandbox_dir is None
        sandbox = Sandbox(SandboxLayout(args.sandbox_dir or Path(tmp) / "sandbox"))
        sandbox.up(reattach=True)
        try:
            runs = {
                "checkov": open_run(sandbox, Path(tmp) / "with", assess=AssessOptions(checkov=True)),
                "no checkov": open_run(sandbox, Path(tmp) / "without", assess=AssessOptions(checkov=False)),
            }
            rows = []
            for sf in scenarios:
                seconds: dict[str, list[float]] = {k: [] for k in runs}
                outcome = ""
                ok = True
                for _ in range(args.repeat):
                    for label, run in runs.items():
                        result = run.run(sf)
                        seconds[label].append(result.seconds)
                        ok = ok and result.passed
                        outcome = ", ".join(sorted({d.split(": ", 1)[1] for d in result.decisions}))
                    print(f"  {sf.scenario.name}: {outcome}", file=sys.stderr)
                with_s = statistics.median(seconds["checkov"])
                without_s = statistics.median(seconds["no checkov"])
                rows.append((sf.scenario.name, outcome, with_s, without_s, ok))
            runs["checkov"].restore()
        finally:
            if own:
                sandbox.down()

    print("\n| scenario | decision → outcome | seconds, checkov | seconds, no checkov | ratio | pass |")
    print("|---|---|---|---|---|---|")
    for name, outcome, with_s, without_s, ok in rows:
        ratio = with_s / without_s if without_s else float("nan")
        passed = "yes" if ok else "NO"
        print(f"| {name} | {outcome} | {with_s:.1f} | {without_s:.1f} | {ratio:.1f}x | {passed} |")
    total_with = sum(r[2] for r in rows)
    total_without = sum(r[3] for r in rows)
    ratio = total_with / total_without
    print(f"| **all {len(rows)}** | | {total_with:.1f} | {total_without:.1f} | {ratio:.1f}x | |")
    return 0 if all(r[4] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
