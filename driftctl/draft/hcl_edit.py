"""The adopt strategy: surgical HCL edits so the code matches reality (I/O: reads .tf files).

Each attribute change is resolved from the drifted resource's block down to the one expression that
sets it, following ``var.NAME`` to a root default (or the ``*.tfvars`` line that wins) or to a module
call's argument, and into literal maps, lists, ``merge(…, {…})`` objects and nested blocks. Only that
expression's characters are spliced; every other byte of the file stays as it was. Values that come
from anything else (locals, functions, ``each.*``, conditionals) are reported as unresolved for a human,
and masked values (sensitive, unknown) are never written.
"""

from __future__ import annotations

import json
import os
import re
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from driftctl.detect.findings import diff_values, key_path
from driftctl.draft.hcl_locate import (
    NOT_LITERAL,
    DraftError,
    Frame,
    Node,
    ResourceLocation,
    SourceFiles,
    attr_expr,
    attr_name,
    block_body,
    block_body_of_start,
    block_type,
    body_items,
    container_items,
    elem_key,
    elem_value,
    find_attr,
    find_blocks,
    find_resource,
    function_name,
    indent_at,
    line_no,
    literal_value,
    locate_resource,
    parse_hcl,
    span,
    unwrap,
    var_reference,
)
from driftctl.draft.hcl_render import (
    UNSAFE_RAW,
    block_list,
    quote_hcl,
    render_block,
    render_hcl,
    render_heredoc,
)
from driftctl.draft.hcl_splice import (
    Outcome,
    Splice,
    Unresolved,
    add_blocks,
    add_to_body,
    add_to_container,
    cut,
    remover,
    replace_node,
)
from driftctl.models import (
    SENSITIVE,
    UNKNOWN,
    AttributeChange,
    ChangeKind,
    FileEdit,
    Finding,
    FindingKind,
    ResourceAddress,
)

__all__ = [
    "AdoptResult",
    "DraftError",
    "ResourceLocation",
    "adopt_changes",
    "edit_root",
    "join_path",
    "locate_resource",
    "quote_hcl",
    "render_block",
    "render_hcl",
    "split_path",
]

IGNORED = frozenset({"tags_all"})  # computed by the provider: ``tags`` is what the code sets
_MAX_STEPS = 2000  # expansions re-enter the queue; this bounds a runaway
_PATH_STEP = re.compile(r'\.?([A-Za-z_][A-Za-z0-9_-]*)|\[(\d+)\]|\[("(?:[^"\\]|\\.)*")\]')

Seg = str | int


@dataclass(frozen=True, slots=True)
class AdoptResult:
    """The edits (paths relative to ``root``) and what a human must decide."""

    edits: tuple[FileEdit, ...]
    unresolved: tuple[str, ...]
    root: Path | None = None


# -- attribute paths ------------------------------------------------------------------------------------


def split_path(path: str) -> list[Seg]:
    """``rule[0].x["a.b"]`` → ``["rule", 0, "x", "a.b"]``."""
    segs: list[Seg] = []
    pos = 0
    while pos < len(path):
        match = _PATH_STEP.match(path, pos)
        if match is None or match.end() == pos:
            raise ValueError(f"cannot read the attribute path {path!r}")
        name, index, quoted = match.groups()
        segs.append(name if name is not None else int(index) if index is not None else json.loads(quoted))
        pos = match.end()
    if not segs or not isinstance(segs[0], str):
        raise ValueError(f"cannot read the attribute path {path!r}")
    return segs


def join_path(segs: Iterable[Seg]) -> str:
    out = ""
    for seg in segs:
        out = f"{out}[{seg}]" if isinstance(seg, int) else key_path(out, seg)
    return out


def _nest(segs: Sequence[Seg], value: Any) -> Any:
    """The value to insert where the code sets nothing yet: ``["a", 0, "b"]`` → ``{"a": [{"b": v}]}``."""
    for seg in reversed(segs):
        if isinstance(seg, int) and seg != 0:
            raise ValueError("an index past the end")
        value = [value] if isinstance(seg, int) else {seg: value}
    return value


