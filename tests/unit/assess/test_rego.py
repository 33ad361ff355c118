"""Rego policies through regopy: the shipped Rego unit tests, real plan fixtures, and failing closed."""

from __future__ import annotations

import copy
import functools
import json
import re
import shutil
import time
from pathlib import Path
from typing import Any

import pytest
import regopy  # type: ignore[import-untyped]

from driftctl.assess import rego
from driftctl.assess.rego import (
    SHIPPED_POLICIES,
    PolicyError,
    PolicyTestResult,
    RegoEngine,
    RegoResult,
    run_policy_tests,
)
from driftctl.errors import DriftctlError

PLANS = Path(__file__).resolve().parents[2] / "fixtures" / "plans"
FIXES = Path(__file__).resolve().parents[2] / "fixtures" / "fixes"  # fix plans captured from the sandbox
SG = "module.app.module.network.aws_security_group.web"
QUEUE = "module.app.aws_sqs_queue.jobs[0]"
LOGS_BUCKET = 'module.storage["logs"].aws_s3_bucket.this'
BLUE = 'module.app.aws_instance.web["blue"]'


def load_plan(name: str) -> dict[str, Any]:
    plan: dict[str, Any] = json.loads((PLANS / name).read_text())
    return plan


def only_changes(plan: dict[str, Any], *addresses: str) -> dict[str, Any]:
    plan = copy.deepcopy(plan)
    plan["resource_changes"] = [rc for rc in plan["resource_changes"] if rc["address"] in addresses]
    assert len(plan["resource_changes"]) == len(addresses)
    return plan


def change_of(plan: dict[str, Any], address: str) -> dict[str, Any]:
    return next(rc for rc in plan["resource_changes"] if rc["address"] == address)


@functools.cache
def engine() -> RegoEngine:
    return RegoEngine([SHIPPED_POLICIES])


