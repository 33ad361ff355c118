"""`driftctl serve`: the scheduled reconciler — schedules, a lease, HTTP health and metrics, notifications.

Everything here calls the public core (``driftctl.core``) only. This ``__init__`` imports nothing, so
``driftctl.config`` can read the service's settings model without loading the scheduler or the server.
"""
