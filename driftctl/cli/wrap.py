"""The terminal width console prose is wrapped to (I/O: reads the terminal size)."""

from __future__ import annotations

import shutil

from driftctl.report.wrap import wrapped

MIN_WIDTH = 40
MAX_WIDTH = 120  # past this, lines get hard to read even on a wide terminal


def width() -> int:
    """The terminal's columns ($COLUMNS first), kept between 40 and 120; 100 when not a terminal."""
    columns = shutil.get_terminal_size((100, 24)).columns
    return max(MIN_WIDTH, min(MAX_WIDTH, columns))


def wrap_indented(text: str, indent: str) -> str:
    """``text`` wrapped to the terminal, every line starting with ``indent`` (continuations deeper)."""
    return "\n".join(wrapped(text, indent, indent + "  ", width()))
