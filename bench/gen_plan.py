"""Generates a realistic `terraform show -json` plan of a large AWS estate (I/O: only the CLI writes a file).

The document is what Terraform 1.15 writes for a normal (refreshing) plan: every top-level key; values
repeated in planned_values, prior_state and resource_changes (that repetition is why real plans are big);
full ``*_sensitive``/``after_unknown`` shape trees; module nesting with count and for_each keys; deep
blocks, policy JSON strings and some unicode. Drifted resources appear in ``resource_drift`` and again,
reverted, in ``resource_changes``; a few pending code changes appear only in ``resource_changes``.
Every sensitive value is ``CANARY-SECRET-<n>``, so a test can prove that none leaks.

    python bench/gen_plan.py OUT.json [--resources 5000 --modules 50 --drifted 500 --seed 0]

``resources`` counts managed resource instances in the configuration (pending creates included);
``modules`` counts module instances. The same arguments give the same bytes.
"""

from __future__ import annotations

import argparse
import copy
import json
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

FORMAT_VERSION = "1.2"
TERRAFORM_VERSION = "1.15.5"
PROVIDER = "registry.terraform.io/hashicorp/aws"
CANARY = "CANARY-SECRET-"
ACCOUNT = "123456789012"
REGION = "eu-west-1"
TIMESTAMP = "2025-06-02T09:14:27Z"
DEFAULT_TAGS = {"CostCenter": "R&D-42", "Environment": "prod", "ManagedBy": "terraform"}
TEAMS = ("payments", "search", "platform", "data-eng", "identity", "growth")
OWNERS = ("Zoë Müller", "José Álvarez", "Łukasz Wiśniewski", "山田 太郎", "Ana Lúcia", "ops-bot")
FOR_EACH_KEYS = ("blue", "green", "api", "worker", "batch", "eu-west-1a", "eu-west-1b", "a.b", "primary")
BLOCK_NAMES = ("this", "main", "web", "app", "logs", "data", "events", "primary", "audit", "cache")
SOURCES = ("./modules/storage", "./modules/app", "./modules/network", "terraform-aws-modules/lambda/aws")

Values = dict[str, Any]
Multi = tuple[int, ...] | tuple[str, ...] | None  # count indices, for_each keys, or a single instance


