"""`circuit check` as data: the analytic gradient against numerical and exact references.

Every row compares reverse mode's d output / d node with a finite-difference (or
complex-step) estimate and with sympy's exact value, and gives a verdict. Beside
the rows, every gate's own local rule is checked in isolation (perturb one
argument, re-run only that gate), so a wrong derivative is pinned on the gate
that has it, not smeared over every node upstream of it. Nothing here prints.

A verdict is evidence, not a fixed tolerance: each numerical method estimates its
own truncation and rounding error, and a row fails only when the analytic value
lies outside SAFETY times that estimate. sympy (the exact derivative of each gate
at the values the circuit computed, chained at 40 digits) decides where it has a
number; where the numerical estimate is too wide to tell and sympy is off, the
per-gate check decides. A fixed --rtol/--atol is still there when asked for.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

from ..core.circuit import Circuit
from ..core.evaluate import Result, evaluate
from . import symbolic
from .numeric import (
    METHODS,
    Numerical,
    analytic_partials,
    derivatives,
    local_partials,
    magnitude,
    precise_partial,
    tolerances,
)

__all__ = ["FLOAT_RTOL", "SAFETY", "Check", "Row", "check", "close", "relative_error"]

# a row fails only outside SAFETY times the numerical estimate's own error estimate
SAFETY = 10.0
# ... and an estimate wider than WIDE of the value cannot tell a wrong rule (x1.5) apart
WIDE = 0.1
# the float gradient's own rounding, allowed relative to the size of its terms: against
# sympy's chained value, and on top of a numerical estimate's error (a rule that cancels
# a few digits, out * (1 - out), is imprecise, not wrong; one off by 1e-3 is wrong)
FLOAT_RTOL = 1e-9
# below the normal range a float has absolute spacing 5e-324: allow that much per operation,
# for up to a million operations (a gradient of 1e-318 cannot carry 9 digits)
SUBNORMAL = math.ulp(0.0) * 1e6
# at most this many gate slopes a check are worked out at many digits (about 1 ms each), where
# a float difference cannot judge the rule and sympy has no number
PRECISE_BUDGET = 256


@dataclass
class Row:
    """One node's derivative three ways, and the verdict."""

    node: int
    name: str
    # what the node computes ("x + y"), or "input"
    computes: str
    is_input: bool
    analytic: float
    numerical: float
    # the numerical method this row used (a one-sided fallback says so)
    how: str
    symbolic: float | None
    formula: str | None
    abs_err: float
    rel_err: float
    sym_abs_err: float | None
    sym_rel_err: float | None
    ok: bool
    kink: bool
    # one-sided derivatives, shown at kinks: the analytic subgradient must lie between them
    left: float | None = None
    right: float | None = None
    side_step: float = 0.0
    # this gate's own local derivatives agree (None: an input, or nothing to judge)
    rule_ok: bool | None = None
    # no finite derivative exists here, and the reference agrees
    undefined: bool = False
    note: str | None = None
    # the numerical estimate's own error estimate, and whether it is tight enough to judge
    error: float | None = None
    reliable: bool = True
    # a nan or inf gradient that no reference can call right or wrong: not a pass
    unconfirmed: bool = False


@dataclass
class Check:
    """The whole check: rows, the gates whose local rule is wrong, and the settings used."""

    circuit: Circuit
    result: Result
    method: str
    h: float | None
    # a fixed tolerance, when asked for; None: judged by the error estimates
    rtol: float | None
    atol: float | None
    rows: list[Row]
    # nodes whose gate's local derivative disagrees with the references
    culprits: list[int] = field(default_factory=list)
    culprit_notes: dict[int, str] = field(default_factory=dict)
    sympy: bool = True
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.rows) and not self.culprits

    @property
    def agreeing(self) -> int:
        return sum(1 for r in self.rows if r.ok)


def relative_error(a: float, ref: float) -> float:
    """|a - ref| / |ref|; 0 when both are equal, inf when only the reference is 0."""
    diff = abs(a - ref)
    if diff == 0:
        return 0.0
    return diff / abs(ref) if ref != 0 else math.inf


def close(a: float, ref: float, rtol: float, atol: float) -> bool:
    """|a - ref| <= atol + rtol * |ref|, the reference being the numerical or exact value."""
    if not (math.isfinite(a) and math.isfinite(ref)):
        return False
    return abs(a - ref) <= atol + rtol * abs(ref)


