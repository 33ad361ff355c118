"""Named out-of-band changes made with boto3 against the sandbox's moto server (I/O: moto).

Each mutation is what a person with console access might do: open a port to the world, retag a
bucket, suspend versioning. They change the cloud and never the Terraform state, which is the
definition of drift.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from driftctl.errors import SandboxError, UnknownTargetError
from driftctl.sandbox.state import StateResource

Clients = Callable[[str], Any]
MutationFn = Callable[[Clients, dict[str, Any], Mapping[str, str]], str]

TAGGABLE = (
    "aws_s3_bucket",
    "aws_security_group",
    "aws_instance",
    "aws_sqs_queue",
    "aws_iam_role",
    "aws_cloudwatch_log_group",
)


@dataclass(frozen=True, slots=True)
class Mutation:
    name: str
    types: tuple[str, ...]
    summary: str
    fn: MutationFn


@dataclass(frozen=True, slots=True)
class DriftResult:
    mutation: str
    address: str
    change: str


def _sg_open_world(c: Clients, a: dict[str, Any], p: Mapping[str, str]) -> str:
    port = int(p.get("port", "22"))
    c("ec2").authorize_security_group_ingress(
        GroupId=a["id"],
        IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": port, "ToPort": port, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}
        ],
    )
    return f"ingress tcp/{port} opened to 0.0.0.0/0"


def _tag(c: Clients, a: dict[str, Any], p: Mapping[str, str]) -> str:
    key, value = p.get("key", "owner"), p.get("value", "someone-else")
    arn, rid = a.get("arn", ""), a["id"]
    if arn.startswith("arn:aws:s3:::"):
        s3 = c("s3")
        try:
            tags = s3.get_bucket_tagging(Bucket=rid)["TagSet"]
        except Exception:
            tags = []
        tags = [t for t in tags if t["Key"] != key] + [{"Key": key, "Value": value}]
        s3.put_bucket_tagging(Bucket=rid, Tagging={"TagSet": tags})
    elif rid.startswith(("sg-", "i-")):
        c("ec2").create_tags(Resources=[rid], Tags=[{"Key": key, "Value": value}])
    elif ":sqs:" in arn:
        c("sqs").tag_queue(QueueUrl=rid, Tags={key: value})
    elif ":iam:" in arn:
        c("iam").tag_role(RoleName=rid, Tags=[{"Key": key, "Value": value}])
    else:
        c("logs").tag_log_group(logGroupName=rid, tags={key: value})
    return f"tag {key}={value!r} set"


def _versioning_suspend(c: Clients, a: dict[str, Any], p: Mapping[str, str]) -> str:
    c("s3").put_bucket_versioning(Bucket=a["bucket"], VersioningConfiguration={"Status": "Suspended"})
    return "versioning suspended"


def _public_access_off(c: Clients, a: dict[str, Any], p: Mapping[str, str]) -> str:
    c("s3").put_public_access_block(
        Bucket=a["bucket"],
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": False,
            "BlockPublicPolicy": False,
            "IgnorePublicAcls": False,
            "RestrictPublicBuckets": False,
        },
    )
    return "all four public-access-block settings turned off"


def _encryption_kms(c: Clients, a: dict[str, Any], p: Mapping[str, str]) -> str:
    c("s3").put_bucket_encryption(
        Bucket=a["bucket"],
        ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms"}}]
        },
    )
    return "default encryption switched to aws:kms"


def _instance_type(c: Clients, a: dict[str, Any], p: Mapping[str, str]) -> str:
    new_type = p.get("type", "m5.large")
    c("ec2").modify_instance_attribute(InstanceId=a["id"], InstanceType={"Value": new_type})
    return f"instance type {a.get('instance_type')} -> {new_type}"


def _instance_terminate(c: Clients, a: dict[str, Any], p: Mapping[str, str]) -> str:
    c("ec2").terminate_instances(InstanceIds=[a["id"]])
    return "instance terminated"


def _iam_policy_widen(c: Clients, a: dict[str, Any], p: Mapping[str, str]) -> str:
    policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
    c("iam").put_role_policy(RoleName=a["role"], PolicyName=a["name"], PolicyDocument=json.dumps(policy))
    return "inline policy widened to Action * on Resource *"


def _queue_delete(c: Clients, a: dict[str, Any], p: Mapping[str, str]) -> str:
    c("sqs").delete_queue(QueueUrl=a["id"])
    return "queue deleted"


def _queue_visibility(c: Clients, a: dict[str, Any], p: Mapping[str, str]) -> str:
    seconds = p.get("seconds", "5")
    c("sqs").set_queue_attributes(QueueUrl=a["id"], Attributes={"VisibilityTimeout": seconds})
    return f"visibility timeout -> {seconds}s"


def _queue_retention(c: Clients, a: dict[str, Any], p: Mapping[str, str]) -> str:
    seconds = p.get("seconds", "1209600")
    c("sqs").set_queue_attributes(QueueUrl=a["id"], Attributes={"MessageRetentionPeriod": seconds})
    return f"message retention -> {seconds}s"


def _log_retention(c: Clients, a: dict[str, Any], p: Mapping[str, str]) -> str:
    days = int(p.get("days", "1"))
    c("logs").put_retention_policy(logGroupName=a["id"], retentionInDays=days)
    return f"retention -> {days} days"


def _log_group_delete(c: Clients, a: dict[str, Any], p: Mapping[str, str]) -> str:
    c("logs").delete_log_group(logGroupName=a["id"])
    return "log group deleted"


MUTATIONS: dict[str, Mutation] = {
    m.name: m
    for m in (
        Mutation(
            "sg-open-world", ("aws_security_group",), "open a port (default 22) to 0.0.0.0/0", _sg_open_world
        ),
        Mutation("tag", TAGGABLE, "set a tag (key=owner value=someone-else by default)", _tag),
        Mutation(
            "versioning-suspend",
            ("aws_s3_bucket_versioning",),
            "suspend bucket versioning",
            _versioning_suspend,
        ),
        Mutation(
            "public-access-off",
            ("aws_s3_bucket_public_access_block",),
            "turn the bucket's public-access block off",
            _public_access_off,
        ),
        Mutation(
            "encryption-kms",
            ("aws_s3_bucket_server_side_encryption_configuration",),
            "switch default encryption to aws:kms",
            _encryption_kms,
        ),
        Mutation(
            "instance-type", ("aws_instance",), "change the instance type (default m5.large)", _instance_type
        ),
        Mutation("instance-terminate", ("aws_instance",), "terminate the instance", _instance_terminate),
        Mutation(
            "iam-policy-widen", ("aws_iam_role_policy",), "widen an inline policy to *:*", _iam_policy_widen
        ),
        Mutation("queue-delete", ("aws_sqs_queue",), "delete the queue", _queue_delete),
        Mutation(
            "queue-visibility",
            ("aws_sqs_queue",),
            "change the visibility timeout (default 5s)",
            _queue_visibility,
        ),
        Mutation(
            "queue-retention",
            ("aws_sqs_queue",),
            "change the message retention (default 1209600s = 14 days)",
            _queue_retention,
        ),
        Mutation(
            "log-retention", ("aws_cloudwatch_log_group",), "change retention (default 1 day)", _log_retention
        ),
        Mutation(
            "log-group-delete", ("aws_cloudwatch_log_group",), "delete the log group", _log_group_delete
        ),
    )
}


def pick_target(
    mutation: Mutation, resources: Mapping[str, StateResource], address: str | None
) -> StateResource:
    """The resource a mutation applies to: the given address, else the first of a matching type."""
    candidates = sorted(a for a, r in resources.items() if r.type in mutation.types)
    if address is None:
        if not candidates:
            raise UnknownTargetError(
                f"mutation {mutation.name!r} needs a resource of type {', '.join(mutation.types)}, "
                "and the sandbox state has none"
            )
        return resources[candidates[0]]
    resource = resources.get(address)
    if resource is None or resource.type not in mutation.types:
        what = "is not in the sandbox state" if resource is None else f"is a {resource.type}"
        raise UnknownTargetError(
            f"{address} {what}; mutation {mutation.name!r} applies to: "
            + (", ".join(candidates) or "(nothing in this state)")
        )
    return resource


def find_mutation(name: str) -> Mutation:
    try:
        return MUTATIONS[name]
    except KeyError:
        raise UnknownTargetError(
            f"unknown mutation {name!r}; known mutations: {', '.join(sorted(MUTATIONS))}"
        ) from None


def apply_mutation(
    name: str,
    resources: Mapping[str, StateResource],
    clients: Clients,
    *,
    address: str | None = None,
    params: Mapping[str, str] | None = None,
) -> DriftResult:
    mutation = find_mutation(name)
    target = pick_target(mutation, resources, address)
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        change = mutation.fn(clients, dict(target.attributes), dict(params or {}))
    except ClientError as exc:
        raise _refused(name, target.address, exc) from None
    except BotoCoreError as exc:
        raise SandboxError(f"{name} on {target.address}: the sandbox did not answer: {exc}") from None
    return DriftResult(mutation=name, address=target.address, change=change)


def _refused(name: str, address: str, exc: Any) -> SandboxError:
    """The AWS API's refusal in one sentence; an already-made change says so and how to redo it."""
    error = exc.response.get("Error", {}) if isinstance(getattr(exc, "response", None), dict) else {}
    code, message = str(error.get("Code", "")), str(error.get("Message", "")) or str(exc)
    what = f"{name} on {address}: {message} ({code})" if code else f"{name} on {address}: {message}"
    if "Duplicate" in code or "AlreadyExists" in code:
        return SandboxError(
            f"{what}: this drift is already in place",
            hint="heal it first (`driftctl reconcile --mode auto`, or `terraform apply` after "
            "`eval $(driftctl sandbox env)`), or ask for another value with --set",
        )
    if "NotFound" in code or "NonExistent" in code or code.startswith("NoSuch"):
        return SandboxError(
            f"{what}: the object is gone from the sandbox (deleted out of band?)",
            hint="`driftctl sandbox up` re-creates what the state holds",
        )
    return SandboxError(what)