class _Gen:
    """The random source and the canary counter: everything random goes through here."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.secrets = 0

    def canary(self) -> str:
        self.secrets += 1
        return f"{CANARY}{self.secrets}"

    def hex(self, n: int) -> str:
        return f"{self.rng.getrandbits(4 * n):0{n}x}"

    def uuid(self) -> str:
        h = self.hex(32)
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"

    def aws_id(self, prefix: str) -> str:
        return f"{prefix}-0{self.hex(16)}"

    def ip(self) -> str:
        return f"10.{self.rng.randint(0, 255)}.{self.rng.randint(0, 255)}.{self.rng.randint(1, 254)}"

    def pick(self, seq: tuple[Any, ...]) -> Any:
        return self.rng.choice(seq)

    def chance(self, p: float) -> bool:
        return self.rng.random() < p


def _arn(service: str, resource: str) -> str:
    return f"arn:aws:{service}:{REGION}:{ACCOUNT}:{resource}"


def _policy(statements: list[Values]) -> str:
    # The provider keeps policies as normalised, compact JSON strings.
    return json.dumps(
        {"Statement": statements, "Version": "2012-10-17"}, sort_keys=True, separators=(",", ":")
    )


def _blank(lists: str = "", strs: str = "", nulls: str = "", falses: str = "") -> Values:
    """The many empty attributes a provider schema fills in: a real plan carries all of them."""
    out: Values = {k: [] for k in lists.split()}
    out |= dict.fromkeys(strs.split(), "")
    out |= dict.fromkeys(nulls.split())
    out |= dict.fromkeys(falses.split(), False)
    return out


def _tagged(
    g: _Gen, slug: str, name: str, values: Values, marks: Values | None = None
) -> tuple[Values, Values]:
    """Adds tags and tags_all (default_tags merged in); sometimes a tag fed from a sensitive variable."""
    tags = {"Name": slug, "Service": name, "Team": g.pick(TEAMS)}
    if g.chance(0.15):
        tags["Owner"] = g.pick(OWNERS)
    if g.chance(0.05):
        tags["Description"] = "Données clients — 顧客データ 🚀 <pii>"
    marks = dict(marks or {})
    if g.chance(0.03):
        tags["ApiToken"] = g.canary()
        marks |= {"tags": {"ApiToken": True}, "tags_all": {"ApiToken": True}}
    return {**values, "tags": tags, "tags_all": {**DEFAULT_TAGS, **tags}}, marks


# -- resource types: each returns (values, sensitive marks) ----------------------------------------------
def _s3_bucket(g: _Gen, slug: str, name: str) -> tuple[Values, Values]:
    bucket = f"acme-prod-{slug}-{g.hex(6)}"[:63]
    lifecycle = []
    if g.chance(0.25):
        lifecycle = [
            {
                "abort_incomplete_multipart_upload_days": 7,
                "enabled": True,
                "expiration": [{"date": "", "days": 365, "expired_object_delete_marker": False}],
                "id": "archive",
                "noncurrent_version_expiration": [{"days": 90}],
                "noncurrent_version_transition": [{"days": 30, "storage_class": "GLACIER"}],
                "prefix": "logs/",
                "tags": {},
                "transition": [
                    {"date": "", "days": d, "storage_class": c}
                    for d, c in ((30, "STANDARD_IA"), (90, "GLACIER"))
                ],
            }
        ]
    deny_insecure = {
        "Action": "s3:*",
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        "Effect": "Deny",
        "Principal": "*",
        "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"],
        "Sid": "DenyInsecureTransport",
    }
    sse = {"apply_server_side_encryption_by_default": [{"kms_master_key_id": "", "sse_algorithm": "AES256"}]}
    values = {
        **_blank(
            "cors_rule logging object_lock_configuration replication_configuration website",
            "acceleration_status bucket_prefix",
            "acl timeouts website_domain website_endpoint",
            "force_destroy object_lock_enabled",
        ),
        "arn": f"arn:aws:s3:::{bucket}",
        "bucket": bucket,
        "bucket_domain_name": f"{bucket}.s3.amazonaws.com",
        "bucket_regional_domain_name": f"{bucket}.s3.{REGION}.amazonaws.com",
        "grant": [{"id": g.hex(64), "permissions": ["FULL_CONTROL"], "type": "CanonicalUser", "uri": ""}],
        "hosted_zone_id": "Z1BKCTXD74EZPE",
        "id": bucket,
        "lifecycle_rule": lifecycle,
        "policy": _policy([deny_insecure]) if g.chance(0.3) else "",
        "region": REGION,
        "request_payer": "BucketOwner",
        "server_side_encryption_configuration": [{"rule": [{**sse, "bucket_key_enabled": False}]}],
        "versioning": [{"enabled": g.chance(0.5), "mfa_delete": False}],
    }
    return _tagged(g, slug, name, values)


def _bucket(g: _Gen, slug: str) -> Values:
    bucket = f"acme-prod-{slug}-{g.hex(6)}"[:63]
    return {"bucket": bucket, "id": bucket}


def _s3_versioning(g: _Gen, slug: str, name: str) -> tuple[Values, Values]:
    versioning = [{"mfa_delete": "", "status": "Enabled"}]
    return {
        **_bucket(g, slug),
        "expected_bucket_owner": "",
        "mfa": None,
        "versioning_configuration": versioning,
    }, {}


def _s3_public_access_block(g: _Gen, slug: str, name: str) -> tuple[Values, Values]:
    flags = ("block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets")
    return {**_bucket(g, slug), **dict.fromkeys(flags, True)}, {}


def _s3_sse(g: _Gen, slug: str, name: str) -> tuple[Values, Values]:
    default = {"kms_master_key_id": _arn("kms", f"key/{g.uuid()}"), "sse_algorithm": "aws:kms"}
    rule = [{"apply_server_side_encryption_by_default": [default], "bucket_key_enabled": True}]
    return {**_bucket(g, slug), "expected_bucket_owner": "", "rule": rule}, {}


def _sg_rule(
    cidrs: list[str], port: int, proto: str, description: str, groups: tuple[str, ...] = ()
) -> Values:
    return {
        **_blank("ipv6_cidr_blocks prefix_list_ids", falses="self"),
        "cidr_blocks": cidrs,
        "description": description,
        "from_port": port,
        "protocol": proto,
        "security_groups": list(groups),
        "to_port": port,
    }


def _security_group(g: _Gen, slug: str, name: str) -> tuple[Values, Values]:
    sg = g.aws_id("sg")
    templates = [
        _sg_rule(["10.0.0.0/8"], 443, "tcp", "HTTPS from the VPC"),
        _sg_rule(["10.20.0.0/16", "10.21.0.0/16"], 5432, "tcp", "Postgres from app subnets"),
        _sg_rule([], 8080, "tcp", "from the ALB", (g.aws_id("sg"),)),
        _sg_rule(["10.0.0.0/8"], 22, "tcp", "SSH from bastion"),
        _sg_rule(["10.30.0.0/16"], 6379, "tcp", "Redis — cache tier"),
    ]
    values = {
        "arn": _arn("ec2", f"security-group/{sg}"),
        "description": f"Security group for {slug}",
        "egress": [{**_sg_rule(["0.0.0.0/0"], 0, "-1", ""), "ipv6_cidr_blocks": ["::/0"]}],
        "id": sg,
        "ingress": g.rng.sample(templates, g.rng.randint(1, 4)),
        "name": f"{slug}-sg",
        "name_prefix": "",
        "owner_id": ACCOUNT,
        "revoke_rules_on_delete": False,
        "timeouts": None,
        "vpc_id": g.aws_id("vpc"),
    }
    return _tagged(g, slug, name, values)


def _instance(g: _Gen, slug: str, name: str) -> tuple[Values, Values]:
    iid, ip = g.aws_id("i"), g.ip()
    root_tags = {"Name": f"{slug}-root"}
    values = {
        **_blank(
            "ebs_block_device ephemeral_block_device instance_market_options ipv6_addresses launch_template "
            "network_interface secondary_private_ips security_groups",
            "host_id instance_lifecycle key_name outpost_arn password_data placement_group public_dns "
            "public_ip spot_instance_request_id",
            "host_resource_group_arn timeouts user_data_base64 volume_tags",
            "associate_public_ip_address disable_api_stop disable_api_termination ebs_optimized "
            "get_password_data hibernation user_data_replace_on_change",
        ),
        "ami": g.aws_id("ami"),
        "arn": _arn("ec2", f"instance/{iid}"),
        "availability_zone": f"{REGION}{g.pick(('a', 'b', 'c'))}",
        "capacity_reservation_specification": [
            {"capacity_reservation_preference": "open", "capacity_reservation_target": []}
        ],
        "cpu_core_count": 1,
        "cpu_options": [{"amd_sev_snp": "", "core_count": 1, "threads_per_core": 2}],
        "cpu_threads_per_core": 2,
        "credit_specification": [{"cpu_credits": "unlimited"}],
        "enclave_options": [{"enabled": False}],
        "iam_instance_profile": f"{slug}-profile",
        "id": iid,
        "instance_initiated_shutdown_behavior": "stop",
        "instance_state": "running",
        "instance_type": g.pick(("t3.medium", "t3.large", "m6i.large", "c6g.xlarge")),
        "ipv6_address_count": 0,
        "maintenance_options": [{"auto_recovery": "default"}],
        "metadata_options": [
            {
                "http_endpoint": "enabled",
                "http_protocol_ipv6": "disabled",
                "http_put_response_hop_limit": 2,
                "http_tokens": "required",
                "instance_metadata_tags": "disabled",
            }
        ],
        "monitoring": True,
        "placement_partition_number": 0,
        "primary_network_interface_id": g.aws_id("eni"),
        "private_dns": f"ip-{ip.replace('.', '-')}.{REGION}.compute.internal",
        "private_dns_name_options": [
            {
                "enable_resource_name_dns_a_record": False,
                "enable_resource_name_dns_aaaa_record": False,
                "hostname_type": "ip-name",
            }
        ],
        "private_ip": ip,
        "root_block_device": [
            {
                "delete_on_termination": True,
                "device_name": "/dev/xvda",
                "encrypted": True,
                "iops": 3000,
                "kms_key_id": _arn("kms", f"key/{g.uuid()}"),
                "tags": root_tags,
                "tags_all": {**DEFAULT_TAGS, **root_tags},
                "throughput": 125,
                "volume_id": g.aws_id("vol"),
                "volume_size": g.pick((20, 50, 100)),
                "volume_type": "gp3",
            }
        ],
        "source_dest_check": True,
        "subnet_id": g.aws_id("subnet"),
        "tenancy": "default",
        "user_data": g.hex(40),
        "vpc_security_group_ids": [g.aws_id("sg"), g.aws_id("sg")],
    }
    return _tagged(g, slug, name, values)


def _iam_role(g: _Gen, slug: str, name: str) -> tuple[Values, Values]:
    role = f"{slug}-role"[:64]
    service = g.pick(("lambda", "ec2"))
    assume = {
        "Action": "sts:AssumeRole",
        "Condition": {
            "ArnLike": {"aws:SourceArn": _arn(service, "*")},
            "StringEquals": {"aws:SourceAccount": ACCOUNT},
        },
        "Effect": "Allow",
        "Principal": {"Service": f"{service}.amazonaws.com"},
        "Sid": "",
    }
    values = {
        **_blank("inline_policy", "name_prefix permissions_boundary", falses="force_detach_policies"),
        "arn": f"arn:aws:iam::{ACCOUNT}:role/{role}",
        "assume_role_policy": _policy([assume]),
        "create_date": "2024-03-11T08:21:43Z",
        "description": f"Runtime role for {slug}",
        "id": role,
        "managed_policy_arns": ["arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"],
        "max_session_duration": 3600,
        "name": role,
        "path": "/",
        "unique_id": "AROA" + g.hex(17).upper(),
    }
    return _tagged(g, slug, name, values)


def _iam_role_policy(g: _Gen, slug: str, name: str) -> tuple[Values, Values]:
    role, bucket = f"{slug}-role"[:64], _bucket(g, slug)["bucket"]
    objects = [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"]
    statements = [
        {
            "Action": ["s3:GetObject", "s3:PutObject", "s3:ListBucket"],
            "Effect": "Allow",
            "Resource": objects,
            "Sid": "Data",
        },
        {
            "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
            "Condition": {
                "ForAnyValue:StringLike": {"kms:EncryptionContext:aws:s3:arn": objects[1:]},
                "StringEquals": {"kms:ViaService": f"s3.{REGION}.amazonaws.com"},
            },
            "Effect": "Allow",
            "Resource": _arn("kms", f"key/{g.uuid()}"),
            "Sid": "Kms",
        },
    ]
    return {
        "id": f"{role}:{name}",
        "name": name,
        "name_prefix": "",
        "policy": _policy(statements),
        "role": role,
    }, {}


def _iam_attachment(g: _Gen, slug: str, name: str) -> tuple[Values, Values]:
    role = f"{slug}-role"[:64]
    policy = "arn:aws:iam::aws:policy/CloudWatchAgentServerPolicy"
    return {"id": f"{role}-{g.hex(26)}", "policy_arn": policy, "role": role}, {}


def _db_instance(g: _Gen, slug: str, name: str) -> tuple[Values, Values]:
    ident = f"{slug}-db"[:63]
    host = f"{ident}.c{g.hex(11)}.{REGION}.rds.amazonaws.com"
    values = {
        **_blank(
            "blue_green_update listener_endpoint master_user_secret replicas restore_to_point_in_time "
            "s3_import",
            "character_set_name domain identifier_prefix replicate_source_db",
            "allow_major_version_upgrade manage_master_user_password snapshot_identifier timeouts",
            "apply_immediately iam_database_authentication_enabled publicly_accessible skip_final_snapshot",
        ),
        "address": host,
        "allocated_storage": 100,
        "arn": _arn("rds", f"db:{ident}"),
        "auto_minor_version_upgrade": True,
        "availability_zone": f"{REGION}a",
        "backup_retention_period": 7,
        "backup_target": "region",
        "backup_window": "03:00-04:00",
        "ca_cert_identifier": "rds-ca-rsa2048-g1",
        "copy_tags_to_snapshot": True,
        "db_name": "app",
        "db_subnet_group_name": f"{slug}-db-subnets",
        "delete_automated_backups": True,
        "deletion_protection": True,
        "enabled_cloudwatch_logs_exports": ["postgresql", "upgrade"],
        "endpoint": f"{host}:5432",
        "engine": "postgres",
        "engine_version": "16.3",
        "engine_version_actual": "16.3",
        "final_snapshot_identifier": f"{ident}-final",
        "hosted_zone_id": "Z29XKXDKYMONMX",
        "id": "db-" + g.hex(26).upper(),
        "identifier": ident,
        "instance_class": "db.r6g.large",
        "iops": 3000,
        "kms_key_id": _arn("kms", f"key/{g.uuid()}"),
        "latest_restorable_time": "2025-06-02T09:05:00Z",
        "license_model": "postgresql-license",
        "maintenance_window": "sun:05:00-sun:06:00",
        "max_allocated_storage": 500,
        "monitoring_interval": 60,
        "multi_az": True,
        "network_type": "IPV4",
        "option_group_name": "default:postgres-16",
        "parameter_group_name": f"{slug}-pg16",
        "password": g.canary(),
        "performance_insights_enabled": True,
        "performance_insights_retention_period": 7,
        "port": 5432,
        "resource_id": "db-" + g.hex(26).upper(),
        "status": "available",
        "storage_encrypted": True,
        "storage_throughput": 125,
        "storage_type": "gp3",
        "username": "app_admin",
        "vpc_security_group_ids": [g.aws_id("sg")],
    }
    return _tagged(g, slug, name, values, {"password": True})


def _sqs_queue(g: _Gen, slug: str, name: str) -> tuple[Values, Values]:
    queue = f"{slug}-queue"[:80]
    url = f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/{queue}"
    redrive = {"deadLetterTargetArn": _arn("sqs", f"{queue}-dlq"), "maxReceiveCount": 5}
    values = {
        **_blank(
            strs="deduplication_scope fifo_throughput_limit kms_master_key_id name_prefix policy "
            "redrive_allow_policy",
            falses="content_based_deduplication fifo_queue",
        ),
        "arn": _arn("sqs", queue),
        "delay_seconds": 0,
        "id": url,
        "kms_data_key_reuse_period_seconds": 300,
        "max_message_size": 262144,
        "message_retention_seconds": 345600,
        "name": queue,
        "receive_wait_time_seconds": 20,
        "redrive_policy": json.dumps(redrive, separators=(",", ":")) if g.chance(0.5) else "",
        "sqs_managed_sse_enabled": True,
        "url": url,
        "visibility_timeout_seconds": 30,
    }
    return _tagged(g, slug, name, values)


def _log_group(g: _Gen, slug: str, name: str) -> tuple[Values, Values]:
    group = f"/aws/lambda/{slug}"
    values = {
        **_blank(strs="kms_key_id name_prefix", falses="skip_destroy"),
        "arn": _arn("logs", f"log-group:{group}"),
        "id": group,
        "log_group_class": "STANDARD",
        "name": group,
        "retention_in_days": g.pick((14, 30, 90, 365)),
    }
    return _tagged(g, slug, name, values)


def _lambda(g: _Gen, slug: str, name: str) -> tuple[Values, Values]:
    fn = f"{slug}-fn"[:64]
    marks: Values
    if g.chance(0.25):  # the whole block comes from a sensitive variable
        variables = {"API_TOKEN": g.canary(), "DB_PASSWORD": g.canary()}
        marks = {"environment": True}
    else:
        variables = {"DB_PASSWORD": g.canary(), "LOG_LEVEL": "info", "POWERTOOLS_SERVICE_NAME": slug}
        variables["STRIPE_KEY"] = g.canary()
        marks = {"environment": [{"variables": {"DB_PASSWORD": True, "STRIPE_KEY": True}}]}
    arn = _arn("lambda", f"function:{fn}")
    invoke = f"arn:aws:apigateway:{REGION}:lambda:path/2015-03-31/functions/{arn}/invocations"
    logging = {
        "application_log_level": "",
        "log_format": "Text",
        "log_group": f"/aws/lambda/{fn}",
        "system_log_level": "",
    }
    values = {
        **_blank(
            "dead_letter_config file_system_config image_config layers snap_start vpc_config",
            "code_signing_config_arn image_uri kms_key_arn signing_job_arn signing_profile_version_arn",
            "filename s3_object_version timeouts",
            "publish skip_destroy",
        ),
        "architectures": ["arm64"],
        "arn": arn,
        "code_sha256": g.hex(44),
        "description": f"{slug} handler",
        "environment": [{"variables": variables}],
        "ephemeral_storage": [{"size": 512}],
        "function_name": fn,
        "handler": "app.handler",
        "id": fn,
        "invoke_arn": invoke,
        "last_modified": "2025-05-01T10:00:00.000+0000",
        "logging_config": [logging],
        "memory_size": g.pick((256, 512, 1024)),
        "package_type": "Zip",
        "qualified_arn": f"{arn}:$LATEST",
        "qualified_invoke_arn": invoke.replace("/invocations", ":$LATEST/invocations"),
        "reserved_concurrent_executions": -1,
        "role": f"arn:aws:iam::{ACCOUNT}:role/{slug}-role",
        "runtime": "python3.12",
        "s3_bucket": "acme-prod-artifacts",
        "s3_key": f"lambda/{fn}/{g.hex(12)}.zip",
        "source_code_hash": g.hex(44),
        "source_code_size": g.rng.randint(10_000, 5_000_000),
        "timeout": 30,
        "tracing_config": [{"mode": "PassThrough"}],
        "version": "$LATEST",
    }
    return _tagged(g, slug, name, values, marks)


def _secret_version(g: _Gen, slug: str, name: str) -> tuple[Values, Values]:
    secret, version = _arn("secretsmanager", f"secret:{slug}-{g.hex(6)}"), g.uuid()
    values = {
        "arn": secret,
        "id": f"{secret}|{version}",
        "secret_binary": None,
        "secret_id": secret,
        "secret_string": g.canary(),
        "version_id": version,
        "version_stages": ["AWSCURRENT"],
    }
    return values, {"secret_binary": True, "secret_string": True}


def _kms_key(g: _Gen, slug: str, name: str) -> tuple[Values, Values]:
    key = g.uuid()
    statements = [
        {
            "Action": "kms:*",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
            "Resource": "*",
            "Sid": "Enable IAM User Permissions",
        },
        {
            "Action": ["kms:Encrypt*", "kms:Decrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
            "Condition": {"ArnLike": {"kms:EncryptionContext:aws:logs:arn": _arn("logs", "*")}},
            "Effect": "Allow",
            "Principal": {"Service": f"logs.{REGION}.amazonaws.com"},
            "Resource": "*",
            "Sid": "CloudWatchLogs",
        },
    ]
    values = {
        **_blank(strs="custom_key_store_id xks_key_id", nulls="timeouts"),
        **_blank(falses="bypass_policy_lockout_safety_check multi_region"),
        "arn": _arn("kms", f"key/{key}"),
        "customer_master_key_spec": "SYMMETRIC_DEFAULT",
        "deletion_window_in_days": 30,
        "description": f"CMK for {slug}",
        "enable_key_rotation": True,
        "id": key,
        "is_enabled": True,
        "key_id": key,
        "key_usage": "ENCRYPT_DECRYPT",
        "policy": _policy(statements),
        "rotation_period_in_days": 365,
    }
    return _tagged(g, slug, name, values)


def _sns_topic(g: _Gen, slug: str, name: str) -> tuple[Values, Values]:
    arn = _arn("sns", f"{slug}-events")
    publish = {
        "Action": ["SNS:Publish", "SNS:Subscribe"],
        "Condition": {"StringEquals": {"AWS:SourceOwner": ACCOUNT}},
        "Effect": "Allow",
        "Principal": {"AWS": "*"},
        "Resource": arn,
        "Sid": "__default_statement_ID",
    }
    values = {
        **_blank(strs="archive_policy beginning_archive_time delivery_policy name_prefix tracing_config"),
        **_blank(falses="content_based_deduplication fifo_topic"),
        "arn": arn,
        "display_name": f"Événements {slug}",
        "id": arn,
        "kms_master_key_id": "alias/aws/sns",
        "name": f"{slug}-events",
        "owner": ACCOUNT,
        "policy": _policy([publish]),
        "signature_version": 0,
    }
    for proto in ("application", "firehose", "http", "lambda", "sqs"):
        values |= _blank(strs=f"{proto}_failure_feedback_role_arn {proto}_success_feedback_role_arn")
        values[f"{proto}_success_feedback_sample_rate"] = 0
    return _tagged(g, slug, name, values)


def _route53_record(g: _Gen, slug: str, name: str) -> tuple[Values, Values]:
    zone, fqdn = "Z0" + g.hex(18).upper(), f"{slug}.internal.acme.example"
    values = {
        **_blank(
            "alias cidr_routing_policy failover_routing_policy geolocation_routing_policy "
            "geoproximity_routing_policy latency_routing_policy weighted_routing_policy",
            "health_check_id set_identifier",
            "allow_overwrite",
            "multivalue_answer_routing_policy",
        ),
        "fqdn": fqdn,
        "id": f"{zone}_{fqdn}_A",
        "name": fqdn,
        "records": [g.ip()],
        "ttl": 300,
        "type": "A",
        "zone_id": zone,
    }
    return values, {}


def _wafv2_web_acl(g: _Gen, slug: str, name: str) -> tuple[Values, Values]:
    acl, acl_id = f"{slug}-acl", g.uuid()

    def visibility(metric: str) -> list[Values]:
        return [{"cloudwatch_metrics_enabled": True, "metric_name": metric, "sampled_requests_enabled": True}]

    # rule[0].statement[0].rate_based_statement[0].scope_down_statement[0].byte_match_statement[0]
    # .field_to_match[0].single_header[0].name: nine levels, as real WAF plans have.
    byte_match = {
        "field_to_match": [{"single_header": [{"name": "user-agent"}]}],
        "positional_constraint": "CONTAINS",
        "search_string": "curl",
        "text_transformation": [{"priority": 0, "type": "LOWERCASE"}],
    }
    rate = {
        "aggregate_key_type": "IP",
        "evaluation_window_sec": 300,
        "limit": 2000,
        "scope_down_statement": [{"byte_match_statement": [byte_match]}],
    }
    block = {"allow": [], "block": [{"custom_response": []}], "captcha": [], "challenge": [], "count": []}
    override = {
        "action_to_use": [{"count": [{"custom_request_handling": []}]}],
        "name": "SizeRestrictions_BODY",
    }
    managed = {
        "name": "AWSManagedRulesCommonRuleSet",
        "rule_action_override": [override],
        "scope_down_statement": [],
        "vendor_name": "AWS",
        "version": "",
    }
    empty = _blank("captcha_config rule_label")
    rules = [
        {
            **empty,
            "action": [block],
            "name": "rate-limit-curl",
            "override_action": [],
            "priority": 1,
            "statement": [{"rate_based_statement": [rate]}],
            "visibility_config": visibility("rate-limit-curl"),
        },
        {
            **empty,
            "action": [],
            "name": "common",
            "override_action": [{"count": [], "none": [{}]}],
            "priority": 10,
            "statement": [{"managed_rule_group_statement": [managed]}],
            "visibility_config": visibility("common"),
        },
    ]
    values = {
        **_blank("captcha_config challenge_config custom_response_body token_domains"),
        "arn": _arn("wafv2", f"regional/webacl/{acl}/{acl_id}"),
        "capacity": 750,
        "default_action": [{"allow": [{"custom_request_handling": []}], "block": []}],
        "description": "Edge protection « API »",
        "id": acl_id,
        "lock_token": g.uuid(),
        "name": acl,
        "rule": rules,
        "scope": "REGIONAL",
        "visibility_config": visibility(acl),
    }
    return _tagged(g, slug, name, values)


def _refs(*refs: str) -> Values:
    return {"references": list(refs)}


@dataclass(frozen=True, slots=True)
class _Type:
    make: Callable[[_Gen, str, str], tuple[Values, Values]]
    weight: int  # how common the type is in the estate
    schema_version: int
    computed: str  # attributes unknown until apply when the resource is created
    config: dict[str, Any]  # attribute -> None (a constant, taken from the values) or its expression


_BUCKET_REF = _refs("aws_s3_bucket.this.id", "aws_s3_bucket.this")
TYPES: dict[str, _Type] = {
    "aws_s3_bucket": _Type(
        _s3_bucket,
        10,
        0,
        "arn id bucket_domain_name bucket_regional_domain_name hosted_zone_id region",
        {"bucket": _refs("local.name_prefix", "var.name"), "force_destroy": None, "tags": None},
    ),
    "aws_s3_bucket_versioning": _Type(
        _s3_versioning, 6, 0, "id", {"bucket": _BUCKET_REF, "versioning_configuration": None}
    ),
    "aws_s3_bucket_public_access_block": _Type(
        _s3_public_access_block, 4, 0, "id", {"bucket": _BUCKET_REF, "block_public_acls": None}
    ),
    "aws_s3_bucket_server_side_encryption_configuration": _Type(
        _s3_sse, 4, 0, "id", {"bucket": _BUCKET_REF, "rule": None}
    ),
    "aws_security_group": _Type(
        _security_group,
        10,
        1,
        "arn id owner_id",
        {
            "name": _refs("var.name"),
            "vpc_id": _refs("var.vpc_id"),
            "ingress": None,
            "egress": None,
            "tags": None,
        },
    ),
    "aws_instance": _Type(
        _instance,
        10,
        1,
        "arn id private_ip private_dns primary_network_interface_id instance_state host_id",
        {
            "ami": _refs("data.aws_ami.al2023.id", "data.aws_ami.al2023"),
            "instance_type": _refs("var.instance_type"),
            "subnet_id": _refs("var.subnet_ids", "count.index"),
            "vpc_security_group_ids": _refs("aws_security_group.this.id", "aws_security_group.this"),
            "metadata_options": None,
            "root_block_device": None,
            "tags": None,
            "user_data": _refs("local.user_data"),
        },
    ),
    "aws_iam_role": _Type(
        _iam_role,
        8,
        0,
        "arn id create_date unique_id",
        {
            "name": _refs("var.name"),
            "assume_role_policy": _refs("data.aws_iam_policy_document.assume.json"),
            "tags": None,
        },
    ),
    "aws_iam_role_policy": _Type(
        _iam_role_policy,
        8,
        0,
        "id",
        {"role": _refs("aws_iam_role.this.id", "aws_iam_role.this"), "policy": None},
    ),
    "aws_iam_role_policy_attachment": _Type(
        _iam_attachment,
        6,
        0,
        "id",
        {"role": _refs("aws_iam_role.this.name", "aws_iam_role.this"), "policy_arn": None},
    ),
    "aws_db_instance": _Type(
        _db_instance,
        3,
        2,
        "address arn endpoint hosted_zone_id id resource_id status latest_restorable_time",
        {
            "identifier": _refs("var.name"),
            "engine": None,
            "engine_version": None,
            "instance_class": _refs("var.db_instance_class"),
            "password": _refs("var.db_password"),
            "username": None,
            "backup_retention_period": None,
            "tags": None,
        },
    ),
    "aws_sqs_queue": _Type(
        _sqs_queue,
        8,
        0,
        "arn id url",
        {"name": _refs("var.name"), "visibility_timeout_seconds": None, "redrive_policy": None, "tags": None},
    ),
    "aws_cloudwatch_log_group": _Type(
        _log_group, 8, 0, "arn id", {"name": _refs("var.name"), "retention_in_days": None, "tags": None}
    ),
    "aws_lambda_function": _Type(
        _lambda,
        6,
        0,
        "arn id invoke_arn last_modified qualified_arn qualified_invoke_arn version",
        {
            "function_name": _refs("var.name"),
            "handler": None,
            "runtime": None,
            "memory_size": None,
            "role": _refs("aws_iam_role.this.arn", "aws_iam_role.this"),
            "environment": [{"variables": _refs("var.db_password", "local.env")}],
            "tags": None,
        },
    ),
    "aws_secretsmanager_secret_version": _Type(
        _secret_version,
        2,
        0,
        "arn id version_id",
        {"secret_id": _refs("aws_secretsmanager_secret.this.id"), "secret_string": _refs("var.api_secret")},
    ),
    "aws_kms_key": _Type(
        _kms_key, 3, 0, "arn id key_id", {"description": None, "enable_key_rotation": None, "tags": None}
    ),
    "aws_sns_topic": _Type(
        _sns_topic, 4, 0, "arn id owner", {"name": _refs("var.name"), "display_name": None, "tags": None}
    ),
    "aws_route53_record": _Type(
        _route53_record,
        5,
        2,
        "fqdn id",
        {"zone_id": _refs("var.zone_id"), "name": None, "type": None, "ttl": None, "records": None},
    ),
    "aws_wafv2_web_acl": _Type(
        _wafv2_web_acl,
        1,
        0,
        "arn capacity id lock_token",
        {"name": _refs("var.name"), "scope": None, "rule": None, "visibility_config": None},
    ),
}


# -- drift: what someone changed in the console; always a value a user can see -------------------------
def _drift_tags(g: _Gen, v: Values) -> list[str]:
    key, value = ("LastModifiedBy", "console:alice@acme.example") if g.chance(0.5) else ("Team", "sécurité")
    v["tags"] = {**v["tags"], key: value}
    v["tags_all"] = {**v["tags_all"], key: value}
    return ["tags", "tags_all"]


def _drift_sg(g: _Gen, v: Values) -> list[str]:
    v["ingress"] = [*v["ingress"], _sg_rule(["0.0.0.0/0"], 22, "tcp", "temp debug access")]
    return ["ingress"]


def _drift_instance(g: _Gen, v: Values) -> list[str]:
    if g.chance(0.5):
        v["instance_type"] = "m5.4xlarge"
        return ["instance_type"]
    v["metadata_options"][0]["http_tokens"] = "optional"
    return ["metadata_options"]


def _drift_policy(attr: str) -> Callable[[_Gen, Values], list[str]]:
    def drift(g: _Gen, v: Values) -> list[str]:
        statements = json.loads(v[attr])["Statement"]
        vendor = {"AWS": "arn:aws:iam::999999999999:root"}
        statements.append(
            {"Action": "*", "Effect": "Allow", "Principal": vendor, "Resource": "*", "Sid": "Debug"}
        )
        v[attr] = _policy(statements)
        return [attr]

    return drift


def _drift_lambda(g: _Gen, v: Values) -> list[str]:
    variables = v["environment"][0]["variables"]
    for key, value in variables.items():
        if value.startswith(CANARY):
            variables[key] = g.canary()  # rotated by hand: still sensitive, so never shown
    if "LOG_LEVEL" in variables:
        variables["LOG_LEVEL"] = "debug"
    v["last_modified"] = "2025-06-01T22:13:05.000+0000"
    v["memory_size"] = 3008
    return ["environment", "last_modified", "memory_size"]


def _drift_secret(g: _Gen, v: Values) -> list[str]:
    v["secret_string"], v["version_id"] = g.canary(), g.uuid()
    v["id"] = f"{v['arn']}|{v['version_id']}"
    return ["id", "secret_string", "version_id"]


def _setter(**changes: Any) -> Callable[[_Gen, Values], list[str]]:
    def drift(g: _Gen, v: Values) -> list[str]:
        v.update(copy.deepcopy(changes))
        return list(changes)

    return drift


def _nested(path: tuple[str | int, ...], value: Any) -> Callable[[_Gen, Values], list[str]]:
    def drift(g: _Gen, v: Values) -> list[str]:
        node = v
        for step in path[:-1]:
            node = node[step]
        node[path[-1]] = value
        return [str(path[0])]

    return drift


DRIFTS: dict[str, Callable[[_Gen, Values], list[str]]] = {
    "aws_s3_bucket": _drift_tags,
    "aws_s3_bucket_versioning": _nested(("versioning_configuration", 0, "status"), "Suspended"),
    "aws_s3_bucket_public_access_block": _setter(block_public_policy=False, restrict_public_buckets=False),
    "aws_s3_bucket_server_side_encryption_configuration": _nested(
        ("rule", 0, "apply_server_side_encryption_by_default", 0, "sse_algorithm"), "AES256"
    ),
    "aws_security_group": _drift_sg,
    "aws_instance": _drift_instance,
    "aws_iam_role": _drift_policy("assume_role_policy"),
    "aws_iam_role_policy": _drift_policy("policy"),
    "aws_db_instance": lambda g, v: (_setter(publicly_accessible=True) if g.chance(0.5) else _drift_tags)(
        g, v
    ),
    "aws_sqs_queue": _setter(visibility_timeout_seconds=300),
    "aws_cloudwatch_log_group": _setter(retention_in_days=0),
    "aws_lambda_function": _drift_lambda,
    "aws_secretsmanager_secret_version": _drift_secret,
    "aws_kms_key": _setter(enable_key_rotation=False),
    "aws_sns_topic": _drift_tags,
    "aws_route53_record": _setter(records=["203.0.113.7"], ttl=60),
    "aws_wafv2_web_acl": _nested(("rule", 0, "statement", 0, "rate_based_statement", 0, "limit"), 100000),
}


# -- the estate: module tree and resource instances ------------------------------------------------------
@dataclass(slots=True)
class _Call:
    """One module block of the configuration; its resource blocks are shared by all its instances."""

    name: str
    source: str
    keys: tuple[str, ...] | None  # for_each keys, or None
    blocks: list[tuple[str, str, Multi]] = field(default_factory=list)
    children: list[_Call] = field(default_factory=list)


@dataclass(slots=True)
class _Inst:
    """One resource instance and what the plan says about it."""

    module: str | None  # module instance address, None at the root
    type: str
    name: str
    index: int | str | None
    values: Values  # the last applied state, which is also what the configuration asks for
    marks: Values  # True where sensitive
    # noop | drift-update | drift-delete | pending-update | pending-create | pending-replace
    state: str = "noop"
    reality: Values | None = None  # drift-update: the values in the cloud now
    planned: Values | None = None  # pending-update/replace: what the code asks for now
    drifted: tuple[str, ...] = ()

    @property
    def address(self) -> str:
        local = f"{self.type}.{self.name}{_key(self.index)}"
        return f"{self.module}.{local}" if self.module else local


def _key(index: int | str | None) -> str:
    if index is None:
        return ""
    return f"[{index}]" if isinstance(index, int) else f"[{json.dumps(index)}]"


def _module_tree(modules: int) -> tuple[list[_Call], list[tuple[str, _Call]]]:
    """Top-level calls, and every module instance address with its call: ``modules`` instances in all."""
    calls: list[_Call] = []
    instances: list[tuple[str, _Call]] = []
    while len(instances) < modules:
        i, left = len(calls), modules - len(instances)
        keys: tuple[str, ...] | None = ("blue", "green") if i % 7 == 3 else None
        depth = 3 if i % 9 == 4 else 2 if i % 3 == 1 else 1  # m.inner.leaf, m.inner or m
        if len(keys or (None,)) * depth > left:
            keys, depth = None, 1
        chain = [_Call(f"m{i:02d}", SOURCES[i % len(SOURCES)], keys)]
        for child in ("inner", "leaf")[: depth - 1]:
            chain[-1].children.append(_Call(child, f"./modules/{child}", None))
            chain.append(chain[-1].children[-1])
        for key in keys or (None,):
            address = f"module.{chain[0].name}{_key(key)}"
            for level, call in enumerate(chain):
                address += f".module.{call.name}" if level else ""
                instances.append((address, call))
        calls.append(chain[0])
    return calls, instances


def _fill_blocks(g: _Gen, call: _Call, budget: int) -> None:
    """Resource blocks whose instances add up to exactly ``budget``."""
    names, weights = list(TYPES), [t.weight for t in TYPES.values()]
    used: set[str] = set()
    while budget > 0:
        rtype = g.rng.choices(names, weights)[0]
        name = next((n for n in BLOCK_NAMES if f"{rtype}.{n}" not in used), f"r{len(used)}")
        used.add(f"{rtype}.{name}")
        roll = g.rng.random()
        multi: Multi = None
        if roll > 0.85 and budget > 1:
            multi = tuple(g.rng.sample(FOR_EACH_KEYS, min(budget, g.rng.randint(2, 3))))
        elif roll > 0.6 and budget > 1:
            multi = tuple(range(min(budget, g.rng.randint(2, 4))))
        call.blocks.append((rtype, name, multi))
        budget -= len(multi or (None,))


def _instances(g: _Gen, placed: list[tuple[str | None, _Call]]) -> list[_Inst]:
    out = []
    for module, call in placed:
        prefix = (module or "").replace("module.", "").replace('["', "-").replace('"]', "").replace(".", "-")
        for rtype, name, multi in call.blocks:
            for index in multi or (None,):
                slug = "-".join(str(p) for p in (prefix, name, index) if p not in (None, "")).lower()
                values, marks = TYPES[rtype].make(g, slug, name)
                out.append(_Inst(module, rtype, name, index, _sorted(values), marks))
    return out


def _choose(g: _Gen, insts: list[_Inst], drifted: int, pending: int) -> None:
    """Marks which instances drifted (5% of them deleted) and which have pending code changes."""
    shuffled = insts[:]
    g.rng.shuffle(shuffled)
    deletes = round(drifted * 0.05)
    for inst in shuffled[:deletes]:
        inst.state = "drift-delete"
    updates = [x for x in shuffled[deletes:] if x.type in DRIFTS][: drifted - deletes]
    if len(updates) < drifted - deletes:
        raise ValueError(f"only {deletes + len(updates)} resources can drift, asked for {drifted}")
    for inst in updates:
        inst.state = "drift-update"
        reality = copy.deepcopy(inst.values)
        inst.drifted = tuple(DRIFTS[inst.type](g, reality))
        inst.reality = _sorted(reality)
    free = [x for x in shuffled if x.state == "noop"]
    creates, tagged = free[: pending // 4], [x for x in free[pending // 4 :] if "tags" in x.values]
    for inst in creates:
        inst.state = "pending-create"
    replace = next((x for x in tagged if x.type == "aws_instance"), None) if pending > len(creates) else None
    if replace is not None:
        replace.state = "pending-replace"
        replace.planned = {**replace.values, "ami": "ami-0123456789abcdef0"}
    for inst in [x for x in tagged if x is not replace][: pending - len(creates) - (replace is not None)]:
        inst.state = "pending-update"
        version = {"Version": "2025.06"}
        tags = {"tags": inst.values["tags"] | version, "tags_all": inst.values["tags_all"] | version}
        inst.planned = _sorted(inst.values | tags)


# -- Terraform's JSON shapes -----------------------------------------------------------------------------
def _sorted(value: Any) -> Any:
    # cty writes object attributes in key order; so does this generator.
    if isinstance(value, dict):
        return {k: _sorted(value[k]) for k in sorted(value)}
    if isinstance(value, list):
        return [_sorted(v) for v in value]
    return value


def shape(value: Any, marks: Any = None) -> Any:
    """Terraform's SensitiveAsBool/unknownAsBool tree: lists keep every element, objects drop ``false``."""
    if marks is True:
        return True
    if isinstance(value, list):
        m = marks if isinstance(marks, list) else []
        return [shape(v, m[i] if i < len(m) else None) for i, v in enumerate(value)]
    if isinstance(value, dict):
        m = marks if isinstance(marks, dict) else {}
        out = {}
        for k, v in value.items():
            s = shape(v, m.get(k))
            if s is not False:
                out[k] = s
        return out
    return False


