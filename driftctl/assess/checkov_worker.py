"""A long-lived checkov process: import checkov once, then scan plan files on request (I/O: stdin/stdout).

Run by checkov's own interpreter (``.venv-checkov/bin/python``), never imported by driftctl: it uses
only the standard library and checkov. Importing checkov costs seconds; a scan after that costs tens
of milliseconds, so one worker serves every fix of a run (and every run of ``driftctl serve``).

Protocol, one JSON document per line: it prints ``{"ready": true, "checkov_version": …}`` once checkov
is imported, then answers each request ``{"files": [PATH, …]}`` with ``{"report": …}`` (exactly the JSON
that ``checkov -f … --framework terraform_plan -o json`` prints) or ``{"error": "…"}``. Anything checkov
itself prints goes to stderr, so it can never corrupt the answers. End of input ends the worker.
"""

from __future__ import annotations

import json
import os
import sys
import traceback
from typing import Any


def _answer(channel: Any, document: dict[str, Any]) -> None:
    channel.write(json.dumps(document) + "\n")
    channel.flush()


def main() -> None:
    # Keep the real stdout for answers; point fd 1 at stderr so stray prints from checkov go there.
    answers = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)
    sys.stdout = sys.stderr

    from checkov.runner_filter import RunnerFilter
    from checkov.terraform.plan_runner import Runner
    from checkov.version import version

    _answer(answers, {"ready": True, "checkov_version": version})
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            files = [str(f) for f in json.loads(line)["files"]]
            # A new Runner per scan: a reused one returns stale results.
            report = Runner().run(None, files=files, runner_filter=RunnerFilter(framework=["terraform_plan"]))
            _answer(answers, {"report": report.get_dict(is_quiet=False)})
        except Exception as exc:  # every failure is an answer: the caller fails closed on it
            traceback.print_exc()
            _answer(answers, {"error": f"{type(exc).__name__}: {exc}"})


if __name__ == "__main__":
    main()
