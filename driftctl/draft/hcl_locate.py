"""Finds HCL blocks, attributes and literal values by character offset (I/O: reads .tf files).

python-hcl2's raw Lark tree carries the position of every node, so edits can splice the original
text instead of re-rendering it: comments and formatting of untouched code survive byte for byte.
Module calls are followed through their local ``source`` (``.terraform/modules/modules.json`` when
present, the ``source`` path otherwise), one ``module.NAME`` step at a time.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import hcl2
from lark import Token, Tree
from lark.exceptions import LarkError

from driftctl.errors import DriftctlError
from driftctl.models import ResourceAddress

Node = Tree[Token]


class DraftError(DriftctlError):
    """A fix cannot be drafted at all: the resource or a module is not where the address says."""


class _NotLiteral:
    def __repr__(self) -> str:
        return "NOT_LITERAL"


NOT_LITERAL: Final = _NotLiteral()  # what literal_value() returns for references, calls, templates

_MODULE_STEP = re.compile(r'module\.([A-Za-z_][A-Za-z0-9_-]*)(\[(?:"(?:[^"\\]|\\.)*"|\d+)\])?\.?')
_INTERPOLATION = re.compile(r"(?<![$%])[$%]\{")


# -- parsing and node helpers ---------------------------------------------------------------------------


@functools.lru_cache(maxsize=256)
def _parse_cached(text: str) -> Node:
    return hcl2.parses_to_tree(text)


def parse_hcl(text: str, where: str) -> Node:
    """The raw python-hcl2 tree of ``text``; a parse error becomes a DraftError naming ``where``."""
    try:
        return _parse_cached(text)
    except (LarkError, ValueError, RuntimeError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DraftError(f"{where} does not parse as HCL: {first}") from exc


def span(node: Node | Token) -> tuple[int, int]:
    if isinstance(node, Token):
        return int(node.start_pos or 0), int(node.end_pos or 0)
    return node.meta.start_pos, node.meta.end_pos


def trees(node: Node) -> list[Node]:
    return [c for c in node.children if isinstance(c, Tree)]


def tokens(node: Node) -> list[Token]:
    return [c for c in node.children if isinstance(c, Token)]


def _name_of(node: Node | Token) -> str:
    """The text of an identifier, keyword or literal_value used as a name or block type."""
    if isinstance(node, Token):
        return str(node)
    leaves = [str(t) for t in node.scan_values(lambda v: isinstance(v, Token))]
    return "".join(leaves)


def unwrap(node: Node) -> Node:
    """The expression inside ``expr_term`` wrappers (parentheses are kept: ``(x)`` is not ``x``)."""
    while node.data == "expr_term" and not tokens(node):
        inner = trees(node)
        if len(inner) != 1:
            return node
        node = inner[0]
    return node


def body_items(body: Node) -> list[Node]:
    """The attributes and blocks of a body, in order."""
    return [t for t in trees(body) if t.data in ("attribute", "block")]


def block_type(block: Node) -> str:
    return _name_of(block.children[0])


def block_labels(block: Node) -> list[str]:
    labels = []
    for child in block.children[1:]:
        if isinstance(child, Token):
            break
        if child.data == "string":
            value = literal_value(child)
            labels.append(value if isinstance(value, str) else "")
        elif child.data in ("identifier", "keyword", "literal_value"):
            labels.append(_name_of(child))
        else:
            break
    return labels


def block_body(block: Node) -> Node:
    return next(t for t in trees(block) if t.data == "body")


def block_braces(block: Node) -> tuple[int, int]:
    """Offsets of a block's ``{`` and ``}``."""
    braces = [t for t in tokens(block) if t.type in ("LBRACE", "RBRACE")]
    return span(braces[0])[0], span(braces[-1])[0]


def attr_name(attr: Node) -> str:
    return _name_of(attr.children[0])


def attr_expr(attr: Node) -> Node:
    expr = attr.children[-1]
    assert isinstance(expr, Tree)
    return expr


def find_attr(body: Node, name: str) -> Node | None:
    return next((t for t in body_items(body) if t.data == "attribute" and attr_name(t) == name), None)


def find_blocks(body: Node, kind: str, *labels: str) -> list[Node]:
    return [
        t
        for t in body_items(body)
        if t.data == "block" and block_type(t) == kind and block_labels(t)[: len(labels)] == list(labels)
    ]


def container_items(node: Node) -> list[Node]:
    """The elements of a tuple or object, or the arguments of a function call."""
    if node.data == "function_call":
        args = next((t for t in trees(node) if t.data == "arguments"), None)
        node = args if args is not None else node
        return [t for t in trees(node) if t.data != "new_line_or_comment"] if args is not None else []
    return [t for t in trees(node) if t.data != "new_line_or_comment"]