def _head(inst: _Inst, with_module: bool) -> Values:
    head: Values = {"address": inst.address}
    if with_module and inst.module:
        head["module_address"] = inst.module
    head |= {"mode": "managed", "type": inst.type, "name": inst.name}
    if inst.index is not None:
        head["index"] = inst.index
    return head | {"provider_name": PROVIDER}


def _change(inst: _Inst, actions: list[str], before: Values | None, after: Values | None) -> Values:
    computed = TYPES[inst.type].computed.split() if before is None or "create" in actions else []
    if after is not None and computed:  # a create: what the provider computes is unknown until apply
        after = {k: v for k, v in after.items() if k not in computed}
    unknown = _sorted(shape(after) | dict.fromkeys(computed, True)) if after is not None else False
    change = {
        "actions": actions,
        "before": before,
        "after": after,
        "after_unknown": unknown,
        "before_sensitive": shape(before, inst.marks) if before is not None else False,
        "after_sensitive": shape(after, inst.marks) if after is not None else False,
    }
    return {**_head(inst, True), "change": change}


def _state_resource(inst: _Inst, values: Values) -> Values:
    schema = TYPES[inst.type].schema_version
    sensitive = shape(values, inst.marks)
    return {**_head(inst, False), "schema_version": schema, "values": values, "sensitive_values": sensitive}


