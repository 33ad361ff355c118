"""The sandbox as one object: moto server, provider mirror, sample stack, drift (I/O: all of it)."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from driftctl.errors import SandboxError
from driftctl.sandbox.drift import DriftResult, apply_mutation
from driftctl.sandbox.layout import REGION, SandboxLayout, terraform_env
from driftctl.sandbox.mirror import write_cli_config, write_mirror
from driftctl.sandbox.reattach import running_provider, start_provider, stop_provider
from driftctl.sandbox.server import MotoServer, running_server, start_server, stop_server
from driftctl.sandbox.state import StateResource, read_state
from driftctl.shipped import require_source_checkout
from driftctl.terraform import SubprocessRunner, Terraform, TerraformBinary, resolve_binary

Progress = Callable[[str], None]

_STACK_IGNORE = shutil.ignore_patterns(
    ".terraform", "*.tfstate", "*.tfstate.*", ".terraform.lock.hcl", "*.tfplan"
)


def source_root() -> Path:
    """The checkout that holds ``terraform/sandbox``, ``modules/`` and ``scenarios/``.

    Not in the wheel: from an installed driftctl this is a ``SandboxError`` saying how to point at one.
    """
    return require_source_checkout("the sandbox's sample stack")


@dataclass(frozen=True, slots=True)
class UpReport:
    server: MotoServer
    server_started: bool
    workspace: Path
    resources: tuple[str, ...]
    changed: bool
    timings: Mapping[str, float] = field(default_factory=dict)


class Sandbox:
    """One sandbox directory. Every method is idempotent where that makes sense."""

    def __init__(
        self,
        layout: SandboxLayout,
        *,
        binary: TerraformBinary | None = None,
        stack_source: Path | None = None,
        progress: Progress | None = None,
    ) -> None:
        self.layout = layout
        self._binary = binary
        self._stack_source = stack_source
        self.progress: Progress = progress or (lambda _msg: None)

    @property
    def stack_source(self) -> Path:
        """Where the sample stack is copied from; looked up only when needed (`down` needs no checkout)."""
        return self._stack_source or source_root()

    # -- lifecycle -----------------------------------------------------------------------------
    def up(self, *, apply: bool = True, reattach: bool = False) -> UpReport:
        """Start moto, write the mirror, init and apply the sample stack.

        With ``reattach``, one long-lived provider serves every Terraform command instead of
        Terraform starting ~3 providers per command (see ``reattach``).
        """
        timings: dict[str, float] = {}
        t0 = time.perf_counter()
        self.progress("starting moto server")
        server, started = start_server(self.layout)
        timings["moto_start"] = time.perf_counter() - t0
        self.progress(f"moto {'started' if started else 'already running'} at {server.endpoint}")

        script = write_mirror(self.layout)
        write_cli_config(self.layout)
        self._copy_stack()
        if started:
            # A new moto server holds nothing: any state left from an earlier server is fiction,
            # and a provider still running talks to the old endpoint.
            for stale in self.layout.workspace.glob("terraform.tfstate*"):
                stale.unlink()
            stop_provider(self.layout)
        if reattach:
            self.progress("starting a long-lived provider for Terraform to reattach to")
            start_provider(self.layout, str(script), self._base_env(server))
        elif stop_provider(self.layout):
            self.progress("stopped the long-lived provider (--no-reattach)")

        self.write_config(server)
        tf = self.terraform(server)
        t = time.perf_counter()
        self.progress("terraform init (provider from the local mirror)")
        tf.init()
        timings["init"] = time.perf_counter() - t

        changed = False
        if apply:
            plan_file = self.layout.root / "up.tfplan"
            t = time.perf_counter()
            self.progress("terraform plan")
            outcome = tf.plan(out=plan_file)
            timings["plan"] = time.perf_counter() - t
            changed = outcome.changes
            if changed:
                t = time.perf_counter()
                self.progress("terraform apply")
                tf.apply(plan_file)
                timings["apply"] = time.perf_counter() - t
            plan_file.unlink(missing_ok=True)
        timings["total"] = time.perf_counter() - t0
        resources = tuple(sorted(read_state(self.layout.workspace))) if apply else ()
        return UpReport(server, started, self.layout.workspace, resources, changed, timings)

    def write_config(self, server: MotoServer) -> Path:
        """A driftctl.yaml naming the sample stack as workspace ``sandbox``, with this sandbox's env."""
        import yaml

        config = {
            "version": 1,
            "workspaces": [
                {
                    "name": "sandbox",
                    "path": str(self.layout.workspace.relative_to(self.layout.root)),
                    "env": self.env(server),
                }
            ],
        }
        header = "# Written by `driftctl sandbox up` (rewritten on every up): the sandbox as a workspace.\n"
        self.layout.config_file.write_text(header + yaml.safe_dump(config, sort_keys=False))
        return self.layout.config_file

    def down(self) -> bool:
        """Stop moto and remove the sandbox directory. Returns whether a server was running."""
        stop_provider(self.layout)
        was_running = stop_server(self.layout)
        if self.layout.root.exists():
            shutil.rmtree(self.layout.root)
        return was_running

    def server(self) -> MotoServer:
        server = running_server(self.layout)
        if server is None:
            raise SandboxError(
                f"no sandbox is running in {self.layout.root}", hint="start one with `driftctl sandbox up`"
            )
        return server

    # -- using it ------------------------------------------------------------------------------
    def env(self, server: MotoServer | None = None) -> dict[str, str]:
        """Environment for Terraform to use this sandbox (and its reattached provider, if running)."""
        env = self._base_env(server or self.server())
        daemon = running_provider(self.layout)
        if daemon is not None:
            env["TF_REATTACH_PROVIDERS"] = daemon.reattach
        return env

    def _base_env(self, server: MotoServer) -> dict[str, str]:
        return {**terraform_env(self.layout, server.endpoint), "HOME": str(self.layout.home)}

    def binary(self) -> TerraformBinary:
        if self._binary is None:
            self._binary = resolve_binary()
        return self._binary

    def terraform(self, server: MotoServer | None = None, workspace: Path | None = None) -> Terraform:
        env = self.env(server)
        self.layout.home.mkdir(parents=True, exist_ok=True)
        return Terraform(SubprocessRunner(self.binary(), base_env=env), workspace or self.layout.workspace)

    def resources(self) -> dict[str, StateResource]:
        return read_state(self.layout.workspace)

    def clients(self, server: MotoServer | None = None) -> Callable[[str], Any]:
        """boto3 client factory bound to this sandbox's moto server (boto3 imported on first use)."""
        endpoint = (server or self.server()).endpoint
        cache: dict[str, Any] = {}

        def client(service: str) -> Any:
            if service not in cache:
                import boto3

                cache[service] = boto3.session.Session().client(
                    service,
                    region_name=REGION,
                    endpoint_url=endpoint,
                    aws_access_key_id="testing",
                    aws_secret_access_key="testing",
                )
            return cache[service]

        return client

    def drift(
        self, mutation: str, *, address: str | None = None, params: Mapping[str, str] | None = None
    ) -> DriftResult:
        server = self.server()
        return apply_mutation(
            mutation, self.resources(), self.clients(server), address=address, params=params
        )

    # -- internals -----------------------------------------------------------------------------
    def _copy_stack(self) -> None:
        for part in ("terraform/sandbox", "modules"):
            src = self.stack_source / part
            if not src.is_dir():
                raise SandboxError(
                    f"sample stack not found: {src} is missing",
                    hint="run driftctl from a checkout of the driftctl repository",
                )
            shutil.copytree(src, self.layout.stack_root / part, ignore=_STACK_IGNORE, dirs_exist_ok=True)
