"""Forward mode, Jacobians and Hessians -> tables, JSON documents and CSV.

The JSON shapes are a contract (issue 20): forward mode is grad's document plus
`"direction"` at the top and `"tangent"` on every node; a Jacobian is
`"jacobian": {"outputs", "inputs", "rows", "mode"}`; `hessian --json` is `{"output",
"inputs", "gradient", "hessian", "eigenvalues", "kinks", "warnings"}`, with `"hvp"` in
place of the matrix for a Hessian-vector product. inf and nan are null (and a warning).
"""

from __future__ import annotations

import csv
import heapq
import io
import math
from typing import TYPE_CHECKING, Any

from rich.console import Group, RenderableType
from rich.text import Text

from .fit import Column, Fitted
from .json import finite, grad_document
from .table import fmt, pick_rows

if TYPE_CHECKING:
    from ..methods.derivatives import Hessian, Jacobian, Tangents

__all__ = ["forward_document", "forward_story_document", "forward_story_view", "forward_table",
           "hessian_csv", "hessian_document", "hessian_view", "jacobian_document",
           "jacobian_table", "null_warnings"]


def _sign_style(v: float | None) -> str:
    if v is None or v != v or v == 0:
        return "dim"
    return "green" if v > 0 else "red"


def _direction_text(direction: dict[str, float]) -> str:
    parts = [f"{name}={fmt(v, 6)}" for name, v in direction.items() if v != 0]
    return ", ".join(parts) or "0 (no input moves)"


# ---- forward mode ------------------------------------------------------------------------


def forward_table(t: Tangents, title: str, digits: int = 6, max_rows: int | None = 40
                  ) -> RenderableType:
    """grad's table with a tangent column: how fast each node moves along the direction."""
    result = t.result
    c = result.circuit
    labels = c.labels()
    rows, left_out = pick_rows(result, max_rows)
    header = Text()
    header.append(title, style="bold")
    header.append("   ")
    header.append(f"{c.output_name} = ", style="bold")
    header.append(fmt(result.output, digits), style="bold cyan")
    header.append(f"   forward mode along {_direction_text(t.direction)}", style="dim")
    # the width policy of every table (render/fit.py): computes, then gate, give way first
    columns = [Column("node", "left"), Column("gate", "left", drop=2),
               Column("computes", "left", drop=1, wrap=True), Column("value"),
               Column("tangent"), Column("gradient")]
    cells: list[list[RenderableType]] = []
    for i in rows:
        is_input = c.is_input(i)
        name = Text(("▸ " if is_input else "  ") + labels[i],
                    style="bold" if i == c.output else ("cyan" if is_input else ""))
        live = c.live[i] or i == c.output
        tangent = t.tangents[i] if live else 0.0
        grad = result.grads[i] if result.grads is not None and live else None
        flag = " (kink)" if i in result.kinks else ""
        cells.append([name, Text("input" if is_input else c.gates[i].name),
                      Text("" if is_input else c.formula(i)),
                      Text(fmt(result.values[i], digits)),
                      Text(fmt(tangent, digits) + flag, style=_sign_style(tangent)),
                      Text(fmt(grad, digits), style=_sign_style(grad))])
    parts: list[RenderableType] = [header, Fitted(columns, cells)]
    out = t.tangents[c.output]
    parts.append(Text(f"d {c.output_name} along the direction = {fmt(out, digits)} "
                      "(= gradient · direction)", style="bold"))
    if left_out:
        parts.append(Text(f"{left_out} rows left out; --all shows every row", style="dim"))
    return Group(*parts)


def forward_document(t: Tangents, nodes: bool = True) -> dict[str, Any]:
    doc = grad_document(t.result, nodes=nodes)
    doc["direction"] = {name: finite(v) for name, v in t.direction.items()}
    c = t.result.circuit
    doc["output"]["tangent"] = finite(t.tangents[c.output])
    if nodes:
        labels = c.labels()
        by_label = {labels[i]: i for i, a in enumerate(c.args)
                    if a or c.is_input(i) or i == c.output}
        for node in doc["nodes"]:
            i = by_label[node["name"]]
            node["tangent"] = finite(t.tangents[i] if c.live[i] or i == c.output else 0.0)
    for name, i in c.inputs.items():
        doc["inputs"][name]["tangent"] = finite(t.tangents[i])
    doc["costs"] = t.costs
    return doc


# ---- the Jacobian ------------------------------------------------------------------------