def _masked(value: Any) -> str | None:
    if isinstance(value, dict):
        return next((m for m in map(_masked, value.values()) if m), None)
    if isinstance(value, list | tuple):
        return next((m for m in map(_masked, value) if m), None)
    return {SENSITIVE: "sensitive", UNKNOWN: "unknown"}.get(value) if isinstance(value, str) else None


def _ordered(changes: Iterable[AttributeChange]) -> list[AttributeChange]:
    """Removals of list elements last and from the end, so earlier ones do not shift later indices."""
    changes = list(changes)

    def tail_index(change: AttributeChange) -> int | None:
        match = re.search(r"\[(\d+)\]$", change.path)
        return int(match.group(1)) if match and change.kind is ChangeKind.REMOVED else None

    keep = [c for c in changes if tail_index(c) is None]
    shrink = sorted((c for c in changes if tail_index(c) is not None), key=lambda c: -(tail_index(c) or 0))
    return keep + shrink


def _prepare(changes: Sequence[AttributeChange]) -> list[AttributeChange]:
    """A set element that was removed and another added at the same path is one element changed in
    place (edit the block), not a delete plus a create."""
    out = list(changes)
    for path in dict.fromkeys(c.path for c in changes):
        removed = [
            c for c in out if c.path == path and c.kind is ChangeKind.REMOVED and isinstance(c.before, dict)
        ]
        added = [
            c for c in out if c.path == path and c.kind is ChangeKind.ADDED and isinstance(c.after, dict)
        ]
        if len(removed) == 1 and len(added) == 1:
            sensitive = removed[0].sensitive or added[0].sensitive
            pair = AttributeChange(path, ChangeKind.MODIFIED, removed[0].before, added[0].after, sensitive)
            out[out.index(removed[0])] = pair
            out.remove(added[0])
    return _ordered(out)


# -- resolving one change -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Slot:
    """An expression that sets (part of) the drifted value, and how to remove it if asked."""

    file: Path
    node: Node
    frame: Frame
    remove: Callable[[], Splice] | None = None


@dataclass(frozen=True, slots=True)
class _Run:
    files: SourceFiles
    root: Path
    resource: ResourceAddress
    change: AttributeChange
    var_files: tuple[Path, ...] = ()

    @property
    def address(self) -> str:
        return self.resource.address

    def where(self, file: Path, pos: int) -> str:
        shown = file.relative_to(self.root) if file.is_relative_to(self.root) else file
        return f"{shown}:{line_no(self.files.read(file), pos)}"

    def unresolved(self, reason: str) -> Unresolved:
        return Unresolved(f"{self.address}: {self.change.path} {reason}")

    def comes_from(self, slot: _Slot) -> Unresolved:
        text = self.files.read(slot.file)
        start, end = span(slot.node)
        snippet = " ".join(text[start:end].split())
        while (
            len(snippet) > 60 and (shorter := re.sub(r"\{[^{}]{4,}\}", "{...}", snippet, count=1)) != snippet
        ):
            snippet = shorter
        snippet = snippet if len(snippet) <= 60 else snippet[:57] + "..."
        return self.unresolved(
            f"comes from `{snippet}` in {self.where(slot.file, start)}; a human must decide"
        )


def _at_body(run: _Run, frame: Frame, file: Path, block: Node, segs: list[Seg], trail: list[Seg]) -> Outcome:
    name, rest = segs[0], segs[1:]
    if not isinstance(name, str):
        raise run.unresolved("has an index where the code has a name")
    text, body = run.files.read(file), block_body(block)
    change = run.change
    attr = find_attr(body, name)
    if attr is not None:
        slot = _Slot(file, attr_expr(attr), frame, remover(file, text, attr, body_items(body)))
        return _at_expr(run, slot, rest, [*trail, name])
    dynamic = find_blocks(body, "dynamic", name)
    if dynamic:
        where = run.where(file, span(dynamic[0])[0])
        raise run.unresolved(f'comes from a `dynamic "{name}"` block in {where}; a human must decide')
    blocks = find_blocks(body, name)
    if rest and isinstance(rest[0], int):
        i = rest[0]
        if i < len(blocks) and len(rest) > 1:
            return _at_body(run, frame, file, blocks[i], rest[1:], [*trail, name, i])
        if i < len(blocks):
            return _whole_block(run, file, body, blocks, i, [*trail, name])
        if change.kind is ChangeKind.REMOVED:
            return None
        value = _nest(rest[1:], change.after)
        if i == len(blocks) and isinstance(value, dict):
            return add_blocks(file, text, block, name, [value])
        raise run.unresolved(f"names {name} block #{i + 1}, but the code has {len(blocks)}")
    if blocks:
        if rest:
            raise run.unresolved(f"names a key of {name}, which the code writes as blocks")
        return _block_set(run, file, block, blocks, [*trail, name])
    if change.kind is ChangeKind.REMOVED:
        return None  # the code does not set it: there is nothing to take back
    value = _nest(rest, change.after)
    if block_list(value):
        return add_blocks(file, text, block, name, value)
    return add_to_body(file, text, block, name, value)


