"""The reconcile report: exit-code precedence and its console and JSON renderings (no I/O)."""

from __future__ import annotations

import json

import pytest

from driftctl.errors import EXIT_CLEAN, EXIT_DRIFT, EXIT_ERROR, EXIT_HEALED, EXIT_SKIPPED
from driftctl.reconcile.pipeline import ItemResult, Outcome, ReconcileReport, Status, WorkspaceResult
from driftctl.report.reconcile import render_reconcile

SG = "module.app.module.network.aws_security_group.web"
QUEUE = "module.app.aws_sqs_queue.jobs[0]"


def report(*statuses: Status, dry_run: bool = False) -> ReconcileReport:
    return ReconcileReport(
        "run1", dry_run, tuple(WorkspaceResult(f"ws{i}", "auto", s) for i, s in enumerate(statuses))
    )


def test_exit_codes_are_the_documented_numbers() -> None:
    assert (EXIT_CLEAN, EXIT_ERROR, EXIT_DRIFT, EXIT_HEALED, EXIT_SKIPPED) == (0, 1, 2, 3, 4)


@pytest.mark.parametrize(
    ("statuses", "code"),
    [
        ((), 0),
        ((Status.CLEAN, Status.CLEAN), 0),
        ((Status.CLEAN, Status.HEALED), 3),
        ((Status.HEALED, Status.DRIFT), 2),  # anything left to do beats what was healed
        ((Status.DRIFT, Status.SKIPPED, Status.HEALED), 4),  # a workspace nobody looked at beats drift
        ((Status.SKIPPED, Status.ERROR, Status.CLEAN), 1),  # an error beats everything
        ((Status.ERROR,), 1),
    ],
)
def test_exit_code_takes_the_worst_workspace(statuses: tuple[Status, ...], code: int) -> None:
    assert report(*statuses).exit_code == code


@pytest.fixture
def mixed() -> ReconcileReport:
    healed = ItemResult(SG, "critical", Outcome.HEALED, "revert", "auto_apply", None, 0.18, 0.9, seconds=4.31)
    proposed = ItemResult(
        QUEUE,
        "medium",
        Outcome.PROPOSED,
        "revert",
        "propose",
        "abcdef123456",
        0.16,
        0.9,
        rationale="Decision: propose: the hourly limit of automatic applies is reached.",
        where="saved plan /x/abcdef123456.tfplan",
    )
    prod = WorkspaceResult(
        "prod",
        "auto",
        Status.DRIFT,
        (healed, proposed),
        alerts=("ignore rule x matched nothing",),
        recovered=("action 12 (addr) was interrupted (run r0); re-detecting",),
        duration_s=6.5,
    )
    staging = WorkspaceResult(
        "staging", "auto", Status.SKIPPED, alerts=("skipped: workspace locked by h:1:ab",), duration_s=0.1
    )
    broken = WorkspaceResult(
        "dev", "propose", Status.ERROR, error="terraform init failed\nmore", duration_s=1
    )
    return ReconcileReport("run42", False, (prod, staging, broken), "2025-01-01T00:00:00Z", 7.0)


def test_console_says_what_happened_to_each_finding(mixed: ReconcileReport) -> None:
    text = render_reconcile(mixed, "console")
    assert text.startswith("driftctl reconcile — run run42\n")
    assert "prod  DRIFT  (mode auto, 6.5s)" in text
    assert f"healed         {SG} [critical]  (revert, risk 0.18 conf 0.90, healed in 4.3s)" in text
    assert f"proposed       {QUEUE} [medium]  (revert, risk 0.16 conf 0.90, proposal abcdef123456)" in text
    assert "hourly limit" in text and "→ saved plan /x/abcdef123456.tfplan" in text
    assert "! action 12 (addr) was interrupted" in text
    assert "alert: skipped: workspace locked by h:1:ab" in text
    assert "error: terraform init failed\n" in text and "more" not in text  # first line only
    assert text.rstrip().endswith(
        "1 workspace errored (dev), 1 workspace skipped (staging), 1 healed, 1 proposed; exit code 1. "
        "`driftctl proposals` lists what waits for a human."
    )
    assert "\x1b[" not in text  # no colour unless asked


