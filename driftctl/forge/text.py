"""Untrusted values made inert in Markdown, and long comments split under the forge's limit (no I/O).

Anything that came from the cloud, the code or a commenter (tag values, addresses, reasons) goes
through `inert` (prose), `code` (inline code) or `fenced` (blocks) before it reaches a comment: HTML
is escaped, Markdown punctuation is escaped, ``@mentions`` do not notify, control and bidi characters
are dropped, and a code fence is always longer than any run of backticks it holds, so nothing in a
value can close it. `split_comment` cuts a long comment at line boundaries and closes any open code
fence and ``<details>`` at the cut, re-opening them at the top of the next part.
"""

from __future__ import annotations

import html
import re

COLLAPSE_AFTER = 12  # output longer than this many lines goes inside <details>
_INVISIBLE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]")
_MARKDOWN = re.compile(r"([\\`*_\[\]()#!|~>{}+=-])")
_MENTION = re.compile(r"@(?=[A-Za-z0-9])")
_FENCE = re.compile(r"^(`{3,}|~{3,})(.*)$")
WORD_JOINER = "\u2060"  # invisible: `@` + WJ + name is no mention on GitHub or GitLab
MORE = "\n\n*(continued in the next comment)*"
CONTINUED = "*(continued from the previous comment)*\n\n"
MIN_LIMIT = 2048


def clean(text: str) -> str:
    """``text`` without control, zero-width or bidi-override characters (newlines and tabs kept)."""
    return _INVISIBLE.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))


def inert(value: object, limit: int = 300) -> str:
    """One line of prose that renders as the literal text: no HTML, no formatting, no mentions."""
    text = " ".join(clean(str(value)).split())
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    text = _MARKDOWN.sub(r"\\\1", html.escape(text, quote=False))
    return _MENTION.sub("@" + WORD_JOINER, text)


def code(value: object, limit: int = 200) -> str:
    """An inline code span holding ``value`` literally, whatever backticks it contains."""
    text = " ".join(clean(str(value)).split())
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    text = _MENTION.sub("@" + WORD_JOINER, text.replace("|", "¦"))  # `|` would split a table cell
    ticks = "`" * (max((len(r) for r in re.findall(r"`+", text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{ticks}{pad}{text}{pad}{ticks}"


def fenced(text: str, lang: str = "") -> str:
    """A fenced code block holding ``text`` literally; its fence outruns any backtick run inside."""
    # Forges do not notify mentions inside code today; an invisible joiner keeps it so if that changes.
    body = _MENTION.sub("@" + WORD_JOINER, clean(text).rstrip("\n"))
    longest = max((len(r) for r in re.findall(r"`+", body)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{lang}\n{body}\n{fence}"


def collapsible(summary: str, block: str, lines: int) -> str:
    """``block`` as is, or inside ``<details>`` when it is longer than `COLLAPSE_AFTER` lines."""
    if lines <= COLLAPSE_AFTER:
        return block
    return f"<details><summary>{summary}</summary>\n\n{block}\n\n</details>"


def split_comment(body: str, limit: int) -> list[str]:
    """``body`` in parts of at most ``limit`` characters, each one valid Markdown on its own."""
    if len(body) <= limit:
        return [body]
    if limit < MIN_LIMIT:
        raise ValueError(f"a comment limit of {limit} characters is too small to split into")
    budget = limit - len(MORE) - len(CONTINUED) - 600  # room for re-opened fences and <details>
    parts: list[str] = []
    lines: list[str] = []
    size = 0
    fence: str | None = None  # the opening line of the code fence we are in
    details: list[str] = []  # the opening lines of the <details> we are in
    for line in _short_lines(body.split("\n"), budget // 4):
        fence_after, details_after = _state_after(line, fence, details)
        if lines and size + len(line) + 1 + len(_closing(fence_after, details_after)) > budget:
            parts.append("\n".join(lines) + _closing(fence, details) + MORE)
            # A blank line after each <details> ends its HTML block, so a fence after it is Markdown.
            lines = (
                [CONTINUED.rstrip("\n"), ""]
                + [x for d in details for x in (d, "")]
                + ([fence] if fence else [])
            )
            size = sum(len(x) + 1 for x in lines)
        lines.append(line)
        size += len(line) + 1
        fence, details = fence_after, details_after
    parts.append("\n".join(lines))
    return parts


def _short_lines(lines: list[str], width: int) -> list[str]:
    out: list[str] = []
    for line in lines:
        while len(line) > width:
            out.append(line[:width])
            line = line[width:]
        out.append(line)
    return out


def _state_after(line: str, fence: str | None, details: list[str]) -> tuple[str | None, list[str]]:
    match = _FENCE.match(line)
    if fence is not None:
        run = re.match(r"^(`+|~+)", fence)
        assert run is not None
        closes = match is not None and match.group(1)[0] == run.group(1)[0] and not match.group(2).strip()
        return (None if closes and len(match.group(1)) >= len(run.group(1)) else fence), details  # type: ignore[union-attr]
    if match is not None:
        return line, details
    if line.startswith("<details"):
        return None, [*details, line]
    if line.startswith("</details>") and details:
        return None, details[:-1]
    return None, details


def _closing(fence: str | None, details: list[str]) -> str:
    text = ""
    if fence is not None:
        run = re.match(r"^(`+|~+)", fence)
        assert run is not None
        text += "\n" + run.group(1)
    return text + "\n\n</details>" * len(details)
