"""Plan JSON documents for ledger tests: a queue whose visibility timeout drifted, in every stage."""

from __future__ import annotations

import json
from typing import Any

from driftctl.terraform.plan import Plan, parse_plan

QUEUE = "module.app.aws_sqs_queue.jobs[0]"


def queue(visibility: int, *, tags: dict[str, str] | None = None) -> dict[str, Any]:
    return {"id": "q0", "name": "jobs-0", "visibility_timeout_seconds": visibility, "tags": tags or {}}


def _rc(address: str, actions: list[str], before: Any, after: Any, sensitive: Any) -> dict[str, Any]:
    return {
        "address": address,
        "module_address": "module.app",
        "mode": "managed",
        "type": "aws_sqs_queue",
        "name": "jobs",
        "index": 0,
        "provider_name": "registry.terraform.io/hashicorp/aws",
        "change": {
            "actions": actions,
            "before": before,
            "after": after,
            "before_sensitive": sensitive or False,
            "after_sensitive": sensitive or False,
        },
    }


def plan(
    *,
    state: dict[str, Any] | None,
    reality: dict[str, Any] | None,
    code: dict[str, Any] | None,
    sensitive: dict[str, Any] | None = None,
) -> Plan:
    """A plan where state holds ``state``, the cloud ``reality`` (None: deleted), the code ``code``."""
    doc: dict[str, Any] = {"format_version": "1.2", "terraform_version": "1.9.0"}
    if state != reality:
        doc["resource_drift"] = [_rc(QUEUE, ["update" if reality else "delete"], state, reality, sensitive)]
    if code != reality:
        actions = ["create"] if reality is None else ["update"]
        doc["resource_changes"] = [_rc(QUEUE, actions, reality, code, sensitive)]
    resources = []
    if reality is not None:
        resources.append(
            {
                "address": QUEUE,
                "mode": "managed",
                "type": "aws_sqs_queue",
                "name": "jobs",
                "index": 0,
                "values": reality,
                "sensitive_values": sensitive or {},
            }
        )
    doc["prior_state"] = {
        "format_version": "1.0",
        "values": {"root_module": {"child_modules": [{"address": "module.app", "resources": resources}]}},
    }
    return parse_plan(json.dumps(doc))
