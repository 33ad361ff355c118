"""Rego policies on a fix's plan JSON via regopy: deny, warn and a score (I/O: reads the policy files).

Every way the policies can fail to give an answer raises `PolicyError`, so the caller blocks instead of
applying: a missing or empty policy dir, a file that does not parse or is not Rego v1, a builtin error
(strict builtin errors are on, so a builtin regopy lacks, such as ``net.cidr_contains``, is an error and
not an undefined that quietly skips a deny), an undefined decision, or a decision of the wrong shape.

regopy 1.5 quirks this module works around (measured; see docs/policies.md):

- v0 rule bodies (``deny[msg] { ... }``) parse and are silently read as a partial *object*: we reject
  them before regopy sees them.
- ``str()`` of a failed output, and ``Output.node()`` after some compile failures, crash the process;
  ``Output`` raises ``JSONDecodeError`` when regopy returns no text (an undefined function, recursion).
  Errors are read from the interpreter first, then from the error nodes, and nothing else is touched.
- ``Input(value)`` does not escape quotes in strings (``aws_instance.web["blue"]``): input goes in as
  JSON text with ``set_input_term``.
- Reusing an interpreter is not faster (every query recompiles) and got slower over repeated runs, so
  each evaluation uses a fresh one; a lock serialises calls because rego-cpp's thread safety is unknown.
"""

from __future__ import annotations

import copy
import json
import re
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import regopy  # type: ignore[import-untyped]
from regopy.rego_shared import rego_get_error  # type: ignore[import-untyped]

from driftctl.errors import DriftctlError
from driftctl.shipped import policies_dir

SHIPPED_POLICIES = policies_dir()
DECISION_RULE = "data.driftctl.decision"
TEST_SUFFIX = "_test.rego"

_LOCK = threading.Lock()


class PolicyError(DriftctlError):
    """The Rego policies cannot give a trustworthy answer; driftctl fails closed (applies nothing)."""


@dataclass(frozen=True, slots=True)
class RegoResult:
    """What the policies say about one plan. ``policies`` are the files evaluated."""

    deny: tuple[str, ...]
    warn: tuple[str, ...]
    score: float
    policies: tuple[str, ...]


class PolicyTestResult(NamedTuple):
    """One Rego unit test (``test_*`` rule): ``name`` is ``<file>::<rule>``."""

    name: str
    passed: bool
    message: str


@dataclass(frozen=True, slots=True)
class _Data:
    path: Path
    value: dict[str, Any]


@dataclass(frozen=True, slots=True)
class _Module:
    path: Path
    source: str

    @property
    def name(self) -> str:
        return str(self.path)


