"""The self-healing loop: detect → draft → verify → assess → decide → act → confirm, per workspace.

``pipeline`` runs it; ``locks`` keeps two reconcilers off one workspace; ``freshness`` tells whether a
scored plan still describes the world; ``publish`` turns adopt fixes into a branch or a patch;
``approvals`` is the human side (approve, reject, apply a proposal).
"""