def check(circuit: Circuit, values: Mapping[str, float], method: str = "central",
          h: float | None = None, rtol: float | None = None, atol: float | None = None,
          nodes: bool = False, use_sympy: bool = True, formulas: bool = True) -> Check:
    """Check the gradient at `values` (defaults fill the rest); `nodes`: a row per node.

    Without `rtol` and `atol`, rows are judged by the numerical method's own error
    estimate and sympy; with either, by |a - ref| <= atol + rtol·|ref|.
    Raises CircuitError for bad values or a point outside a gate's domain.
    """
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; choose from {', '.join(METHODS)}")
    if rtol is not None or atol is not None:
        default_rtol, default_atol = tolerances(method, h)
        rtol = default_rtol if rtol is None else rtol
        atol = default_atol if atol is None else atol
    values = circuit.values_for(values)
    result = evaluate(circuit, values)
    vals = result.values
    grads = result.grads or []
    gate_nodes = [i for i in circuit.ancestors() if circuit.args[i]]
    targets = list(circuit.inputs.values())
    if nodes:
        targets = sorted(set(targets) | set(circuit.ancestors()))

    scale = magnitude(circuit, vals, grads)
    numerical = derivatives(circuit, vals, targets, method, h, scale=scale)
    local = local_partials(circuit, vals, gate_nodes, method, h)
    exact = None
    formula_of: dict[int, str | None] = {}
    if use_sympy:
        exact = symbolic.at_point(circuit, values, computed=vals)
        if formulas:
            formula_of = symbolic.formulas(circuit, targets)

    # without sympy's, the float sizes of the terms each gradient sums (for its rounding)
    terms = _term_sizes(circuit, vals) if exact is None or exact.scale is None else None
    check = Check(circuit, result, method, h, rtol, atol, [], sympy=use_sympy)
    judged = _judge_rules(check, gate_nodes, local, exact)
    below_kink = _below(circuit, result.kinks)
    labels = circuit.labels()
    for t, num in zip(targets, numerical):
        a = grads[t]
        s = exact.grads[t] if exact is not None else None
        size = (exact.scale[t] if exact is not None and exact.scale is not None
                else terms[t] if terms is not None else None)
        # sympy's Heaviside(0) = 1/2 is not the gate table's subgradient: below a gate at
        # its kink, a sympy value that disagrees is no evidence (max(x, x, x): 1.5, not 1)
        hidden = (s is not None and bool(below_kink[t]) and math.isfinite(a)
                  and not _sympy_agrees(a, s, size))
        if hidden:
            s = None
        n = num.value
        row = Row(
            node=t, name=labels[t], computes=circuit.formula(t) if circuit.args[t] else "input",
            is_input=circuit.is_input(t), analytic=a, numerical=n, how=num.how, symbolic=s,
            formula=formula_of.get(t), abs_err=abs(a - n),
            rel_err=relative_error(a, n),
            sym_abs_err=None if s is None else abs(a - s),
            sym_rel_err=None if s is None else relative_error(a, s),
            ok=False, kink=num.crossed, left=num.left, right=num.right,
            side_step=num.side_step, error=num.error,
        )
        if t in judged:
            row.rule_ok = t not in check.culprit_notes
        if check.rtol is None:
            _judge(row, num, method, s, size, use_sympy and not hidden, scale, h is not None)
            if not row.ok and s is None and method != "complex":
                _second_witness(row, circuit, vals, t, size, scale)
            if hidden and not row.note:
                row.note = ("a gate on its way to the output sits at its kink: judged by the "
                            "numerical and one-sided derivatives (sympy takes Heaviside(0) = 1/2"
                            " there, not the subgradient)")
        else:
            _verdict(row, method, check.rtol, check.atol or 0.0, use_sympy)
        check.rows.append(row)
    if h is not None:
        lesson = _step_lesson(method, h, numerical)
        if lesson:
            check.notes.append(lesson)
    if method == "complex":
        used = set(gate_nodes)
        kinked = sorted({circuit.gates[i].name for i in circuit.kinkable if i in used})
        if kinked:
            check.notes.append(
                f"complex-step passes {', '.join(kinked)} (gates with a kink) by their rule on "
                "the real part; rows at a kink use one-sided real differences")
    return check


def _term_sizes(circuit: Circuit, vals) -> list[float]:
    """The chain rule over |local derivatives| in floats: how large the terms are that each
    d output / d node sums (sympy's `scale`, when sympy is not asked)."""
    sizes = [0.0] * len(vals)
    sizes[circuit.output] = 1.0
    args = circuit.args
    for i in range(circuit.output, -1, -1):
        if not args[i] or sizes[i] == 0:
            continue
        for j, p in zip(args[i], analytic_partials(circuit, vals, i)):
            sizes[j] += abs(p) * sizes[i] if p == p else math.inf
    return sizes


