"""The self-healing loop: detect → draft → verify → assess → decide → act → confirm, per workspace.

Front doors call :mod:`driftctl.core`, not these modules. ``runtime`` builds what a run shares;
``options`` is what a caller asks (plain data); ``session`` is one workspace's run and the shared
detect step; ``heal`` drafts, verifies, assesses and decides one finding; ``act`` applies a verified
fix and confirms it; ``persist`` saves proposals (``records`` is their versioned stored shape) and
writes the audit rows of a heal; ``pipeline`` is the loop and the fan-out; ``approvals`` is the human
side (approve, reject, apply a proposal); ``locks`` keeps two reconcilers off one workspace;
``freshness`` tells whether a scored plan still describes the world; ``publish`` turns adopt fixes
into a branch or a patch; ``results`` and ``narrate`` are what a run reports, and in what words.
"""
