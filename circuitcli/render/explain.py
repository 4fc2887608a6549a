"""Explanation -> the chain rule told as a story, and as the `circuit explain --json` document.

The forward pass comes first, one line per gate (its value from its arguments' values), then
the backward pass from the output down, one block per node: each use of the node, with
the local derivative, the pull from above and their product, then the sum. Gradients
are coloured as in the grad table. The words are those of the live HTML page, which
builds the same sentences from `sentences` below (kept short on purpose: page.js
mirrors them).
"""

from __future__ import annotations

import heapq
import math
from typing import Any

from rich.console import Group, RenderableType
from rich.text import Text

from ..methods.explain import Explanation, Use
from .json import finite
from .table import fmt, grad_style, pick_rows

__all__ = ["explain_document", "explain_story", "forward_line", "sum_line", "use_line"]


def _arg(value: float, digits: int, call: bool) -> str:
    """A number as an argument in a worked formula: negatives bracketed, 3 * (-4), but
    not inside a call's own brackets, relu(-2)."""
    text = fmt(value, digits)
    return f"({text})" if text.startswith("-") and not call else text


def _strength(x: float) -> float:
    """How hard a use pulls: its size, nan counting as the strongest (it must be seen)."""
    return abs(x) if x == x else math.inf


def forward_line(name: str, formula: str, worked: str, value: str) -> str:
    """`add1 = x + y = -2 + 5 = 3`: a gate's value from its arguments' values."""
    return f"{name} = {formula} = {worked} = {value}"


def use_line(by: str, formula: str, name: str, local: str, pull: str, product: str) -> str:
    """`out = add1 * z pulls on z: local 3 × pull 1 = 3`: one use, one product."""
    return f"{by} = {formula} pulls on {name}: local {local} × pull {pull} = {product}"


def sum_line(name: str, terms: list[str], total: str) -> str:
    """`gradient of a: 3 + 3 = 6`, or `gradient of z: 3` for a single use."""
    if len(terms) <= 1:
        return f"gradient of {name}: {total}"
    text = terms[0]
    for term in terms[1:]:
        text += f" - {term[1:]}" if term.startswith("-") else f" + {term}"
    return f"gradient of {name}: {text} = {total}"


def explain_story(ex: Explanation, title: str, digits: int = 6,
                  max_rows: int | None = 40) -> RenderableType:
    """The forward pass briefly, then the backward pass as one block per node."""
    result = ex.result
    c = result.circuit
    labels = c.labels()
    rows, left_out = pick_rows(result, max_rows)
    shown = set(rows)
    parts: list[RenderableType] = []
    header = Text()
    header.append(title, style="bold")
    header.append("   ")
    header.append(f"{c.output_name} = ", style="bold")
    header.append(fmt(result.output, digits), style="bold cyan")
    parts.append(header)

    parts.append(Text("\nforward: each gate's value, from the values of its arguments",
                      style="bold"))
    for i in range(c.output + 1):
        if i not in shown or not c.args[i]:
            continue
        gate = c.gates[i]
        call = "({" in gate.display
        worked = gate.describe([_arg(result.values[j], digits, call) for j in c.args[i]])
        line = forward_line(labels[i], c.formula(i), worked, fmt(result.values[i], digits))
        parts.append(Text("  " + line))

    parts.append(Text("\nbackward: from the output down, each use adds local × pull",
                      style="bold"))
    for i in range(c.output, -1, -1):
        if i not in shown:
            continue
        parts.append(_block(ex, i, digits, max_rows))
    for i, note in result.kinks.items():
        parts.append(Text(f"kink at {labels[i]} = {c.formula(i)}: {note}", style="yellow"))
    for warning in result.warnings:
        parts.append(Text(f"warning: {warning}", style="yellow"))
    if left_out:
        parts.append(Text(f"{left_out} nodes left out (inputs, output and strongest pulls "
                          "shown); --all shows every node", style="dim"))
    return Group(*parts)


def _block(ex: Explanation, i: int, digits: int, max_rows: int | None) -> RenderableType:
    result = ex.result
    c = result.circuit
    labels = c.labels()
    name = labels[i]
    head = Text()
    head.append(name, style="bold cyan" if c.is_input(i) else "bold")
    if c.is_input(i):
        head.append(f" = {fmt(result.values[i], digits)}  (input)")
    else:
        head.append(f" = {c.formula(i)} = {fmt(result.values[i], digits)}")
    if i in result.bad:
        head.append("  ⚠ not finite", style="yellow")
    lines: list[RenderableType] = [Text(""), head]
    g = ex.total(i)
    if i == c.output:
        tail = Text("  the output: its gradient is the pull from above, ")
        tail.append(fmt(g, digits), style=grad_style(g))
        lines.append(tail)
        return Group(*lines)
    uses: list[Use] = ex.uses[i]
    picked = uses
    if max_rows is not None and len(uses) > max_rows:
        picked = heapq.nlargest(max_rows, uses, key=lambda u: _strength(u.contribution))
    for use in picked:
        line = Text("  " + use_line(labels[use.by], c.formula(use.by), name,
                                    fmt(use.local, digits),
                                    fmt(use.pull, digits), ""))
        line.append(fmt(use.contribution, digits), style=grad_style(use.contribution))
        lines.append(line)
        if use.by in result.kinks:
            lines.append(Text(f"    kink: {result.kinks[use.by]}", style="yellow"))
    if len(picked) < len(uses):
        lines.append(Text(f"  ... {len(uses) - len(picked)} weaker uses left out (in the sum)",
                          style="dim"))
    if not uses:
        lines.append(Text("  nothing pulls on it", style="dim"))
    if len(picked) < len(uses):
        line = Text(f"  gradient of {name}: the sum of {len(uses)} uses = ")
    else:
        line = Text("  " + sum_line(name, [fmt(u.contribution, digits) for u in uses], ""))
    line.append(fmt(g, digits), style="bold " + grad_style(g))
    lines.append(line)
    return Group(*lines)


def explain_document(ex: Explanation) -> dict[str, Any]:
    """The `circuit explain --json` document: per node its uses; inf and nan become null."""
    result = ex.result
    c = result.circuit
    labels = c.labels()
    grads = result.grads or []
    warnings = list(result.warnings)
    odd = 0
    nodes = []
    for i, a in enumerate(c.args):
        if not (a or c.is_input(i) or i == c.output):
            continue
        uses = [] if i == c.output else ex.uses[i]
        entries = []
        for u in uses:
            numbers = (u.local, u.pull, u.contribution)
            odd += not all(math.isfinite(x) for x in numbers)
            entries.append({"by": labels[u.by], "local": finite(u.local), "pull": finite(u.pull),
                            "contribution": finite(u.contribution)})
        nodes.append({
            "name": labels[i],
            "gate": "input" if c.is_input(i) else c.gates[i].name,
            "value": finite(result.values[i]),
            "grad": finite(grads[i]) if c.live[i] or i == c.output else None,
            "uses": entries,
        })
    if odd:
        warnings.append(f"{odd} uses have a local derivative, pull or contribution that is "
                        "inf or nan (null in this document)")
    return {
        "output": {"name": c.output_name, "value": finite(result.output)},
        "pull": finite(result.pull),
        "nodes": nodes,
        "warnings": warnings,
        "kinks": [{"name": labels[i], "note": note} for i, note in result.kinks.items()],
    }