def elem_key(elem: Node) -> str | None:
    """The key of an object element when it is a name or a literal string."""
    inner = trees(trees(elem)[0])
    if not inner:
        return _name_of(trees(elem)[0]) or None
    key = unwrap(inner[0])
    if key.data in ("identifier", "keyword"):
        return _name_of(key)
    value = literal_value(key)
    return value if isinstance(value, str) else None


def elem_value(elem: Node) -> Node:
    return trees(elem)[-1]


def function_name(node: Node) -> str | None:
    return _name_of(node.children[0]) if node.data == "function_call" else None


def var_reference(node: Node) -> str | None:
    """``NAME`` when the expression is exactly ``var.NAME``."""
    node = unwrap(node)
    if node.data != "get_attr_expr_term":
        return None
    base, step = trees(node)
    base = unwrap(base)
    if base.data == "identifier" and _name_of(base) == "var":
        return _name_of(trees(step)[0])
    return None


# -- literal values -------------------------------------------------------------------------------------


def _unescape_quoted(text: str) -> str:
    from hcl2.utils import process_escape_sequences

    return str(process_escape_sequences(text))


def _heredoc_value(raw: str) -> Any:
    header, _, rest = raw.partition("\n")
    marker = header.lstrip("<-").strip()
    lines = rest.rstrip("\n").split("\n")
    if lines and lines[-1].strip() == marker:
        lines = lines[:-1]
    content = "\n".join(lines) + ("\n" if lines else "")
    if _INTERPOLATION.search(content):
        return NOT_LITERAL
    if header.startswith("<<-"):
        indents = [len(line) - len(line.lstrip(" \t")) for line in lines if line.strip()]
        cut = min(indents, default=0)
        content = "\n".join(line[cut:] for line in lines) + ("\n" if lines else "")
    return content.replace("$${", "${").replace("%%{", "%{")


def literal_value(node: Node) -> Any:
    """The Python value of a literal expression (strings without templates, numbers, bools, null,
    tuples and objects of literals), else NOT_LITERAL."""
    node = unwrap(node)
    kind = node.data
    if kind == "string":
        parts = []
        for part in trees(node):
            leaf = part.children[0]
            if not isinstance(leaf, Token):
                return NOT_LITERAL
            text = str(leaf)
            if leaf.type in ("ESCAPED_INTERPOLATION", "ESCAPED_DIRECTIVE"):
                text = text[1:]
            parts.append(_unescape_quoted(text))
        return "".join(parts)
    if kind in ("int_lit", "float_lit"):
        text = str(node.children[0])
        return int(text) if kind == "int_lit" else float(text)
    if kind == "literal_value":
        return {"true": True, "false": False, "null": None}[str(node.children[0])]
    if kind == "unary_op" and str(node.children[0]) == "-":
        inner = literal_value(trees(node)[0])
        return -inner if isinstance(inner, int | float) and not isinstance(inner, bool) else NOT_LITERAL
    if kind in ("heredoc_template", "heredoc_template_trim"):
        return _heredoc_value(str(node.children[0]))
    if kind == "tuple":
        items = [literal_value(t) for t in container_items(node)]
        return NOT_LITERAL if any(i is NOT_LITERAL for i in items) else items
    if kind == "object":
        result: dict[str, Any] = {}
        for elem in container_items(node):
            key, value = elem_key(elem), literal_value(elem_value(elem))
            if key is None or value is NOT_LITERAL:
                return NOT_LITERAL
            result[key] = value
        return result
    return NOT_LITERAL


# -- text positions -------------------------------------------------------------------------------------


def line_no(text: str, pos: int) -> int:
    return text.count("\n", 0, pos) + 1


def line_start(text: str, pos: int) -> int:
    return text.rfind("\n", 0, pos) + 1


def line_end(text: str, pos: int) -> int:
    """The offset of the newline ending the line holding ``pos`` (len(text) on the last line)."""
    end = text.find("\n", pos)
    return len(text) if end < 0 else end


def indent_at(text: str, pos: int) -> str:
    start = line_start(text, pos)
    line = text[start : line_end(text, start)]
    return line[: len(line) - len(line.lstrip(" \t"))]


# -- the workspace's files ------------------------------------------------------------------------------


@dataclass
class SourceFiles:
    """Reads .tf files from disk, or the edited text when an edit already changed one."""

    workspace: Path
    edited: dict[Path, str] = field(default_factory=dict)
    original: dict[Path, str] = field(default_factory=dict)

    def read(self, path: Path) -> str:
        if path in self.edited:
            return self.edited[path]
        if path not in self.original:
            try:
                self.original[path] = path.read_text(encoding="utf-8")
            except OSError as exc:
                raise DraftError(f"cannot read {path}: {exc.strerror or exc}") from exc
        return self.original[path]

    def write(self, path: Path, text: str) -> None:
        self.read(path)
        self.edited[path] = text

    def tf_files(self, directory: Path) -> list[Path]:
        return sorted(p for p in directory.glob("*.tf") if p.is_file())

    def tree(self, path: Path) -> Node:
        return parse_hcl(self.read(path), str(path))

    def top_blocks(self, directory: Path, kind: str, *labels: str) -> Iterator[tuple[Path, Node]]:
        for path in self.tf_files(directory):
            for block in find_blocks(block_body_of_start(self.tree(path)), kind, *labels):
                yield path, block