def _outcome(inst: _Inst) -> tuple[Values | None, Values, Values | None, Values]:
    """(resource_drift entry, resource_changes entry, prior_state values, planned values) of an instance."""
    v = inst.values
    if inst.state == "drift-update" and inst.reality is not None:
        return (
            _change(inst, ["update"], v, inst.reality),
            _change(inst, ["update"], inst.reality, v),
            inst.reality,
            v,
        )
    if inst.state in ("drift-delete", "pending-create"):
        change = _change(inst, ["create"], None, v)
        drift = _change(inst, ["delete"], v, None) if inst.state == "drift-delete" else None
        return drift, change, None, change["change"]["after"]
    if inst.state == "pending-update" and inst.planned is not None:
        return None, _change(inst, ["update"], v, inst.planned), v, inst.planned
    if inst.state == "pending-replace" and inst.planned is not None:
        change = _change(inst, ["delete", "create"], v, inst.planned)
        change["change"]["replace_paths"] = [["ami"]]
        change["action_reason"] = "replace_because_cannot_update"
        return None, change, v, change["change"]["after"]
    return None, _change(inst, ["no-op"], v, v), v, v


def _module_values(resources: dict[str | None, list[Values]], addresses: list[str]) -> Values:
    """root_module with child_modules nested by module address, as planned_values and prior_state have it."""
    root: Values = {"resources": resources.get(None, []), "child_modules": []}
    nodes: dict[str, Values] = {}
    for address in sorted(addresses):  # a parent sorts before its children
        nodes[address] = {"resources": resources.get(address, []), "address": address, "child_modules": []}
        parent = address.rsplit(".module.", 1)[0] if ".module." in address else None
        (nodes[parent] if parent else root)["child_modules"].append(nodes[address])
    for node in [root, *nodes.values()]:
        for key in ("resources", "child_modules"):
            if not node[key]:
                del node[key]
    return root


