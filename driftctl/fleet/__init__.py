"""The fleet: many workspaces shared by N ``driftctl worker`` processes over one Postgres (procrastinate
jobs), a periodic sweep, and reconciles triggered by CloudTrail events read from SQS. See docs/fleet.md.

Modules: ``settings`` (the ``fleet:`` config section), ``jobs`` (the procrastinate app and its tasks),
``throttle`` (fleet and per-account caps), ``worker`` (the worker loop), ``index`` (cloud ids → Terraform
addresses, from state), ``events`` (CloudTrail events → debounced reconciles).
"""
