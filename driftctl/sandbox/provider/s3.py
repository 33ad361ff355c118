"""Sandbox S3 resources: bucket, versioning, public-access block, default encryption (I/O: moto)."""

from __future__ import annotations

from typing import Any

from tf import types
from tf.iface import State
from tf.schema import Attribute, Block, Schema

from driftctl.sandbox.provider.base import (
    ExactSetBlock,
    SandboxResource,
    id_attrs,
    is_not_found,
    name_attr,
    tag_attrs,
    tag_list,
    tags_from_aws,
)

_GONE = ("NoSuchBucket", "404", "NotFound")


def _bucket_exists(s3: Any, bucket: str) -> bool:
    try:
        s3.head_bucket(Bucket=bucket)
    except Exception as exc:
        if is_not_found(exc, *_GONE):
            return False
        raise
    return True


class S3Bucket(SandboxResource):
    name = "s3_bucket"
    generated_name = "bucket"

    @classmethod
    def get_schema(cls) -> Schema:
        return Schema(
            attributes=[
                *id_attrs(),
                name_attr("bucket"),
                Attribute("force_destroy", types.Bool(), optional=True, computed=True, default=False),
                *tag_attrs(),
            ]
        )

    def _create(self, planned: State) -> State:
        s3 = self.client("s3")
        s3.create_bucket(Bucket=planned["bucket"])
        if planned.get("tags"):
            s3.put_bucket_tagging(Bucket=planned["bucket"], Tagging={"TagSet": tag_list(planned["tags"])})
        return {
            **planned,
            "id": planned["bucket"],
            "arn": f"arn:aws:s3:::{planned['bucket']}",
            "force_destroy": bool(planned.get("force_destroy")),
        }

    def _read(self, current: State) -> State | None:
        s3 = self.client("s3")
        bucket = current["id"]
        if not _bucket_exists(s3, bucket):
            return None
        try:
            tagset = s3.get_bucket_tagging(Bucket=bucket)["TagSet"]
        except Exception as exc:
            if not is_not_found(exc, "NoSuchTagSet"):
                raise
            tagset = []
        return {
            **current,
            "id": bucket,
            "bucket": bucket,
            "arn": f"arn:aws:s3:::{bucket}",
            "force_destroy": bool(current.get("force_destroy")),
            "tags": tags_from_aws(tagset, current.get("tags")),
        }

    def _update(self, current: State, planned: State) -> State:
        s3 = self.client("s3")
        if planned.get("tags"):
            s3.put_bucket_tagging(Bucket=current["id"], Tagging={"TagSet": tag_list(planned["tags"])})
        else:
            s3.delete_bucket_tagging(Bucket=current["id"])
        return {**planned, "id": current["id"], "arn": current["arn"]}

    def _delete(self, current: State) -> None:
        s3 = self.client("s3")
        bucket = current["id"]
        if not _bucket_exists(s3, bucket):
            return
        if current.get("force_destroy"):
            for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
                for item in page.get("Versions", []) + page.get("DeleteMarkers", []):
                    s3.delete_object(Bucket=bucket, Key=item["Key"], VersionId=item["VersionId"])
        s3.delete_bucket(Bucket=bucket)


class S3BucketVersioning(SandboxResource):
    name = "s3_bucket_versioning"
    has_tags = False
    generated_name = None

    @classmethod
    def get_schema(cls) -> Schema:
        return Schema(
            attributes=[
                Attribute("id", types.String(), computed=True),
                Attribute("bucket", types.String(), required=True, requires_replace=True),
            ],
            block_types=[
                ExactSetBlock(
                    "versioning_configuration",
                    Block(attributes=[Attribute("status", types.String(), required=True)]),
                    max_items=1,
                )
            ],
        )

    def _put(self, planned: State) -> State:
        status = planned["versioning_configuration"][0]["status"]
        self.client("s3").put_bucket_versioning(
            Bucket=planned["bucket"], VersioningConfiguration={"Status": status}
        )
        return {**planned, "id": planned["bucket"]}

    def _create(self, planned: State) -> State:
        return self._put(planned)

    def _update(self, current: State, planned: State) -> State:
        return self._put(planned)

    def _read(self, current: State) -> State | None:
        s3 = self.client("s3")
        bucket = current["id"]
        if not _bucket_exists(s3, bucket):
            return None
        status = s3.get_bucket_versioning(Bucket=bucket).get("Status")
        if status is None:  # never configured: the resource is gone
            return None
        return {**current, "bucket": bucket, "versioning_configuration": [{"status": status}]}

    def _delete(self, current: State) -> None:
        s3 = self.client("s3")
        if _bucket_exists(s3, current["id"]):
            s3.put_bucket_versioning(Bucket=current["id"], VersioningConfiguration={"Status": "Suspended"})


_PAB_FIELDS = {
    "block_public_acls": "BlockPublicAcls",
    "block_public_policy": "BlockPublicPolicy",
    "ignore_public_acls": "IgnorePublicAcls",
    "restrict_public_buckets": "RestrictPublicBuckets",
}