def _expr(value: Any) -> Any:
    if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        return [{k: _expr(x) for k, x in v.items() if x not in (None, "", [], {})} for v in value[:1]]
    if CANARY in json.dumps(value):  # a constant never holds a secret: it came from a variable
        return _refs("var.secret_tags", "local.tags")
    return {"constant_value": value}


def _config_module(call: _Call, first: dict[tuple[str, str], Values], path: str) -> Values:
    """One module of ``configuration``: resource blocks with their expressions, then nested calls."""
    resources = []
    for rtype, name, multi in call.blocks:
        values, spec = first[(path, f"{rtype}.{name}")], TYPES[rtype].config
        block: Values = {
            "address": f"{rtype}.{name}",
            "mode": "managed",
            "type": rtype,
            "name": name,
            "provider_config_key": f"{path}:aws" if path else "aws",
            "expressions": {k: _expr(values.get(k)) if e is None else e for k, e in spec.items()},
            "schema_version": TYPES[rtype].schema_version,
        }
        if multi and isinstance(multi[0], int):
            block["count_expression"] = _refs("var.instance_count") if len(multi) > 2 else _expr(len(multi))
        elif multi:
            block["for_each_expression"] = _expr(sorted(str(k) for k in multi))
        resources.append(block)
    module: Values = {
        "outputs": {"id": {"expression": _refs(f"{resources[0]['address']}.id")}} if resources else {},
        "resources": resources,
        "variables": {"name": {"description": "Name prefix"}, "tags": {"default": {}}},
    }
    if call.children:
        module["module_calls"] = {
            child.name: {
                "source": child.source,
                "expressions": {"name": _refs("var.name"), "tags": _refs("var.tags")},
                "module": _config_module(child, first, f"{path}.{child.name}" if path else child.name),
            }
            for child in call.children
        }
    return module


