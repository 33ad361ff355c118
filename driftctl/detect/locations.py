"""Where each finding's resource is declared: the .tf file and line (I/O: reads .tf files).

For SARIF, so a code-scanning alert points at the `resource` block rather than at a directory. It uses
the HCL locator the adopt drafter edits with; a resource it cannot find (a remote module, a plan file
without its code) simply has no location.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from driftctl.detect.engine import Target
from driftctl.errors import DriftctlError
from driftctl.models import DetectReport


@dataclass(frozen=True, slots=True)
class SourceLocation:
    """A file (relative to the working directory when under it, else absolute) and a 1-based line."""

    file: str
    line: int


def _shown(path: Path, cwd: Path) -> str:
    try:
        return path.resolve().relative_to(cwd).as_posix()
    except ValueError:
        return str(path.resolve())


def resource_locations(
    report: DetectReport, targets: Sequence[Target], cwd: Path | None = None
) -> dict[tuple[str, str], SourceLocation]:
    """(workspace, address) → where the resource block starts, for every finding that can be found."""
    directories = {t.name: t.path for t in targets if t.path is not None and t.plan_file is None}
    found: dict[tuple[str, str], SourceLocation] = {}
    if not directories:
        return found  # plan files only: no code to search, and no HCL parser to load
    from driftctl.draft.hcl_locate import SourceFiles, find_resource, line_no

    base = (cwd or Path.cwd()).resolve()
    for ws in report.workspaces:
        directory = directories.get(ws.workspace)
        if directory is None or not ws.findings:
            continue
        files = SourceFiles(Path(os.path.abspath(directory)))
        for finding in ws.findings:
            try:
                location = find_resource(files, finding.resource).location
            except (DriftctlError, OSError, ValueError):
                continue  # not declared where we can read it: the result keeps its logical location
            line = line_no(location.text, location.start)
            found[(ws.workspace, finding.address)] = SourceLocation(_shown(location.file, base), line)
    return found
