"""Where a sandbox keeps its files, and the environment Terraform needs to use it (no I/O)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_DIR = Path(".driftctl") / "sandbox"
REGION = "us-east-1"


@dataclass(frozen=True, slots=True)
class SandboxLayout:
    """The files of one sandbox. Several sandboxes can live side by side (tests use that)."""

    root: Path

    @classmethod
    def resolve(cls, directory: str | Path | None = None) -> SandboxLayout:
        """An explicit directory, else ``$DRIFTCTL_SANDBOX_DIR``, else ``./.driftctl/sandbox``."""
        chosen = directory or os.environ.get("DRIFTCTL_SANDBOX_DIR") or DEFAULT_DIR
        return cls(Path(chosen).expanduser().absolute())

    @property
    def server_file(self) -> Path:
        return self.root / "server.json"

    @property
    def config_file(self) -> Path:
        """driftctl.yaml for the sample stack: `driftctl detect -c .driftctl/sandbox/driftctl.yaml`."""
        return self.root / "driftctl.yaml"

    @property
    def moto_log(self) -> Path:
        return self.root / "moto.log"

    @property
    def provider_file(self) -> Path:
        """The long-lived provider Terraform reattaches to (see ``reattach``)."""
        return self.root / "provider.json"

    @property
    def mirror_dir(self) -> Path:
        return self.root / "mirror"

    @property
    def cli_config(self) -> Path:
        return self.root / "terraform.rc"

    @property
    def stack_root(self) -> Path:
        """A copy of ``terraform/`` and ``modules/`` so relative module sources keep working."""
        return self.root / "stack"

    @property
    def workspace(self) -> Path:
        """The Terraform working directory of the sample stack."""
        return self.stack_root / "terraform" / "sandbox"

    @property
    def home(self) -> Path:
        """HOME for Terraform and the provider: keeps their caches inside the sandbox."""
        return self.root / "home"


def terraform_env(layout: SandboxLayout, endpoint: str) -> dict[str, str]:
    """Environment for Terraform (and so the provider) to use this sandbox and nothing else."""
    return {
        "TF_CLI_CONFIG_FILE": str(layout.cli_config),
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        # Never pick up a user's real AWS profile or config by accident.
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    }
