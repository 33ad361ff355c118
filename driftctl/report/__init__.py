"""Renders a DetectReport as console text, JSON, Markdown or SARIF: pure functions to str (no I/O)."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from driftctl.errors import ConfigError
from driftctl.models import DetectReport
from driftctl.report.console import ConsoleOutput
from driftctl.report.json import SCHEMA_VERSION, JsonOutput, canonical, to_document
from driftctl.report.markdown import MarkdownOutput
from driftctl.report.sarif import SarifOutput, to_sarif


@runtime_checkable
class Output(Protocol):
    """One output format. ``color`` asks for ANSI colours; formats that are not for a terminal ignore it."""

    def render(self, report: DetectReport, *, color: bool) -> str: ...


OUTPUTS: dict[str, Output] = {
    "console": ConsoleOutput(),
    "json": JsonOutput(),
    "markdown": MarkdownOutput(),
    "sarif": SarifOutput(),
}
FORMATS: tuple[str, ...] = tuple(OUTPUTS)


def render(report: DetectReport, fmt: str, *, color: bool = False) -> str:
    """The report in format ``fmt`` (one of ``FORMATS``), ending with a newline."""
    try:
        output = OUTPUTS[fmt]
    except KeyError:
        raise ConfigError(
            f"unknown output format {fmt!r}", hint=f"use one of: {', '.join(FORMATS)}"
        ) from None
    return output.render(report, color=color)


__all__ = [
    "FORMATS",
    "OUTPUTS",
    "SCHEMA_VERSION",
    "ConsoleOutput",
    "JsonOutput",
    "MarkdownOutput",
    "Output",
    "SarifOutput",
    "canonical",
    "render",
    "to_document",
    "to_sarif",
]
