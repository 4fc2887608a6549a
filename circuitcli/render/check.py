"""Check -> a rich table (one row per input or node, a verdict each) or the JSON document."""

from __future__ import annotations

from typing import Any

from rich.console import Group, RenderableType
from rich.text import Text

from ..methods.check import FLOAT_RTOL, SAFETY, Check, Row
from ..methods.numeric import METHODS
from .fit import Column, Fitted
from .json import finite
from .table import fmt

__all__ = ["check_document", "check_table", "error_text", "pick_rows"]

INLINE_FORMULA = 30


def error_text(err: float | None) -> str:
    """A relative error at a glance: 1.6e-11 against 3.2e-03."""
    if err is None:
        return "—"
    if err != err:
        return "nan"
    if err == float("inf"):
        return "inf"
    return "0" if err == 0 else f"{err:.1e}"


def _verdict(row: Row) -> Text:
    if row.rule_ok is False:
        return Text("✗ rule", style="bold red")
    if row.kink:
        return Text("kink ✓" if row.ok else "kink ✗", style="yellow" if row.ok else "bold red")
    if row.undefined:
        return Text("none", style="yellow")
    if row.unconfirmed:
        return Text("? cannot confirm", style="bold red")
    return Text("✓", style="green") if row.ok else Text("✗", style="bold red")


def pick_rows(check: Check, max_rows: int | None) -> tuple[list[Row], int]:
    """Rows to show, in tape order: the failures and kinks first, then inputs, then the rest."""
    rows = check.rows
    if max_rows is None or len(rows) <= max_rows:
        return rows, 0
    output = check.circuit.output
    ranked = sorted(range(len(rows)), key=lambda k: (
        rows[k].ok and not rows[k].kink, not rows[k].is_input, rows[k].node != output, k))
    keep = sorted(ranked[:max_rows])
    return [rows[k] for k in keep], len(rows) - len(keep)


def _summary(check: Check) -> Group:
    what = "nodes" if any(not r.is_input for r in check.rows) else "inputs"
    total = len(check.rows)
    kinks = sum(1 for r in check.rows if r.kink)
    text = Text()
    if check.ok:
        text.append(f"✓ {check.agreeing} of {total} {what} agree", style="bold green")
    else:
        text.append(f"✗ {check.agreeing} of {total} {what} agree", style="bold red")
    if kinks:
        text.append(f" ({kinks} at a kink)", style="yellow")
    undefined = sum(1 for r in check.rows if r.undefined)
    if undefined:
        text.append(f" ({undefined} without a finite derivative)", style="yellow")
    unconfirmed = sum(1 for r in check.rows if r.unconfirmed)
    if unconfirmed:
        text.append(f" ({unconfirmed} cannot be confirmed)", style="bold red")
    if not check.sympy:
        text.append(" (numerical only: sympy skipped)", style="dim")
    if not check.rows:
        text = Text("nothing to check: the output depends on no input", style="bold")
    if check.culprits:
        gates = sorted({check.circuit.gates[i].name for i in check.culprits})
        text.append(f"; wrong local derivative in {', '.join(gates)}", style="bold red")
    m = METHODS[check.method]
    step = f"h = {check.h:g}" if check.h is not None else (
        "h = 1e-20" if m.name == "complex" else f"h = {m.scale:.3g}·max(1, |x|)")
    if check.rtol is None:
        step = f"h = {check.h:g}" if check.h is not None else (
            "h = 1e-20·|x|" if m.name == "complex" else f"h = {m.scale:.3g}·max(1, |x|)")
        judge = (f"ok: within {SAFETY:g}× its error estimate"
                 + (f", sympy to {FLOAT_RTOL:g}" if check.sympy else ""))
    else:
        judge = f"ok: |a - ref| <= {check.atol:g} + {check.rtol:g}·|ref|"
    settings = Text(f"{m.formula}, {step} · {judge}", style="dim")
    return Group(text, settings)