def jacobian_table(j: Jacobian, title: str, digits: int = 6, max_rows: int | None = 40
                   ) -> RenderableType:
    """One row an output, one column an input; past max_rows, the first max_rows outputs and
    the max_rows inputs with the largest entries (1,000 x 1,000 cells took 2 GB to lay out)."""
    header = Text()
    header.append(title, style="bold")
    header.append(f"   Jacobian: {len(j.outputs)} outputs × {len(j.inputs)} inputs", style="dim")
    m, n = len(j.outputs), len(j.inputs)
    rows = range(m) if max_rows is None or m <= max_rows else range(max_rows)

    def size(k: int) -> float:
        return max((abs(v) if v == v else math.inf for v in (j.rows[r][k] for r in rows)),
                   default=0.0)

    cols = (list(range(n)) if max_rows is None or n <= max_rows
            else sorted(heapq.nlargest(max_rows, range(n), key=size)))
    columns = [Column("d ↓ / d →", "left"), Column("value"), *(Column(j.inputs[k]) for k in cols)]
    table = Fitted(columns, ([Text(j.outputs[r], style="bold"), Text(fmt(j.values[r], digits)),
                              *[Text(fmt(j.rows[r][k], digits), style=_sign_style(j.rows[r][k]))
                                for k in cols]]
                             for r in rows))
    parts: list[RenderableType] = [header, table, Text(j.why, style="dim")]
    left = [f"{count} {what}{'s' * (count != 1)}" for count, what in
            ((m - len(rows), "output"), (n - len(cols), "input")) if count]
    if left:
        parts.append(Text(f"{' and '.join(left)} left out (the first outputs, the inputs with "
                          "the largest entries shown); --all shows every one, --json gives "
                          "them all", style="dim"))
    return Group(*parts)


def jacobian_document(j: Jacobian, expression: dict[str, str]) -> dict[str, Any]:
    return {
        **expression,
        "jacobian": {"outputs": list(j.outputs), "inputs": list(j.inputs),
                     "rows": [[finite(v) for v in row] for row in j.rows], "mode": j.mode},
        "values": {name: finite(v) for name, v in zip(j.outputs, j.values)},
        "why": j.why,
        "warnings": list(j.warnings),
    }


# ---- the Hessian -------------------------------------------------------------------------


def _shown_inputs(h: Hessian, max_rows: int | None) -> list[int]:
    """The inputs to show (all, or the max_rows pulled on hardest, in their order)."""
    n = len(h.inputs)
    if max_rows is None or n <= max_rows:
        return list(range(n))

    def size(k: int) -> float:
        g = h.gradient[k]
        return abs(g) if g == g else math.inf

    return sorted(heapq.nlargest(max_rows, range(n), key=size))


def hessian_view(h: Hessian, title: str, digits: int = 6, max_rows: int | None = 40
                 ) -> RenderableType:
    """The matrix with the input names on both sides, the eigenvalues and what they mean
    (or, with --hvp, the product as a column)."""
    header = Text()
    header.append(title, style="bold")
    header.append("   ")
    header.append(f"{h.output} = ", style="bold")
    header.append(fmt(h.value, digits), style="bold cyan")
    parts: list[RenderableType] = [header]
    shown = _shown_inputs(h, max_rows)
    if h.product is not None:
        header.append(f"   Hessian-vector product along {_direction_text(h.direction or {})}",
                      style="dim")
        columns = [Column("input", "left"), Column("direction"), Column("gradient"),
                   Column("(H v)")]
        parts.append(Fitted(columns, (
            [Text(h.inputs[k], style="cyan"),
             Text(fmt((h.direction or {}).get(h.inputs[k], 0.0), digits)),
             Text(fmt(h.gradient[k], digits), style=_sign_style(h.gradient[k])),
             Text(fmt(h.product[k], digits), style=_sign_style(h.product[k]))]
            for k in shown)))
    else:
        header.append(f"   Hessian: d² {h.output} / d row d column", style="dim")
        columns = [Column("", "left", "cyan"), *(Column(h.inputs[k]) for k in shown)]
        matrix = h.matrix if h.matrix is not None else [[] for _ in h.inputs]
        parts.append(Fitted(columns, (
            [Text(h.inputs[r]), *[Text(fmt(matrix[r][k], digits),
                                       style=_sign_style(matrix[r][k])) for k in shown]]
            for r in shown)))
        if h.eigenvalues is not None:
            parts.append(Text("eigenvalues: " + (", ".join(fmt(v, digits)
                                                           for v in h.eigenvalues) or "none")))
        if h.curvature is not None:
            parts.append(Text(h.curvature.text, style="bold"))
    left_out = len(h.inputs) - len(shown)
    if left_out:
        parts.append(Text(f"{left_out} inputs left out (those with the largest gradients "
                          "shown); --all shows every one, --json gives them all", style="dim"))
    return Group(*parts)


