"""Runs Terraform as a subprocess and wraps its CLI in a typed facade; does process and file I/O.

``Runner`` is the seam: ``SubprocessRunner`` executes a real binary, tests pass any object with a
``run`` method. ``Terraform`` builds the command lines driftctl needs and turns failures into the
``TerraformError`` tree, with Terraform's own diagnostic text as the message.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import re
import signal
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol, TypeVar

from driftctl.errors import (
    ConfigError,
    StateLockError,
    TerraformError,
    TerraformNotFoundError,
    TerraformTimeoutError,
)
from driftctl.terraform.binary import TerraformBinary, parse_version

T = TypeVar("T")

# Set on every run: no prompts, no "run terraform apply next" hints, no calls home.
AUTOMATION_ENV: Mapping[str, str] = {"TF_IN_AUTOMATION": "1", "CHECKPOINT_DISABLE": "1", "TF_INPUT": "0"}

# How long an interrupted Terraform gets to stop gracefully (and release its state lock) before SIGKILL.
_INTERRUPT_GRACE_S = 10.0
# After SIGKILL, how long to wait for the pipes to close; a grandchild that left the group may hold them.
_DRAIN_S = 5.0

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_BOX = ("╷", "│", "╵")
_HEADER = re.compile(r"^(Error|Warning): ")
_LOCK_PHRASES = ("Error acquiring the state lock", "Error locking state")
# [ \t]* rather than \s*: an empty field must not swallow the next line.
_LOCK_ID = re.compile(r"^[ \t]*ID:[ \t]*(\S+)", re.MULTILINE)
_LOCK_WHO = re.compile(r"^[ \t]*Who:[ \t]*(.*?)[ \t]*$", re.MULTILINE)


@dataclass(frozen=True, slots=True)
class TerraformResult:
    """One finished Terraform command. ``args`` exclude the binary itself."""

    args: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str
    duration_s: float


class Runner(Protocol):
    """Runs Terraform with ``args`` in ``cwd``; returns the result whatever the exit code."""

    def run(
        self,
        args: Sequence[str],
        *,
        cwd: Path,
        env: Mapping[str, str] | None = None,
        timeout: float | None = None,
    ) -> TerraformResult: ...


class SubprocessRunner:
    """Runs a ``TerraformBinary`` in its own process group, so a timeout can kill its plugins too."""

    def __init__(
        self,
        binary: TerraformBinary,
        *,
        default_timeout: float = 600,
        base_env: Mapping[str, str] | None = None,
    ) -> None:
        self.binary = binary
        self.default_timeout = default_timeout
        self.base_env: Mapping[str, str] = dict(base_env or {})

    def run(
        self,
        args: Sequence[str],
        *,
        cwd: Path,
        env: Mapping[str, str] | None = None,
        timeout: float | None = None,
    ) -> TerraformResult:
        """Run and capture; raises only when Terraform cannot start or overruns ``timeout`` seconds."""
        argv = (*self.binary.command, *args)
        limit = self.default_timeout if timeout is None else timeout
        if not Path(cwd).is_dir():
            raise ConfigError(f"Terraform working directory {str(cwd)!r} does not exist")
        started = time.monotonic()
        try:
            proc = subprocess.Popen(
                argv,
                cwd=cwd,
                env=self.environment(env, cwd=Path(cwd)),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                encoding="utf-8",
                errors="replace",
                start_new_session=True,
            )
        except (FileNotFoundError, PermissionError) as exc:
            raise TerraformNotFoundError(
                f"cannot execute {self.binary.command[0]!r} ({self.binary.source}): {exc.strerror}",
                command=argv,
                hint="check the Terraform path, or run `driftctl doctor`",
            ) from exc
        try:
            stdout, stderr = proc.communicate(timeout=limit)
        except subprocess.TimeoutExpired:
            signal_group(proc, signal.SIGKILL)
            drain(proc)
            raise TerraformTimeoutError(
                f"`{_quote(argv)}` did not finish within {limit:g} s and was killed with its process group",
                command=argv,
                hint="raise the timeout, or look for a hung provider or a prompt waiting for input",
            ) from None
        except BaseException:
            # Ctrl-C does not reach a process in its own session: stop it ourselves, gently first, so
            # Terraform can write its state and release the lock.
            try:
                signal_group(proc, signal.SIGINT)
                with contextlib.suppress(subprocess.TimeoutExpired):
                    proc.wait(timeout=_INTERRUPT_GRACE_S)
            finally:
                signal_group(proc, signal.SIGKILL)
                drain(proc)
            raise
        return TerraformResult(
            args=tuple(args),
            returncode=proc.returncode,
            stdout=stdout,
            stderr=stderr,
            duration_s=time.monotonic() - started,
        )

    def environment(
        self, overlay: Mapping[str, str] | None = None, *, cwd: Path | None = None
    ) -> dict[str, str]:
        """The environment a run sees: ours, then ``base_env``, then ``overlay``, then the automation vars."""
        env = dict(os.environ)
        env.update(self.base_env)
        env.update(overlay or {})
        env.update(AUTOMATION_ENV)
        config = env.get("TF_CLI_CONFIG_FILE")
        if config is not None:
            path = Path(config)
            if not path.is_absolute() and cwd is not None:
                path = cwd / path
            if not config or not path.is_file():
                # A set-but-missing CLI config makes Terraform print a warning on every command; an
                # empty config is what it falls back to anyway.
                env["TF_CLI_CONFIG_FILE"] = os.devnull
        return env


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One diagnostic from ``validate -json``."""

    severity: Literal["error", "warning"]
    summary: str
    detail: str = ""
    filename: str | None = None
    line: int | None = None

    def render(self) -> str:
        """As Terraform prints it with ``-no-color``, minus the source snippet."""
        head = f"{self.severity.capitalize()}: {self.summary}"
        where = f"\n\n  on {self.filename} line {self.line}" if self.filename and self.line else ""
        body = f"\n\n{self.detail}" if self.detail else ""
        return head + where + body


