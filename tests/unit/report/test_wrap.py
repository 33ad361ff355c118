"""Long prose wrapped for a terminal: nothing lost, indents kept, 0 means one line."""

from __future__ import annotations

from driftctl.report.wrap import wrapped

TEXT = "Decision: proposed (confidence 0.90 ≥ 0.85; adopt fixes change the code) " * 8


def test_wrapped_lines_fit_and_keep_every_word() -> None:
    lines = wrapped(TEXT.strip(), "  why        ", width=70)
    assert len(lines) > 5 and all(len(line) <= 70 for line in lines)
    assert lines[0].startswith("  why        Decision:")
    assert all(line.startswith(" " * 13) and line[13] != " " for line in lines[1:])
    assert " ".join(line.strip() for line in lines).replace("why ", "", 1).split() == TEXT.split()


def test_width_0_is_one_line_per_paragraph_and_newlines_are_kept() -> None:
    assert wrapped("a b\nc", "> ", width=0) == ["> a b", "  c"]
    assert wrapped("a b\nc", "> ", "+ ", width=3) == ["> a", "+ b", "+ c"]
    assert wrapped("", "x ", width=10) == ["x"]
