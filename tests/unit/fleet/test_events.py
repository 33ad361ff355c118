"""CloudTrail events → workspaces: parsing, own-identity filter, state index, debouncer (no I/O)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from driftctl.fleet.events import SUPPORTED, Debouncer, own_call, parse_event, workspaces_for
from driftctl.fleet.index import address_of, build_index

DRIFTCTL_ARN = "arn:aws:sts::123456789012:assumed-role/driftctl/worker-1"


def cloudtrail(
    source: str,
    name: str,
    request: dict[str, Any],
    *,
    arn: str = "arn:aws:iam::123456789012:user/alice",
    response: dict[str, Any] | None = None,
    **detail: Any,
) -> str:
    """An EventBridge envelope around a CloudTrail record, as AWS delivers it to an SQS target."""
    return json.dumps(
        {
            "version": "0",
            "detail-type": "AWS API Call via CloudTrail",
            "source": "aws." + source.split(".")[0],
            "detail": {
                "eventVersion": "1.09",
                "userIdentity": {"type": "IAMUser", "arn": arn},
                "eventSource": source,
                "eventName": name,
                "requestParameters": request,
                "responseElements": response,
                **detail,
            },
        }
    )


def _state(*resources: tuple[str, str, str | None, list[dict[str, Any]]]) -> dict[str, Any]:
    return {
        "resources": [
            {"mode": "managed", "type": t, "name": n, **({"module": m} if m else {}), "instances": inst}
            for t, n, m, inst in resources
        ]
    }


INDEX = build_index(
    [
        (
            "shop",
            _state(
                ("aws_s3_bucket", "this", 'module.storage["logs"]', [{"attributes": {"id": "shop-logs",
                 "arn": "arn:aws:s3:::shop-logs", "bucket": "shop-logs"}}]),
                ("aws_security_group", "web", None, [{"index_key": 0, "attributes": {"id": "sg-0abc",
                 "name": "web"}}]),
                ("aws_s3_bucket_versioning", "this", None, [{"attributes": {"id": "shop-logs",
                 "bucket": "shop-logs"}}]),
            ),
        ),
        ("data", _state(("aws_iam_role", "etl", None, [{"attributes": {"id": "etl", "name": "etl",
          "arn": "arn:aws:iam::123456789012:role/etl"}}]))),
        ("empty", None),
    ]
)  # fmt: skip


def test_addresses_are_exact() -> None:
    res = {"type": "aws_instance", "name": "web", "module": "module.app"}
    assert address_of(res, {"index_key": "blue"}) == 'module.app.aws_instance.web["blue"]'
    assert address_of(res, {"index_key": 2}) == "module.app.aws_instance.web[2]"
    assert address_of({"type": "aws_s3_bucket", "name": "b"}, {}) == "aws_s3_bucket.b"


def test_a_bucket_call_maps_to_every_resource_of_that_bucket() -> None:
    call = parse_event(cloudtrail("s3.amazonaws.com", "PutBucketTagging", {"bucketName": "shop-logs"}))
    assert call is not None and call.ids == ("shop-logs",)
    assert workspaces_for(call, INDEX) == ["shop"]
    assert [h.address for h in INDEX.lookup(call.ids)] == [
        "aws_s3_bucket_versioning.this",
        'module.storage["logs"].aws_s3_bucket.this',
    ]


def test_ids_are_found_nested_in_request_and_response() -> None:
    body = cloudtrail(
        "ec2.amazonaws.com",
        "AuthorizeSecurityGroupIngress",
        {
            "groupId": "sg-0abc",
            "ipPermissions": {"items": [{"ipRanges": {"items": [{"cidrIp": "0.0.0.0/0"}]}}]},
        },
    )
    call = parse_event(body)
    assert call is not None and "sg-0abc" in call.ids and "0.0.0.0/0" in call.ids
    assert [h.address for h in INDEX.lookup(call.ids)] == ["aws_security_group.web[0]"]
    role = parse_event(
        cloudtrail("iam.amazonaws.com", "PutRolePolicy", {"roleName": "etl", "policyName": "x"})
    )
    assert role is not None and workspaces_for(role, INDEX) == ["data"]


@pytest.mark.parametrize(
    ("name", "extra"),
    [
        ("GetBucketTagging", {}),  # not a mutating call
        ("PutBucketTagging", {"errorCode": "AccessDenied"}),  # failed: nothing changed
        ("PutBucketTagging", {"readOnly": True}),
    ],
)
def test_calls_that_change_nothing_map_to_nothing(name: str, extra: dict[str, Any]) -> None:
    call = parse_event(cloudtrail("s3.amazonaws.com", name, {"bucketName": "shop-logs"}, **extra))
    assert call is None or workspaces_for(call, INDEX) == []


def test_unknown_resources_and_junk_map_to_nothing() -> None:
    call = parse_event(cloudtrail("s3.amazonaws.com", "PutBucketTagging", {"bucketName": "not-managed"}))
    assert call is not None and workspaces_for(call, INDEX) == []
    assert parse_event("not json") is None
    assert parse_event(json.dumps({"detail-type": "EC2 Instance State-change Notification"})) is None
    assert parse_event(json.dumps([1, 2])) is None


def test_a_bare_cloudtrail_record_is_read_too() -> None:
    record = json.loads(cloudtrail("s3.amazonaws.com", "PutBucketTagging", {"bucketName": "shop-logs"}))
    call = parse_event(json.dumps(record["detail"]))
    assert call is not None and workspaces_for(call, INDEX) == ["shop"]


def test_driftctls_own_calls_are_dropped() -> None:
    own = parse_event(
        cloudtrail("s3.amazonaws.com", "PutBucketTagging", {"bucketName": "shop-logs"}, arn=DRIFTCTL_ARN)
    )
    other = parse_event(cloudtrail("s3.amazonaws.com", "PutBucketTagging", {"bucketName": "shop-logs"}))
    assert own is not None and other is not None
    assert own_call(own, [DRIFTCTL_ARN])
    assert own_call(own, ["arn:aws:sts::123456789012:assumed-role/driftctl/*"])  # any session of the role
    assert not own_call(other, [DRIFTCTL_ARN])
    assert not own_call(own, [])


def test_an_assumed_role_is_known_by_its_session_issuer() -> None:
    body = json.loads(cloudtrail("s3.amazonaws.com", "PutBucketTagging", {"bucketName": "shop-logs"}))
    body["detail"]["userIdentity"] = {
        "type": "AssumedRole",
        "sessionContext": {"sessionIssuer": {"arn": "arn:aws:iam::123456789012:role/driftctl"}},
    }
    call = parse_event(json.dumps(body))
    assert call is not None and own_call(call, ["arn:aws:iam::123456789012:role/driftctl"])


def test_every_supported_source_names_real_calls() -> None:
    assert set(SUPPORTED) == {
        "s3.amazonaws.com",
        "ec2.amazonaws.com",
        "iam.amazonaws.com",
        "sqs.amazonaws.com",
        "logs.amazonaws.com",
    }
    assert all(calls and all(c[0].isupper() for c in calls) for calls in SUPPORTED.values())


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_debouncer_waits_for_quiet_then_fires_once() -> None:
    clock = Clock()
    d = Debouncer(debounce_s=10, max_wait_s=60, clock=clock)
    d.add("shop")
    clock.now += 5
    d.add("shop")  # a burst: the quiet period starts again
    d.add("data")
    clock.now += 9
    assert d.due() == []
    clock.now += 1
    assert d.due() == ["data", "shop"]
    assert d.due() == [] and d.pending == []


def test_the_debouncer_fires_after_max_wait_even_if_events_keep_coming() -> None:
    clock = Clock()
    d = Debouncer(debounce_s=10, max_wait_s=30, clock=clock)
    for _ in range(7):
        d.add("shop")
        clock.now += 5
        if d.due():
            break
    assert clock.now - 1000.0 == 30.0  # fired at max_wait, though it never went quiet
    assert d.pending == []
