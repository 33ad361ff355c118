"""Cloud resource ids → (workspace, Terraform address), built from each workspace's state (I/O: Terraform
``state pull``; the lookups themselves are pure).

Every managed resource instance is indexed under the identifiers an API call names it by: ``id``,
``arn``, ``name``, ``bucket`` (S3) and, for the few types where a call names the parent, that parent
(``aws_s3_bucket_versioning.bucket``, ``aws_iam_role_policy.role`` → the role's calls also touch it).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

# attributes whose value is how CloudTrail's requestParameters/responseElements name the resource
KEY_ATTRIBUTES = ("id", "arn", "name", "bucket", "role")


@dataclass(frozen=True, slots=True)
class Hit:
    workspace: str
    address: str
    type: str


@dataclass(frozen=True, slots=True)
class ResourceIndex:
    entries: Mapping[str, tuple[Hit, ...]] = field(default_factory=dict)

    def lookup(self, ids: Iterable[str]) -> list[Hit]:
        """Every indexed resource any of ``ids`` names, without repeats, in a stable order."""
        found: dict[tuple[str, str], Hit] = {}
        for ident in ids:
            for hit in self.entries.get(ident, ()):
                found.setdefault((hit.workspace, hit.address), hit)
        return sorted(found.values(), key=lambda h: (h.workspace, h.address))

    @property
    def workspaces(self) -> set[str]:
        return {h.workspace for hits in self.entries.values() for h in hits}


def address_of(resource: Mapping[str, Any], instance: Mapping[str, Any]) -> str:
    """The exact address of one state instance: ``module.a["x"].aws_s3_bucket.this[0]``."""
    base = f"{resource['type']}.{resource['name']}"
    if resource.get("module"):
        base = f"{resource['module']}.{base}"
    key = instance.get("index_key")
    if key is None:
        return base
    return f"{base}[{json.dumps(key)}]" if isinstance(key, str) else f"{base}[{key}]"


def state_entries(workspace: str, state: Mapping[str, Any] | None) -> dict[str, list[Hit]]:
    """The index entries of one workspace's raw state (``terraform state pull``)."""
    out: dict[str, list[Hit]] = {}
    for resource in (state or {}).get("resources", []):
        if resource.get("mode") != "managed":
            continue
        for instance in resource.get("instances", []):
            attrs = instance.get("attributes") or {}
            hit = Hit(workspace, address_of(resource, instance), str(resource["type"]))
            for key in KEY_ATTRIBUTES:
                value = attrs.get(key)
                if isinstance(value, str) and value:
                    out.setdefault(value, []).append(hit)
    return out


def build_index(states: Iterable[tuple[str, Mapping[str, Any] | None]]) -> ResourceIndex:
    merged: dict[str, list[Hit]] = {}
    for workspace, state in states:
        for ident, hits in state_entries(workspace, state).items():
            merged.setdefault(ident, []).extend(hits)
    return ResourceIndex({k: tuple(v) for k, v in merged.items()})


def pull_states(targets: Sequence[Any]) -> list[tuple[str, dict[str, Any] | None]]:
    """``terraform state pull`` of each target (a core ``Target``); a failing workspace is left out."""
    import logging

    from driftctl.detect.engine import terraform_for
    from driftctl.errors import DriftctlError

    states: list[tuple[str, dict[str, Any] | None]] = []
    for target in targets:
        if target.path is None:
            continue
        try:
            states.append((target.name, terraform_for(target)(target.path).state_pull()))
        except DriftctlError as exc:
            logging.getLogger(__name__).warning("index: no state for %s: %s", target.name, exc)
    return states
