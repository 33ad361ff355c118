"""Sandbox SQS queues and CloudWatch log groups (I/O: moto)."""

from __future__ import annotations

from tf import types
from tf.iface import State
from tf.schema import Attribute, Schema

from driftctl.sandbox.provider.base import (
    SandboxResource,
    id_attrs,
    is_not_found,
    name_attr,
    tag_attrs,
    tags_from_aws,
)

_QUEUE_NUMBERS = {
    "visibility_timeout_seconds": ("VisibilityTimeout", 30),
    "message_retention_seconds": ("MessageRetentionPeriod", 345600),
    "delay_seconds": ("DelaySeconds", 0),
}
_QUEUE_GONE = ("AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist")


class SqsQueue(SandboxResource):
    name = "sqs_queue"

    @classmethod
    def get_schema(cls) -> Schema:
        return Schema(
            attributes=[
                *id_attrs(),
                Attribute("url", types.String(), computed=True),
                name_attr(),
                *(
                    Attribute(field, types.Number(), optional=True, computed=True, default=default)
                    for field, (_, default) in _QUEUE_NUMBERS.items()
                ),
                *tag_attrs(),
            ]
        )

    def _attributes(self, planned: State) -> dict[str, str]:
        return {
            aws: str(int(planned.get(field) or default)) for field, (aws, default) in _QUEUE_NUMBERS.items()
        }

    def _create(self, planned: State) -> State:
        sqs = self.client("sqs")
        kwargs = {"QueueName": planned["name"], "Attributes": self._attributes(planned)}
        if planned.get("tags"):
            kwargs["tags"] = dict(planned["tags"])
        url = sqs.create_queue(**kwargs)["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        numbers = {
            field: int(planned.get(field) or default) for field, (_, default) in _QUEUE_NUMBERS.items()
        }
        return {**planned, **numbers, "id": url, "url": url, "arn": arn}

    def _read(self, current: State) -> State | None:
        sqs = self.client("sqs")
        url = current["id"]
        try:
            attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
            tags = sqs.list_queue_tags(QueueUrl=url).get("Tags")
        except Exception as exc:
            if is_not_found(exc, *_QUEUE_GONE):
                return None
            raise
        return {
            **current,
            "id": url,
            "url": url,
            "arn": attrs["QueueArn"],
            "name": attrs["QueueArn"].rsplit(":", 1)[-1],
            **{field: int(attrs.get(aws, default)) for field, (aws, default) in _QUEUE_NUMBERS.items()},
            "tags": tags_from_aws(tags, current.get("tags")),
        }

    def _update(self, current: State, planned: State) -> State:
        sqs = self.client("sqs")
        url = current["id"]
        sqs.set_queue_attributes(QueueUrl=url, Attributes=self._attributes(planned))
        stale = [k for k in current.get("tags") or {} if k not in (planned.get("tags") or {})]
        if stale:
            sqs.untag_queue(QueueUrl=url, TagKeys=stale)
        if planned.get("tags"):
            sqs.tag_queue(QueueUrl=url, Tags=dict(planned["tags"]))
        return {**planned, "id": url, "url": url, "arn": current["arn"]}

    def _delete(self, current: State) -> None:
        try:
            self.client("sqs").delete_queue(QueueUrl=current["id"])
        except Exception as exc:
            if not is_not_found(exc, *_QUEUE_GONE):
                raise


class CloudwatchLogGroup(SandboxResource):
    name = "cloudwatch_log_group"

    @classmethod
    def get_schema(cls) -> Schema:
        return Schema(
            attributes=[
                *id_attrs(),
                name_attr(),
                Attribute("retention_in_days", types.Number(), optional=True, computed=True, default=0),
                *tag_attrs(),
            ]
        )

    def _find(self, name: str) -> dict[str, object] | None:
        groups = self.client("logs").describe_log_groups(logGroupNamePrefix=name)["logGroups"]
        return next((g for g in groups if g["logGroupName"] == name), None)

    def _create(self, planned: State) -> State:
        logs = self.client("logs")
        name = planned["name"]
        logs.create_log_group(
            logGroupName=name, **({"tags": dict(planned["tags"])} if planned.get("tags") else {})
        )
        retention = int(planned.get("retention_in_days") or 0)
        if retention:
            logs.put_retention_policy(logGroupName=name, retentionInDays=retention)
        group = self._find(name) or {}
        return {**planned, "id": name, "arn": str(group.get("arn", "")), "retention_in_days": retention}

    def _read(self, current: State) -> State | None:
        group = self._find(current["id"])
        if group is None:
            return None
        tags = self.client("logs").list_tags_log_group(logGroupName=current["id"]).get("tags")
        return {
            **current,
            "name": group["logGroupName"],
            "arn": str(group.get("arn", "")),
            "retention_in_days": int(str(group.get("retentionInDays", 0))),
            "tags": tags_from_aws(tags, current.get("tags")),
        }

    def _update(self, current: State, planned: State) -> State:
        logs = self.client("logs")
        name = current["id"]
        retention = int(planned.get("retention_in_days") or 0)
        if retention:
            logs.put_retention_policy(logGroupName=name, retentionInDays=retention)
        else:
            logs.delete_retention_policy(logGroupName=name)
        stale = [k for k in current.get("tags") or {} if k not in (planned.get("tags") or {})]
        if stale:
            logs.untag_log_group(logGroupName=name, tags=stale)
        if planned.get("tags"):
            logs.tag_log_group(logGroupName=name, tags=dict(planned["tags"]))
        return {**planned, "id": name, "arn": current["arn"]}

    def _delete(self, current: State) -> None:
        try:
            self.client("logs").delete_log_group(logGroupName=current["id"])
        except Exception as exc:
            if not is_not_found(exc, "ResourceNotFoundException"):
                raise
