"""Blast radius of a fix: what it changes, what depends on that, weighted (no I/O but one YAML read).

The dependency graph comes from the plan's ``configuration`` (expression references), module-aware:
``module.network.security_group_id`` inside ``module.app`` resolves through the child module's output
to ``module.app.module.network.aws_security_group.web``, and ``var.x`` inside a module resolves to what
the module call passes. Computed in Python: graph walks in Rego are slow (DESIGN.md).
"""

from __future__ import annotations

import math
import re
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from driftctl.errors import ConfigError
from driftctl.shipped import policy_file

SHIPPED_WEIGHTS = policy_file("blast.yaml")
_INDEX = re.compile(r"\[[^\]]*\]")
_SKIP = ("each.", "count.", "path.", "terraform.", "self.", "local.")


@dataclass(frozen=True, slots=True)
class Weights:
    actions: Mapping[str, float]
    types: Mapping[str, float]
    dependent: float
    scale: float

    def type_weight(self, resource_type: str) -> float:
        return self.types.get(resource_type, self.types.get("default", 1.0))


@dataclass(frozen=True, slots=True)
class BlastRadius:
    changed: tuple[tuple[str, str], ...]  # (address, action) — action: create/update/replace/delete
    dependents: tuple[str, ...]  # configuration addresses that depend on a changed resource
    score: float
    risk: float  # in [0, 1]


def load_weights(path: Path | None = None) -> Weights:
    import yaml

    file = path or SHIPPED_WEIGHTS
    try:
        data = yaml.safe_load(file.read_text())
        return Weights(
            actions={str(k): float(v) for k, v in data["actions"].items()},
            types={str(k): float(v) for k, v in data["types"].items()},
            dependent=float(data["dependent"]),
            scale=float(data["scale"]),
        )
    except (OSError, yaml.YAMLError, KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ConfigError(f"{file}: not a usable blast-radius weights file: {exc}") from None


def config_address(address: str) -> str:
    """``module.storage["logs"].aws_s3_bucket.this`` → ``module.storage.aws_s3_bucket.this``."""
    return _INDEX.sub("", address)


def action_of(actions: Iterable[str]) -> str:
    acts = tuple(actions)
    if "delete" in acts and "create" in acts:
        return "replace"
    return acts[0] if len(acts) == 1 else "update"


class _Module:
    def __init__(self, prefix: str, body: Mapping[str, Any], parent: _Module | None, call: Mapping[str, Any]):
        self.prefix = prefix  # "" or "module.app." …
        self.body = body
        self.parent = parent
        self.call = call  # this module's call block in the parent (its "expressions" are the inputs)


def dependency_graph(configuration: Mapping[str, Any]) -> dict[str, set[str]]:
    """Configuration address → the configuration addresses (resources) it depends on."""
    graph: dict[str, set[str]] = {}
    root = _Module("", configuration.get("root_module") or {}, None, {})
    stack = [root]
    while stack:
        module = stack.pop()
        for resource in module.body.get("resources") or []:
            node = module.prefix + str(resource.get("address", ""))
            deps: set[str] = set()
            for ref in _references(resource.get("expressions") or {}):
                deps |= _resolve(ref, module, set())
            for ref in resource.get("depends_on") or []:
                deps |= _resolve(str(ref), module, set())
            deps.discard(node)
            graph.setdefault(node, set()).update(deps)
        for name, call in (module.body.get("module_calls") or {}).items():
            child = _Module(f"{module.prefix}module.{name}.", call.get("module") or {}, module, call)
            stack.append(child)
    return graph


def _references(expressions: Any) -> Iterable[str]:
    """Every reference string inside an expressions object (nested blocks included)."""
    if isinstance(expressions, dict):
        for key, value in expressions.items():
            if key == "references" and isinstance(value, list):
                yield from (str(v) for v in value)
            else:
                yield from _references(value)
    elif isinstance(expressions, list):
        for item in expressions:
            yield from _references(item)


def _resolve(ref: str, module: _Module, seen: set[tuple[str, str]]) -> set[str]:
    key = (module.prefix, ref)
    if key in seen or ref.startswith(_SKIP):
        return set()
    seen.add(key)
    parts = _INDEX.sub("", ref).split(".")
    if parts[0] == "var" and len(parts) > 1:
        if module.parent is None:
            return set()
        inputs = (module.call.get("expressions") or {}).get(parts[1]) or {}
        return {n for r in _references(inputs) for n in _resolve(r, module.parent, seen)}
    if parts[0] == "module" and len(parts) > 1:
        call = (module.body.get("module_calls") or {}).get(parts[1])
        if not call:
            return set()
        child = _Module(f"{module.prefix}module.{parts[1]}.", call.get("module") or {}, module, call)
        outputs = child.body.get("outputs") or {}
        # `module.x.out` is one output; a bare `module.x` (Terraform lists both) is all of them.
        names = [parts[2]] if len(parts) > 2 else list(outputs)
        exprs = [(outputs.get(n) or {}).get("expression") or {} for n in names]
        return {node for e in exprs for r in _references(e) for node in _resolve(r, child, seen)}
    if parts[0] == "data" and len(parts) > 2:
        return {f"{module.prefix}data.{parts[1]}.{parts[2]}"}
    if len(parts) >= 2:
        return {f"{module.prefix}{parts[0]}.{parts[1]}"}
    return set()


def dependents_of(graph: Mapping[str, set[str]], changed: Iterable[str]) -> set[str]:
    """Everything that depends, directly or not, on any of ``changed`` (themselves excluded)."""
    reverse: dict[str, set[str]] = {}
    for node, deps in graph.items():
        for dep in deps:
            reverse.setdefault(dep, set()).add(node)
    start = set(changed)
    found: set[str] = set()
    queue = deque(start)
    while queue:
        for dependent in reverse.get(queue.popleft(), ()):
            if dependent not in found and dependent not in start:
                found.add(dependent)
                queue.append(dependent)
    return found


def blast_radius(plan: Mapping[str, Any], weights: Weights) -> BlastRadius:
    """Score a fix's saved plan JSON (``terraform show -json``)."""
    changed: list[tuple[str, str, str]] = []  # address, type, action
    for rc in plan.get("resource_changes") or []:
        if rc.get("mode", "managed") != "managed":
            continue
        actions = tuple((rc.get("change") or {}).get("actions") or ())
        if not actions or actions in (("no-op",), ("read",)):
            continue
        changed.append((str(rc["address"]), str(rc.get("type", "")), action_of(actions)))
    graph = dependency_graph(plan.get("configuration") or {})
    dependents = dependents_of(graph, {config_address(a) for a, _, _ in changed})
    score = sum(weights.actions.get(action, 1.0) * weights.type_weight(t) for _, t, action in changed)
    score += sum(weights.dependent * weights.type_weight(_type_of(d)) for d in dependents)
    risk = 1.0 - math.exp(-score / weights.scale) if score > 0 else 0.0
    return BlastRadius(
        changed=tuple(sorted((a, action) for a, _, action in changed)),
        dependents=tuple(sorted(dependents)),
        score=round(score, 3),
        risk=round(risk, 4),
    )


def _type_of(config_addr: str) -> str:
    parts = config_addr.split(".")
    return parts[-2] if len(parts) >= 2 else ""
