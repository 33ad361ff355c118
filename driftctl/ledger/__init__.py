"""The drift ledger: every finding stays open until healed, adopted, accepted/ignored or gone.

``model`` (items and the merge with one plan) and ``flapping`` are pure; ``store`` is the table in the
driftctl database; ``ledger.DriftLedger`` is what detection hands each plan to.
"""
