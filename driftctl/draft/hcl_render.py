"""Values rendered as HCL text: quoting and escaping, keys, maps, lists, nested blocks (pure)."""

from __future__ import annotations

import contextlib
import json
import math
import re
from collections.abc import Sequence
from typing import Any

from driftctl.invisible import CONTROL, INVISIBLE

STEP = "  "
IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")
_RESERVED = frozenset({"true", "false", "null", "for", "in", "if", "else", "endif", "endfor"})


# -- rendering values as HCL ----------------------------------------------------------------------------


UNSAFE_RAW = re.compile(f"{CONTROL.pattern}|{INVISIBLE.pattern}")


def quote_hcl(text: str) -> str:
    """A quoted HCL string whose value is exactly ``text``: template sequences are escaped, so a
    hostile value cannot interpolate (``${`` → ``$${``, ``%{`` → ``%%{``); control characters, bidi
    controls and zero-width characters are ``\\uXXXX`` escapes, so a reviewer sees what the diff does."""
    out = []
    for ch in text:
        if ch in '\\"':
            out.append("\\" + ch)
        elif ch in "\n\r\t":
            out.append({"\n": "\\n", "\r": "\\r", "\t": "\\t"}[ch])
        elif ord(ch) < 0x20 or ord(ch) == 0x7F or INVISIBLE.match(ch):
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return '"' + "".join(out).replace("${", "$${").replace("%{", "%%{") + '"'


def render_key(key: str) -> str:
    return key if IDENT.match(key) and key not in _RESERVED else quote_hcl(key)


def _scalar(value: Any) -> bool:
    return value is None or isinstance(value, str | int | float | bool)


def render_hcl(value: Any, indent: str = "") -> str:
    """``value`` as an HCL expression; ``indent`` is the indentation of the line it starts on."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{value!r} has no HCL literal")
        return repr(value)
    if isinstance(value, str):
        return quote_hcl(value)
    inner = indent + STEP
    if isinstance(value, list | tuple):
        if all(_scalar(v) for v in value):
            return "[" + ", ".join(render_hcl(v) for v in value) + "]"
        return "[\n" + "".join(f"{inner}{render_hcl(v, inner)},\n" for v in value) + indent + "]"
    if isinstance(value, dict):
        if not value:
            return "{}"
        pairs = [(render_key(str(k)), render_hcl(v, inner)) for k, v in value.items()]
        return "{\n" + "\n".join(_aligned(pairs, inner)) + "\n" + indent + "}"
    raise ValueError(f"a {type(value).__name__} has no HCL literal")


def _aligned(pairs: Sequence[tuple[str, str]], indent: str) -> list[str]:
    """``key = value`` lines with ``=`` aligned the way ``terraform fmt`` does: runs of single-line
    values align; a multi-line value stands alone and ends the run."""
    lines: list[str] = []
    run: list[tuple[str, str]] = []

    def flush() -> None:
        width = max((len(k) for k, _ in run), default=0)
        lines.extend(f"{indent}{k.ljust(width)} = {v}" for k, v in run)
        run.clear()

    for key, rendered in pairs:
        if "\n" in rendered:
            flush()
            lines.append(f"{indent}{key} = {rendered}")
        else:
            run.append((key, rendered))
    flush()
    return lines


def block_list(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value)


def render_block(kind: str, value: dict[str, Any], indent: str) -> str:
    """A nested block from a state element; null and empty-list fields are left out."""
    inner = indent + STEP
    pairs, nested = [], []
    for key, item in value.items():
        if not IDENT.match(key):
            raise ValueError(f"{key!r} is not an attribute name")
        if block_list(item):
            nested.append((key, item))
        elif item is not None and item != []:
            pairs.append((key, render_hcl(item, inner)))
    lines = [f"{indent}{kind} {{", *_aligned(pairs, inner)]
    for key, items in nested:
        for item in items:
            lines += (
                ["", render_block(key, item, inner)] if len(lines) > 1 else [render_block(key, item, inner)]
            )
    return "\n".join([*lines, f"{indent}}}"])


def render_heredoc(value: str, opener: str, indent: str) -> str:
    """A heredoc in the original's style; ``<<-`` bodies are indented (HCL strips the common indent)."""
    marker = opener.lstrip("<-").strip() or "EOT"
    with contextlib.suppress(ValueError):
        value = json.dumps(json.loads(value), indent=2)
    lines = value.removesuffix("\n").replace("${", "$${").replace("%{", "%%{").split("\n")
    while marker in (line.strip() for line in lines):
        marker += "X"
    if not opener.startswith("<<-"):
        return f"<<{marker}\n" + "\n".join(lines) + f"\n{marker}\n"
    body = "\n".join(indent + STEP + line if line.strip() else line for line in lines)
    return f"<<-{marker}\n{body}\n{indent}{marker}\n"