def write(directory: Path, name: str, text: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text(text)
    return path


def shipped_copy(tmp_path: Path) -> Path:
    target = tmp_path / "policies"
    shutil.copytree(SHIPPED_POLICIES, target, ignore=shutil.ignore_patterns("*.yaml"))
    return target


# --- the shipped Rego unit tests, run through regopy -------------------------------------------------


def shipped_test_names() -> list[str]:
    names = []
    for path in sorted(SHIPPED_POLICIES.glob("*_test.rego")):
        names += [f"{path.name}::{rule}" for rule in re.findall(r"^(test_\w+)", path.read_text(), re.M)]
    return names


@functools.cache
def shipped_results() -> dict[str, PolicyTestResult]:
    return {result.name: result for result in run_policy_tests([SHIPPED_POLICIES])}


@pytest.mark.parametrize("name", shipped_test_names())
def test_shipped_rego_unit_test_passes(name: str) -> None:
    result = shipped_results()[name]
    assert result.passed, result.message


def test_every_shipped_policy_file_has_rego_tests() -> None:
    policies = {p.stem for p in SHIPPED_POLICIES.glob("*.rego") if not p.stem.endswith("_test")}
    tested = {p.stem.removesuffix("_test") for p in SHIPPED_POLICIES.glob("*_test.rego")}
    assert policies - {"lib"} <= tested
    assert set(shipped_results()) == set(shipped_test_names())
    assert len(shipped_results()) >= 50


def test_the_runner_fails_a_broken_assertion(tmp_path: Path) -> None:
    policies = shipped_copy(tmp_path)
    network = policies / "network_test.rego"
    network.write_text(network.read_text().replace('ingress("tcp", 3000, 4000', 'ingress("tcp", 3390, 4000'))
    write(
        policies,
        "broken_test.rego",
        """package driftctl_test

import rego.v1

test_wrong_score if {
	d := decision_for([])
	d.score == 1
}

test_false_value := false

test_builtin_error if {
	net.cidr_contains("10.0.0.0/8", "10.1.2.3")
}

test_still_fine if {
	decision_for([]).deny == []
}
""",
    )
    results = {r.name: r for r in run_policy_tests([policies])}

    failed = {name for name, r in results.items() if not r.passed}
    assert failed == {
        "network_test.rego::test_a_port_range_covering_rdp_is_denied",
        "broken_test.rego::test_wrong_score",
        "broken_test.rego::test_false_value",
        "broken_test.rego::test_builtin_error",
    }
    assert results["broken_test.rego::test_wrong_score"].message == (
        "data.driftctl_test.test_wrong_score is undefined or not true"
    )
    assert "Networking builtins are not supported" in results["broken_test.rego::test_builtin_error"].message
    assert results["broken_test.rego::test_still_fine"].passed


# --- the engine on real plans ------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(p.name for p in PLANS.glob("*.json")))
def test_every_fixture_plan_evaluates_without_deny(name: str) -> None:
    result = engine().evaluate(load_plan(name))
    assert result.deny == ()
    assert result.score >= 0


FIX_DENIES = {
    "adopt_iam_widen": {"iam-wildcard"},
    "adopt_public_access": {"s3-public-access-block-off"},
    "adopt_sg_open": {"sg-admin-port-open"},
    "adopt_versioning": {"s3-versioning-off"},
    "code_delete_bucket": {
        "stateful-delete",
        "s3-encryption-off",
        "s3-versioning-off",
        "s3-public-access-block-off",
    },
}


@pytest.mark.parametrize("name", sorted(p.stem for p in FIXES.glob("*.json")))
def test_captured_fix_plans_deny_exactly_what_they_make_worse(name: str) -> None:
    result = engine().evaluate(json.loads((FIXES / f"{name}.json").read_text()))
    assert {m[1 : m.index("]")] for m in result.deny} == FIX_DENIES.get(name, set())


def test_the_reverts_in_a_normal_plan_only_warn() -> None:
    # The security group revert takes 0.0.0.0/0:22 away, the IAM revert removes "*": nothing new to deny.
    result = engine().evaluate(load_plan("all_drift_normal.json"))

    assert result == RegoResult(
        deny=(),
        warn=(
            "[iam-policy-unknown] module.app.aws_iam_role_policy.app: the policy document is known only "
            "after apply; review it",
            f"[size-change] {BLUE}: instance_type m5.large -> t3.micro",
        ),
        score=result.score,
        policies=result.policies,
    )
    assert str(SHIPPED_POLICIES / "network.rego") in result.policies
    assert str(SHIPPED_POLICIES / "weights.json") in result.policies


def test_the_score_sums_the_shipped_weights() -> None:
    plan = load_plan("all_drift_normal.json")
    weights = json.loads((SHIPPED_POLICIES / "weights.json").read_text())["driftctl"]["weights"]
    names = {("update",): "update", ("create",): "create", ("delete",): "delete"}
    expected = 0
    for rc in plan["resource_changes"]:
        action = names.get(tuple(rc["change"]["actions"]))
        if action:
            expected += weights.get(rc["type"], weights["default"]).get(action, weights["default"][action])

    assert engine().evaluate(plan).score == expected > 0


def test_a_fix_that_opens_ssh_to_the_world_is_denied() -> None:
    plan = only_changes(load_plan("all_drift_normal.json"), SG)
    sg = change_of(plan, SG)["change"]
    sg["before"], sg["after"] = sg["after"], sg["before"]  # the fix now adds 0.0.0.0/0:22

    result = engine().evaluate(plan)

    assert result.deny == (f"[sg-admin-port-open] {SG}: newly allows port 22 from 0.0.0.0/0",)


def test_the_revert_of_the_open_security_group_is_not_denied() -> None:
    result = engine().evaluate(only_changes(load_plan("all_drift_normal.json"), SG))
    assert (result.deny, result.warn) == ((), ())


def test_deleting_a_queue_is_denied() -> None:
    plan = only_changes(load_plan("all_drift_normal.json"), QUEUE)
    queue = change_of(plan, QUEUE)["change"]
    queue.update(actions=["delete"], after=None, after_unknown={}, after_sensitive=False)

    result = engine().evaluate(plan)

    assert result.deny == (f"[stateful-delete] {QUEUE}: delete of a stateful aws_sqs_queue loses its data",)


def test_a_tag_only_change_neither_denies_nor_warns() -> None:
    plan = only_changes(load_plan("all_drift_normal.json"), LOGS_BUCKET)
    result = engine().evaluate(plan)
    assert (result.deny, result.warn) == ((), ())
    assert result.score > 0


def test_one_engine_gives_independent_answers() -> None:
    normal = load_plan("all_drift_normal.json")
    opened = only_changes(normal, SG)
    sg = change_of(opened, SG)["change"]
    sg["before"], sg["after"] = sg["after"], sg["before"]

    first, second, third = (engine().evaluate(p) for p in (opened, normal, opened))

    assert first == third
    assert first.deny and not second.deny


def test_extra_policy_dirs_add_rules_and_data(tmp_path: Path) -> None:
    extra = tmp_path / "extra"
    write(
        extra,
        "logs.rego",
        """package driftctl

import rego.v1

deny contains msg if {
	some rc in input.resource_changes
	rc.type == "aws_cloudwatch_log_group"
	rc.change.before.retention_in_days < rc.change.after.retention_in_days
	msg := concat("", ["[team-logs] ", rc.address, ": retention grows"])
}
""",
    )
    ports = write(tmp_path, "ports.json", json.dumps({"driftctl": {"admin_ports": [443]}}))
    plan = load_plan("all_drift_normal.json")

    result = RegoEngine([SHIPPED_POLICIES, extra], data_files=[ports]).evaluate(plan)

    assert result.deny == ("[team-logs] module.app.aws_cloudwatch_log_group.app: retention grows",)
    assert str(extra / "logs.rego") in result.policies
    assert str(ports) in result.policies


def test_admin_ports_from_a_data_file_are_denied_too(tmp_path: Path) -> None:
    ports = write(tmp_path, "ports.json", json.dumps({"driftctl": {"admin_ports": [443]}}))
    plan = only_changes(load_plan("all_drift_normal.json"), SG)
    sg = change_of(plan, SG)["change"]
    sg["before"]["ingress"][1]["cidr_blocks"] = ["10.0.0.0/8"]
    sg["after"]["ingress"][0]["cidr_blocks"] = ["0.0.0.0/0"]  # 443 newly open to the world

    assert engine().evaluate(plan).deny == ()
    assert RegoEngine([SHIPPED_POLICIES], data_files=[ports]).evaluate(plan).deny == (
        f"[sg-admin-port-open] {SG}: newly allows port 443 from 0.0.0.0/0",
    )


def test_data_files_override_the_dirs_data(tmp_path: Path) -> None:
    heavier = {"driftctl": {"weights": {"aws_cloudwatch_log_group": {"update": 50}}}}
    weights = write(tmp_path, "weights.json", json.dumps(heavier))
    plan = load_plan("all_drift_normal.json")

    shipped = engine().evaluate(plan).score
    assert RegoEngine([SHIPPED_POLICIES], data_files=[weights]).evaluate(plan).score == shipped - 1 + 50


def test_warm_evaluation_of_a_50_resource_plan_is_timed() -> None:
    plan = load_plan("all_drift_normal.json")
    changes = plan["resource_changes"]
    plan["resource_changes"] = [
        {**rc, "address": f"module.copy{i}.{rc['address']}"} for i in range(4) for rc in changes
    ][:50]
    engine().evaluate(plan)
    times = []
    for _ in range(5):
        start = time.perf_counter()
        engine().evaluate(plan)
        times.append(time.perf_counter() - start)
    print(
        f"\nregopy: {min(times) * 1000:.0f} ms best, {sorted(times)[2] * 1000:.0f} ms median (50 resources)"
    )
    assert min(times) < 5


# --- failing closed ----------------------------------------------------------------------------------


def test_policy_error_is_a_driftctl_error() -> None:
    assert issubclass(PolicyError, DriftctlError)


def test_a_missing_dir_fails(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="does not exist"):
        RegoEngine([tmp_path / "nowhere"])


def test_no_dirs_fail() -> None:
    with pytest.raises(PolicyError, match="no policy directories"):
        RegoEngine([])


def test_an_empty_dir_fails(tmp_path: Path) -> None:
    write(tmp_path, "only_test.rego", "package x_test\n\nimport rego.v1\n\ntest_x if true\n")
    with pytest.raises(PolicyError, match="no Rego policies"):
        RegoEngine([tmp_path])


def test_a_syntax_error_names_the_file_and_line(tmp_path: Path) -> None:
    write(
        tmp_path, "broken.rego", "package driftctl\n\nimport rego.v1\n\ndeny contains msg if {\n\tmsg := \n"
    )
    with pytest.raises(PolicyError, match=r"broken\.rego: does not parse: line \d+: "):
        RegoEngine([SHIPPED_POLICIES, tmp_path])


V0_POLICIES = {
    "partial set": 'deny[msg] {\n\tinput.resource_changes[_].type == "aws_sqs_queue"\n\tmsg := "queue"\n}\n',
    "boolean rule": "allow {\n\ttrue\n}\n",
    "function with value": "f(x) = y {\n\ty := x\n}\n",
    "else without if": "a := 1 if {\n\tfalse\n} else {\n\ttrue\n}\n",
    "contains without if": 'warn contains msg {\n\tmsg := "x"\n}\n',
}


@pytest.mark.parametrize("source", V0_POLICIES.values(), ids=V0_POLICIES.keys())
def test_rego_v0_rule_bodies_are_rejected(tmp_path: Path, source: str) -> None:
    write(tmp_path, "legacy.rego", "package driftctl\n\nimport rego.v1\n\n" + source)
    with pytest.raises(PolicyError, match=r"legacy\.rego:\d+: rule body without `if` \(Rego v0 syntax\)"):
        RegoEngine([SHIPPED_POLICIES, tmp_path])


def test_an_object_deny_rule_is_rejected(tmp_path: Path) -> None:
    write(tmp_path, "obj.rego", 'package driftctl\n\nimport rego.v1\n\ndeny[msg] if {\n\tmsg := "x"\n}\n')
    with pytest.raises(PolicyError, match=r"obj\.rego:5: `deny\[\.\.\.\]` makes an object"):
        RegoEngine([SHIPPED_POLICIES, tmp_path])


def test_regopy_itself_misreads_v0_deny_as_an_object() -> None:
    """Why the v0 check exists: regopy 1.5 accepts `deny[msg] { }` and reads it as {msg: true}."""
    interpreter = regopy.Interpreter()
    interpreter.log_level = regopy.LogLevel.NONE
    interpreter.add_module("legacy.rego", 'package p\n\ndeny[msg] {\n\tmsg := "m"\n}\n')
    assert json.loads(str(interpreter.query("data.p.deny"))) == {"expressions": [{"m": True}]}


def test_v0_policies_still_fail_closed_without_the_check(tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.setattr(rego, "_check_v1", lambda module: None)
    write(tmp_path, "legacy.rego", "package driftctl\n\n" + V0_POLICIES["partial set"])
    plan = load_plan("all_drift_normal.json")
    with pytest.raises(PolicyError):
        RegoEngine([SHIPPED_POLICIES, tmp_path]).evaluate(plan)
    with pytest.raises(PolicyError, match="undefined"):
        RegoEngine([tmp_path]).evaluate(plan)


def test_valid_v1_is_not_mistaken_for_v0(tmp_path: Path) -> None:
    write(
        tmp_path,
        "tricky.rego",
        """package tricky

import rego.v1

# deny[msg] { in a comment }
obj := {"a": "deny[msg] { in a string }"}

set_value := {1, 2}

comprehension := {x | some x in [1, 2]}

default fallback := {}

grade := "high" if {
	input.x > 1
} else := "low"

notes contains {"id": 1} if true

f(x) := {"x": x}
""",
    )
    assert len(rego._load_dirs([tmp_path])[0]) == 1


def test_a_builtin_regopy_lacks_is_an_error_not_an_allow(tmp_path: Path) -> None:
    write(
        tmp_path,
        "cidr.rego",
        """package driftctl

import rego.v1

deny contains msg if {
	some rc in input.resource_changes
	some cidr in object.get(rc.change.after, "cidr_blocks", [])
	not net.cidr_contains("10.0.0.0/8", cidr)
	msg := "outside the private range"
}
""",
    )
    change = {"actions": ["create"], "before": None, "after": {"cidr_blocks": ["1.2.3.4/32"]}}
    plan = {"resource_changes": [{"address": "aws_security_group_rule.r", "type": "t", "change": change}]}
    with pytest.raises(PolicyError, match="Networking builtins are not supported"):
        RegoEngine([SHIPPED_POLICIES, tmp_path]).evaluate(plan)


def test_without_strict_builtins_regopy_would_silently_allow() -> None:
    """Why strict builtin errors are on: a missing builtin otherwise reads as undefined."""
    interpreter = regopy.Interpreter()
    interpreter.log_level = regopy.LogLevel.NONE
    interpreter.add_module(
        "p.rego", 'package p\n\nimport rego.v1\n\nok if net.cidr_contains("10.0.0.0/8", "1.1.1.1")\n'
    )
    assert str(interpreter.query("data.p.ok")) == "undefined"


def test_an_undefined_function_fails(tmp_path: Path) -> None:
    write(
        tmp_path,
        "typo.rego",
        "package driftctl\n\nimport rego.v1\n\nwarn contains msg if {\n\tmsg := no_such_function(1)\n}\n",
    )
    with pytest.raises(PolicyError, match=r"evaluating data\.driftctl\.decision failed"):
        RegoEngine([SHIPPED_POLICIES, tmp_path]).evaluate(load_plan("clean_refresh_only.json"))


def test_a_conflicting_rule_fails(tmp_path: Path) -> None:
    write(tmp_path, "score.rego", "package driftctl\n\nimport rego.v1\n\nscore := 5\n")
    with pytest.raises(PolicyError, match="multiple outputs"):
        RegoEngine([SHIPPED_POLICIES, tmp_path]).evaluate(load_plan("all_drift_normal.json"))


def test_policies_without_a_decision_fail(tmp_path: Path) -> None:
    write(tmp_path, "mine.rego", 'package driftctl\n\nimport rego.v1\n\ndeny contains "x" if false\n')
    with pytest.raises(PolicyError, match=r"data\.driftctl\.decision is undefined"):
        RegoEngine([tmp_path]).evaluate(load_plan("all_drift_normal.json"))


BAD_DECISIONS = {
    "not an object": ("1", "not an object"),
    "missing score": ('{"deny": [], "warn": []}', "has no score"),
    "deny a string": ('{"deny": "x", "warn": [], "score": 0}', "deny must be a list of strings"),
    "warn of numbers": ('{"deny": [], "warn": [1], "score": 0}', "warn must be a list of strings"),
    "score a string": ('{"deny": [], "warn": [], "score": "high"}', "score must be a number"),
    "score a boolean": ('{"deny": [], "warn": [], "score": true}', "score must be a number"),
}


@pytest.mark.parametrize(("value", "error"), BAD_DECISIONS.values(), ids=BAD_DECISIONS.keys())
def test_a_decision_of_the_wrong_shape_fails(tmp_path: Path, value: str, error: str) -> None:
    write(tmp_path, "decision.rego", f"package driftctl\n\nimport rego.v1\n\ndecision := {value}\n")
    with pytest.raises(PolicyError, match=error):
        RegoEngine([tmp_path]).evaluate(load_plan("all_drift_normal.json"))


NOT_PLANS = {
    "empty object": {},
    "a list": [],
    "changes not a list": {"format_version": "1.2", "resource_changes": "x"},
    "change without actions": {"resource_changes": [{"address": "a", "type": "t", "change": {}}]},
    "change not an object": {"resource_changes": ["aws_sqs_queue.jobs"]},
}


@pytest.mark.parametrize("plan", NOT_PLANS.values(), ids=NOT_PLANS.keys())
def test_input_that_is_not_a_plan_fails(plan: Any) -> None:
    # The policies would read such input as "no changes" and allow it.
    with pytest.raises(PolicyError, match="not a Terraform plan JSON"):
        engine().evaluate(plan)


def test_conflicting_data_in_the_dirs_fails(tmp_path: Path) -> None:
    write(tmp_path, "a.json", json.dumps({"driftctl": {"admin_ports": [22]}}))
    write(tmp_path, "b.json", json.dumps({"driftctl": {"admin_ports": [23]}}))
    with pytest.raises(PolicyError, match=r"conflict at data\.driftctl\.admin_ports"):
        RegoEngine([SHIPPED_POLICIES, tmp_path])


@pytest.mark.parametrize("text", ["[1, 2]", "{not json"])
def test_unusable_data_fails(tmp_path: Path, text: str) -> None:
    write(tmp_path, "bad.json", text)
    with pytest.raises(PolicyError, match=r"bad\.json"):
        RegoEngine([SHIPPED_POLICIES, tmp_path])
