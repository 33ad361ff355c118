"""Bounds on any YAML file driftctl reads: size, nesting depth and alias expansion (I/O: reads one file).

A YAML file in a repository is input anyone who can commit controls. A few hundred bytes of nested
anchors (a "billion laughs") expand to hundreds of millions of values; 20,000 open brackets end
PyYAML in RecursionError after slowing its scanner to a crawl; a file of many MiB takes minutes.
Each fails fast here with a ``ConfigError`` naming the file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from driftctl.errors import ConfigError

# Bounds on any YAML file driftctl reads (config, ignore files, severity policies, scenarios): real
# ones are a few KiB, a few levels deep and a few hundred values; these leave room for 100 times that.
MAX_YAML_BYTES = 1024 * 1024
MAX_YAML_DEPTH = 64
MAX_YAML_NODES = 100_000


class TooDeepError(Exception):
    pass


class BoundedLoader(yaml.SafeLoader):
    """SafeLoader that stops at ``MAX_YAML_DEPTH`` levels while it scans and composes.

    PyYAML's scanner slows down with every open ``[``/``{`` (20,000 of them take many seconds before
    the composer's recursion fails), so the depth is checked as each one opens.
    """

    _depth = 0

    def fetch_flow_collection_start(self, TokenClass: Any) -> None:
        if self.flow_level >= MAX_YAML_DEPTH:
            raise TooDeepError
        super().fetch_flow_collection_start(TokenClass)

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        self._depth += 1
        try:
            if self._depth > MAX_YAML_DEPTH:
                raise TooDeepError
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def read_capped(path: Path, what: str) -> str:
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_YAML_BYTES + 1)
        if len(raw) > MAX_YAML_BYTES:
            raise ConfigError(
                f"{path}: {what} is larger than {MAX_YAML_BYTES // 1024} KiB; driftctl reads no YAML file "
                "that big (is it the right file?)"
            )
        return raw.decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise ConfigError(f"{path}: cannot read {what}: {reason}") from exc


def check_size(path: Path, what: str, root: yaml.Node) -> None:
    """``ConfigError`` if the document nests too deep or its aliases expand to too many values.

    Each node is measured once (an alias is the same node object again): a node's expanded size and
    height are memoised, so a bomb of nested anchors is measured in time linear in its text. Iterative,
    so a deep document cannot exhaust the interpreter's stack here.
    """
    too_deep = f"{path}: {what} is nested too deeply (more than {MAX_YAML_DEPTH} levels)"
    measured: dict[int, tuple[int, int]] = {}  # id(node) → (expanded values, height)
    stack: list[tuple[yaml.Node, int, bool]] = [(root, 1, False)]
    while stack:
        node, depth, children_done = stack.pop()
        if depth > MAX_YAML_DEPTH:  # also ends a recursive alias (&a [*a])
            raise ConfigError(too_deep)
        children = _children(node)
        if children_done:
            sizes = [measured[id(c)] for c in children]
            total = 1 + sum(size for size, _ in sizes)
            height = 1 + max((h for _, h in sizes), default=0)
            if height > MAX_YAML_DEPTH:
                raise ConfigError(too_deep)
            if total > MAX_YAML_NODES:
                raise ConfigError(
                    f"{path}:{node.start_mark.line + 1}: {what} expands to more than {MAX_YAML_NODES:,} "
                    "values through its aliases (*name); driftctl stops there (an alias bomb?)",
                    hint="use fewer or flatter anchors",
                )
            measured[id(node)] = (total, height)
        elif id(node) not in measured:
            stack.append((node, depth, True))
            stack.extend((c, depth + 1, False) for c in children if id(c) not in measured)


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []
