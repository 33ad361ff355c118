"""Reads a local Terraform state file into address → attributes (I/O: one file read)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from driftctl.errors import SandboxError


@dataclass(frozen=True, slots=True)
class StateResource:
    address: str
    type: str
    attributes: dict[str, Any]


def _index(key: Any) -> str:
    return f"[{json.dumps(key)}]" if isinstance(key, str) else f"[{key}]"


def read_state(workspace: Path) -> dict[str, StateResource]:
    """Managed resources of the workspace's local state, keyed by their full address."""
    path = workspace / "terraform.tfstate"
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError as exc:
        raise SandboxError(
            f"no Terraform state at {path}", hint="run `driftctl sandbox up` to apply the sample stack"
        ) from exc
    except (OSError, ValueError) as exc:
        raise SandboxError(f"cannot read Terraform state {path}: {exc}") from exc
    found: dict[str, StateResource] = {}
    for res in data.get("resources", []):
        if res.get("mode") != "managed":
            continue
        base = (
            f"{res['module']}.{res['type']}.{res['name']}"
            if res.get("module")
            else f"{res['type']}.{res['name']}"
        )
        for inst in res.get("instances", []):
            address = base + (_index(inst["index_key"]) if "index_key" in inst else "")
            found[address] = StateResource(address, res["type"], dict(inst.get("attributes") or {}))
    return found