def _configuration(root: _Call, calls: list[_Call], insts: list[_Inst]) -> Values:
    first: dict[tuple[str, str], Values] = {}  # (call path, block address) -> values of its first instance
    for inst in insts:
        parts = inst.module.split(".") if inst.module else []
        call_path = ".".join(p.split("[")[0] for p in parts[1::2])
        first.setdefault((call_path, f"{inst.type}.{inst.name}"), inst.values)
    module = _config_module(root, first, "")
    module["outputs"] = {
        "bucket_arns": {"expression": _refs("aws_s3_bucket.this")},
        "db_password": {"sensitive": True, "expression": _refs("var.db_password")},
    }
    module["module_calls"] = {}
    for call in calls:
        vpc = _refs("data.aws_vpc.main.id", "data.aws_vpc.main")
        entry: Values = {
            "source": call.source,
            "expressions": {"name": _expr(call.name), "tags": _refs("local.tags"), "vpc_id": vpc},
        }
        if call.source.startswith("terraform-aws-modules"):
            entry["version_constraint"] = "~> 7.2"
        if call.keys:
            entry["for_each_expression"] = _refs("local.deployments")
        module["module_calls"][call.name] = entry | {"module": _config_module(call, first, call.name)}
    module["variables"] = {
        "db_password": {"description": "Master password for the RDS instances", "sensitive": True},
        "environment": {"default": "prod"},
        "instance_count": {"default": 3},
        "region": {"default": REGION},
    }
    provider_expressions = {
        "default_tags": [{"tags": {"constant_value": DEFAULT_TAGS}}],
        "region": _refs("var.region"),
    }
    aws = {
        "name": "aws",
        "full_name": PROVIDER,
        "version_constraint": "~> 5.80",
        "expressions": provider_expressions,
    }
    return {"provider_config": {"aws": aws}, "root_module": module}