def block_body_of_start(tree: Node) -> Node:
    return trees(tree)[0]


# -- locating a resource --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ResourceLocation:
    """Where a resource block is declared: ``text[start:end]`` is the whole ``resource`` block."""

    file: Path
    start: int
    end: int
    text: str
    module_dir: Path
    instance_key: str | int | None
    counted: bool  # the block has for_each or count: one block, many instances


@dataclass(frozen=True, slots=True)
class ModuleCall:
    """A ``module "NAME" { ... }`` block in the parent directory."""

    name: str
    file: Path
    block: Node


@dataclass(frozen=True, slots=True)
class Frame:
    """One module instance on the way to the resource; the root module has no call."""

    directory: Path
    call: ModuleCall | None = None
    parent: Frame | None = None


@dataclass(frozen=True, slots=True)
class Found:
    location: ResourceLocation
    block: Node
    frame: Frame


def module_steps(module: str | None) -> list[str]:
    """``module.a["k"].module.b`` → ``["a", "b"]`` (instance keys dropped)."""
    if not module:
        return []
    names, pos = [], 0
    while pos < len(module):
        match = _MODULE_STEP.match(module, pos)
        if match is None:
            raise DraftError(f"cannot read the module path {module!r}")
        names.append(match.group(1))
        pos = match.end()
    return names


def _manifest(workspace: Path) -> dict[str, str]:
    """modules.json: module key (``app.network``) → directory relative to the workspace."""
    try:
        data = json.loads((workspace / ".terraform" / "modules" / "modules.json").read_text())
    except (OSError, ValueError):
        return {}
    modules = data.get("Modules", []) if isinstance(data, dict) else []
    return {
        m["Key"]: m["Dir"]
        for m in modules
        if isinstance(m, dict) and isinstance(m.get("Key"), str) and isinstance(m.get("Dir"), str)
    }


def _is_local(source: str) -> bool:
    return source.startswith(("./", "../"))


def _searched(files: SourceFiles, directory: Path) -> str:
    return ", ".join(p.name for p in files.tf_files(directory)) or "no .tf files"


def _module_frame(
    files: SourceFiles, parent: Frame, name: str, key: str, manifest: dict[str, str], address: str
) -> Frame:
    calls = list(files.top_blocks(parent.directory, "module", name))
    if not calls:
        raise DraftError(
            f'{address}: no module "{name}" call in {parent.directory} '
            f"(searched {_searched(files, parent.directory)})"
        )
    path, block = calls[0]
    source_attr = find_attr(block_body(block), "source")
    source = literal_value(attr_expr(source_attr)) if source_attr is not None else None
    if not isinstance(source, str) or not _is_local(source):
        shown = source if isinstance(source, str) else "(not a literal)"
        raise DraftError(
            f"{address}: module.{name} in {path} has source {shown!r}, not a local path; "
            "only local modules are edited"
        )
    directory = (parent.directory / source).resolve()
    if key in manifest:
        directory = (files.workspace / manifest[key]).resolve()
    return Frame(directory, ModuleCall(name, path, block), parent)


def find_resource(files: SourceFiles, address: ResourceAddress) -> Found:
    """The block declaring ``address`` and the chain of module frames leading to it."""
    workspace = files.workspace
    frame = Frame(workspace)
    manifest = _manifest(workspace)
    steps = module_steps(address.module)
    for i, name in enumerate(steps):
        frame = _module_frame(files, frame, name, ".".join(steps[: i + 1]), manifest, address.address)
    local = address.address
    module_part = address.module or ""
    if module_part and local.startswith(module_part + "."):
        local = local[len(module_part) + 1 :]
    kind = "data" if local.startswith("data.") else "resource"
    for path in files.tf_files(frame.directory):
        for block in find_blocks(block_body_of_start(files.tree(path)), kind, address.type, address.name):
            start, end = span(block)
            body = block_body(block)
            counted = find_attr(body, "for_each") is not None or find_attr(body, "count") is not None
            location = ResourceLocation(
                path, start, end, files.read(path), frame.directory, address.index, counted
            )
            return Found(location, block, frame)
    raise DraftError(
        f'{address.address}: no {kind} "{address.type}" "{address.name}" block in {frame.directory} '
        f"(searched {_searched(files, frame.directory)})"
    )


def locate_resource(workspace: Path, address: ResourceAddress) -> ResourceLocation:
    """The ``resource "TYPE" "NAME"`` block that declares ``address``, following local module calls."""
    return find_resource(SourceFiles(workspace.resolve()), address).location
