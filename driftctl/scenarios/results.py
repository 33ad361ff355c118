"""What one scenario run showed: passed or not, and why (frozen data, no I/O)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ScenarioResult:
    name: str
    summary: str
    passed: bool
    problems: tuple[str, ...] = ()
    injected: tuple[str, ...] = ()
    detected: tuple[str, ...] = ()
    decisions: tuple[str, ...] = ()  # "address: decision → outcome"
    healed: int = 0  # findings healed and confirmed
    expected_healed: int = 0
    seconds: float = 0.0  # injection → end of reconcile (the verified heal, when there is one)
    exit_code: int | None = None
    run_id: str = ""