def _whole_block(run: _Run, file: Path, body: Node, blocks: list[Node], i: int, trail: list[Seg]) -> Outcome:
    change = run.change
    if change.kind is ChangeKind.REMOVED:
        return cut(file, run.files.read(file), blocks[i], body_items(body), comments=True)
    if isinstance(change.before, dict) and isinstance(change.after, dict):
        return _ordered(diff_values(change.before, change.after, path=join_path([*trail, i])))
    raise run.unresolved(f"replaces a whole {trail[-1]} block; a human must decide")


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {} or value is False


def _covers(code: Any, state: Any, opaque: bool) -> bool:
    """Whether literal code values describe the state element (unset ≈ empty; ``opaque`` matches anything)."""
    if code is NOT_LITERAL:
        return opaque
    if isinstance(code, dict) and isinstance(state, dict):
        return all(_covers(code[k], state.get(k), opaque) for k in code) and all(
            _empty(v) for k, v in state.items() if k not in code
        )
    if isinstance(code, list) and isinstance(state, list):
        return len(code) == len(state) and all(
            _covers(c, s, opaque) for c, s in zip(code, state, strict=True)
        )
    if code == state or (_empty(code) and _empty(state)):
        return True
    return not isinstance(code, bool | dict | list) and str(code) == str(state)


def _block_value(block: Node) -> dict[str, Any]:
    value: dict[str, Any] = {}
    for item in body_items(block_body(block)):
        if item.data == "attribute":
            value[attr_name(item)] = literal_value(attr_expr(item))
        else:
            value.setdefault(block_type(item), []).append(_block_value(item))
    return value


def _match(blocks: list[Node], element: dict[str, Any], *, opaque: bool) -> int | None:
    hits = [i for i, b in enumerate(blocks) if _covers(_block_value(b), element, opaque)]
    return hits[0] if len(hits) == 1 or (hits and not opaque) else None


def _block_set(run: _Run, file: Path, block: Node, blocks: list[Node], trail: list[Seg]) -> Outcome:
    """A set element (``ingress``) added, removed or changed in place."""
    change, name = run.change, str(trail[-1])
    before, after = change.before, change.after
    if change.kind is ChangeKind.MODIFIED and isinstance(before, dict) and isinstance(after, dict):
        k = _match(blocks, before, opaque=True)
        k = 0 if k is None and len(blocks) == 1 else k
        if k is not None:
            return _ordered(diff_values(before, after, path=join_path([*trail, k])))
        path = join_path(trail)
        return [
            AttributeChange(path, ChangeKind.REMOVED, before),
            AttributeChange(path, ChangeKind.ADDED, None, after),
        ]
    if change.kind is ChangeKind.MODIFIED and isinstance(before, list) and isinstance(after, list):
        path = join_path(trail)
        gone = [AttributeChange(path, ChangeKind.REMOVED, b) for b in before if b not in after]
        return gone + [AttributeChange(path, ChangeKind.ADDED, None, a) for a in after if a not in before]
    if change.kind is ChangeKind.ADDED and isinstance(after, dict):
        if _match(blocks, after, opaque=False) is not None:
            return None  # the code already declares it
        return add_blocks(file, run.files.read(file), block, name, [after])
    if change.kind is ChangeKind.REMOVED and isinstance(before, dict):
        k = _match(blocks, before, opaque=False)
        if k is not None:
            return cut(file, run.files.read(file), blocks[k], body_items(block_body(block)), comments=True)
        if _match(blocks, before, opaque=True) is not None:
            where = run.where(file, span(blocks[_match(blocks, before, opaque=True) or 0])[0])
            raise run.unresolved(
                f"element matches the {name} block in {where} only through expressions; a human must decide"
            )
        raise run.unresolved(f"element matches none of the {len(blocks)} {name} block(s) in the code")
    raise run.unresolved(f"cannot be matched to the {name} blocks in the code")