def _data_sources(g: _Gen) -> list[Values]:
    def data(rtype: str, name: str, values: Values) -> Values:
        head = {"address": f"data.{rtype}.{name}", "mode": "data", "type": rtype, "name": name}
        return head | {
            "provider_name": PROVIDER,
            "schema_version": 0,
            "values": values,
            "sensitive_values": shape(values),
        }

    identity = {
        "account_id": ACCOUNT,
        "arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/terraform/ci",
        "id": ACCOUNT,
        "user_id": "AROA" + g.hex(17).upper() + ":ci",
    }
    vpc = {"cidr_block": "10.0.0.0/8", "filter": None, "id": g.aws_id("vpc"), "tags": {"Name": "main"}}
    return [data("aws_caller_identity", "current", identity), data("aws_vpc", "main", vpc)]


def _deferred_read() -> Values:
    """A data source that waits on a pending create, so the plan reads it later."""
    change = {
        "actions": ["read"],
        "before": None,
        "after": {"override_policy_documents": None, "policy_id": None, "statement": []},
        "after_unknown": {"id": True, "json": True, "minified_json": True, "statement": []},
        "before_sensitive": False,
        "after_sensitive": {"statement": []},
    }
    head = {
        "address": "data.aws_iam_policy_document.pending",
        "mode": "data",
        "type": "aws_iam_policy_document",
    }
    return head | {
        "name": "pending",
        "provider_name": PROVIDER,
        "change": change,
        "action_reason": "read_because_dependency_pending",
    }