def test_console_colour_only_when_asked(mixed: ReconcileReport) -> None:
    assert "\x1b[" in render_reconcile(mixed, "console", color=True)


def test_console_for_a_clean_dry_run() -> None:
    text = render_reconcile(report(Status.CLEAN, dry_run=True), "console")
    assert "(dry run: nothing applied or saved)" in text
    assert text.rstrip().endswith("no drift; exit code 0. `driftctl proposals` lists what waits for a human.")


@pytest.mark.parametrize(
    ("statuses", "summary"),
    [
        ((Status.ERROR,), "1 workspace errored (ws0); exit code 1."),
        ((Status.CLEAN, Status.ERROR, Status.ERROR), "2 workspaces errored (ws1, ws2); exit code 1."),
        ((Status.SKIPPED,), "1 workspace skipped (ws0); exit code 4."),
    ],
)
def test_console_never_says_no_drift_when_a_workspace_was_not_looked_at(
    statuses: tuple[Status, ...], summary: str
) -> None:
    # Issue 16 item 10: an errored workspace used to read "no drift; exit code 1".
    text = render_reconcile(report(*statuses), "console")
    last = text.rstrip().splitlines()[-1]
    assert last.startswith(summary)
    assert "no drift" not in text


def test_json_is_the_whole_report_with_enum_values(mixed: ReconcileReport) -> None:
    doc = json.loads(render_reconcile(mixed, "json"))
    assert doc["schema_version"] == "1"
    assert (doc["run_id"], doc["exit_code"], doc["dry_run"]) == ("run42", 1, False)
    prod, staging, dev = doc["workspaces"]
    assert [w["status"] for w in doc["workspaces"]] == ["drift", "skipped", "error"]
    assert [i["outcome"] for i in prod["items"]] == ["healed", "proposed"]
    assert prod["items"][0]["seconds"] == 4.31
    assert prod["items"][1]["proposal_id"] == "abcdef123456"
    assert prod["recovered"] == ["action 12 (addr) was interrupted (run r0); re-detecting"]
    assert staging["alerts"] == ["skipped: workspace locked by h:1:ab"]
    assert dev["error"] == "terraform init failed\nmore"
    assert set(prod["items"][0]) == {
        "address", "severity", "outcome", "strategy", "decision", "proposal_id", "risk", "confidence",
        "rationale", "where", "seconds",
    }  # fmt: skip


def test_markdown_is_a_pr_comment_with_a_marker(mixed: ReconcileReport) -> None:
    md = render_reconcile(mixed, "markdown")
    assert md.startswith("<!-- driftctl:reconcile workspace=prod,staging,dev -->\n## driftctl reconcile: ")
    assert "| `prod` | auto | drift | 2 |" in md
    assert f"| healed | `{SG}` | critical | revert | 0.18 | 0.90 |  |" in md
    assert (
        "| proposed | `module.app.aws_sqs_queue.jobs[0]` | medium | revert | 0.16 | 0.90 | `abcdef123456` |"
        in md
    )
    assert "**Error:** terraform init failed" in md
    assert md.rstrip().endswith("<sub>run run42 · exit code 1</sub>")


def test_console_wraps_long_rationales_to_the_width_given(mixed: ReconcileReport) -> None:
    long = ItemResult(QUEUE, "low", Outcome.PROPOSED, rationale=" ".join(["word"] * 200))
    ws = WorkspaceResult("prod", "auto", Status.DRIFT, (long,))
    text = render_reconcile(ReconcileReport("r", False, (ws,)), "console", width=60)
    lines = [line for line in text.splitlines() if "word" in line]
    assert len(lines) > 10 and all(len(line) <= 60 for line in lines)
    assert lines[0].startswith("      word") and lines[1].startswith("        word")
    assert " ".join(line.strip() for line in lines) == " ".join(["word"] * 200)  # nothing lost
    unwrapped = render_reconcile(ReconcileReport("r", False, (ws,)), "console")
    assert sum("word" in line for line in unwrapped.splitlines()) == 1