def _at_expr(run: _Run, slot: _Slot, segs: list[Seg], trail: list[Seg]) -> Outcome:
    node = unwrap(slot.node)
    name = var_reference(node)
    if name is not None:
        return _follow_var(run, slot, name, segs, trail)
    if not segs:
        return _set_value(run, slot, trail)
    seg = segs[0]
    text = run.files.read(slot.file)
    if isinstance(seg, str) and node.data == "object":
        return _in_object(run, slot, node, segs, trail)
    if isinstance(seg, str) and function_name(node) == "merge":
        return _in_merge(run, slot, node, segs, trail)
    if isinstance(seg, int) and node.data == "tuple":
        items = container_items(node)
        if seg < len(items):
            sub = _Slot(slot.file, items[seg], slot.frame, remover(slot.file, text, items[seg], items))
            return _at_expr(run, sub, segs[1:], [*trail, seg])
        if run.change.kind is ChangeKind.REMOVED:
            return None
        if seg == len(items) and len(segs) == 1:
            return add_to_container(slot.file, text, node, None, run.change.after)
        raise run.unresolved(f"is past the end of the list in {run.where(slot.file, span(node)[0])}")
    raise run.comes_from(slot)


def _set_value(run: _Run, slot: _Slot, trail: list[Seg]) -> Outcome:
    change, text = run.change, run.files.read(slot.file)
    node = unwrap(slot.node)
    current = literal_value(node)
    if node.data == "tuple" and change.kind is not ChangeKind.MODIFIED:
        element = change.after if change.kind is ChangeKind.ADDED else change.before
        if not isinstance(element, list):  # one element of a set attribute
            items = container_items(node)
            if change.kind is ChangeKind.ADDED:
                present = any(literal_value(i) == element for i in items)
                return None if present else add_to_container(slot.file, text, node, None, element)
            hit = next((i for i in items if literal_value(i) == element), None)
            if hit is None:
                raise run.unresolved(
                    f"element {element!r} is not a literal of the list in "
                    f"{run.where(slot.file, span(node)[0])}; a human must decide"
                )
            return cut(slot.file, text, hit, items)
    if change.kind is ChangeKind.REMOVED:
        if slot.remove is not None and current is not NOT_LITERAL:
            return slot.remove()
        raise run.comes_from(slot)
    after = change.after
    if function_name(node) == "jsonencode" and isinstance(after, str):
        return _jsonencode(run, slot, node, after)
    if isinstance(after, dict) and (node.data == "object" or isinstance(change.before, dict)):
        base = current if isinstance(current, dict) else change.before
        if not isinstance(base, dict):
            raise run.comes_from(slot)
        return _ordered(diff_values(base, after, path=join_path(trail)))
    if current is NOT_LITERAL:
        raise run.comes_from(slot)
    if current == after and isinstance(current, bool) == isinstance(after, bool):
        return None
    if isinstance(current, str) and isinstance(after, str) and _same_json(current, after):
        return None
    # A heredoc has no escapes: a value with control or invisible characters becomes a quoted string.
    if node.data.startswith("heredoc") and isinstance(after, str) and not UNSAFE_RAW.search(after):
        opener = str(node.children[0]).split("\n")[0]
        indent = indent_at(text, span(node)[0])
        return replace_node(slot.file, text, node, render_heredoc(after, opener, indent))
    return replace_node(slot.file, text, slot.node, render_hcl(after, indent_at(text, span(slot.node)[0])))


def _same_json(a: str, b: str) -> bool:
    try:
        return bool(json.loads(a) == json.loads(b)) and a.lstrip()[:1] in "{["
    except ValueError:
        return False