@dataclass(frozen=True, slots=True)
class ValidateResult:
    """The outcome of ``terraform validate``."""

    valid: bool
    diagnostics: tuple[Diagnostic, ...]

    @property
    def errors(self) -> tuple[Diagnostic, ...]:
        return tuple(d for d in self.diagnostics if d.severity == "error")

    @property
    def message(self) -> str:
        """The error diagnostics as one text, empty when valid."""
        return "\n\n".join(d.render() for d in self.errors)


@dataclass(frozen=True, slots=True)
class PlanOutcome:
    """The outcome of ``plan -detailed-exitcode``; ``plan_file`` is set when the plan was saved."""

    changes: bool
    plan_file: Path | None
    result: TerraformResult


class Terraform:
    """Typed facade over a ``Runner`` bound to one working directory.

    Relative paths in arguments (plan files, var files, fmt paths) are relative to ``working_dir``,
    as they would be on Terraform's own command line. Methods raise ``TerraformError`` (or a subclass)
    when Terraform fails; the message is Terraform's own diagnostic.
    """

    def __init__(
        self,
        runner: Runner,
        working_dir: Path,
        *,
        env: Mapping[str, str] | None = None,
        lock_timeout: str = "0s",
        timeout: float | None = None,
    ) -> None:
        self.runner = runner
        self.working_dir = Path(working_dir)
        self.env: Mapping[str, str] = dict(env or {})
        self.lock_timeout = lock_timeout
        self.timeout = timeout

    def run(self, args: Sequence[str], *, accept: Sequence[int] = (0,)) -> TerraformResult:
        """Run any command; an exit code outside ``accept`` raises the translated error."""
        result = self.runner.run(args, cwd=self.working_dir, env=self.env, timeout=self.timeout)
        if result.returncode not in accept:
            raise error_from_result(result)
        return result

    def version(self) -> str:
        """The version string Terraform reports, e.g. ``"1.15.5"``."""
        return parse_version(self.run(("version", "-json")).stdout)

    def init(
        self, *, backend_config: Mapping[str, str] | None = None, upgrade: bool = False
    ) -> TerraformResult:
        args = ["init", "-input=false", "-no-color", f"-lock-timeout={self.lock_timeout}"]
        args += [f"-backend-config={key}={value}" for key, value in (backend_config or {}).items()]
        if upgrade:
            args.append("-upgrade")
        return self.run(args)

    def validate(self) -> ValidateResult:
        """Validate the configuration; an invalid one is a result, not an exception."""
        result = self.runner.run(
            ("validate", "-json", "-no-color"), cwd=self.working_dir, env=self.env, timeout=self.timeout
        )
        try:
            data = json.loads(result.stdout)
        except json.JSONDecodeError:
            # No JSON means Terraform failed before validating (bad flag, crash): report that instead.
            raise error_from_result(result) from None
        if not isinstance(data, dict):
            raise error_from_result(result)
        diagnostics = tuple(
            _diagnostic(item) for item in data.get("diagnostics") or () if isinstance(item, dict)
        )
        return ValidateResult(valid=bool(data.get("valid")), diagnostics=diagnostics)

    def fmt(
        self, paths: Sequence[str | Path] = (), *, check: bool = False, recursive: bool = False
    ) -> list[str]:
        """Files that need (``check``) or got (otherwise) reformatting, named as Terraform prints them."""
        args = ["fmt", "-list=true", "-no-color"]
        if check:
            args.append("-check")
        if recursive:
            args.append("-recursive")
        args += [str(path) for path in paths]
        # fmt -check exits 3 when some file needs formatting; that is the answer, not a failure.
        result = self.run(args, accept=(0, 3) if check else (0,))
        return [line.strip() for line in result.stdout.splitlines() if line.strip()]

    def plan(
        self,
        *,
        out: Path | None = None,
        refresh_only: bool = False,
        targets: Sequence[str] = (),
        var_files: Sequence[str | Path] = (),
        variables: Mapping[str, str] | None = None,
        destroy: bool = False,
        refresh: bool = True,
        lock: bool = True,
    ) -> PlanOutcome:
        """Plan with ``-detailed-exitcode``: exit 0 is no changes, 2 is changes, anything else raises."""
        args = [
            "plan",
            "-detailed-exitcode",
            "-input=false",
            "-no-color",
            f"-lock-timeout={self.lock_timeout}",
        ]
        if not lock:
            # Read-only plans (nothing will write state) may run beside a locking one.
            args.append("-lock=false")
        if out is not None:
            args.append(f"-out={out}")
        if refresh_only:
            args.append("-refresh-only")
        if destroy:
            args.append("-destroy")
        if not refresh:
            args.append("-refresh=false")
        args += [f"-target={target}" for target in targets]
        args += [f"-var-file={path}" for path in var_files]
        args += [f"-var={name}={value}" for name, value in (variables or {}).items()]
        result = self.run(args, accept=(0, 2))
        plan_file = None if out is None else self.working_dir / out
        return PlanOutcome(changes=result.returncode == 2, plan_file=plan_file, result=result)

    def show_json(self, plan_file: Path) -> dict[str, Any]:
        """The JSON rendering of a saved plan (``show -json``)."""
        result = self.run(("show", "-json", "-no-color", str(plan_file)))
        return _json_object(result, what=f"show -json {plan_file}")

    def apply(self, plan_file: Path) -> TerraformResult:
        """Apply exactly a saved plan; Terraform refuses a stale one."""
        return self.run(
            (
                "apply",
                "-input=false",
                "-no-color",
                "-auto-approve",
                f"-lock-timeout={self.lock_timeout}",
                str(plan_file),
            )
        )

    def state_pull(self) -> dict[str, Any] | None:
        """The current state as JSON, or None when there is no state yet."""
        result = self.run(("state", "pull"))
        if not result.stdout.strip():
            return None
        return _json_object(result, what="state pull")


