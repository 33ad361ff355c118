"""The public API of driftctl.report: pinned names, dispatch by format name, unknown formats."""

from __future__ import annotations

import pytest

import driftctl.report as report_api
from driftctl.errors import ConfigError
from driftctl.models import DetectReport
from driftctl.report import FORMATS, OUTPUTS, JsonOutput, Output, render


def test_public_names_are_pinned() -> None:
    assert sorted(report_api.__all__) == sorted(
        [
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
    )
    for name in report_api.__all__:
        assert hasattr(report_api, name)


def test_formats_are_the_dispatch_table_keys() -> None:
    assert FORMATS == ("console", "json", "markdown", "sarif")
    assert tuple(OUTPUTS) == FORMATS
    assert all(isinstance(output, Output) for output in OUTPUTS.values())


def test_render_dispatches_by_name_without_color_by_default(rich_report: DetectReport) -> None:
    assert render(rich_report, "json") == JsonOutput().render(rich_report, color=False)
    assert "\x1b[" not in render(rich_report, "console")


def test_unknown_format_is_a_config_error_that_lists_the_formats(rich_report: DetectReport) -> None:
    with pytest.raises(ConfigError) as info:
        render(rich_report, "html")
    assert "'html'" in info.value.message
    assert all(fmt in (info.value.hint or "") for fmt in FORMATS)