def _jsonencode(run: _Run, slot: _Slot, node: Node, after: str) -> Outcome:
    try:
        parsed = json.loads(after)
    except ValueError as exc:
        raise run.unresolved("is set with jsonencode() but reality's value is not JSON") from exc
    args = container_items(node)
    if len(args) != 1 or (current := literal_value(args[0])) is NOT_LITERAL:
        raise run.comes_from(slot)
    if current == parsed:
        return None
    text = run.files.read(slot.file)
    rendered = render_hcl(parsed, indent_at(text, span(slot.node)[0]))
    return replace_node(slot.file, text, slot.node, f"jsonencode({rendered})")


def _in_object(run: _Run, slot: _Slot, obj: Node, segs: list[Seg], trail: list[Seg]) -> Outcome:
    key, rest = str(segs[0]), segs[1:]
    text, items = run.files.read(slot.file), container_items(obj)
    for elem in items:
        if elem_key(elem) == key:
            sub = _Slot(slot.file, elem_value(elem), slot.frame, remover(slot.file, text, elem, items))
            return _at_expr(run, sub, rest, [*trail, key])
    if run.change.kind is ChangeKind.REMOVED:
        return None
    if any(elem_key(e) is None for e in items):
        raise run.comes_from(slot)  # a computed key might be this one
    return add_to_container(slot.file, text, obj, key, _nest(rest, run.change.after))


def _in_merge(run: _Run, slot: _Slot, call: Node, segs: list[Seg], trail: list[Seg]) -> Outcome:
    """``merge(x, { k = v })``: later arguments win, so only trailing literal objects are safe to edit."""
    args = [unwrap(a) for a in container_items(call)]
    holder = None
    for arg in reversed(args):
        if arg.data != "object":
            break
        if any(elem_key(e) == segs[0] for e in container_items(arg)):
            holder = arg
            break
    if holder is None and run.change.kind is not ChangeKind.REMOVED and args and args[-1].data == "object":
        holder = args[-1]
    if holder is None:
        raise run.comes_from(slot)
    return _in_object(run, _Slot(slot.file, holder, slot.frame), holder, segs, trail)


def _follow_var(run: _Run, slot: _Slot, name: str, segs: list[Seg], trail: list[Seg]) -> Outcome:
    frame = slot.frame
    call = frame.call
    if call is None or frame.parent is None:
        return _at_expr(run, _root_variable(run, frame, name), segs, trail)
    arg = find_attr(block_body(call.block), name)
    if arg is not None:
        return _at_expr(run, _Slot(call.file, attr_expr(arg), frame.parent), segs, trail)
    if not segs and run.change.kind is not ChangeKind.REMOVED:
        return add_to_body(call.file, run.files.read(call.file), call.block, name, run.change.after)
    where = run.where(call.file, span(call.block)[0])
    raise run.unresolved(
        f"comes from var.{name}, which module.{call.name} ({where}) does not set: "
        "the module's default applies to every caller; a human must decide"
    )


def _root_variable(run: _Run, frame: Frame, name: str) -> _Slot:
    """The expression that sets a root variable: the winning tfvars line, else its default."""
    directory = frame.directory
    auto = [directory / "terraform.tfvars", *sorted(directory.glob("*.auto.tfvars")), *run.var_files]
    setting = None
    for path in (p for p in auto if p.is_file()):
        attr = find_attr(block_body_of_start(run.files.tree(path)), name)
        setting = _Slot(path, attr_expr(attr), frame) if attr is not None else setting
    for path in [directory / "terraform.tfvars.json", *sorted(directory.glob("*.auto.tfvars.json"))]:
        try:
            in_json = path.is_file() and name in json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError, TypeError):
            in_json = False
        if in_json:
            raise run.unresolved(f"comes from var.{name}, set in {path.name} (JSON); a human must decide")
    if setting is not None:
        return setting
    declared = list(run.files.top_blocks(directory, "variable", name))
    if not declared:
        raise run.unresolved(f"comes from var.{name}, which no variable block in {directory} declares")
    path, block = declared[0]
    default = find_attr(block_body(block), "default")
    if default is None:
        raise run.unresolved(
            f"comes from var.{name}, which has no default (set with -var, a var file or "
            f"TF_VAR_{name}); a human must decide"
        )
    return _Slot(path, attr_expr(default), frame)


