"""Turns command-line arguments and driftctl.yaml into detection targets (I/O: reads config files)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from driftctl.detect.engine import Target
from driftctl.errors import ConfigError

if TYPE_CHECKING:
    from driftctl.config import WorkspaceConfig

IGNORE_FILE = ".driftctl-ignore.yaml"
DEFAULT_PARALLEL = 4


def from_workspace(ws: WorkspaceConfig) -> Target:
    return Target(
        name=ws.name,
        path=ws.path,
        terraform=ws.terraform,
        env=tuple(sorted(ws.env.items())),
        var_files=tuple(str(v) for v in ws.var_files),
        backend_config=tuple(sorted(ws.backend_config.items())),
        ignore_file=ws.ignore_file,
        timeout=ws.timeout,
        mode=ws.mode,
        confidence_threshold=ws.thresholds.confidence,
        max_risk=ws.thresholds.max_risk,
        breaker_failures=ws.breaker_failures,
        max_applies_per_hour=ws.max_applies_per_hour,
        flapping_window_s=ws.flapping.window_s,
        flapping_heals=ws.flapping.heals,
    )


def resolve_targets(
    names: Sequence[str], config_path: Path | None, plan_files: Sequence[Path]
) -> tuple[list[Target], int]:
    """The targets to detect on, and how many may run at once by default."""
    if plan_files:
        if names:
            raise ConfigError("give either workspace names or --plan-file, not both")
        return [
            Target(name=p.stem, plan_file=p, ignore_file=_beside(p.parent)) for p in plan_files
        ], DEFAULT_PARALLEL
    # Imported here: pydantic and the config models cost ~0.1 s that --plan-file never needs.
    from driftctl.config import find_config, load_config

    path = config_path or find_config()
    if path is not None:
        config = load_config(path)
        chosen = config.select(names)
        parallel = max((ws.parallel for ws in chosen), default=DEFAULT_PARALLEL)
        return [from_workspace(ws) for ws in chosen], parallel
    directories = [Path(n) for n in names] or [Path.cwd()]
    targets = []
    for directory in directories:
        if not directory.is_dir():
            raise ConfigError(
                f"{directory}: no such workspace directory, and no driftctl.yaml here to name workspaces",
                hint="pass Terraform directories, or create a driftctl.yaml (see docs/config.md)",
            )
        resolved = directory.resolve()
        targets.append(Target(name=resolved.name, path=resolved, ignore_file=_beside(resolved)))
    return targets, DEFAULT_PARALLEL


def _beside(directory: Path) -> Path | None:
    candidate = directory / IGNORE_FILE
    return candidate if candidate.is_file() else None
