"""Prose (rationales, reasons) wrapped to a width for console output (no I/O)."""

from __future__ import annotations

import textwrap


def wrapped(text: str, first: str, rest: str | None = None, width: int = 0) -> list[str]:
    """``text`` as lines of at most ``width`` columns (0: not wrapped), the first starting with
    ``first`` and the others with ``rest`` (default: as many spaces as ``first`` is long)."""
    rest = " " * len(first) if rest is None else rest
    paragraphs = text.splitlines() or [""]
    if width <= 0:
        return [(first if i == 0 else rest) + p for i, p in enumerate(paragraphs)]
    lines: list[str] = []
    for p in paragraphs:
        lines += textwrap.wrap(
            p,
            width,
            initial_indent=first if not lines else rest,
            subsequent_indent=rest,
            break_long_words=False,
            break_on_hyphens=False,
        ) or [(first if not lines else rest).rstrip()]
    return lines