# -- the driver -----------------------------------------------------------------------------------------


def edit_root(workspace: Path, files: Iterable[Path]) -> Path:
    """The common ancestor of the workspace and every file (or directory) an edit touches."""
    dirs = [workspace.resolve()]
    for path in files:
        resolved = path.resolve()
        dirs.append(resolved if resolved.is_dir() else resolved.parent)
    return Path(os.path.commonpath([str(d) for d in dirs]))


def _refusal(change: AttributeChange) -> str | None:
    kinds = {_masked(change.before), _masked(change.after)}
    if change.sensitive or "sensitive" in kinds:
        return "holds a sensitive value, which is never written into code"
    if "unknown" in kinds:
        return "holds a value unknown until apply, which cannot be written into code"
    return None


def adopt_changes(workspace: Path, finding: Finding, *, var_files: Sequence[Path] = ()) -> AdoptResult:
    """Edits that make the code declare what reality holds for ``finding``, and what they cannot do.

    A root ``var.NAME`` is edited where its value comes from: the last of ``terraform.tfvars``,
    ``*.auto.tfvars`` and ``var_files`` (extra ``-var-file`` files) that sets it, else the variable's
    default. JSON var files are not edited (unresolved); ``-var`` and ``TF_VAR_*`` cannot be seen.
    Raises DraftError when the resource or a module on its path cannot be found or is not local.
    """
    files = SourceFiles(workspace.resolve())
    found = find_resource(files, finding.resource)
    frame: Frame | None = found.frame
    dirs = []
    while frame is not None:
        dirs.append(frame.directory)
        frame = frame.parent
    root = edit_root(files.workspace, dirs)
    if finding.kind is FindingKind.DELETED:
        reason = f"{finding.address}: deleted outside Terraform; adopting means deleting its code"
        return AdoptResult((), (reason,), root)
    queue = deque(_prepare(finding.changes))
    unresolved: list[str] = []
    extra = tuple(p.resolve() for p in var_files)
    for _ in range(_MAX_STEPS):
        if not queue:
            break
        problem = _apply_one(_Run(files, root, finding.resource, queue.popleft(), extra), queue)
        if problem:
            unresolved.append(problem)
    if queue:
        unresolved.append(f"{finding.address}: too many nested changes; a human must decide")
    touched = [p for p, t in files.edited.items() if t != files.original[p]]
    root = edit_root(files.workspace, [*dirs, *touched])
    edits = tuple(
        FileEdit(str(p.relative_to(root)), files.original[p], files.edited[p]) for p in sorted(touched)
    )
    return AdoptResult(edits, tuple(unresolved), root)


def _apply_one(run: _Run, queue: deque[AttributeChange]) -> str | None:
    """Resolve and apply one change (or queue the finer changes it splits into); why it stays
    unresolved, or None. Every change re-reads the edited text, so offsets are never stale."""
    change = run.change
    refusal = _refusal(change)
    if refusal:
        return f"{run.address}: {change.path} {refusal}"
    try:
        segs = split_path(change.path)
    except ValueError as exc:
        return f"{run.address}: {exc}"
    if segs[0] in IGNORED:
        return None
    found = find_resource(run.files, run.resource)
    try:
        outcome = _at_body(run, found.frame, found.location.file, found.block, segs, [])
    except Unresolved as exc:
        return exc.reason
    except ValueError as exc:
        return f"{run.address}: {change.path} cannot be written as HCL ({exc}); a human must decide"
    if isinstance(outcome, list):
        queue.extendleft(reversed([replace(c, sensitive=c.sensitive or change.sensitive) for c in outcome]))
        return None
    if outcome is None:
        return None
    text = run.files.read(outcome.file)
    edited = text[: outcome.start] + outcome.text + text[outcome.end :]
    try:
        parse_hcl(edited, str(outcome.file))
    except DraftError:
        return f"{run.address}: {change.path}: the edit would not parse; a human must decide"
    run.files.write(outcome.file, edited)
    return None