def error_from_result(result: TerraformResult) -> TerraformError:
    """Translate a failed run into the error tree; a held state lock becomes ``StateLockError``."""
    command = ("terraform", *result.args)
    text = clean_output(result.stderr) or clean_output(result.stdout)
    message = diagnostic_message(result.stderr) or diagnostic_message(result.stdout)
    if not message:
        tail = text.splitlines()[-40:]
        message = "\n".join(tail).strip() or (
            f"`{_quote(command)}` exited with code {result.returncode} and printed no diagnostics"
        )
    if any(phrase in text for phrase in _LOCK_PHRASES):
        lock_id, who = parse_lock_info(text)
        # Without lock info the lock could not even be attempted (backend down, access denied):
        # retrying would not help, so that stays a plain TerraformError.
        if lock_id is not None:
            return StateLockError(
                message,
                lock_id=lock_id,
                who=who,
                command=command,
                returncode=result.returncode,
                stderr=result.stderr,
            )
    return TerraformError(message, command=command, returncode=result.returncode, stderr=result.stderr)


def clean_output(text: str) -> str:
    """Terraform output without colour codes or the box drawn around diagnostics."""
    lines = []
    for raw in _ANSI.sub("", text).splitlines():
        line = raw.rstrip()
        if line[:1] in _BOX:
            line = line[2:] if line[1:2] == " " else line[1:]
        lines.append(line)
    return "\n".join(lines)