def check_table(check: Check, title: str, digits: int = 6, max_rows: int | None = 40,
                show_formulas: bool = True) -> RenderableType:
    """The header, the comparison table, notes on kinks and culprits, and the summary line."""
    c = check.circuit
    labels = c.labels()
    rows, left_out = pick_rows(check, max_rows)
    nodes = any(not r.is_input for r in check.rows)
    header = Text()
    header.append(title, style="bold")
    header.append("   ")
    header.append(f"{c.output_name} = ", style="bold")
    header.append(fmt(check.result.output, digits), style="bold cyan")

    columns = [Column("node" if nodes else "input", "left")]
    if nodes:
        columns.append(Column("computes", "left", drop=2, wrap=True))
    columns += [Column("analytic"), Column(check.method), Column("rel err")]
    formulas = check.sympy and show_formulas and any(r.formula for r in rows)
    # short formulas read best in the table; long ones get a line each below it
    inline = formulas and max(len(r.formula or "") for r in rows) <= INLINE_FORMULA
    if check.sympy:
        columns += [Column("sympy"), Column("rel err")]
    columns.append(Column("", "left"))
    if inline:
        columns.append(Column(f"d {c.output_name} / d node (sympy)" if nodes else
                              f"d {c.output_name} / d input (sympy)", "left", drop=1,
                              wrap=True))
    cells_of_rows: list[list[RenderableType]] = []
    for r in rows:
        name = Text(("▸ " if r.is_input else "  ") + r.name if nodes else r.name,
                    style="cyan" if r.is_input else "")
        cells: list[RenderableType] = [name]
        if nodes:
            cells.append(Text("" if r.is_input else r.computes))
        # at a kink the two-sided estimate straddles two pieces: its error says nothing
        num_style = "dim" if r.kink or not r.reliable else _err_style(r, r.rel_err, check.rtol)
        cells += [Text(fmt(r.analytic, digits)), Text(fmt(r.numerical, digits)),
                  Text(error_text(r.rel_err), style=num_style)]
        if check.sympy:
            cells += [Text(fmt(r.symbolic, digits)),
                      Text(error_text(r.sym_rel_err),
                           style=_err_style(r, r.sym_rel_err, check.rtol))]
        cells.append(_verdict(r))
        if inline:
            cells.append(Text(r.formula or "—"))
        cells_of_rows.append(cells)
    table = Fitted(columns, cells_of_rows)

    notes: list[RenderableType] = []
    if formulas and not inline:
        for r in rows:
            notes.append(Text(f"d {c.output_name} / d {r.name} = {r.formula or '— (too long)'}"))
    for r in check.rows:
        if r.kink:
            where = "between" if r.ok else "outside"
            notes.append(Text(
                f"kink at {r.name}: one-sided derivatives {fmt(r.left, digits)} (left), "
                f"{fmt(r.right, digits)} (right); the analytic {fmt(r.analytic, digits)} lies "
                f"{where} them", style="yellow" if r.ok else "bold red"))
        elif r.note and r.rule_ok is not False:
            notes.append(Text(f"{r.name}: {r.note}", style="yellow"))
    for i in check.culprits:
        notes.append(Text(f"wrong rule at {labels[i]} = {c.formula(i)}: "
                          f"{check.culprit_notes[i]}", style="bold red"))
    if check.culprits and not nodes:
        notes.append(Text("--nodes shows every node's row", style="dim"))
    for note in check.notes:
        notes.append(Text(note, style="dim"))
    if left_out:
        notes.append(Text(f"{left_out} agreeing rows left out; --all shows every row", style="dim"))
    if not check.rows:
        return Group(header, *notes, _summary(check))
    return Group(header, table, *notes, _summary(check))


def _err_style(row: Row, err: float | None, rtol: float | None) -> str:
    if err is None:
        return "dim"
    if rtol is None:  # judged by the error estimate: the verdict says whether it is too large
        return "green" if row.ok else "red"
    return "green" if err <= rtol else "red"


def check_document(check: Check) -> dict[str, Any]:
    """The `circuit check --json` document: every row at full precision, inf and nan as null."""
    c = check.circuit
    labels = c.labels()
    return {
        "ok": check.ok,
        "method": check.method,
        "rtol": check.rtol,
        "atol": check.atol,
        "h": check.h,
        "judged_by": "error estimate" if check.rtol is None else "tolerance",
        "output": {"name": c.output_name, "value": finite(check.result.output)},
        "rows": [
            {
                "name": r.name,
                "input": r.is_input,
                "computes": r.computes,
                "analytic": finite(r.analytic),
                "numerical": finite(r.numerical),
                "how": r.how,
                "symbolic": finite(r.symbolic),
                "formula": r.formula,
                "abs_err": finite(r.abs_err),
                "rel_err": finite(r.rel_err),
                "symbolic_abs_err": finite(r.sym_abs_err),
                "symbolic_rel_err": finite(r.sym_rel_err),
                "ok": r.ok,
                "kink": r.kink,
                "left": finite(r.left),
                "right": finite(r.right),
                "rule_ok": r.rule_ok,
                "undefined": r.undefined,
                "error_estimate": finite(r.error),
                "reliable": r.reliable,
                "unconfirmed": r.unconfirmed,
                "note": r.note,
            }
            for r in check.rows
        ],
        "culprits": [
            {"name": labels[i], "gate": c.gates[i].name, "computes": c.formula(i),
             "note": check.culprit_notes[i]}
            for i in check.culprits
        ],
        "notes": list(check.notes),
        "warnings": list(check.result.warnings),
    }
