"""Splices: replace, cut or add one node's characters in a .tf file, leaving every other byte (pure).

A splice is computed from the parsed file and its text; nothing is written here.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from driftctl.draft.hcl_locate import (
    Node,
    attr_name,
    block_body,
    block_braces,
    body_items,
    container_items,
    find_blocks,
    indent_at,
    line_end,
    line_no,
    line_start,
    span,
    tokens,
)
from driftctl.draft.hcl_render import (
    IDENT,
    STEP,
    render_block,
    render_hcl,
    render_key,
)
from driftctl.models import (
    AttributeChange,
)

_META_ARGS = frozenset({"count", "for_each", "provider", "depends_on"})


# -- splices --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Splice:
    file: Path
    start: int
    end: int
    text: str


class Unresolved(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


Outcome = Splice | list[AttributeChange] | None


def _end(text: str, node: Node) -> int:
    """The end of a node, not counting the newline a heredoc swallows."""
    end = span(node)[1]
    return end - 1 if text[end - 1 : end] == "\n" else end


def _eq_column(text: str, item: Node) -> int | None:
    eq = next((t for t in tokens(item) if t.type in ("EQ", "COLON")), None)
    if eq is None or line_no(text, span(item)[0]) != line_no(text, _end(text, item)):
        return None
    return span(eq)[1] - 1 - line_start(text, span(eq)[1] - 1)


def _line(text: str, neighbour: Node | None, key: str, rendered: str, indent: str) -> str:
    """``key = value`` lined up with the neighbour's ``=`` when it fits (``terraform fmt`` does the rest)."""
    column = _eq_column(text, neighbour) if neighbour is not None and "\n" not in rendered else None
    pad = column - len(indent) - len(key) if column is not None else 1
    return f"{indent}{key}{' ' * max(1, pad)}= {rendered}"


def replace_node(file: Path, text: str, node: Node, new: str) -> Splice:
    start, end = span(node)
    if text[end - 1 : end] == "\n" and not new.endswith("\n"):
        new += "\n"
    return Splice(file, start, end, new)


def _line_text(text: str, pos: int) -> str:
    return text[line_start(text, pos) : line_end(text, pos)]


def cut(file: Path, text: str, node: Node, siblings: Sequence[Node], *, comments: bool = False) -> Splice:
    """Remove an item: its whole line(s) when it has them to itself, else the item and one comma."""
    start, end = span(node)[0], _end(text, node)
    comma = re.compile(r"[ \t]*,").match(text, end)
    after = comma.end() if comma else end
    rest = text[after : line_end(text, after)].strip()
    if text[line_start(text, start) : start].strip() == "" and (not rest or rest.startswith(("#", "//"))):
        a, b = line_start(text, start), min(line_end(text, after) + 1, len(text))
        while comments and a > 0 and _line_text(text, a - 1).strip().startswith(("#", "//")):
            a = line_start(text, a - 1)
        before = _line_text(text, a - 1) if a > 0 else None
        following = _line_text(text, b) if b < len(text) else ""
        if (
            before is not None
            and not before.strip()
            and (not following.strip() or following.strip()[0] in "}])")
        ):
            a = line_start(text, a - 1)
        elif (
            before is not None
            and before.rstrip().endswith(("{", "[", "("))
            and b < len(text)
            and not following.strip()
        ):
            b = line_end(text, b) + 1
        return Splice(file, a, b, "")
    i = list(siblings).index(node)
    if i > 0:
        return Splice(file, _end(text, siblings[i - 1]), end, "")
    if len(siblings) > 1:
        return Splice(file, start, span(siblings[1])[0], "")
    return Splice(file, start, after, "")


def remover(file: Path, text: str, node: Node, siblings: Sequence[Node]) -> Callable[[], Splice]:
    return lambda: cut(file, text, node, siblings)


