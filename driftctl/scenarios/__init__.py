"""Drift scenarios: out-of-band changes on the sandbox, what reconcile must make of them (``scenarios/``)."""