class S3BucketPublicAccessBlock(SandboxResource):
    name = "s3_bucket_public_access_block"
    has_tags = False
    generated_name = None

    @classmethod
    def get_schema(cls) -> Schema:
        return Schema(
            attributes=[
                Attribute("id", types.String(), computed=True),
                Attribute("bucket", types.String(), required=True, requires_replace=True),
                *(
                    Attribute(field, types.Bool(), optional=True, computed=True, default=False)
                    for field in _PAB_FIELDS
                ),
            ]
        )

    def _put(self, planned: State) -> State:
        conf = {aws: bool(planned.get(tf_name)) for tf_name, aws in _PAB_FIELDS.items()}
        self.client("s3").put_public_access_block(
            Bucket=planned["bucket"], PublicAccessBlockConfiguration=conf
        )
        return {**planned, **{k: bool(planned.get(k)) for k in _PAB_FIELDS}, "id": planned["bucket"]}

    def _create(self, planned: State) -> State:
        return self._put(planned)

    def _update(self, current: State, planned: State) -> State:
        return self._put(planned)

    def _read(self, current: State) -> State | None:
        s3 = self.client("s3")
        bucket = current["id"]
        try:
            conf = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
        except Exception as exc:
            if is_not_found(exc, *_GONE, "NoSuchPublicAccessBlockConfiguration"):
                return None
            raise
        return {
            **current,
            "bucket": bucket,
            **{tf_name: bool(conf.get(aws, False)) for tf_name, aws in _PAB_FIELDS.items()},
        }

    def _delete(self, current: State) -> None:
        s3 = self.client("s3")
        if _bucket_exists(s3, current["id"]):
            s3.delete_public_access_block(Bucket=current["id"])


class S3BucketServerSideEncryptionConfiguration(SandboxResource):
    name = "s3_bucket_server_side_encryption_configuration"
    has_tags = False
    generated_name = None

    @classmethod
    def get_schema(cls) -> Schema:
        default = ExactSetBlock(
            "apply_server_side_encryption_by_default",
            Block(
                attributes=[
                    Attribute("sse_algorithm", types.String(), required=True),
                    Attribute("kms_master_key_id", types.String(), optional=True),
                ]
            ),
            max_items=1,
        )
        rule = ExactSetBlock(
            "rule",
            Block(
                attributes=[Attribute("bucket_key_enabled", types.Bool(), optional=True)],
                block_types=[default],
            ),
        )
        return Schema(
            attributes=[
                Attribute("id", types.String(), computed=True),
                Attribute("bucket", types.String(), required=True, requires_replace=True),
            ],
            block_types=[rule],
        )

    def _put(self, planned: State) -> State:
        rules = []
        for rule in planned.get("rule") or []:
            aws_rule: dict[str, Any] = {}
            for default in rule.get("apply_server_side_encryption_by_default") or []:
                by_default = {"SSEAlgorithm": default["sse_algorithm"]}
                if default.get("kms_master_key_id"):
                    by_default["KMSMasterKeyID"] = default["kms_master_key_id"]
                aws_rule["ApplyServerSideEncryptionByDefault"] = by_default
            if rule.get("bucket_key_enabled") is not None:
                aws_rule["BucketKeyEnabled"] = rule["bucket_key_enabled"]
            rules.append(aws_rule)
        self.client("s3").put_bucket_encryption(
            Bucket=planned["bucket"], ServerSideEncryptionConfiguration={"Rules": rules}
        )
        return {**planned, "id": planned["bucket"]}

    def _create(self, planned: State) -> State:
        return self._put(planned)

    def _update(self, current: State, planned: State) -> State:
        return self._put(planned)

    def _read(self, current: State) -> State | None:
        s3 = self.client("s3")
        bucket = current["id"]
        try:
            conf = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]
        except Exception as exc:
            if is_not_found(exc, *_GONE, "ServerSideEncryptionConfigurationNotFoundError"):
                return None
            raise
        prior_rules = current.get("rule") or []
        rules = []
        for aws_rule in conf.get("Rules", []):
            by_default = aws_rule.get("ApplyServerSideEncryptionByDefault")
            key_enabled = aws_rule.get("BucketKeyEnabled")
            if key_enabled is False and not any(r.get("bucket_key_enabled") is False for r in prior_rules):
                key_enabled = None  # AWS reports false for "not set"; keep the code's null
            rules.append(
                {
                    "bucket_key_enabled": key_enabled,
                    "apply_server_side_encryption_by_default": [
                        {
                            "sse_algorithm": by_default["SSEAlgorithm"],
                            "kms_master_key_id": by_default.get("KMSMasterKeyID"),
                        }
                    ]
                    if by_default
                    else [],
                }
            )
        return {**current, "bucket": bucket, "rule": rules}

    def _delete(self, current: State) -> None:
        s3 = self.client("s3")
        if _bucket_exists(s3, current["id"]):
            s3.delete_bucket_encryption(Bucket=current["id"])
