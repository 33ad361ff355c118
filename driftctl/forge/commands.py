"""Comment text → a typed command, in Atlantis's grammar (no I/O).

``driftctl <command> [flags]`` or ``@<bot> <command> [flags]``, on a single line, split like a shell
would (quotes group words). Commands are case-insensitive: plan, approve [ID], apply [ID],
reject [ID] --reason "…", unlock, help; ``-w WORKSPACE`` picks the workspace. Anything after ``--``
(Atlantis's way to pass Terraform flags) is refused: driftctl applies only the plan it scored.
A comment not addressed to us is ``None``; one addressed to us that cannot be used is a `Refusal`
whose message is the reply (with "did you mean" for a near-miss).
"""

from __future__ import annotations

import difflib
import re
import shlex
from dataclasses import dataclass
from enum import StrEnum


class Verb(StrEnum):
    PLAN = "plan"
    APPROVE = "approve"
    APPLY = "apply"
    REJECT = "reject"
    UNLOCK = "unlock"
    HELP = "help"


TAKES_ID = (Verb.APPROVE, Verb.APPLY, Verb.REJECT)
PRIVILEGED = (Verb.APPROVE, Verb.APPLY, Verb.REJECT, Verb.UNLOCK, Verb.PLAN)
PROPOSAL_ID = re.compile(r"^[0-9a-f]{4,12}$")
WORKSPACE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
MAX_REASON = 500


@dataclass(frozen=True, slots=True)
class Command:
    verb: Verb
    proposal_id: str | None = None
    workspace: str | None = None
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class Refusal:
    """A comment addressed to driftctl that it will not run; ``message`` is the reply."""

    message: str


def _addressed(word: str, bot_name: str) -> bool:
    return word.casefold() in {"driftctl", f"@{bot_name}".casefold()}


def parse_comment(body: str, bot_name: str = "driftctl") -> Command | Refusal | None:
    """The command in ``body``, a refusal saying why not, or None when the comment is not for us."""
    text = body.strip()
    first_line = text.split("\n", 1)[0]
    words = first_line.split(None, 1)
    if not words or not _addressed(words[0], bot_name):
        return None
    if "\n" in text:
        return Refusal("A command must be on a single line; nothing was run.")
    try:
        argv = shlex.split(text)
    except ValueError as exc:
        return Refusal(f"Could not read the command ({exc}); nothing was run.")
    if len(argv) < 2:
        return Command(Verb.HELP)
    name = argv[1].casefold()
    try:
        verb = Verb(name)
    except ValueError:
        return Refusal(_unknown(argv[1]))
    return _flags(verb, argv[2:])


def _unknown(name: str) -> str:
    close = difflib.get_close_matches(name.casefold(), [v.value for v in Verb], n=1, cutoff=0.6)
    hint = f" Did you mean `driftctl {close[0]}`?" if close else ""
    return f"`{_code_safe(name)}` is not a driftctl command.{hint} Comment `driftctl help` for the list."


def _code_safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.:/-]", "", text)[:40] or "?"


def _flags(verb: Verb, args: list[str]) -> Command | Refusal:
    proposal_id = workspace = reason = None
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--":
            return Refusal(
                "Extra Terraform arguments are never accepted: driftctl applies only the plan it scored."
            )
        if arg in ("-h", "--help"):
            return Command(Verb.HELP)
        if arg in ("-w", "--workspace", "--reason") or arg.startswith(("--workspace=", "--reason=")):
            flag, _, value = arg.partition("=")
            if not value:
                if i + 1 >= len(args):
                    return Refusal(f"`{flag}` needs a value.")
                i += 1
                value = args[i]
            if flag == "--reason":
                if verb is not Verb.REJECT:
                    return Refusal("`--reason` goes with `driftctl reject`.")
                reason = value
            else:
                if not WORKSPACE.match(value):
                    return Refusal(f"`{_code_safe(value)}` is not a workspace name.")
                workspace = value
        elif arg.startswith("-"):
            flags = "-w WORKSPACE" + (", --reason TEXT" if verb is Verb.REJECT else "")
            return Refusal(f"`{_code_safe(arg)}` is not a flag of `driftctl {verb}` (flags: {flags}).")
        elif verb in TAKES_ID and proposal_id is None and PROPOSAL_ID.match(arg.lower()):
            proposal_id = arg.lower()
        else:
            return Refusal(
                f"`driftctl {verb}` does not take `{_code_safe(arg)}`; "
                + ("it takes one proposal ID." if verb in TAKES_ID else "it takes no arguments.")
            )
        i += 1
    if verb is Verb.REJECT:
        if not reason or not reason.strip():
            return Refusal('`driftctl reject` needs a reason: `driftctl reject ID --reason "why"`.')
        reason = reason.strip()[:MAX_REASON]
    return Command(verb, proposal_id, workspace, reason)


HELP = """\
driftctl comment commands (one per comment, on a single line):

* `driftctl plan [-w WORKSPACE]` re-detect the drift, re-draft and re-score the fixes, re-post them
* `driftctl approve [ID]` approve a proposal (allowed users and users with write access)
* `driftctl apply [ID]` apply an approved proposal (re-checked first; a stale plan is re-planned)
* `driftctl reject [ID] --reason "why"` reject a proposal, with the reason kept in the audit trail
* `driftctl unlock [-w WORKSPACE]` release this repository's lock on the workspace
* `driftctl help` this list

`@BOT` works in place of `driftctl`. Terraform flags are never accepted."""
