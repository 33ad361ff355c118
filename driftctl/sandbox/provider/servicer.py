"""The provider's gRPC servicer: tf's own, plus the resource's configuration during a plan (no I/O).

tf hands ``Resource.plan`` the prior state and Terraform's *proposed* new state, in which an
Optional+Computed attribute the configuration omits carries the prior (refreshed, possibly drifted)
value. That hides whether the code set it, so the provider could never plan an omitted attribute back
to its default as hashicorp/aws does. The configuration is in the request; this servicer keeps it
where ``SandboxResource.plan`` can read it (see ``base.planning_config``) for the length of the call.
"""

from __future__ import annotations

from typing import Any

from tf.provider import ProviderServicer
from tf.utils import read_dynamic_value

from driftctl.sandbox.provider.base import planning


class ConfigAwareServicer(ProviderServicer):  # type: ignore[misc]
    """``PlanResourceChange`` with the configuration available to the resource's ``plan``."""

    def PlanResourceChange(self, request: Any, context: Any) -> Any:
        config = read_dynamic_value(request.config)
        with planning(config if isinstance(config, dict) else None):
            return super().PlanResourceChange(request, context)


def install() -> None:
    """Make ``tf.runner.run_provider`` serve with ``ConfigAwareServicer``.

    run_provider builds ``tf.provider.ProviderServicer(provider)`` when it starts and offers no way to
    pass another class; it looks the name up at call time, so replacing it before the call is enough.
    """
    import tf.provider

    tf.provider.ProviderServicer = ConfigAwareServicer