def add_to_container(file: Path, text: str, node: Node, key: str | None, value: Any) -> Splice:
    """Append ``key = value`` to an object (``key`` None: ``value`` to a tuple), in its layout."""
    items = container_items(node)
    braces = [t for t in tokens(node) if t.type in ("LBRACE", "RBRACE", "LSQB", "RSQB")]
    open_at, close_at = span(braces[0])[0], span(braces[-1])[0]
    key_text = render_key(key) if key is not None else ""
    if "\n" not in text[open_at:close_at]:
        rendered = render_hcl(value, indent_at(text, open_at))
        entry = f"{key_text} = {rendered}" if key is not None else rendered
        if items:
            return Splice(file, _end(text, items[-1]), _end(text, items[-1]), f", {entry}")
        pad = " " if key is not None else ""
        return Splice(file, open_at + 1, close_at, f"{pad}{entry}{pad}")
    last = items[-1] if items else None
    indent = indent_at(text, span(last)[0]) if last is not None else indent_at(text, close_at) + STEP
    rendered = render_hcl(value, indent)
    entry = _line(text, last, key_text, rendered, indent) if key is not None else indent + rendered
    if last is None:
        return Splice(file, line_end(text, open_at), line_end(text, open_at), "\n" + entry)
    comma = re.compile(r"[ \t]*,").match(text, _end(text, last))
    if key is None and comma is None:
        return Splice(file, _end(text, last), _end(text, last), ",\n" + entry)
    pos = comma.end() if comma else _end(text, last)
    if line_no(text, pos) == line_no(text, close_at):
        return Splice(file, pos, pos, "\n" + entry + ("," if comma else ""))
    return Splice(file, line_end(text, pos), line_end(text, pos), "\n" + entry + ("," if comma else ""))


def add_to_body(file: Path, text: str, block: Node, name: str, value: Any) -> Splice:
    """Insert ``name = value`` after the block's last attribute (or before its first nested block)."""
    if not IDENT.match(name):
        raise ValueError(f"{name!r} is not an attribute name")
    body = block_body(block)
    items = body_items(body)
    attrs = [i for i in items if i.data == "attribute"]
    anchors = [a for a in attrs if attr_name(a) not in _META_ARGS] or attrs
    open_at, close_at = block_braces(block)
    if line_no(text, open_at) == line_no(text, close_at):  # a one-line block: give it lines
        outer = indent_at(text, open_at)
        old = [f"{outer}{STEP}{text[span(i)[0] : _end(text, i)]}" for i in items]
        new = _line(text, None, name, render_hcl(value, outer + STEP), outer + STEP)
        return Splice(file, open_at + 1, close_at, "\n" + "\n".join([*old, new]) + "\n" + outer)
    if anchors:
        anchor = anchors[-1]
        indent = indent_at(text, span(anchor)[0])
        entry = _line(text, anchor, name, render_hcl(value, indent), indent)
        pos = line_end(text, _end(text, anchor))
        return Splice(file, pos, pos, "\n" + entry)
    if items:
        indent = indent_at(text, span(items[0])[0])
        pos = line_start(text, span(items[0])[0])
        return Splice(file, pos, pos, f"{indent}{name} = {render_hcl(value, indent)}\n\n")
    indent = indent_at(text, open_at) + STEP
    entry = f"{indent}{name} = {render_hcl(value, indent)}"
    return Splice(file, open_at + 1, close_at, "\n" + entry + "\n" + indent_at(text, close_at))


def add_blocks(file: Path, text: str, block: Node, name: str, values: Sequence[dict[str, Any]]) -> Splice:
    """New ``name { ... }`` blocks after the last block of that type (or the body's last item)."""
    body = block_body(block)
    items, same = body_items(body), find_blocks(body, name)
    open_at, close_at = block_braces(block)
    anchor = same[-1] if same else items[-1] if items else None
    if anchor is None or line_no(text, open_at) == line_no(text, close_at):
        if items:
            raise ValueError("a one-line block")
        indent = indent_at(text, open_at) + STEP
        rendered = "\n\n".join(render_block(name, v, indent) for v in values)
        return Splice(file, open_at + 1, close_at, "\n" + rendered + "\n" + indent_at(text, close_at))
    indent = indent_at(text, span(anchor)[0])
    rendered = "\n\n".join(render_block(name, v, indent) for v in values)
    pos = span(anchor)[1] if same else line_end(text, _end(text, anchor))
    return Splice(file, pos, pos, "\n\n" + rendered)