def _below(circuit: Circuit, kinks: Mapping[int, str]) -> bytearray:
    """Nodes with a gate at its kink on some path to the output (that gate included)."""
    mark = bytearray(len(circuit.gates))
    for k in kinks:
        mark[k] = 1
    args = circuit.args
    for i in range(circuit.output, -1, -1):
        if mark[i]:
            for j in args[i]:
                mark[j] = 1
    return mark


def _sympy_agrees(a: float, s: float, size: float | None) -> bool:
    """Within the float sum's rounding: FLOAT_RTOL of the size of its terms."""
    return abs(a - s) <= FLOAT_RTOL * (abs(s) + (size if size is not None else abs(s))) + SUBNORMAL


def _unreliable_because(num: Numerical, method: str, scale: float, given: bool,
                        size: float | None = None) -> str:
    if size is not None and FLOAT_RTOL * size > WIDE * abs(num.value):
        return (f"the gradient sums terms of about {size:.3g} that cancel, so its float value "
                "is only as good as their rounding")
    if num.near_kink:
        return (f"a step of {num.step:.3g} reaches a kink that the point is not at, so the "
                "difference spans two pieces" + ("" if given else
                                                 ", and so did every smaller step tried"))
    if not math.isfinite(num.value):
        return "the perturbed points leave the domain or overflow"
    if num.how != method:
        return f"{num.how}: one-sided, with no second step to measure its error"
    if num.rounding > num.truncation:
        if scale == math.inf:
            return ("rounding: the circuit's values times their gradients pass the double "
                    "range, which swamps any difference")
        if given:
            return (f"rounding error dominates: h = {num.step:.3g} is too small, the circuit's "
                    f"values, about {scale:.3g} in all, swamp the change it makes")
        return (f"rounding: the circuit's values, about {scale:.3g} in all, swamp the change "
                f"a step of {num.step:.3g} makes")
    if given:
        return (f"truncation error dominates: h = {num.step:.3g} is too large, the estimates at "
                f"h and 2h differ by {num.truncation:.3g}")
    return (f"estimates at two step sizes disagree by {num.truncation:.3g}: a pole, a domain "
            "edge or fast oscillation within a step")


def _step_lesson(method: str, h: float, nums: list[Numerical]) -> str | None:
    """Which error a user's step lets dominate, from the error estimates, when it costs
    digits: the lesson `--h` teaches (check --sweep-h draws it)."""
    m = METHODS[method]
    worst = None
    for num in nums:
        if num.near_kink or num.how != method or not math.isfinite(num.value) or num.crossed:
            continue
        size = abs(num.value)
        err = num.truncation + num.rounding
        if size == 0 or not err / size > 100 * m.best:
            continue
        if worst is None or err / size > worst[0]:
            worst = (err / size, num)
    if worst is None:
        return None
    num = worst[1]
    if num.rounding > num.truncation:
        # the second estimate's difference is itself rounding noise here, so it is no
        # measure of truncation (at h = 1e-12 that is about h·f''/2, far smaller)
        what = (f"rounding error dominates: h = {h:g} is too small (rounding about "
                f"{num.rounding / abs(num.value):.1e} relative; the estimates at two steps "
                "differ by less than that noise, so truncation is smaller still)")
    else:
        what = (f"truncation error dominates: h = {h:g} is too large (truncation about "
                f"{num.truncation / abs(num.value):.1e} relative, rounding "
                f"{num.rounding / abs(num.value):.1e})")
    return (f"{what}; the default step balances the two (a relative error of about "
            f"{m.best:.0e}); check --sweep-h draws the error against h")


