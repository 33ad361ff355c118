"""Inert values and comment splitting: hostile input renders as text; every part is balanced Markdown."""

from __future__ import annotations

import re

import pytest
from markdown_it import MarkdownIt

from driftctl.forge.text import COLLAPSE_AFTER, code, collapsible, fenced, inert, split_comment

HOSTILE = (
    "<script>alert(1)</script> `x` ``` @admin @org/team **bold** [l](http://e) \x1b[31m\u202egnp.exe\x00 | a"
)


def render(markdown: str) -> str:
    return MarkdownIt("commonmark", {"html": True}).enable("table").render(markdown)


def test_inert_prose_renders_as_the_literal_text() -> None:
    html = render(inert(HOSTILE))
    assert "<script>" not in html and "<strong>" not in html and "<a " not in html and "<code>" not in html
    assert "&lt;script&gt;" in html
    assert "\x1b" not in html and "\u202e" not in html and "\x00" not in html
    assert re.search(r"@admin\b", html) is None  # a word joiner sits between @ and the name
    assert "@\u2060admin" in html


def test_code_span_holds_backticks_and_cannot_be_escaped() -> None:
    span = code("a `b` ``c``")
    html = render(span)
    assert html.count("<code>") == 1 and "a `b` ``c``" in html


def test_fenced_block_cannot_be_closed_from_inside() -> None:
    text = "line\n```\n<details>\n````\n@someone"
    block = fenced(text, "diff")
    html = render(block + "\n\nafter")
    assert html.count("<pre>") == 1 and "<details>" not in html and "&lt;details&gt;" in html
    assert "<p>after</p>" in html


def test_long_output_is_folded() -> None:
    short = fenced("\n".join(["x"] * COLLAPSE_AFTER))
    assert collapsible("s", short, COLLAPSE_AFTER) == short
    long = "\n".join(["x"] * (COLLAPSE_AFTER + 1))
    assert collapsible("s", fenced(long), COLLAPSE_AFTER + 1).startswith("<details><summary>s</summary>")


def balanced(part: str) -> None:
    """Every fence opened in ``part`` is closed in it, and so is every <details> outside fences."""
    fence: str | None = None
    depth = 0
    for line in part.split("\n"):
        m = re.match(r"^(`{3,})(.*)$", line)
        if fence is not None:
            if m and len(m.group(1)) >= len(fence) and not m.group(2).strip():
                fence = None
            continue
        if m:
            fence = m.group(1)
        elif line.startswith("<details"):
            depth += 1
        elif line.startswith("</details>"):
            depth -= 1
            assert depth >= 0, "a </details> without its <details>"
    assert fence is None, "a code fence left open"
    assert depth == 0, "a <details> left open"


@pytest.mark.parametrize("limit", [65_536, 10_000])
def test_a_100kb_output_splits_into_balanced_parts_under_the_limit(limit: int) -> None:
    output = "\n".join(f"+ resource line {i} " + "`" * (i % 5) + "x" * 60 for i in range(1400))
    assert len(output) > 100_000
    body = "Ran Plan for 1 workspace\n\n### 1. thing\n" + collapsible(
        "Show Output", fenced(output, "diff"), 1400
    )
    body += "\n\n---\nfooter"
    parts = split_comment(body, limit)
    assert len(parts) >= 2
    for part in parts:
        assert len(part) <= limit
        balanced(part)
        html = render(part)
        assert html.count("<details>") == html.count("</details>")
        assert html.count("<pre>") == html.count("</pre>") == 1  # the output is code, in every part
    assert "continued in the next comment" in parts[0] and "continued from" in parts[1]
    assert parts[1].split("\n")[2].startswith("<details>")  # re-opened at the top of the next part
    joined = "\n".join(parts)
    for i in (0, 700, 1399):  # nothing lost
        assert f"resource line {i} " in joined


def test_a_short_body_is_one_part_and_a_tiny_limit_is_refused() -> None:
    assert split_comment("hello", 65_536) == ["hello"]
    with pytest.raises(ValueError):
        split_comment("x" * 5000, 1000)


def test_an_overlong_single_line_is_cut() -> None:
    parts = split_comment(fenced("y" * 200_000), 65_536)
    assert all(len(p) <= 65_536 for p in parts) and len(parts) >= 4
    for part in parts:
        balanced(part)