def diagnostic_message(text: str) -> str:
    """The ``Error:`` diagnostics in Terraform output, each with its detail; warnings are dropped."""
    blocks: list[list[str]] = []
    current: list[str] | None = None
    for raw in _ANSI.sub("", text).splitlines():
        if raw.startswith("╵"):
            current = None
            continue
        line = clean_output(raw)
        header = _HEADER.match(line)
        if header:
            current = [line] if header.group(1) == "Error" else None
            if current is not None:
                blocks.append(current)
        elif current is not None:
            current.append(line)
    return "\n\n".join(_squeeze(block) for block in blocks)


def parse_lock_info(text: str) -> tuple[str | None, str | None]:
    """``(lock_id, who)`` from the ``Lock Info:`` section of a lock error, None for what is missing."""
    _, found, section = clean_output(text).partition("Lock Info:")
    if not found:
        return None, None
    lock_id = _LOCK_ID.search(section)
    who = _LOCK_WHO.search(section)
    return (lock_id.group(1) if lock_id else None), ((who.group(1) or None) if who else None)


def with_lock_retry(
    fn: Callable[[], T],
    attempts: int = 5,
    base_delay: float = 1.0,
    *,
    max_delay: float = 60.0,
    sleep: Callable[[float], None] = time.sleep,
    jitter: Callable[[], float] = random.random,
) -> T:
    """Call ``fn``, retrying ``StateLockError`` with exponential backoff and jitter; re-raise the last one.

    Jitter keeps several controllers that found the same lock from retrying in step.
    """
    if attempts < 1:
        raise ValueError("attempts must be at least 1")
    for attempt in range(attempts):
        try:
            return fn()
        except StateLockError:
            if attempt == attempts - 1:
                raise
            ceiling = min(max_delay, base_delay * 2**attempt)
            sleep(ceiling * (0.5 + jitter() / 2))
    raise AssertionError("unreachable")  # pragma: no cover


def _diagnostic(item: Mapping[str, Any]) -> Diagnostic:
    severity: Literal["error", "warning"] = "warning" if item.get("severity") == "warning" else "error"
    where = _mapping(item.get("range"))
    line = _mapping(where.get("start")).get("line")
    filename = where.get("filename")
    return Diagnostic(
        severity=severity,
        summary=str(item.get("summary", "")),
        detail=str(item.get("detail", "")),
        filename=filename if isinstance(filename, str) else None,
        line=line if isinstance(line, int) else None,
    )


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, dict) else {}


def _json_object(result: TerraformResult, *, what: str) -> dict[str, Any]:
    try:
        data = json.loads(result.stdout)
    except json.JSONDecodeError as exc:
        raise TerraformError(
            f"`terraform {what}` printed invalid JSON ({exc.msg} at line {exc.lineno}): "
            f"{result.stdout.strip()[:200]!r}",
            command=("terraform", *result.args),
            returncode=result.returncode,
            stderr=result.stderr,
        ) from None
    if not isinstance(data, dict):
        raise TerraformError(
            f"`terraform {what}` printed JSON that is not an object",
            command=("terraform", *result.args),
            returncode=result.returncode,
            stderr=result.stderr,
        )
    return data


def _squeeze(lines: list[str]) -> str:
    """Join lines, collapsing runs of blank lines and trimming blank edges."""
    kept: list[str] = []
    for line in lines:
        if line.strip() or (kept and kept[-1].strip()):
            kept.append(line)
    return "\n".join(kept).strip()


def signal_group(proc: subprocess.Popen[Any], sig: signal.Signals) -> None:
    """Signal a child started with ``start_new_session`` and its whole group; it may be gone already."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, sig)  # the group id is the child's pid


def drain(proc: subprocess.Popen[str]) -> tuple[str, str]:
    """Reap a signalled child and return what it still wrote; ("", "") if its pipes never close."""
    try:
        return proc.communicate(timeout=_DRAIN_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()
        proc.wait()
        return "", ""


def _quote(argv: Sequence[str]) -> str:
    return " ".join(argv)
