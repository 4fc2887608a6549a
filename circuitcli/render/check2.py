"""check --order 2 -> a table of Hessian entries and the gates to blame, or JSON."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.console import Group, RenderableType
from rich.text import Text

from .fit import Column, Fitted
from .json import finite
from .table import fmt

if TYPE_CHECKING:
    from ..methods.check2 import Check2

__all__ = ["check2_document", "check2_table"]


def _verdict(ok: bool | None) -> Text:
    if ok is None:
        return Text("not judged", style="yellow")
    return Text("✓ agree" if ok else "✗ differ", style="green" if ok else "bold red")


def _worth_reading(entries: list, max_rows: int) -> list:
    """The rows kept when not all fit: disagreements first, then entries not judged, then
    the entries that are not 0 (the ones a reader can compare), in the matrix's order."""
    if len(entries) <= max_rows:
        return entries
    rank = sorted(range(len(entries)), key=lambda k: (entries[k].ok is not False,
                                                      entries[k].ok is not None,
                                                      entries[k].analytic == 0, k))
    return [entries[k] for k in sorted(rank[:max_rows])]


def check2_table(c: Check2, title: str, digits: int = 6, max_rows: int | None = 40
                 ) -> RenderableType:
    header = Text()
    header.append(title, style="bold")
    stepped = any(e.complex_step is not None for e in c.entries)
    against = [*(["sympy"] if c.exact_used else []), *(["complex step"] if stepped else []),
               "numerical"]
    header.append(f"   second-order check of {c.output}: analytic Hessian vs "
                  + ", ".join(against[:-1]) + (" and " if len(against) > 1 else "")
                  + against[-1], style="dim")
    # the width policy of every table (render/fit.py): the numbers stay, the estimate goes
    columns = [Column("entry", "left"), Column("analytic"), Column("sympy"),
               Column("complex step", brief="c-step"), Column("numerical"),
               Column("± est.", style="dim", drop=1), Column("verdict", "left")]
    entries = c.entries
    # symmetric: the upper triangle reads the same; show it all for a small matrix
    shown = entries if max_rows is None else _worth_reading(entries, max_rows)
    table = Fitted(columns, ([Text(f"d²/d{e.row} d{e.col}"), Text(fmt(e.analytic, digits)),
                              Text(fmt(e.exact, digits)), Text(fmt(e.complex_step, digits)),
                              Text(fmt(e.numerical, digits)), Text(fmt(e.error, 2)),
                              _verdict(e.ok)] for e in shown))
    parts: list[RenderableType] = [header, table]
    if len(shown) < len(entries):
        parts.append(Text(f"{len(entries) - len(shown)} entries left out (shown first: "
                          "disagreements, entries not judged, entries not 0); --all shows "
                          "every one", style="dim"))
    for culprit in c.culprits:
        parts.append(Text(f"✗ wrong rule at {culprit.name} ({culprit.gate}): {culprit.detail}",
                          style="bold red"))
    bad = sum(1 for e in entries if e.ok is False)
    judged = sum(1 for e in entries if e.ok is not None)
    if c.ok and not judged:
        parts.append(Text("no entry judged (see the note on stderr)", style="yellow"))
    elif c.ok:
        parts.append(Text(f"all {judged} judged entries agree", style="green"))
    else:
        parts.append(Text(f"{bad} of {judged} entries differ"
                          + (f"; {len(c.culprits)} gate(s) to blame" if c.culprits else ""),
                          style="bold red"))
    return Group(*parts)


def check2_document(c: Check2) -> dict[str, Any]:
    result = c.result
    circuit = result.circuit
    labels = circuit.labels_of(list(result.kinks))
    return {
        "order": 2,
        "ok": c.ok,
        "output": c.output,
        "inputs": list(c.inputs),
        "sympy": c.exact_used,
        "entries": [{"row": e.row, "col": e.col, "analytic": finite(e.analytic),
                     "sympy": finite(e.exact), "complex_step": finite(e.complex_step),
                     "numerical": finite(e.numerical),
                     "error": finite(e.error), "ok": e.ok, "note": e.note}
                    for e in c.entries],
        "culprits": [{"name": x.name, "gate": x.gate, "detail": x.detail}
                     for x in c.culprits],
        "kinks": [{"name": labels[i], "note": note} for i, note in result.kinks.items()],
        "notes": list(c.notes),
        "warnings": list(result.warnings),
    }