def _judge(row: Row, num: Numerical, method: str, s: float | None, size: float | None,
           sympy: bool, scale: float, given: bool = False) -> None:
    """The verdict by evidence: sympy where it has a number, else the error estimate."""
    a, n = row.analytic, row.numerical
    # the float gradient's own rounding: FLOAT_RTOL of the terms it sums (5e199 - 5e199
    # + 0.5 is 0 in floats: imprecise by the sum's condition, not a wrong rule)
    band = SAFETY * num.error + FLOAT_RTOL * (abs(n) + (size or 0.0)) + SUBNORMAL
    inside = math.isfinite(n) and abs(a - n) <= band
    reliable = not num.near_kink and math.isfinite(n) and math.isfinite(band) and (
        band <= WIDE * abs(n) or (a == 0 and n == 0))
    row.reliable = reliable and not row.kink
    if not math.isfinite(a) or row.kink:
        _verdict(row, method, METHODS[method].rtol, 0.0, sympy,
                 rounding=SAFETY * num.rounding, reliable=reliable and num.how == method)
        return
    why = None if reliable else _unreliable_because(num, method, scale, given, size)
    if s is not None:
        row.ok = _sympy_agrees(a, s, size)
        if not row.ok:
            row.note = "sympy's exact value disagrees with the analytic gradient"
        elif why is not None:
            row.note = f"numerical estimate unreliable here ({why}); sympy decides"
        elif not inside:
            row.note = ("the numerical estimate is further off than its own error estimate "
                        "says; sympy (exact) agrees with the analytic gradient")
    elif why is not None:
        row.ok = row.rule_ok is not False
        row.note = f"numerical estimate unreliable here ({why}); the per-gate check decides"

    else:
        row.ok = inside
    if row.ok and row.note is None and num.how != method:
        row.note = num.how
    if row.rule_ok is False:
        row.ok = False
        row.note = "this gate's own local derivative is wrong"


def _second_witness(row: Row, circuit: Circuit, vals, t: int, size: float | None,
                    scale: float) -> None:
    """Without sympy, a difference quotient that disagrees is heard again from the complex
    step before a rule is called wrong. Two steps can agree on nonsense where the curve
    turns many times within them (cos(y**3) at y = 709: the phase moves 8e5 radians over
    Richardson's step); the complex step subtracts nothing, so its step can be tiny. It runs
    the forward rules only, so a wrong backward rule still disagrees with it."""
    a = row.analytic
    if row.rule_ok is False or row.kink or not math.isfinite(a):
        return
    witness = derivatives(circuit, vals, [t], "complex", None, scale=scale)[0]
    w = witness.value
    if witness.how != "complex" or witness.crossed or witness.near_kink or not math.isfinite(w):
        return
    band = SAFETY * witness.error + FLOAT_RTOL * (abs(w) + (size or 0.0)) + SUBNORMAL
    if math.isfinite(band) and abs(a - w) <= band:
        row.ok = True
        row.note = (f"the {row.how} estimate is off here (its step is too coarse for the "
                    f"curve), but the complex step ({w:.6g}, no subtraction) agrees with the "
                    "analytic gradient")


def _verdict(row: Row, method: str, rtol: float, atol: float, sympy: bool,
             rounding: float | None = None, reliable: bool | None = None) -> None:
    """The fixed-tolerance verdict (and, for every mode, the undefined and kink rows)."""
    a, n, s = row.analytic, row.numerical, row.symbolic
    if not math.isfinite(a):
        # no finite derivative: fine when the exact reference (or, without sympy, the
        # numerical one) finds none either, as for sqrt at 0 or x ** y in y at x < 0.
        # A finite two-sided numerical estimate is a finite derivative (sympy's None only
        # says it has no number): a nan or inf gradient is then wrong, or unconfirmed.
        two_sided = math.isfinite(n) and row.how == method and not row.kink
        if reliable is None:
            reliable = two_sided and close(n, n, rtol, atol)
        if sympy and s is not None:
            row.undefined = not math.isfinite(s)
        else:
            row.undefined = not two_sided
        row.ok = row.undefined
        kind = "nan" if a != a else "infinite"
        if row.undefined:
            if sympy and s is None:  # nothing confirms it, nothing contradicts it
                row.note = "no finite derivative here, and sympy gives no number either"
            else:
                row.note = ("no finite derivative here, and "
                            + ("sympy" if sympy else "the numerical estimate") + " agrees")
        elif sympy and s is not None:
            row.note = f"the analytic gradient is {kind} here, but sympy's exact value is {s:.6g}"
        elif reliable:
            row.note = (f"the analytic gradient is {kind} here, but the numerical estimate is "
                        f"{n:.6g}, and reliable")
        else:
            row.unconfirmed = True
            row.note = (f"cannot confirm: the analytic gradient is {kind} here, while the "
                        f"numerical estimate is a finite {n:.6g} (not reliable enough to call "
                        "it wrong)" + ("" if sympy else "; sympy may settle it"))
    elif row.kink:
        lo, hi = sorted((row.left if row.left is not None else math.nan,
                         row.right if row.right is not None else math.nan))
        if math.isfinite(lo) and math.isfinite(hi):
            # one-sided differences are only O(h) accurate: allow for that as for --h
            side = 10.0 * row.side_step
            floor = atol if rounding is None else rounding
            slack = max(floor, side) + max(rtol, side) * max(abs(lo), abs(hi))
            row.ok = lo - slack <= a <= hi + slack
            row.note = ("the subgradient lies between the one-sided derivatives" if row.ok else
                        "the subgradient lies outside the one-sided derivatives")
        else:
            row.ok = False
            row.note = "a one-sided derivative is not finite here"
    elif not math.isfinite(n):
        row.ok = False
        row.note = "the numerical derivative is not finite here"
    else:
        by_numbers = close(a, n, rtol, atol)
        row.ok = by_numbers and (s is None or close(a, s, rtol, atol))
        if row.how != method:
            row.note = row.how
        if not by_numbers and s is not None and close(a, s, rtol, atol):
            better = "" if method == "complex" else "--method complex, or "
            row.note = ("sympy agrees with the analytic gradient: the numerical estimate's own "
                        f"error is larger than the tolerance (try {better}a looser --rtol)")
    if row.rule_ok is False:
        row.ok = False
        row.note = "this gate's own local derivative is wrong"