def hessian_document(h: Hessian) -> dict[str, Any]:
    result = h.result
    c = result.circuit
    labels = c.labels_of(list(result.kinks))
    doc: dict[str, Any] = {
        "output": {"name": h.output, "value": finite(h.value)},
        "inputs": list(h.inputs),
        "gradient": [finite(v) for v in h.gradient],
    }
    if h.product is not None:
        doc["direction"] = {name: finite(v) for name, v in (h.direction or {}).items()}
        doc["hvp"] = {name: finite(v) for name, v in zip(h.inputs, h.product)}
    else:
        doc["hessian"] = [[finite(v) for v in row] for row in h.matrix or []]
        doc["eigenvalues"] = (None if h.eigenvalues is None
                              else [finite(v) for v in h.eigenvalues])
        if h.curvature is not None:
            doc["meaning"] = {"kind": h.curvature.kind, "text": h.curvature.text}
    doc["kinks"] = [{"name": labels[i], "note": note} for i, note in result.kinks.items()]
    doc["warnings"] = list(h.warnings) + null_warnings(doc)
    return doc


def null_warnings(doc: dict[str, Any]) -> list[str]:
    """A warning for numbers that became null (inf or nan) and were not already warned
    about, so that a null never goes unexplained."""
    found = []

    def walk(x: Any, path: str) -> None:
        if isinstance(x, dict):
            for k, v in x.items():
                if k not in ("warnings", "kinks"):
                    walk(v, f"{path}.{k}" if path else k)
        elif isinstance(x, list):
            for n, v in enumerate(x):
                walk(v, f"{path}[{n}]")
        elif x is None and path.split(".")[0] in ("gradient", "hessian", "hvp", "eigenvalues",
                                                  "jacobian", "output"):
            found.append(path)

    walk(doc, "")
    if not found:
        return []
    more = f" and {len(found) - 3} more" if len(found) > 3 else ""
    return [f"not finite (inf or nan), shown as null: {', '.join(found[:3])}{more}"]


def hessian_csv(h: Hessian) -> str:
    """The matrix (or the product) as CSV with the input names as header and first column;
    full precision."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    if h.product is not None:
        w.writerow(["input", "direction", "gradient", "hvp"])
        for k, name in enumerate(h.inputs):
            w.writerow([name, repr((h.direction or {}).get(name, 0.0)), repr(h.gradient[k]),
                        repr(h.product[k])])
    else:
        w.writerow(["", *h.inputs])
        for name, row in zip(h.inputs, h.matrix or []):
            w.writerow([name, *[repr(v) for v in row]])
    return buf.getvalue()


# ---- explain --forward -----------------------------------------------------------------


def forward_story_view(t: Tangents, steps: list, title: str, digits: int = 6,
                       max_rows: int | None = 40) -> RenderableType:
    """The forward-mode story: per gate, the tangents in, its local derivatives, and the
    tangent out as the sum of local × tangent in."""
    c = t.result.circuit
    labels = c.labels()
    header = Text()
    header.append(title, style="bold")
    header.append(f"   forward mode along {_direction_text(t.direction)}", style="dim")
    lines: list[RenderableType] = [header]
    start = Text("the inputs' tangents are the direction: ")
    start.append(", ".join(f"d{name} = {fmt(t.direction[name], digits)}" for name in c.inputs))
    lines.append(start)
    lines.append(Text("forward: each gate's tangent is the sum of local derivative × tangent "
                      "in, over its arguments", style="dim"))
    shown = steps if max_rows is None else steps[:max_rows]
    for s in shown:
        name = labels[s.node]
        lines.append(Text(f"{name} = {c.formula(s.node)} = "
                          f"{fmt(t.result.values[s.node], digits)}", style="bold"))
        terms = []
        for j, tin, p in zip(s.args, s.tangents_in, s.local):
            arg = labels[j]
            lines.append(Text(f"  from {arg}: local d{name}/d{arg} = {fmt(p, digits)}, "
                              f"tangent in {fmt(tin, digits)}"))
            terms.append(f"{fmt(p, digits)} × {fmt(tin, digits)}")
        out = Text(f"  tangent of {name}: {' + '.join(terms)} = ")
        out.append(fmt(s.tangent, digits), style=_sign_style(s.tangent))
        lines.append(out)
    if len(shown) < len(steps):
        lines.append(Text(f"{len(steps) - len(shown)} more gates left out; --all shows every "
                          "one", style="dim"))
    lines.append(Text(f"d {c.output_name} along the direction = "
                      f"{fmt(t.tangents[c.output], digits)}", style="bold"))
    lines.append(Text(t.costs, style="dim"))
    return Group(*lines)


def forward_story_document(t: Tangents, steps: list) -> dict[str, Any]:
    c = t.result.circuit
    labels = c.labels()
    return {
        "direction": {name: finite(v) for name, v in t.direction.items()},
        "output": {"name": c.output_name, "value": finite(t.result.output),
                   "tangent": finite(t.tangents[c.output])},
        "nodes": [{"name": labels[s.node], "formula": c.formula(s.node),
                   "value": finite(t.result.values[s.node]),
                   "tangents_in": [{"name": labels[j], "tangent": finite(tin),
                                    "local": finite(p)}
                                   for j, tin, p in zip(s.args, s.tangents_in, s.local)],
                   "tangent": finite(s.tangent)} for s in steps],
        "costs": t.costs,
        "warnings": list(t.result.warnings),
    }
