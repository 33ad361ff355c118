"""Blast radius on captured fix plans, the scoring rules, and the decision (no policy engines)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from driftctl.assess.blast import blast_radius, config_address, dependency_graph, load_weights
from driftctl.assess.decide import Gate, decide
from driftctl.assess.score import score
from driftctl.errors import ConfigError
from driftctl.models import Assessment, DecisionKind, Draft, Strategy, Verification

FIXES = Path(__file__).parents[2] / "fixtures" / "fixes"
WEIGHTS = load_weights()


def plan(name: str) -> dict[str, Any]:
    return json.loads((FIXES / f"{name}.json").read_text())


@dataclass
class FakeRego:
    deny: tuple[str, ...] = ()
    warn: tuple[str, ...] = ()
    score: float = 0.0
    policies: tuple[str, ...] = field(default=())


def test_module_aware_graph_follows_outputs_and_inputs() -> None:
    graph = dependency_graph(plan("revert_sg_open")["configuration"])
    # The instance references module.network.security_group_id → the child module's security group.
    assert "module.app.module.network.aws_security_group.web" in graph["module.app.aws_instance.web"]
    assert graph["module.storage.aws_s3_bucket_versioning.this"] == {"module.storage.aws_s3_bucket.this"}
    assert config_address('module.storage["logs"].aws_s3_bucket.this') == "module.storage.aws_s3_bucket.this"


def test_reverting_a_security_group_reaches_the_instances_that_use_it() -> None:
    blast = blast_radius(plan("revert_sg_open"), WEIGHTS)
    assert blast.changed == (("module.app.module.network.aws_security_group.web", "update"),)
    assert blast.dependents == ("module.app.aws_instance.web",)


@pytest.mark.parametrize(
    ("smaller", "larger"),
    [
        ("revert_tag", "revert_sg_open"),  # a log group weighs less than a security group
        ("revert_instance_type", "code_replace_instances"),  # replace > update
        ("revert_sg_open", "heal_all"),  # more changes, more risk
        ("code_replace_instances", "code_delete_bucket"),  # delete > replace
    ],
)
def test_blast_risk_orders_fixes_sensibly(smaller: str, larger: str) -> None:
    assert blast_radius(plan(smaller), WEIGHTS).risk < blast_radius(plan(larger), WEIGHTS).risk


def test_adding_a_delete_never_lowers_risk() -> None:
    base = plan("revert_tag")
    with_delete = json.loads(json.dumps(base))
    extra = json.loads(json.dumps(base["resource_changes"][0]))
    extra["address"] = "module.app.aws_sqs_queue.jobs[0]"
    extra["type"] = "aws_sqs_queue"
    extra["change"]["actions"] = ["delete"]
    with_delete["resource_changes"].append(extra)
    assert blast_radius(with_delete, WEIGHTS).risk > blast_radius(base, WEIGHTS).risk


def test_a_no_op_plan_has_no_blast() -> None:
    doc = plan("revert_tag")
    for rc in doc["resource_changes"]:
        rc["change"]["actions"] = ["no-op"]
    assert blast_radius(doc, WEIGHTS).risk == 0.0


def test_broken_weights_file_fails_closed(tmp_path: Path) -> None:
    bad = tmp_path / "w.yaml"
    bad.write_text("actions: [1, 2]\n")
    with pytest.raises(ConfigError, match="weights"):
        load_weights(bad)


def _verified(confidence: float = 0.9, ok: bool = True, attempts: int = 1) -> tuple[Draft, Verification]:
    draft = Draft("a.b", Strategy.REVERT, "rules", confidence=confidence)
    return draft, Verification(ok, "fine" if ok else "still drifts", attempts=attempts)


def test_any_deny_means_risk_one_and_block_whatever_else() -> None:
    draft, check = _verified(1.0)
    blast = blast_radius(plan("revert_tag"), WEIGHTS)
    assessment = score(blast=blast, rego=FakeRego(deny=("no",)), draft=draft, verification=check)
    assert assessment.risk == 1.0
    decision = decide(assessment, Gate(mode="auto", max_risk=1.0, confidence_threshold=0.0))
    assert decision.kind is DecisionKind.BLOCK and decision.reasons == ("policy denies: no",)


def test_auto_apply_needs_every_condition_and_says_which_failed() -> None:
    draft, check = _verified(0.9)
    blast = blast_radius(plan("revert_tag"), WEIGHTS)
    assessment = score(blast=blast, rego=FakeRego(), draft=draft, verification=check)
    assert assessment.confidence == 0.9 and assessment.risk == blast.risk
    assert decide(assessment, Gate(mode="auto")).kind is DecisionKind.AUTO_APPLY
    held = decide(assessment, Gate(mode="propose", breaker_open=True, rate_limited=True))
    assert held.kind is DecisionKind.PROPOSE
    assert any("mode is propose" in r for r in held.reasons)
    assert any("breaker" in r for r in held.reasons) and any("hourly limit" in r for r in held.reasons)
    assert decide(assessment, Gate(mode="auto", confidence_threshold=0.95)).kind is DecisionKind.PROPOSE


def test_failed_verification_zeroes_confidence_and_unverified_plans_never_qualify() -> None:
    blast = blast_radius(plan("revert_tag"), WEIGHTS)
    draft, failed = _verified(0.9, ok=False)
    assert score(blast=blast, rego=FakeRego(), draft=draft, verification=failed).confidence == 0.0
    bare = score(blast=blast, rego=FakeRego())
    assert bare.confidence == 0.5
    assert decide(bare, Gate(mode="auto")).kind is DecisionKind.PROPOSE


def test_warnings_and_new_checkov_failures_raise_risk_with_reasons() -> None:
    @dataclass
    class Check:
        check_id: str
        address: str
        severity: str

    @dataclass
    class Checkov:
        new_failures: tuple[Check, ...]
        fixed: tuple[Check, ...] = ()

    blast = blast_radius(plan("revert_tag"), WEIGHTS)
    base = score(blast=blast, rego=FakeRego())
    worse = score(
        blast=blast,
        rego=FakeRego(warn=("instance type changes",)),
        checkov=Checkov((Check("CKV_AWS_24", "aws_security_group.web", "critical"),)),
    )
    assert worse.risk > base.risk + 0.5
    messages = [r.message for r in worse.reasons]
    assert any("CKV_AWS_24 newly fails" in m for m in messages)
    assert any("warn: instance type changes" in m for m in messages)


def test_assessment_clamps_to_unit_interval() -> None:
    assessment = Assessment(risk=0.2, confidence=0.9)
    assert decide(assessment, Gate(mode="auto")).kind is DecisionKind.AUTO_APPLY


def test_a_hold_keeps_a_fix_that_would_auto_apply_as_a_proposal_with_its_reason() -> None:
    draft, check = _verified(0.9)
    assessment = score(
        blast=blast_radius(plan("revert_tag"), WEIGHTS), rego=FakeRego(), draft=draft, verification=check
    )
    reason = "outside the maintenance window (daily 22:00-06:00 UTC): fixes are proposed, not applied"
    held = decide(assessment, Gate(mode="auto", hold=reason))
    assert held.kind is DecisionKind.PROPOSE and held.reasons == (reason,)


def test_a_cap_by_the_drafters_own_confidence_is_exact() -> None:
    """The rules drafter says 0.85 and the evidence says more: the confidence is 0.85, not 0.8499, which
    misses the 0.85 threshold and turned the queue-deleted scenario's heal into a proposal."""
    from driftctl.assess.blast import BlastRadius

    blast = BlastRadius(changed=(("aws_sqs_queue.q", "create"),), dependents=("x",), score=2.85, risk=0.2114)
    draft = Draft("aws_sqs_queue.q", Strategy.REVERT, "rules", (), "re-create", 0.85)
    verification = Verification(True, "a targeted plan creates aws_sqs_queue.q and nothing else")
    assessment = score(blast=blast, rego=FakeRego(), draft=draft, verification=verification)
    assert assessment.confidence == 0.85
    assert decide(assessment, Gate(mode="auto")).kind is DecisionKind.AUTO_APPLY
