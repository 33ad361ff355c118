"""Characters that make text read other than it is, and how driftctl writes them (no I/O).

Trojan Source (CVE-2021-42574): bidirectional controls reorder what a reviewer sees in a diff or a
terminal, and zero-width characters hide text in plain sight. driftctl never writes them raw into
code, patches or the console: in HCL strings they become ``\\uXXXX`` escapes (same value, visible),
in text for people ``\\u202e`` as well. Line and paragraph separators (U+2028/9) break lines in some
viewers without being newlines, so they are treated the same way.
"""

from __future__ import annotations

import re

BIDI_CONTROLS = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
ZERO_WIDTH = "\u200b\u200c\u200d\u2060\ufeff"
SEPARATORS = "\u2028\u2029"
INVISIBLE = re.compile(f"[{BIDI_CONTROLS}{ZERO_WIDTH}{SEPARATORS}]")


def escape_invisible(text: str) -> str:
    """``text`` with every bidi control, zero-width character and separator as ``\\uXXXX``."""
    return INVISIBLE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def find_invisible(text: str) -> list[str]:
    """``U+202E at line 3`` for each such character in ``text``, in order."""
    found = []
    for match in INVISIBLE.finditer(text):
        line = text.count("\n", 0, match.start()) + 1
        found.append(f"U+{ord(match.group()):04X} at line {line}")
    return found


# CSI and OSC escape sequences (Terraform colours its diagnostics unless told -no-color).
_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)")
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")  # all but \t and \n


def printable(text: str) -> str:
    """Text safe to show a person: escape sequences removed, ``\\r\\n`` as ``\\n``, other control
    characters as ``\\xNN`` (a lone ``\\r`` can no longer overwrite a line), invisible ones as ``\\uXXXX``."""
    text = _ANSI.sub("", text.replace("\r\n", "\n"))
    text = CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)
    return escape_invisible(text)
