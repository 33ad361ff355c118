"""The driftctl error tree and the exit codes scripts can rely on (no I/O).

::

    DriftctlError                       exit 1
    ├── ConfigError                     bad driftctl.yaml or command-line input
    ├── PlanFormatError                 plan JSON that cannot be read (names the file and the problem)
    ├── PolicyError / CheckovError      a policy engine could not answer: the fix fails closed
    ├── TerraformError                  Terraform ran and failed (its own message kept)
    │   ├── TerraformNotFoundError      no usable Terraform binary
    │   ├── TerraformTimeoutError       killed at its timeout (whole process group)
    │   └── StateLockError              state locked by someone else (retryable)
    └── SandboxError                    the local moto sandbox cannot do what was asked
        └── UnknownTargetError          unknown mutation or resource; says what exists

Exit codes follow ``terraform plan -detailed-exitcode``: 0 clean, 1 error, 2 drift; ``reconcile`` adds
3 (every finding healed) and 4 (a workspace skipped because someone else held its lock).
Third-party exceptions are translated into this tree at the boundary that calls them.
"""

from __future__ import annotations

from collections.abc import Sequence

EXIT_CLEAN = 0
EXIT_ERROR = 1
EXIT_DRIFT = 2
EXIT_HEALED = 3  # `reconcile`: drift was found and every finding was healed
EXIT_SKIPPED = 4  # `reconcile`: a workspace was skipped (locked by another reconciler or Terraform run)


class DriftctlError(Exception):
    """Base of every error driftctl reports to a user. Carries its exit code and a hint."""

    exit_code: int = EXIT_ERROR
    retryable: bool = False

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def render(self) -> str:
        """The text shown to the user: the message, then the hint if there is one."""
        text = f"error: {self.message}"
        if self.hint:
            text += f"\nhint: {self.hint}"
        return text


class ConfigError(DriftctlError):
    """Configuration or command-line input that cannot be used as given."""


class PlanFormatError(DriftctlError):
    """A plan JSON file that is missing, unreadable, malformed or of an unsupported format."""


class TerraformError(DriftctlError):
    """Terraform ran and failed; ``message`` is Terraform's own diagnostic."""

    def __init__(
        self,
        message: str,
        *,
        command: Sequence[str] = (),
        returncode: int | None = None,
        stderr: str = "",
        hint: str | None = None,
    ) -> None:
        super().__init__(message, hint=hint)
        self.command = tuple(command)
        self.returncode = returncode
        self.stderr = stderr


class TerraformNotFoundError(TerraformError):
    """No Terraform binary could be resolved or executed."""


class TerraformTimeoutError(TerraformError):
    """Terraform exceeded its timeout and its whole process group was killed."""

    retryable = True


class StateLockError(TerraformError):
    """The Terraform state is locked by someone else. Retry later."""

    retryable = True

    def __init__(
        self,
        message: str,
        *,
        lock_id: str | None = None,
        who: str | None = None,
        command: Sequence[str] = (),
        returncode: int | None = None,
        stderr: str = "",
    ) -> None:
        super().__init__(
            message,
            command=command,
            returncode=returncode,
            stderr=stderr,
            hint="another Terraform run holds the state lock; retry later, or "
            "`terraform force-unlock` it if that run is known to be dead",
        )
        self.lock_id = lock_id
        self.who = who


class SandboxError(DriftctlError):
    """The local moto-backed sandbox cannot do what was asked."""


class UnknownTargetError(SandboxError):
    """A named mutation or resource does not exist; the message lists what does."""