class RegoEngine:
    """Loads every ``*.rego`` (tests excluded) and ``*.json`` data file directly inside the dirs.

    ``data_files`` are further JSON documents merged over the dirs' data: the leaves they set win.
    """

    def __init__(self, policy_dirs: Sequence[Path], *, data_files: Sequence[Path] = ()) -> None:
        modules, dir_data = _load_dirs(policy_dirs)
        self._modules = tuple(m for m in modules if not m.path.name.endswith(TEST_SUFFIX))
        if not self._modules:
            dirs = ", ".join(str(d) for d in policy_dirs) or "(none given)"
            raise PolicyError(
                f"no Rego policies in {dirs}",
                hint="point at a directory with *.rego files, e.g. the shipped `policies/`",
            )
        overrides = tuple(_read_data(Path(p)) for p in data_files)
        self._data = _merge_data(dir_data, overrides=overrides)
        self._files = tuple(m.name for m in self._modules) + tuple(str(d.path) for d in dir_data + overrides)
        # Parse now so that a broken file fails when the engine is built, not at the first plan.
        with _LOCK:
            _interpreter(self._modules, self._data)

    @property
    def policies(self) -> tuple[str, ...]:
        """The files evaluated: policies, then data."""
        return self._files

    def evaluate(self, plan: Mapping[str, Any]) -> RegoResult:
        """Evaluates ``data.driftctl.decision`` on the plan JSON (``terraform show -json``)."""
        _check_plan(plan)
        try:
            text = json.dumps(plan, allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise PolicyError(f"the plan cannot be passed to the policies as JSON: {exc}") from None
        with _LOCK:
            interpreter = _interpreter(self._modules, self._data)
            _set_input(interpreter, text)
            value = _query(interpreter, DECISION_RULE)
        deny, warn, score = _decision(value, self._modules)
        return RegoResult(deny=deny, warn=warn, score=score, policies=self.policies)


def _check_plan(plan: Any) -> None:
    """The policies read input they do not understand as "no changes": refuse it instead."""
    problem = ""
    if not isinstance(plan, Mapping):
        problem = f"it is a {type(plan).__name__}"
    elif "resource_changes" not in plan:
        problem = "" if "format_version" in plan else "it has neither format_version nor resource_changes"
    elif not isinstance(plan["resource_changes"], list):
        problem = "resource_changes is not a list"
    else:
        for index, rc in enumerate(plan["resource_changes"]):
            change = rc.get("change") if isinstance(rc, Mapping) else None
            if not isinstance(change, Mapping) or not isinstance(change.get("actions"), list):
                problem = f"resource_changes[{index}] has no change.actions list"
                break
            if not isinstance(rc.get("address"), str) or not isinstance(rc.get("type"), str):
                problem = f"resource_changes[{index}] has no address or type"
                break
    if problem:
        raise PolicyError(f"the policy input is not a Terraform plan JSON: {problem}")


def run_policy_tests(policy_dirs: Sequence[Path]) -> list[PolicyTestResult]:
    """Runs every ``test_*`` rule of the ``*_test.rego`` files; a test passes only if it is ``true``.

    regopy recompiles everything for each query (~0.5 s here), so the tests of a package run in one
    query; an error in one test aborts that query, so a failing query is split in halves until the
    test with the error is alone and named.
    """
    modules, documents = _load_dirs(policy_dirs)
    data = _merge_data(documents)
    tests: dict[str, list[tuple[str, str]]] = {}  # package -> [(name, rule)]
    for module in (m for m in modules if m.path.name.endswith(TEST_SUFFIX)):
        package = _package(module) or ""
        tests.setdefault(package, []).extend(
            (f"{module.path.name}::{rule}", rule) for rule in _test_rules(module)
        )
    results: list[PolicyTestResult] = []
    with _LOCK:
        interpreter = _interpreter(modules, data)
        for package, cases in tests.items():
            results += _run_tests(interpreter, package, cases)
    return results


def _run_tests(interpreter: Any, package: str, cases: Sequence[tuple[str, str]]) -> list[PolicyTestResult]:
    # The names of the tests that are true; an undefined (or false) test adds nothing.
    query = " | ".join(f'{{"{rule}" | data.{package}.{rule} == true}}' for _, rule in cases)
    label = f"data.{package}.{cases[0][1]}" if len(cases) == 1 else f"the tests of data.{package}"
    try:
        passed = _query(interpreter, query, label=label)
    except PolicyError as exc:
        if len(cases) == 1:
            return [PolicyTestResult(cases[0][0], False, exc.message)]
        half = len(cases) // 2
        return _run_tests(interpreter, package, cases[:half]) + _run_tests(interpreter, package, cases[half:])
    return [
        PolicyTestResult(name, True, "ok")
        if rule in passed
        else PolicyTestResult(name, False, f"data.{package}.{rule} is undefined or not true")
        for name, rule in cases
    ]


# --- loading ----------------------------------------------------------------------------------------


def _load_dirs(policy_dirs: Sequence[Path]) -> tuple[tuple[_Module, ...], tuple[_Data, ...]]:
    if not policy_dirs:
        raise PolicyError("no policy directories given")
    modules: list[_Module] = []
    data: list[_Data] = []
    for directory in (Path(d) for d in policy_dirs):
        if not directory.is_dir():
            raise PolicyError(f"policy directory {directory} does not exist or is not a directory")
        for path in sorted(directory.glob("*.rego")):
            modules.append(_read_module(path))
        data.extend(_read_data(path) for path in sorted(directory.glob("*.json")))
    return tuple(modules), tuple(data)


def _read_module(path: Path) -> _Module:
    try:
        source = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PolicyError(f"{path}: cannot read policy: {exc}") from None
    module = _Module(path, source)
    _check_v1(module)
    if _package(module) is None:
        raise PolicyError(f"{path}: no `package` line")
    return module


def _read_data(path: Path) -> _Data:
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise PolicyError(f"{path}: cannot read policy data: {exc}") from None
    if not isinstance(value, dict):
        raise PolicyError(f"{path}: policy data must be a JSON object (it is merged at the root of `data`)")
    return _Data(path, value)


def _merge_data(documents: Sequence[_Data], *, overrides: Sequence[_Data] = ()) -> str:
    """One JSON document. Objects merge key by key; the same leaf in two dir files is an error (as in
    OPA); ``overrides`` (explicit data files) replace the leaves they set.

    Merged here because regopy 1.5 keeps only the first of two data documents that share a top-level
    key, silently, and fails on two identical ones.
    """
    merged: dict[str, Any] = {}
    owners: dict[tuple[str, ...], Path] = {}

    def merge(
        into: dict[str, Any], value: dict[str, Any], path: tuple[str, ...], source: Path, win: bool
    ) -> None:
        for key, item in value.items():
            here = (*path, key)
            if isinstance(into.get(key), dict) and isinstance(item, dict):
                merge(into[key], item, here, source, win)
            elif key in into and not win:
                raise PolicyError(
                    f"policy data conflict at data.{'.'.join(here)}: set by {owners[here]} and {source}",
                    hint="give the value in one file, or pass the other with data_files to override",
                )
            else:
                into[key] = copy.deepcopy(item)
                owners[here] = source

    for document in documents:
        merge(merged, document.value, (), document.path, False)
    for document in overrides:
        merge(merged, document.value, (), document.path, True)
    return json.dumps(merged)


_PACKAGE = re.compile(r"^package\s+([A-Za-z_][\w.]*)\s*$", re.MULTILINE)
_TEST_RULE = re.compile(r"^(test_\w+)\b", re.MULTILINE)


def _package(module: _Module) -> str | None:
    match = _PACKAGE.search(_code_only(module.source))
    return match.group(1) if match else None


def _test_rules(module: _Module) -> list[str]:
    return list(dict.fromkeys(_TEST_RULE.findall(_code_only(module.source))))


def _code_only(source: str) -> str:
    """The source with comments and string contents blanked (line and column positions kept)."""
    return "".join(text if kind == "code" else _blank(text) for kind, text in _tokens(source))


def _blank(text: str) -> str:
    return re.sub(r"[^\n]", " ", text)


def _tokens(source: str) -> Iterator[tuple[str, str]]:
    """Splits Rego source into ("code" | "comment" | "string", text) pieces."""
    pattern = re.compile(r'#[^\n]*|"(?:\\.|[^"\\\n])*"|`[^`]*`')
    position = 0
    for match in pattern.finditer(source):
        if match.start() > position:
            yield "code", source[position : match.start()]
        yield ("comment" if match.group().startswith("#") else "string"), match.group()
        position = match.end()
    yield "code", source[position:]


_OLD_HEAD = re.compile(r"^(deny|warn|violation)\s*\[", re.MULTILINE)


def _check_v1(module: _Module) -> None:
    """Rejects Rego v0 rule bodies, which regopy accepts but misreads.

    In v1 a rule body always follows ``if`` (or ``contains ... if``). A ``{`` outside any bracket
    that follows a rule head instead (``deny[msg] {``, ``allow {``, ``f(x) = y {``) is v0.
    """
    code = "".join(text if kind != "comment" else _blank(text) for kind, text in _tokens(module.source))
    depth = 0
    for index, char in enumerate(code):
        if char == "{" and depth == 0:
            before = code[:index].rstrip()
            word = re.search(r"\w+\Z", before)
            # After a head (a name, `]`, `)`, a value), not after `if`, `contains`, `:=` or `=`.
            ends_a_head = (
                word.group() not in {"if", "contains"} if word else before.endswith(("]", ")", '"', "`"))
            )
            if ends_a_head:
                raise PolicyError(
                    f"{module.path}:{_line(code, index)}: rule body without `if` (Rego v0 syntax)",
                    hint="write Rego v1: `deny contains msg if { ... }`, `allow if { ... }`",
                )
        if char in "([{":
            depth += 1
        elif char in ")]}":
            depth = max(0, depth - 1)
    match = _OLD_HEAD.search(_code_only(module.source))
    if match:
        raise PolicyError(
            f"{module.path}:{_line(module.source, match.start())}: `{match.group(1)}[...]` makes an object, "
            f"not the set of messages driftctl reads",
            hint=f"write `{match.group(1)} contains msg if {{ ... }}`",
        )


def _line(text: str, index: int) -> int:
    return text.count("\n", 0, index) + 1


# --- regopy ------------------------------------------------------------------------------------------


def _interpreter(modules: Sequence[_Module], data: str) -> Any:
    interpreter = regopy.Interpreter()
    interpreter.log_level = regopy.LogLevel.NONE  # otherwise regopy prints parse errors to stdout
    interpreter.strict_built_in_errors = True
    for module in modules:
        try:
            interpreter.add_module(module.name, module.source)
        except regopy.RegoError as exc:
            raise PolicyError(f"{module.path}: does not parse: {_parse_errors(str(exc), module)}") from None
    try:
        interpreter.add_data_json(data)
    except regopy.RegoError as exc:
        raise PolicyError(f"policy data cannot be loaded: {_error_messages(str(exc))}") from None
    return interpreter


def _set_input(interpreter: Any, text: str) -> None:
    try:
        interpreter.set_input_term(text)
    except regopy.RegoError as exc:
        raise PolicyError(f"regopy rejected the plan JSON: {_error_messages(str(exc))}") from None


def _query(interpreter: Any, query: str, *, label: str = "") -> Any:
    """The single value of ``query``; PolicyError, naming ``label`` or the query, when there is none."""
    label = label or query
    try:
        output = interpreter.query(query)
    except regopy.RegoError as exc:
        detail = str(exc)
    except ValueError as exc:  # regopy's Output could not read regopy's own answer as JSON
        empty = str(exc).startswith("Expecting value: line 1 column 1 ")
        detail = rego_get_error(interpreter._impl) or (
            "regopy returned no result and no message" if empty else f"regopy's answer is not JSON ({exc})"
        )
    else:
        detail = ""
    if detail:
        raise PolicyError(
            f"evaluating {label} failed: {_error_messages(detail)}",
            hint="often an undefined function, recursion between rules, or a conflict regopy cannot report",
        ) from None
    if not output.ok():
        raise PolicyError(f"evaluating {label} failed: {_output_error(interpreter, output)}")
    results = [r for r in output.results if r.expressions]
    if not results:
        raise PolicyError(
            f"{label} is undefined",
            hint="no policy defines it, or a rule it needs is undefined (regopy reads `false` so too)",
        )
    if len(results) > 1 or len(results[0].expressions) != 1:
        raise PolicyError(f"{label} has more than one value")
    return results[0].expressions[0]


def _output_error(interpreter: Any, output: Any) -> str:
    # Ask the interpreter first: after some compile failures, touching the output's nodes crashes.
    message = rego_get_error(interpreter._impl)
    if message:
        return _error_messages(message)
    messages: list[str] = []
    node = output.node()
    if node.kind == regopy.NodeKind.ErrorSeq:
        for index in range(len(node)):
            messages.append(_error_messages(node.at(index).json()))
    return "; ".join(m for m in messages if m) or "unknown regopy error"


_ERRORMSG = re.compile(r"\(errormsg (\d+):")
_ERROR_AT = re.compile(r"\(error \d+:([^|\s]*)\|(\d+)\|\d+")


def _error_messages(text: str) -> str:
    """The messages of a regopy error S-expression (length-prefixed strings), or the text as is."""
    messages = [text[m.end() : m.end() + int(m.group(1))] for m in _ERRORMSG.finditer(text)]
    return "; ".join(dict.fromkeys(messages)) if messages else text.strip()


def _parse_errors(text: str, module: _Module) -> str:
    """`line N: message` for each error regopy reports on the module (offsets are in bytes)."""
    encoded = module.source.encode("utf-8")
    found: list[str] = []
    for block in re.split(r"(?=\(error )", text):
        at, message = _ERROR_AT.search(block), _ERRORMSG.search(block)
        if not message:
            continue
        body = block[message.end() : message.end() + int(message.group(1))]
        line = encoded.count(b"\n", 0, int(at.group(2))) + 1 if at else None
        found.append(f"line {line}: {body}" if line else body)
    return "; ".join(dict.fromkeys(found)) or text.strip()


def _decision(value: Any, modules: Sequence[_Module]) -> tuple[tuple[str, ...], tuple[str, ...], float]:
    where = f"{DECISION_RULE} (from {', '.join(m.path.name for m in modules)})"
    if not isinstance(value, dict):
        raise PolicyError(f"{where} is {type(value).__name__}, not an object with deny, warn and score")
    missing = [key for key in ("deny", "warn", "score") if key not in value]
    if missing:
        raise PolicyError(f"{where} has no {', '.join(missing)}")
    lists: list[tuple[str, ...]] = []
    for key in ("deny", "warn"):
        messages = value[key]
        if not isinstance(messages, list) or not all(isinstance(m, str) for m in messages):
            raise PolicyError(f"{where}: {key} must be a list of strings, got {json.dumps(messages)[:200]}")
        lists.append(tuple(messages))
    score = value["score"]
    if isinstance(score, bool) or not isinstance(score, int | float):
        raise PolicyError(f"{where}: score must be a number, got {json.dumps(score)[:200]}")
    return lists[0], lists[1], float(score)
