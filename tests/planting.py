"""Planting a wrong rule in the gate table, for tests of `check`'s blame (test-only).

A wrong rule is just another rule text: the gate's entry with other `pull` texts. It goes
through the rule compiler like any rule, so every target (floats, numpy batches, complex
step, the compiled sweeps) runs the same wrong rule, as a real slip in the table would.
"""

from __future__ import annotations

import dataclasses

from circuitcli.core.gates import FUNCTIONS, GATES, OPERATORS, Gate


def wrong(name: str, *pulls: str) -> Gate:
    """The gate `name` with these pull texts (over g, out, x, y) instead of its own."""
    return dataclasses.replace(GATES[name], pull=tuple(pulls))


def scaled(name: str, factor: float) -> Gate:
    """The gate `name` with every local derivative times `factor`."""
    return wrong(name, *(f"({p}) * {factor!r}" for p in GATES[name].pull))


def plant(monkeypatch, gate: Gate) -> None:
    """Put `gate` in the table wherever the parser finds the gate of its name (undone at
    the end of the test by monkeypatch)."""
    for table in (GATES, OPERATORS, FUNCTIONS):
        for key, found in list(table.items()):
            if found.name == gate.name:
                monkeypatch.setitem(table, key, gate)
