"""The sandbox provider: a stand-in for hashicorp/aws, written with `tf`, backed by moto (I/O: moto).

It registers as ``registry.terraform.io/hashicorp/aws`` and uses the real provider's resource type
and attribute names (a subset), so the sandbox HCL is real AWS HCL and AWS policy checks apply to it.
It only ever talks to a loopback endpoint (``AWS_ENDPOINT_URL``); anything else is refused.
"""

from __future__ import annotations

import os
import time
from typing import Any

from tf import types
from tf.schema import Attribute, Schema
from tf.utils import Diagnostics

from driftctl.sandbox.provider.base import SandboxResource, SandboxSettings
from driftctl.sandbox.provider.ec2 import Instance, SecurityGroup
from driftctl.sandbox.provider.iam import IamRole, IamRolePolicy
from driftctl.sandbox.provider.queues import CloudwatchLogGroup, SqsQueue
from driftctl.sandbox.provider.s3 import (
    S3Bucket,
    S3BucketPublicAccessBlock,
    S3BucketServerSideEncryptionConfiguration,
    S3BucketVersioning,
)

PROVIDER_SOURCE = "registry.terraform.io/hashicorp/aws"
PROVIDER_VERSION = "5.999.0"

RESOURCES: tuple[type[SandboxResource], ...] = (
    S3Bucket,
    S3BucketVersioning,
    S3BucketPublicAccessBlock,
    S3BucketServerSideEncryptionConfiguration,
    SecurityGroup,
    Instance,
    IamRole,
    IamRolePolicy,
    SqsQueue,
    CloudwatchLogGroup,
)

RESOURCE_TYPES: tuple[str, ...] = tuple(f"aws_{r.name}" for r in RESOURCES)


class SandboxAwsProvider:
    """The tf Provider. Region and credentials come from the block or the usual AWS variables."""

    def __init__(self) -> None:
        self.settings = SandboxSettings()

    def get_model_prefix(self) -> str:
        return "aws_"

    def full_name(self) -> str:
        return PROVIDER_SOURCE

    def get_provider_schema(self, diags: Diagnostics) -> Schema:
        return Schema(
            attributes=[
                Attribute("region", types.String(), optional=True),
                Attribute("access_key", types.String(), optional=True, sensitive=True),
                Attribute("secret_key", types.String(), optional=True, sensitive=True),
                Attribute("skip_credentials_validation", types.Bool(), optional=True),
                Attribute("skip_requesting_account_id", types.Bool(), optional=True),
                Attribute("skip_metadata_api_check", types.String(), optional=True),
                Attribute("s3_use_path_style", types.Bool(), optional=True),
            ]
        )

    def validate_config(self, diags: Diagnostics, config: dict[str, Any]) -> None:
        return None

    def configure_provider(self, diags: Diagnostics, config: dict[str, Any]) -> None:
        if isinstance(config.get("region"), str):
            self.settings.region = config["region"]
        if isinstance(config.get("access_key"), str):
            self.settings.access_key = config["access_key"]
        if isinstance(config.get("secret_key"), str):
            self.settings.secret_key = config["secret_key"]

    def get_data_sources(self) -> list[Any]:
        return []

    def get_resources(self) -> list[Any]:
        return list(RESOURCES)

    def get_functions(self) -> list[Any]:
        return []

    def new_resource(self, klass: Any) -> Any:
        return klass(self)

    def new_data_source(self, klass: Any) -> Any:
        return klass(self)

    def new_function(self, klass: Any) -> Any:
        return klass(self)


def main() -> None:
    """Entry point of the provider executable that Terraform starts."""
    trace = os.environ.get("DRIFTCTL_PROVIDER_TRACE")
    if trace:  # benchmarks count provider starts per Terraform command
        with open(trace, "a") as fh:
            fh.write(f"{os.getpid()} {time.time():.6f}\n")
    from tf.runner import run_provider

    from driftctl.sandbox.provider.servicer import install

    install()  # plans see the configuration, so omitted attributes plan back to their defaults
    run_provider(SandboxAwsProvider())
