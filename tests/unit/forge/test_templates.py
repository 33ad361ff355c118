"""Comment templates: golden files from proposals captured in a real run, and hostile values made inert.

Regenerate after an intended change with ``DRIFTCTL_UPDATE_GOLDEN=1 .venv/bin/pytest tests/unit/forge``
and review the diff of ``tests/unit/forge/golden/``; the README's sample is the apply reply's golden.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

from driftctl.audit.tables import ProposalRow
from driftctl.forge.templates import (
    ProposalView,
    adopt_pull,
    apply_reply,
    approve_reply,
    drift_issue,
    marker,
    reject_reply,
)
from driftctl.forge.text import split_comment
from tests.unit.forge.test_text import balanced

ROOT = Path(__file__).parents[3]
GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("DRIFTCTL_UPDATE_GOLDEN", "") not in ("", "0")
FIXTURE = ROOT / "tests/fixtures/forge/proposals.json"  # two proposals from a real sandbox run


def views() -> dict[str, ProposalView]:
    rows = [ProposalRow(run_id="r", **r) for r in json.loads(FIXTURE.read_text())]
    return {r.strategy: ProposalView.from_row(r) for r in rows}


def rendered() -> dict[str, str]:
    v = views()
    adopt, revert = v["adopt"], v["revert"]
    title, body = adopt_pull(adopt)
    issue_title, issue_body = drift_issue("sandbox", [revert])
    return {
        "adopt_pull.md": f"# {title}\n\n{body}\n",
        "drift_issue.md": f"# {issue_title}\n\n{issue_body}\n",
        "apply_reply.md": apply_reply(adopt, "applied", "wrote the adopt edit under the workspace; commit it")
        + "\n",
        "apply_reply_revert.md": apply_reply(
            revert, "applied", "applied the approved plan; the drift is gone"
        )
        + "\n",
        "approve_reply.md": approve_reply(revert, "alice") + "\n",
        "reject_reply.md": reject_reply(revert, "alice") + "\n",
    }


@pytest.mark.parametrize("name", sorted(rendered()))
def test_golden(name: str) -> None:
    text = rendered()[name]
    path = GOLDEN / name
    if UPDATE:
        GOLDEN.mkdir(exist_ok=True)
        path.write_text(text)
    assert text == path.read_text(), f"{name} changed: DRIFTCTL_UPDATE_GOLDEN=1 to accept, then review"
    balanced(text)


def test_the_readme_sample_is_the_golden_apply_reply() -> None:
    readme = (ROOT / "README.md").read_text()
    sample = re.search(r"<!-- forge-sample:start -->\n(.*?)<!-- forge-sample:end -->", readme, re.S)
    assert sample is not None, "README.md has no forge sample between its markers"
    assert sample.group(1) == (GOLDEN / "apply_reply.md").read_text()


HOSTILE_TAG = "<img src=x onerror=alert(1)>`\n```\n</details>@admin @acme/sec-team\x1b[2J\u202eexe.txt"


def test_hostile_values_are_inert_everywhere() -> None:
    base = views()["adopt"]
    evil = ProposalView(
        id=base.id,
        workspace="sandbox",
        address='module.x.aws_s3_bucket.b["<b>@admin</b>"]',
        strategy="adopt",
        status="pending",
        rationale=f"tags.owner drifted to {HOSTILE_TAG}",
        risk=0.1,
        confidence=0.9,
        changes=(("tags.owner", None, HOSTILE_TAG), (f"tags[{HOSTILE_TAG}]", "`a`", "b")),
        diff=f'+    owner = "{HOSTILE_TAG}"\n',
        verification=f"verified: {HOSTILE_TAG}",
        reasons=(HOSTILE_TAG,),
        decision=(HOSTILE_TAG,),
    )
    _, pull = adopt_pull(evil)
    _, issue = drift_issue("sandbox", [evil])
    md = MarkdownIt("commonmark", {"html": True}).enable("table")
    for body in (pull, issue, apply_reply(evil, "failed", HOSTILE_TAG)):
        balanced(body)
        html = md.render(body)
        assert "<img" not in html and "<b>" not in html  # HTML from values is shown, never rendered
        assert "\x1b" not in body and "\u202e" not in body  # control and bidi characters dropped
        assert re.search(r"@(admin|acme)", body) is None  # no mention notifies anyone
        # the only raw HTML is ours: <details>/<summary> and the hidden marker
        tags = set(re.findall(r"<(/?[a-z0-9]+)", re.sub(r"<(pre|code)>.*?</\1>", "", html, flags=re.S)))
        assert tags <= {
            "p",
            "/p",
            "h3",
            "/h3",
            "h4",
            "/h4",
            "ul",
            "/ul",
            "li",
            "/li",
            "table",
            "/table",
            "thead",
            "/thead",
            "tbody",
            "/tbody",
            "tr",
            "/tr",
            "th",
            "/th",
            "td",
            "/td",
            "details",
            "/details",
            "summary",
            "/summary",
            "strong",
            "/strong",
            "em",
            "/em",
            "hr",
            "pre",
            "/pre",
            "code",
            "/code",
        }, tags
    assert marker("adopt", "sandbox", evil.address) in pull  # the address is hashed into the marker


def test_a_huge_drift_table_stays_under_the_limit_when_split() -> None:
    base = views()["revert"]
    many = [
        ProposalView(**{**{f: getattr(base, f) for f in base.__slots__}, "id": f"{i:012x}"})
        for i in range(400)
    ]
    _, body = drift_issue("sandbox", many)
    for part in split_comment(body, 65_536):
        assert len(part) <= 65_536
        balanced(part)
