"""The shipped policies as package data (``driftctl.policies``); see driftctl/shipped.py. No code here."""
