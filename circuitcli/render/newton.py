"""step --newton -> a table (before, gradient, Newton step, after) or JSON."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.console import Group, RenderableType
from rich.text import Text

from .fit import Column, Fitted
from .json import finite
from .table import fmt

if TYPE_CHECKING:
    from ..methods.newton import NewtonRun

__all__ = ["newton_document", "newton_view"]


def newton_view(run: NewtonRun, title: str, digits: int = 6) -> RenderableType:
    c = run.circuit
    header = Text()
    header.append(title, style="bold")
    header.append(f"   Newton step{'s' * (run.asked != 1)} "
                  f"({'down' if run.minimize else 'up'}hill"
                  + (f", damping {fmt(run.damping, digits)}" if run.damping else "") + ")",
                  style="dim")
    rows = []
    for name in c.inputs:
        moved = sum(s.get(name, 0.0) for s in run.steps)
        rows.append([Text(name, style="cyan"), Text(fmt(run.before[name], digits)),
                     Text(fmt(run.grads.get(name), digits) if name in run.grads else "—"),
                     Text(fmt(moved, digits) if name in run.moving else "frozen",
                          style="" if name in run.moving else "dim"),
                     Text(fmt(run.after[name], digits), style="bold")])
    # the width policy (render/fit.py): too narrow for the numbers, one line per input
    table = Fitted([Column("input", "left"), Column("before"), Column("gradient"),
                    Column("step"), Column("after")], rows)
    parts: list[RenderableType] = [header, table]
    out = c.output_name
    line = Text(f"{out}: {fmt(run.history[0], digits)}")
    if run.taken:
        line.append(f" → {fmt(run.history[-1], digits)} after {run.taken} step"
                    f"{'s' * (run.taken != 1)}", style="bold")
    parts.append(line)
    if run.eigenvalues is not None:
        parts.append(Text("Hessian eigenvalues at the start: "
                          + ", ".join(fmt(v, digits) for v in run.eigenvalues), style="dim"))
    halved = [s for s in run.scales if s != 1]
    if halved:
        parts.append(Text(f"the full Newton step did not improve the output: halved to "
                          f"{', '.join(fmt(s, 3) for s in run.scales)}", style="dim"))
    parts.append(Text(f"cost: {run.forward_passes} forward and {run.backward_passes} backward "
                      "passes (a Hessian is one forward and one backward pass over dual "
                      "numbers per input)", style="dim"))
    return Group(*parts)


def newton_document(run: NewtonRun) -> dict[str, Any]:
    c = run.circuit
    return {
        "method": "newton",
        "minimize": run.minimize,
        "damping": run.damping,
        "inputs": {name: {"before": finite(run.before[name]),
                          "grad": finite(run.grads[name]) if name in run.grads else None,
                          "after": finite(run.after[name])} for name in c.inputs},
        "output": {"name": c.output_name, "before": finite(run.history[0]),
                   "after": finite(run.history[-1])},
        "history": [finite(v) for v in run.history],
        "eigenvalues": None if run.eigenvalues is None else [finite(v)
                                                             for v in run.eigenvalues],
        "scales": list(run.scales),
        "steps": run.taken,
        "asked": run.asked,
        "refused": run.refused,
        "passes": {"forward": run.forward_passes, "backward": run.backward_passes},
        "kinks": list(run.kinks),
    }
