"""Checks that an LLM-edited resource block stays inside what a drift fix may touch (no I/O)."""

from __future__ import annotations

from typing import Any

import hcl2

from driftctl.invisible import find_invisible

_META_ARGUMENTS = ("count", "for_each", "provider", "depends_on")
_FORBIDDEN_NESTED = {
    "provisioner": "runs arbitrary commands on apply",
    "connection": "only serves provisioners and opens remote sessions",
}


def check_block(
    original_block: str, new_block: str, resource_type: str, resource_name: str
) -> tuple[str, ...]:
    """The reasons ``new_block`` may not replace ``original_block``; empty when it may.

    ``new_block`` must be exactly one ``resource "TYPE" "NAME"`` block and must keep the original's
    meta-arguments and ``prevent_destroy``.
    """
    hidden = find_invisible(new_block)
    if hidden:
        return (
            "The edited block contains invisible or bidirectional control characters "
            f"({', '.join(hidden[:3])}), which make code read other than it runs; write such a "
            "character as a \\uXXXX escape inside a string.",
        )
    new_doc, error = _parse(new_block)
    if new_doc is None:
        return (f"The edited block is not valid HCL ({error}).",)
    violations = list(_top_level(new_doc, resource_type, resource_name))
    new_body = _resource_body(new_doc, resource_type, resource_name)
    if new_body is None:
        return tuple(violations)
    violations += _nested(new_body)
    old_doc, error = _parse(original_block)
    old_body = _resource_body(old_doc, resource_type, resource_name) if old_doc is not None else None
    if old_body is None:
        violations.append(
            f"The original block of {resource_type}.{resource_name} could not be read "
            f"({error or 'not found'}), so the edit cannot be compared with it."
        )
        return tuple(violations)
    violations += _against_original(old_body, new_body)
    return tuple(violations)


def _parse(text: str) -> tuple[dict[str, Any] | None, str]:
    try:
        doc = hcl2.loads(text)
    except Exception as exc:  # lark raises several unrelated exception types; any of them means "invalid"
        return None, str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return (doc, "") if isinstance(doc, dict) else (None, "not an HCL body")


def _top_level(doc: dict[str, Any], resource_type: str, resource_name: str) -> list[str]:
    violations: list[str] = []
    count = 0
    for key, value in doc.items():
        if not _is_block_list(value):
            violations.append(f"The edit adds a top-level attribute `{key}`; only the resource may change.")
            continue
        for block in value:
            count += 1
            if key == "data" and '"external"' in block:
                violations.append('The edit adds a `data "external"` block, which runs a program on plan.')
            elif key == "resource":
                for rtype, by_name in block.items():
                    for rname in (k for k in by_name if k != "__is_block__"):
                        if (_unquote(rtype), _unquote(rname)) != (resource_type, resource_name):
                            violations.append(
                                f"The edit adds resource {_unquote(rtype)}.{_unquote(rname)}; only "
                                f"{resource_type}.{resource_name} may change."
                            )
            else:
                violations.append(f"The edit adds a `{key}` block; only the resource block may change.")
    if count == 0:
        violations.append(f"The edit holds no block; expected resource {resource_type}.{resource_name}.")
    elif count > 1:
        violations.append(f"The edit holds {count} top-level blocks; expected exactly one.")
    elif _resource_body(doc, resource_type, resource_name) is None and not violations:
        violations.append(f"The edit does not hold resource {resource_type}.{resource_name}.")
    return violations


def _nested(body: dict[str, Any]) -> list[str]:
    """Forbidden constructs anywhere inside the resource, however deep."""
    violations: list[str] = []
    for key, value in _walk_blocks(body):
        if key in _FORBIDDEN_NESTED:
            labels = ", ".join(_unquote(k) for b in value for k in b if _is_label(b, k))
            what = f'`{key} "{labels}"`' if labels else f"`{key}`"
            violations.append(f"The edit adds a {what} block, which {_FORBIDDEN_NESTED[key]}.")
    for lifecycle in _lifecycles(body):
        if _ignores_all(lifecycle.get("ignore_changes")):
            violations.append("The edit sets `lifecycle { ignore_changes = all }`, which hides all drift.")
    return violations


def _against_original(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    violations: list[str] = []
    if _prevents_destroy(old) and not _prevents_destroy(new):
        violations.append("The edit removes `prevent_destroy = true`, which guards against deletion.")
    for name in _META_ARGUMENTS:
        if old.get(name) != new.get(name):
            violations.append(
                f"The edit changes the `{name}` meta-argument, which would create, move or destroy instances."
            )
    old_ignored = _ignored(old)
    added = [item for item in _ignored(new) if item not in old_ignored]
    if added:
        violations.append(
            f"The edit adds {', '.join(added)} to `ignore_changes`, which hides drift instead of fixing it."
        )
    return violations


# -- reading python-hcl2's dict shape ------------------------------------------------------------------
# Blocks are lists of dicts marked "__is_block__"; labels are keys kept in their quotes ('"aws_s3_bucket"');
# string values keep their quotes too ('"all"'), while references and keywords do not ('all').


def _resource_body(doc: dict[str, Any], resource_type: str, resource_name: str) -> dict[str, Any] | None:
    for block in doc.get("resource", []) if _is_block_list(doc.get("resource")) else []:
        body = block.get(f'"{resource_type}"', {}).get(f'"{resource_name}"')
        if isinstance(body, dict):
            return body
    return None


def _is_block_list(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value)


def _is_label(block: dict[str, Any], key: str) -> bool:
    return key.startswith('"') and isinstance(block[key], dict) and block[key].get("__is_block__") is True


def _walk_blocks(body: dict[str, Any]) -> list[tuple[str, list[dict[str, Any]]]]:
    """Every (type, blocks) pair nested in ``body``, including labelled and dynamic blocks."""
    found: list[tuple[str, list[dict[str, Any]]]] = []
    for key, value in body.items():
        if not (_is_block_list(value) and any(v.get("__is_block__") or _has_labelled(v) for v in value)):
            continue
        found.append((key, value))
        for block in value:
            found += _walk_blocks(block)
            for label, inner in block.items():
                if label.startswith('"') and isinstance(inner, dict):
                    found += _walk_blocks(inner)
    return found


def _has_labelled(block: dict[str, Any]) -> bool:
    return any(_is_label(block, k) for k in block)


def _lifecycles(body: dict[str, Any]) -> list[dict[str, Any]]:
    value = body.get("lifecycle")
    return [b for b in value if isinstance(b, dict)] if isinstance(value, list) else []


def _ignored(body: dict[str, Any]) -> list[str]:
    items: list[str] = []
    for lifecycle in _lifecycles(body):
        value = lifecycle.get("ignore_changes")
        values = value if isinstance(value, list) else [] if value is None else [value]
        items += [_unquote(str(v)) for v in values]
    return items


def _ignores_all(value: Any) -> bool:
    values = value if isinstance(value, list) else [value]
    return any(isinstance(v, str) and _unquote(v).strip() in ("all", "${all}") for v in values)


def _prevents_destroy(body: dict[str, Any]) -> bool:
    return any(
        lifecycle.get("prevent_destroy") is True or _unquote(str(lifecycle.get("prevent_destroy"))) == "true"
        for lifecycle in _lifecycles(body)
    )


def _unquote(text: str) -> str:
    return text[1:-1] if len(text) >= 2 and text[0] == text[-1] == '"' else text
