"""Mutation lookup and targeting: bad input says what exists."""

from __future__ import annotations

import pytest

from driftctl.errors import UnknownTargetError
from driftctl.sandbox.drift import MUTATIONS, apply_mutation, find_mutation, pick_target
from driftctl.sandbox.state import StateResource

RESOURCES = {
    a: StateResource(a, t, {"id": a})
    for a, t in [
        ('module.app.aws_instance.web["green"]', "aws_instance"),
        ('module.app.aws_instance.web["blue"]', "aws_instance"),
        ("module.app.aws_iam_role.app", "aws_iam_role"),
    ]
}


def test_unknown_mutation_names_all_known_ones() -> None:
    with pytest.raises(UnknownTargetError) as info:
        find_mutation("nope")
    for name in MUTATIONS:
        assert name in info.value.message


def test_default_target_is_the_first_matching_address() -> None:
    target = pick_target(MUTATIONS["instance-type"], RESOURCES, None)
    assert target.address == 'module.app.aws_instance.web["blue"]'


def test_missing_address_lists_candidates() -> None:
    with pytest.raises(UnknownTargetError) as info:
        pick_target(MUTATIONS["instance-type"], RESOURCES, "aws_instance.gone")
    assert "aws_instance.gone is not in the sandbox state" in info.value.message
    assert 'web["blue"]' in info.value.message and 'web["green"]' in info.value.message


def test_no_resource_of_the_needed_type() -> None:
    with pytest.raises(UnknownTargetError, match="needs a resource of type aws_sqs_queue"):
        pick_target(MUTATIONS["queue-delete"], RESOURCES, None)


def test_apply_mutation_passes_params_and_reports_the_change() -> None:
    calls: list[tuple[str, dict[str, object]]] = []

    class FakeEc2:
        def modify_instance_attribute(self, **kwargs: object) -> None:
            calls.append(("modify", kwargs))

    result = apply_mutation(
        "instance-type",
        RESOURCES,
        lambda _svc: FakeEc2(),
        address='module.app.aws_instance.web["green"]',
        params={"type": "c5.xlarge"},
    )
    assert result.address == 'module.app.aws_instance.web["green"]'
    assert "c5.xlarge" in result.change
    assert calls == [
        (
            "modify",
            {"InstanceId": 'module.app.aws_instance.web["green"]', "InstanceType": {"Value": "c5.xlarge"}},
        )
    ]


def _refusing(code: str, message: str) -> object:
    from botocore.exceptions import ClientError

    class RefusingEc2:
        def modify_instance_attribute(self, **kwargs: object) -> None:
            raise ClientError({"Error": {"Code": code, "Message": message}}, "ModifyInstanceAttribute")

    return RefusingEc2()


@pytest.mark.parametrize(
    ("code", "message", "expected"),
    [
        (
            "InvalidPermission.Duplicate",
            "The specified rule already exists",
            "The specified rule already exists (InvalidPermission.Duplicate): this drift is already in place",
        ),
        ("InvalidInstanceID.NotFound", "no such instance", "the object is gone from the sandbox"),
        ("UnauthorizedOperation", "not allowed", "not allowed (UnauthorizedOperation)"),
    ],
)
def test_an_aws_refusal_is_one_sandbox_error(code: str, message: str, expected: str) -> None:
    from driftctl.errors import SandboxError

    with pytest.raises(SandboxError) as info:
        apply_mutation("instance-type", RESOURCES, lambda _svc: _refusing(code, message))
    assert info.value.message.startswith('instance-type on module.app.aws_instance.web["blue"]: ')
    assert expected in info.value.message