def _no_op_output(value: Any, sensitive: bool) -> Values:
    return {
        "actions": ["no-op"],
        "before": value,
        "after": value,
        "after_unknown": False,
        "before_sensitive": sensitive,
        "after_sensitive": sensitive,
    }


def generate(resources: int = 5000, modules: int = 50, drifted: int = 500, seed: int = 0) -> dict[str, Any]:
    """A whole `terraform show -json` plan document; the same arguments give the same document."""
    if not 0 <= drifted <= resources:
        raise ValueError(f"drifted must be between 0 and resources ({resources}), got {drifted}")
    g = _Gen(seed)
    calls, module_instances = _module_tree(modules)
    per_module = resources // (modules + 1)
    for call in {id(c): c for _, c in module_instances}.values():
        _fill_blocks(g, call, per_module)
    root = _Call("", "", None)
    _fill_blocks(g, root, resources - per_module * len(module_instances))
    insts = _instances(g, [(None, root), *module_instances])
    _choose(g, insts, drifted, min(20, (resources - drifted) // 10))
    insts.sort(key=lambda x: x.address)

    drift, changes = [], []
    prior: dict[str | None, list[Values]] = {None: _data_sources(g)}
    planned: dict[str | None, list[Values]] = {}
    for inst in insts:
        d, change, before, after = _outcome(inst)
        changes.append(change)
        if d is not None:
            drift.append(d)
        if before is not None:
            prior.setdefault(inst.module, []).append(_state_resource(inst, before))
        planned.setdefault(inst.module, []).append(_state_resource(inst, after))
    if any(i.state == "pending-create" for i in insts):
        changes = sorted([*changes, _deferred_read()], key=lambda c: str(c["address"]))

    db_password = g.canary()
    addresses = [a for a, _ in module_instances]
    bucket_arns = [i.values["arn"] for i in insts if i.type == "aws_s3_bucket" and i.module is None][:10]
    outputs = {
        "bucket_arns": {"sensitive": False, "value": bucket_arns, "type": ["list", "string"]},
        "db_password": {"sensitive": True, "value": db_password, "type": "string"},
    }
    relevant = [
        {"resource": i.address, "attribute": [attr]}
        for i in insts
        if i.state == "drift-update"
        for attr in i.drifted
    ]
    return {
        "format_version": FORMAT_VERSION,
        "terraform_version": TERRAFORM_VERSION,
        "variables": {
            "db_password": {"value": db_password},
            "environment": {"value": "prod"},
            "instance_count": {"value": 3},
            "region": {"value": REGION},
        },
        "planned_values": {"outputs": outputs, "root_module": _module_values(planned, addresses)},
        "resource_drift": drift,
        "resource_changes": changes,
        "output_changes": {
            "bucket_arns": _no_op_output(bucket_arns, False),
            "db_password": _no_op_output(db_password, True),
        },
        "prior_state": {
            "format_version": "1.0",
            "terraform_version": TERRAFORM_VERSION,
            "values": {"outputs": outputs, "root_module": _module_values(prior, addresses)},
        },
        "configuration": _configuration(root, calls, insts),
        "relevant_attributes": relevant,
        "timestamp": TIMESTAMP,
        "applyable": True,
        "complete": True,
        "errored": False,
    }


def render(doc: dict[str, Any]) -> bytes:
    """One line of UTF-8 JSON as Terraform (Go's encoder) writes it: compact, with &, < and > escaped."""
    text = json.dumps(doc, ensure_ascii=False, separators=(",", ":"))
    for char, escape in (("&", "\\u0026"), ("<", "\\u003c"), (">", "\\u003e")):
        text = text.replace(char, escape)  # only ever inside strings: JSON syntax has none of them
    return (text + "\n").encode()


def expected_counts(doc: dict[str, Any]) -> tuple[int, int]:
    """(drifted resources, pending code changes) that a correct detector reports for ``doc``."""
    drift = {d["address"] for d in doc["resource_drift"] if d["mode"] == "managed"}
    pending = [
        c
        for c in doc["resource_changes"]
        if c["mode"] == "managed"
        and c["change"]["actions"] not in (["no-op"], ["read"])
        and c["address"] not in drift
    ]
    return len(drift), len(pending)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("out", type=Path, help="where to write the plan JSON")
    parser.add_argument(
        "--resources", type=int, default=5000, help="managed resource instances (default 5000)"
    )
    parser.add_argument("--modules", type=int, default=50, help="module instances (default 50)")
    parser.add_argument(
        "--drifted", type=int, default=500, help="drifted resources, 5%% deleted (default 500)"
    )
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    doc = generate(args.resources, args.modules, args.drifted, args.seed)
    data = render(doc)
    args.out.write_bytes(data)
    drift, pending = expected_counts(doc)
    print(
        f"{args.out}: {len(data):,} bytes ({len(data) / 1e6:.1f} MB); {len(doc['resource_changes'])} "
        f"resource_changes, {drift} drifted, {pending} pending; {time.perf_counter() - started:.1f}s"
    )


if __name__ == "__main__":
    main()