def _judge_rules(check: Check, gate_nodes: list[int], local, exact) -> set[int]:
    """Find the gates whose own local derivatives disagree with sympy's (or, without sympy,
    a numerical estimate's). Returns the nodes that could be judged.
    """
    c = check.circuit
    vals = check.result.values
    labels = c.labels()
    kinks = check.result.kinks
    judged: set[int] = set()
    fixed = check.rtol is not None
    loosest = tolerances(check.method, check.h)
    precise_budget = PRECISE_BUDGET
    for i in gate_nodes:
        if i in kinks:
            continue  # at the kink itself the rule is a choice of subgradient, not a derivative
        rule = analytic_partials(c, vals, i)
        sym = exact.local.get(i) if exact is not None else None
        for k, j in enumerate(c.args[i]):
            if not c.live[j]:
                continue  # a derivative with respect to a constant feeds nothing
            est, near, err = local[i][k]
            # sympy's exact local derivative is the judge when there is one (a numerical
            # estimate has its own error, which a tight --rtol may not allow for)
            if sym is not None and sym[k] is not None:
                what, ref = "sympy", sym[k]
            else:
                what, ref = "numerical", est
                band = SAFETY * err + FLOAT_RTOL * abs(est) + SUBNORMAL
                flat = est == 0 and err == 0  # no change at all on either side
                if near or not math.isfinite(est) or not (band <= WIDE * abs(est) or flat):
                    # within h of a kink, outside the domain, or too wide to tell a wrong
                    # rule: the same difference at many digits, with a step on this piece
                    if not math.isfinite(rule[k]) or precise_budget <= 0:
                        continue
                    precise_budget -= 1
                    found = precise_partial(c.gates[i], [vals[a] for a in c.args[i]], k)
                    if found is None:
                        continue  # no evidence either way
                    what, ref = "a 60-digit difference", found
            if not (math.isfinite(rule[k]) and math.isfinite(ref)):
                continue  # an infinite slope (sqrt at 0) or an overflow: no number to compare
            off = abs(rule[k] - ref)
            if fixed:
                rtol, atol = check.rtol or 0.0, check.atol or 0.0
                if what == "numerical":  # never stricter than the method can be
                    rtol, atol = max(rtol, loosest[0]), max(atol, loosest[1])
                wrong = not close(rule[k], ref, rtol, atol)
            elif what == "numerical":
                wrong = not off <= SAFETY * err + FLOAT_RTOL * abs(ref) + SUBNORMAL
            else:
                # an exact (or 60-digit) slope: a rule is its float, a few ulps off at most
                wrong = not off <= FLOAT_RTOL * abs(ref) + SUBNORMAL
            judged.add(i)
            if wrong:
                check.culprits.append(i)
                note = (f"d {labels[i]} / d {labels[j]}: the {c.gates[i].name} rule gives "
                        f"{rule[k]:.10g}, {what} {ref:.10g}")
                sizes = exact.scale if exact is not None else None
                if sizes is not None and sizes[i] is not None and sizes[j] is not None and (
                        off * sizes[i] <= FLOAT_RTOL * sizes[j]):
                    # sigmoid' off at saturation, under a pull of 1, beside terms of size 1
                    note += (" (wrong, though too small here to change the gradient beyond "
                             "its rounding)")
                check.culprit_notes[i] = note
                break
    return judged
