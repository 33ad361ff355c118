"""Finds wildcard grants in IAM policy documents, for severity rules (no I/O).

A grant is a wildcard when an ``Allow`` statement
- names a service-wide action: ``*``, ``*:*``, ``iam:*`` (whatever the resource), or
- uses ``NotAction`` (it allows everything but a list), or
- names a partial wildcard action (``s3:Get*``) on every resource (``Resource: "*"`` or ``NotResource``).

A specific action on ``Resource: "*"`` (``ec2:DescribeInstances``, which has no resource-level
permissions) is not a wildcard grant: flagging it would make most ordinary policies critical.
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["grants_wildcard", "wildcard_grants"]


def wildcard_grants(document: Any) -> tuple[str, ...]:
    """The wildcard grants of one policy document (a JSON string or parsed), described; () if none.

    Anything that is not a policy document (not JSON, no ``Statement``) has none.
    """
    if isinstance(document, str):
        try:
            document = json.loads(document)
        except ValueError:
            return ()
    if not isinstance(document, dict):
        return ()
    found: list[str] = []
    for statement in _listed(document.get("Statement")):
        if not isinstance(statement, dict) or statement.get("Effect") != "Allow":
            continue
        found.extend(_statement_grants(statement))
    return tuple(found)


def grants_wildcard(value: Any) -> bool:
    """Whether ``value``, or any string inside it (an ``inline_policy`` block), grants a wildcard."""
    if isinstance(value, dict):
        return bool(wildcard_grants(value)) or any(grants_wildcard(v) for v in value.values())
    if isinstance(value, list | tuple):
        return any(grants_wildcard(v) for v in value)
    return isinstance(value, str) and bool(wildcard_grants(value))


def _statement_grants(statement: dict[str, Any]) -> list[str]:
    every_resource = "NotResource" in statement or "*" in _strings(statement.get("Resource"))
    on = "every resource" if every_resource else "some resources"
    if "NotAction" in statement:
        return [f"NotAction {_strings(statement['NotAction'])} (everything else) on {on}"]
    grants = []
    for action in _strings(statement.get("Action")):
        if _service_wide(action) or ("*" in action and every_resource):
            grants.append(f"Action {action} on {on}")
    return grants


def _service_wide(action: str) -> bool:
    service, _, name = action.partition(":")
    return action == "*" or name.strip() == "*" or "*" in service


def _listed(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def _strings(value: Any) -> list[str]:
    return [v for v in _listed(value) if isinstance(v, str)]
