"""Numerical derivatives of a circuit: forward, central, Richardson and complex-step.

The notebook's strategy 2, done in bulk: every perturbed point is one row of a
numpy batch, and the batch runs through the tape once (in chunks that fit in
memory), so the 2n points of n inputs cost one pass, not 2n Python-level runs.
A perturbation may sit on any node, not only an input: nudging an intermediate
node's value and re-running the rest gives d output / d node, which is how
`circuit check --nodes` checks every gate. The same rows also watch the gates
with a kink rule: when a nudge moves one of them onto another piece (its local
derivatives change), the point is within h of its kink and the caller is told.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..core.backend import REAL, numpy_backend, overlay
from ..core.circuit import Circuit
from ..core.evaluate import mp_backend
from ..core.lazy import lazy

np = lazy("numpy")
mpmath = lazy("mpmath")

__all__ = ["METHODS", "Method", "Numerical", "complex_backend", "derivatives", "local_partials",
           "magnitude", "precise_partial", "tolerances"]

EPS = 2.220446049250313e-16
_TINY = 2.2250738585072014e-308  # the smallest normal double
# elements per chunk of the batch (rows x simultaneously live nodes): about 32 MB of floats
_BUDGET = 1 << 22


@dataclass(frozen=True)
class Method:
    """A finite-difference recipe: its step, its error order and its fixed tolerances.

    `rtol`/`atol` are used only when the user asks for a fixed tolerance; by default a
    verdict compares against the method's own error estimate (see `Numerical.error`).
    """

    name: str
    formula: str
    # truncation error is O(h ** order)
    order: int
    # default step is `scale * max(1, |x|)` (complex-step: `scale * |x|`, see `step`)
    scale: float
    rtol: float
    atol: float
    # offsets of the perturbed points, in units of h; complex-step uses imaginary ones.
    # The first two real ones are always +h and -h (the one-sided derivatives at kinks);
    # the rest give a second estimate to measure the first one's error by.
    offsets: tuple[complex, ...]
    # rounding error of the quotient is about `rounding * eps * M / h` (M: the circuit's
    # own magnitudes, see `magnitude`)
    rounding: float

    @property
    def best(self) -> float:
        """The relative error the default step reaches on a well-scaled curve: where
        truncation (h ** order) meets rounding (eps / h); complex-step has no rounding arm."""
        return EPS if self.name == "complex" else EPS ** (self.order / (self.order + 1))

    def step(self, x: Any) -> Any:
        """The default h at x (a float or an array of them).

        Complex-step has no cancellation, so its step is relative to x: 1e-20·|x|
        (1e-20 at 0), but never deep in the subnormals, where h itself has few bits.
        """
        a = np.abs(np.asarray(x, dtype=float))
        if self.name == "complex":
            with np.errstate(divide="ignore"):
                rel = np.clip(1e-280 / a, self.scale, 1e-8)
            return np.where(a == 0, self.scale, rel * a)
        return self.scale * np.maximum(1.0, a)


METHODS: dict[str, Method] = {
    m.name: m
    for m in (
        Method("central", "(f(x+h) - f(x-h)) / 2h", 2, EPS ** (1 / 3), 1e-6, 1e-8,
               (1, -1, 2, -2), 1.0),
        Method("forward", "(f(x+h) - f(x)) / h", 1, EPS**0.5, 1e-5, 1e-7, (1, -1, 2), 2.0),
        Method("complex", "Im f(x+ih) / h", 2, 1e-20, 1e-10, 1e-12, (1j, 100j), 0.0),
        Method("richardson", "(4 D(h/2) - D(h)) / 3", 4,
               EPS**0.2, 1e-8, 1e-10, (1, -1, 0.5, -0.5), 3.0),
    )
}

# a retried row's step is divided (truncation) or multiplied (rounding) by this, at most
# _RETRIES times, while its error estimate is above _GOOD of its value
_FACTOR = 16.0
_RETRIES = 6
_GOOD = 1e-3
# an estimate whose error is above this many times the method's best is held to a second one
_CONFIRM = 100.0


def tolerances(method: str, h: float | None = None) -> tuple[float, float]:
    """(rtol, atol) for a fixed-tolerance verdict: the defaults, loosened to h ** order.

    A user's h of 1e-4 with forward differences has an error of order 1e-4, so a
    tolerance meant for the default h ~ 1.5e-8 would fail a correct gradient.
    """
    m = METHODS[method]
    if h is None:
        return m.rtol, m.atol
    try:
        slack = 10.0 * h**m.order
    except OverflowError:  # an h of 1e200: no difference quotient that far is a test
        slack = math.inf
    return max(m.rtol, slack), max(m.atol, slack)


def magnitude(circuit: Circuit, vals: Sequence[float], grads: Sequence[float] | None) -> float:
    """M = sum over nodes of |value * d output / d node|: the output's rounding scale.

    Each node's value carries a rounding error of about eps·|value|, which reaches the
    output multiplied by that node's gradient; a difference quotient divides their sum
    by h. Without gradients the values alone are summed.
    """
    total = 0.0
    for i in circuit.ancestors():
        v = abs(vals[i]) * (abs(grads[i]) if grads is not None else 1.0)
        if v == math.inf and math.isfinite(vals[i]):
            # a finite value times a finite gradient past the double range (y * cos(y) at
            # 1e300): its rounding alone swamps any difference quotient
            return math.inf
        if v == v and v != math.inf:
            total += v
    return total


@dataclass
class Numerical:
    """One numerical derivative, how it was obtained, and how far it may be off."""

    value: float
    # the method used for this row: the one asked for, or a one-sided fallback
    how: str
    step: float
    # one-sided derivatives (f(x) - f(x-h)) / h and (f(x+h) - f(x)) / h, when computed
    left: float | None = None
    right: float | None = None
    # a gate at its kink changed piece between x - h and x + h (the one-sided rule applies)
    crossed: bool = False
    # the real step of the one-sided derivatives (their error is O(side_step))
    side_step: float = 0.0
    note: str | None = None
    # the estimate's own error: truncation (from a second step) plus rounding
    error: float = math.inf
    truncation: float = math.inf
    rounding: float = math.inf
    # every step tried reaches a kink that the point itself is not at: no evidence
    near_kink: bool = False


_COMPLEX = None


def complex_backend():
    """numpy on complex arrays for complex-step: comparisons and abs read real parts.

    Gates with a kink (relu, abs, max, min) are piecewise analytic: choosing the
    piece by the real part and carrying the imaginary part through that piece
    gives their exact derivative away from the kink (at it, the caller uses
    one-sided real differences). |z| itself is not analytic, so abs becomes
    z * sign(Re z), the real rule applied to the real part. A negative base to an
    integer power is taken as (-1)**y * (-z)**y: numpy's z**y goes through log(z),
    whose angle pi - h/|x| rounds to pi and loses the perturbation.
    """
    global _COMPLEX
    if _COMPLEX is None:
        base = numpy_backend()

        def cabs(x):
            return np.where(np.real(x) < 0, -x, x)

        def cpow(x, y):
            # numpy's complex 0 ** y is nan; the real 0 ** y (y > 0) is 0, flat in y
            zero = (x == 0) & (np.real(y) > 0)
            ry = np.real(y)
            whole = (np.imag(y) == 0) & (ry == np.round(ry))
            flip = (np.real(x) < 0) & whole
            sign = np.where(flip & (np.abs(np.fmod(ry, 2)) == 1), -1.0, 1.0)
            z = np.where(zero, 1.0, np.where(flip, -x, x))
            out = np.where(zero, 0.0, sign * np.power(z, y))
            # numpy's z ** y is exp(y·log z), whose real part can be ulps off the real
            # power (710 ** (1 - 7e-218j) gives 710.0000000000002); sin near a root then
            # turns those ulps into digits of the derivative. Where the perturbation is
            # tiny (always, at complex-step's h), the real part is the real power: exact to
            # O(h**2), and the same double grad computes
            rx = np.real(x)
            small = (np.abs(np.imag(x)) <= 1e-8 * np.abs(rx)) & (np.abs(np.imag(y)) <= 1e-8)
            with np.errstate(all="ignore"):
                real = base.power(np.where(small & ~zero, rx, 1.0), np.where(small, ry, 1.0))
            return np.where(small & ~zero & np.isfinite(real), real + 1j * np.imag(out), out)

        _COMPLEX = overlay(base, name="complex", abs=cabs, pow=cpow, power=cpow)
    return _COMPLEX


# -- the batch -------------------------------------------------------------------------------


def _needed(circuit: Circuit) -> tuple[bytearray, list[int]]:
    """Which nodes the output depends on, and each node's last reader (for freeing arrays)."""
    n = len(circuit.gates)
    needed = circuit.used()
    out = circuit.output
    args = circuit.args
    last = list(range(n))
    for i in range(out + 1):
        if needed[i]:
            for j in args[i]:
                last[j] = i
    last[out] = n  # the output is read after the sweep
    return needed, last


def _width(circuit: Circuit, needed: bytearray, last: list[int], first: int) -> int:
    """How many node values are alive at once from `first` on (arrays to budget for)."""
    n = len(circuit.gates)
    deaths = [0] * (n + 1)
    alive = best = 0
    for i in range(first, circuit.output + 1):
        if needed[i]:
            alive += 1
            best = max(best, alive)
            deaths[min(last[i], n)] += 1
        alive -= deaths[i]
    return max(best, 1)


def _sweep(circuit: Circuit, vals: Sequence[float], targets: Sequence[int],
           deltas: Any, needed: bytearray, last: list[int], B, watch: bool):
    """Output values for a batch whose rows nudge `targets` (row 0 nudges nothing).

    `deltas` is (len(targets), k): target t's rows are 1 + t*k ... 1 + t*k + k - 1.
    Returns the output array and, if `watch`, a bool array of rows where a gate
    with a kink sits on a different piece than in row 0.
    """
    k = deltas.shape[1]
    rows = 1 + k * len(targets)
    dtype = complex if np.iscomplexobj(deltas) else float
    bumps = {node: t for t, node in enumerate(targets)}
    first = min(targets)
    out = circuit.output
    gates, args = circuit.gates, circuit.args
    cur: list[Any] = list(vals)
    crossed = np.zeros(rows, dtype=bool) if watch else None
    touched = np.zeros(rows, dtype=bool) if watch else None
    for i in range(first, out + 1):
        if not needed[i]:
            continue
        a = args[i]
        gate = gates[i]
        if a and any(isinstance(cur[j], np.ndarray) for j in a):
            xs = [cur[j] for j in a]
            v = gate.forward(B, *xs)
            if watch and gate.kink is not None:
                if gate.kink(vals[i], *[vals[j] for j in a]) is not None:
                    # at the kink itself: every row that moves an argument may leave it
                    for x in xs:
                        if isinstance(x, np.ndarray):
                            touched |= np.broadcast_to(x != x[0], (rows,))
                for p in gate.partials(B, v, *xs) if gate.seam else ():
                    # a slope that jumps between rows: the step crossed the seam
                    if isinstance(p, np.ndarray) and p.shape:
                        moved = (p != p[0]) & ~(np.isnan(p) & np.isnan(p[0]))
                        crossed |= np.broadcast_to(moved, (rows,))
            for j in a:
                if last[j] == i:
                    cur[j] = vals[j]  # nobody reads it again: let the array go
        else:
            v = cur[i]
        t = bumps.get(i)
        if t is not None:
            v = np.array(np.broadcast_to(v, (rows,)), dtype=dtype)
            s = 1 + t * k
            v[s : s + k] += deltas[t]
        cur[i] = v
    f = np.broadcast_to(cur[out], (rows,))
    return f, crossed, touched


def _run(circuit: Circuit, vals: Sequence[float], targets: Sequence[int], deltas: Any, B,
         watch: bool):
    """`_sweep` in chunks of targets sized to the memory budget, per target.

    Returns f0s (the unnudged output of target t's chunk), fs (its k nudged outputs),
    crossed (a kink gate changed piece) and touched (a gate sitting at its kink moved).
    """
    needed, last = _needed(circuit)
    order = sorted(range(len(targets)), key=lambda t: targets[t])
    k = deltas.shape[1]
    width = _width(circuit, needed, last, targets[order[0]]) if order else 1
    per_chunk = max(1, (_BUDGET // width) // k)
    dtype = complex if np.iscomplexobj(deltas) else float
    fs = np.empty((len(targets), k), dtype=dtype)
    f0s = np.empty(len(targets), dtype=dtype)
    crossed = np.zeros(len(targets), dtype=bool)
    touched = np.zeros(len(targets), dtype=bool)
    with np.errstate(all="ignore"):
        for c in range(0, len(order), per_chunk):
            chunk = order[c : c + per_chunk]
            f, cross, touch = _sweep(circuit, vals, [targets[t] for t in chunk], deltas[chunk],
                                     needed, last, B, watch)
            fs[chunk] = f[1:].reshape(len(chunk), k)
            f0s[chunk] = f[0]
            if watch:
                crossed[chunk] = cross[1:].reshape(len(chunk), k).any(axis=1)
                touched[chunk] = touch[1:].reshape(len(chunk), k).any(axis=1)
    return f0s, fs, crossed, touched


def _steps(method: Method, at: Any, h: float | None) -> Any:
    at = np.asarray(at, dtype=float)
    return np.full(at.shape, float(h)) if h is not None else method.step(at)


def _estimate(method: Method, f0: Any, fs: Any, hs: Any, scale: Any):
    """Vectorized difference quotients and their error estimates.

    Returns (value, truncation, rounding, how). Truncation comes from a second
    estimate: forward's f'' from the -h row, central's D(2h), Richardson's D(h/2)
    (the table's last difference), complex-step's second, 100 times larger step.
    Rounding is `method.rounding * eps * scale / h`, plus a few ulps of the value.
    Where the quotient is not finite, a one-sided one is used (with no error bound).
    """
    with np.errstate(all="ignore"):
        how = [method.name] * len(hs)
        if method.name == "complex":
            d = np.imag(fs[:, 0]) / hs
            trunc = np.abs(np.imag(fs[:, 1]) / (100.0 * hs) - d)
            # an imaginary part below the normal range has lost its digits (cos at 1e-300:
            # -sin(x)·h = 1e-608 is 0), unless the value is 0 too (a flat piece)
            lost = (np.abs(np.imag(fs[:, 0])) < _TINY) & (np.real(f0) != 0)
            trunc = np.where(np.isfinite(trunc) & ~lost, trunc, np.inf)
            rnd = 4 * EPS * np.abs(d)
            return d, trunc, rnd, how
        fwd = (fs[:, 0] - f0) / hs
        bwd = (f0 - fs[:, 1]) / hs
        if method.name == "forward":
            d = fwd
            # h·f''/2 from the -h row, and the change from h to 2h: an odd curve (y**5 at
            # 0) has f'' = 0 there, and only the second step shows the h**4 it still has
            trunc = np.maximum(np.abs(fwd - bwd) / 2, np.abs((fs[:, 2] - f0) / (2 * hs) - fwd))
        else:
            d = (fs[:, 0] - fs[:, 1]) / (2 * hs)
            if method.name == "richardson":
                half = (fs[:, 2] - fs[:, 3]) / hs
                trunc = np.abs(half - d) / 3
                d = (4 * half - d) / 3
            else:
                trunc = np.abs((fs[:, 2] - fs[:, 3]) / (4 * hs) - d) / 3
        trunc = np.where(np.isfinite(trunc) & np.isfinite(d), trunc, np.inf)
        bad = ~np.isfinite(d)
        for t in np.flatnonzero(bad):
            if method.name != "forward" and np.isfinite(fwd[t]):
                d[t], how[t] = fwd[t], "forward (x - h is outside the domain)"
            elif np.isfinite(bwd[t]):
                d[t], how[t] = bwd[t], "backward (x + h is outside the domain)"
        rnd = method.rounding * EPS * scale / hs + 4 * EPS * np.abs(d)
        return d, trunc, rnd, how


def derivatives(circuit: Circuit, vals: Sequence[float], targets: Sequence[int],
                method: str = "central", h: float | None = None,
                scale: float | None = None) -> list[Numerical]:
    """d output / d node for each target node, by perturbing that node's value.

    `vals` are every node's values at the point (from `evaluate.forward`); `scale` is
    the output's rounding scale (`magnitude`; by default from the values alone). With
    the default step, a row whose error estimate is large is retried with smaller
    steps (truncation, a nearby pole or domain edge) or larger ones (rounding), and
    keeps the step with the smallest estimate; a user's `h` is used as given.
    """
    if not targets:
        return []
    m = METHODS[method]
    at = np.array([vals[t] for t in targets], dtype=float)
    hs = _steps(m, at, h)
    side_h = hs
    watch = bool(circuit.kinkable)
    B = complex_backend() if m.name == "complex" else numpy_backend()
    offsets = np.array(m.offsets)
    M = magnitude(circuit, vals, None) if scale is None else scale
    deltas = hs[:, None] * offsets[None, :]
    f0, fs, crossed, touched = _run(circuit, vals, targets, deltas, B,
                                    watch and m.name != "complex")
    value, trunc, rnd, how = _estimate(m, f0, fs, hs, M)
    left = right = None
    if watch:
        if m.name == "complex":
            side_h = _steps(METHODS["central"], at, None)
            sides = side_h[:, None] * np.array([1.0, -1.0])
            rf0, rfs, crossed, touched = _run(circuit, vals, targets, sides, numpy_backend(), True)
        else:
            rf0, rfs = f0, fs
        with np.errstate(all="ignore"):
            left = np.real((rf0 - rfs[:, 1]) / side_h)
            right = np.real((rfs[:, 0] - rf0) / side_h)
            # a gate exactly at its kink counts when the two sides differ (a max of a node
            # with itself is always tied, yet smooth): this does not trust the gate's rule
            apart = np.abs(left - right) > 1e-3 * (1 + np.maximum(np.abs(left), np.abs(right)))
            # a step that crosses a seam while no gate on the way sits at its kink only
            # reaches a kink nearby (sqrt(relu(x)) at 1e-8): a smaller step is the answer,
            # not the one-sided rule, which is for the kink itself
            near = crossed & ~touched
            crossed = touched & (crossed | apart)
            if m.name == "complex":
                near[:] = False  # an imaginary step stays on the real part's piece
    else:
        near = np.zeros(len(targets), dtype=bool)
    if near.any():
        trunc = np.where(near, np.inf, trunc)
    if h is None:
        hs = hs.copy()
        _retry(circuit, vals, targets, m, B, offsets, M, crossed, hs, value, trunc, rnd, how,
               near)
        if m.name != "complex":
            _confirm(circuit, vals, targets, m, B, offsets, M, crossed | near, hs, value, trunc,
                     rnd)
    return [
        Numerical(float(value[t]), how[t], float(hs[t]),
                  None if left is None else float(left[t]),
                  None if right is None else float(right[t]), bool(crossed[t]),
                  float(side_h[t]), error=float(trunc[t] + rnd[t]), truncation=float(trunc[t]),
                  rounding=float(rnd[t]), near_kink=bool(near[t]))
        for t in range(len(targets))
    ]


def _retry(circuit, vals, targets, m, B, offsets, M, crossed, hs, value, trunc, rnd, how,
           near):
    """Re-estimate the rows whose error estimate is large, in place, with other steps.

    A row whose step reached a kink nearby (`near`) takes the first smaller step that
    stays on one piece, and is cleared from `near` when one is found.
    """
    def good(t: int) -> bool:
        # no change at all between the steps: flat here (a larger step could reach a kink)
        flat = value[t] == 0 and trunc[t] == 0
        return bool(flat or trunc[t] + rnd[t] <= _GOOD * abs(value[t]))

    todo = [t for t in range(len(targets)) if not crossed[t] and not good(t)]
    # rounding-bound rows grow their step, the others shrink it (complex-step only grows:
    # its rounding is tiny, but a too small step can sink into the subnormals)
    grow = (rnd > trunc) if m.name != "complex" else np.ones(len(targets), dtype=bool)
    grow = grow & ~near
    cur = hs.copy()
    watch = bool(circuit.kinkable) and m.name != "complex"
    # first, a step relative to the value itself (sqrt(x) at x = 1e-300 needs h ~ 1e-306)
    at = np.abs(np.array([vals[targets[t]] for t in range(len(targets))], dtype=float))
    relative = m.scale * at if m.name != "complex" else cur
    # a step relative to a large |x| (sin at 1e10: h ~ 1e5) may span many periods, where
    # two step sizes can agree on nonsense: shrinking rows go on down to an absolute step
    shrinking = [t for t in todo if not grow[t]]
    largest = max((float(cur[t]) / m.scale for t in shrinking), default=1.0)
    extra = min(24, math.ceil(math.log(max(largest, 1.0), _FACTOR))) if m.name != "complex" else 0
    for attempt in range(_RETRIES + extra + 1):
        if attempt > _RETRIES:
            todo = [t for t in todo if not grow[t] and cur[t] > m.scale]
        if attempt == 0:
            todo_now = [t for t in todo if 0 < relative[t] < cur[t] / _FACTOR and not grow[t]]
            new_h = relative[todo_now] if todo_now else relative[:0]
        else:
            todo_now = todo
            idx = np.array(todo, dtype=int)
            cur[idx] = cur[idx] * np.where(grow[idx], _FACTOR, 1 / _FACTOR)
            new_h = cur[idx]
        if not todo_now:
            if todo:
                continue
            return
        f0, fs, cross, _ = _run(circuit, vals, [targets[t] for t in todo_now],
                                new_h[:, None] * offsets[None, :], B, watch)
        v, tr, rd, hw = _estimate(m, f0, fs, new_h, M)
        for k, t in enumerate(todo_now):
            # relative errors: an estimate across a pole can be small and wrong by far more;
            # a step that reaches a kink the first one did not is no estimate of the slope
            if watch and cross[k]:
                continue
            # a larger step (against rounding) must lower the error itself; a smaller one
            # (against truncation, a pole or an edge) its error relative to the value
            if not np.isfinite(v[k]):
                continue
            if near[t] or (tr[k] + rd[k] < trunc[t] + rnd[t] if grow[t] and attempt else
                           _relative(tr[k] + rd[k], v[k]) < _relative(trunc[t] + rnd[t],
                                                                      value[t])):
                value[t], trunc[t], rnd[t], how[t], hs[t] = v[k], tr[k], rd[k], hw[k], new_h[k]
                near[t] = False
        todo = [t for t in todo if not good(t)]


def _confirm(circuit, vals, targets, m, B, offsets, M, skip, hs, value, trunc, rnd) -> None:
    """Hold each estimate less precise than the method's best to one at a step 1024 times
    smaller, in place: the two must agree within their error estimates, else the row's
    error is unknown (inf). A step that spans many periods of the curve (sin(x) at 1e10,
    h ~ 1e6) can give estimates at h and 2h that agree on nonsense; a much smaller step
    then disagrees. (A smooth curve at the default step is as precise as the method's
    best, and needs no second look.)"""
    rows = [t for t in range(len(targets))
            if not skip[t] and np.isfinite(value[t]) and trunc[t] != 0
            and trunc[t] + rnd[t] > _CONFIRM * m.best * abs(value[t])]
    if not rows:
        return
    small = hs[rows] / 1024
    f0, fs, cross, _ = _run(circuit, vals, [targets[t] for t in rows],
                            small[:, None] * offsets[None, :], B, bool(circuit.kinkable))
    v, tr, rd, _ = _estimate(m, f0, fs, small, M)
    for k, t in enumerate(rows):
        if cross[k] or not np.isfinite(v[k]):
            continue  # the smaller step is no estimate here: nothing to hold it to
        if abs(v[k] - value[t]) > SAFETY_LOCAL * (trunc[t] + rnd[t] + tr[k] + rd[k]):
            trunc[t] = np.inf


def _relative(err: float, value: float) -> float:
    if err == 0:
        return 0.0
    return err / abs(value) if value != 0 and value == value else math.inf


# two estimates of one gate's slope at steps h and h/1024 that differ by more than this many
# times their error estimates are no evidence (the step spans the curve's own scale)
SAFETY_LOCAL = 10.0


def local_partials(circuit: Circuit, vals: Sequence[float], nodes: Sequence[int],
                   method: str = "central", h: float | None = None
                   ) -> dict[int, list[tuple[float, bool, float]]]:
    """Each node's own local derivatives, numerically: (estimate, near a kink, its error
    estimate) per argument.

    This checks a gate's rule in isolation: perturb one argument, re-run only that
    gate's forward. Nodes of one gate kind are done together as arrays.
    """
    m = METHODS[method]
    B = complex_backend() if m.name == "complex" else numpy_backend()
    real = numpy_backend()
    groups: dict[tuple[int, int], list[int]] = {}
    for i in nodes:
        if circuit.args[i]:
            groups.setdefault((id(circuit.gates[i]), len(circuit.args[i])), []).append(i)
    found: dict[int, list[tuple[float, bool, float]]] = {}
    with np.errstate(all="ignore"):
        for members in groups.values():
            gate = circuit.gates[members[0]]
            X = np.array([[vals[j] for j in circuit.args[i]] for i in members], dtype=float)
            f0 = np.broadcast_to(np.asarray(gate.forward(real, *X.T), dtype=float),
                                 (len(members),))
            cols = []
            for p in range(X.shape[1]):
                hs = _steps(m, X[:, p], h)
                est, trunc, rnd = _gate_quotient(m, gate, B, X, p, f0, hs)
                if m.name != "complex":
                    # a step much larger than the curve's own scale (sin at 1e13 with
                    # h ~ 1e5) gives estimates that agree on nonsense: one 1024 times
                    # smaller must agree with it within both error estimates, and its
                    # truncation must not grow (on a smooth curve it shrinks with h)
                    small = hs / 1024
                    fine = small > 1e3 * EPS * np.abs(X[:, p])
                    if fine.any():
                        est2, trunc2, rnd2 = _gate_quotient(m, gate, B, X, p, f0,
                                                            np.where(fine, small, hs))
                        apart = np.abs(est - est2) > SAFETY_LOCAL * (trunc + rnd + trunc2 + rnd2)
                        apart |= trunc2 > 4 * (trunc + rnd + rnd2)
                        trunc = np.where(fine & apart & np.isfinite(est2), np.inf, trunc)
                near = np.zeros(len(members), dtype=bool)
                if gate.kink is not None and gate.seam:  # a slope that jumps: a seam near
                    side = _steps(METHODS["central"], X[:, p], None) if m.name == "complex" else hs
                    ref = [np.broadcast_to(q, (len(members),))
                           for q in gate.partials(real, f0, *X.T)]
                    for sign in (1.0, -1.0):
                        Y = X.copy()
                        Y[:, p] = Y[:, p] + sign * side
                        out = gate.forward(real, *Y.T)
                        for q, r in zip(gate.partials(real, out, *Y.T), ref):
                            near |= np.broadcast_to(q != r, (len(members),))
                cols.append((est, near, trunc + rnd))
            for r, i in enumerate(members):
                found[i] = [(float(np.real(est[r])), bool(near[r]), float(err[r]))
                            for est, near, err in cols]
    return found


def _gate_quotient(m: Method, gate, B, X, p: int, f0, hs):
    """One gate's slope in argument p at every row of X: (estimate, truncation, rounding)."""
    fs = []
    for off in m.offsets:
        Y = X.astype(complex if isinstance(off, complex) else float)
        Y[:, p] = Y[:, p] + off * hs
        fs.append(np.broadcast_to(gate.forward(B, *Y.T), (len(X),)))
    est, trunc, rnd, _ = _estimate(m, f0, np.stack(fs, axis=1), hs, np.abs(f0))
    # x + h itself is rounded: eps·|x| times the slope
    return est, trunc, rnd + m.rounding * EPS * np.abs(X[:, p]) * np.abs(est) / hs


def analytic_partials(circuit: Circuit, vals: Sequence[float], i: int) -> list[float]:
    """Node i's local derivatives from the gate table's rule (what backward uses)."""
    xs = [vals[j] for j in circuit.args[i]]
    try:
        return [float(p) for p in circuit.gates[i].partials(REAL, vals[i], *xs)]
    except (ArithmeticError, ValueError):
        return [math.nan] * len(xs)


# a gate's slope at many digits: the step, relative to the argument, and how closely the
# estimates at h and h/1000, and the one-sided ones, must agree to be evidence (floats need only
# a few of these digits); digits beyond those the difference cancels, and at most how many
_PRECISE_STEP = 1e-20
_PRECISE_AGREE = 1e-12
_PRECISE_KEEP = 40
_PRECISE_MOST = 4000


def precise_partial(gate, xs: Sequence[float], k: int) -> float | None:
    """d gate / d x_k at xs: a difference of the gate's own forward rule run in mpmath at
    as many digits as it needs, or None where that is no evidence.

    Where a float difference cannot see a slope (sigmoid' = 4e-18 at 40 beside a value of
    1, cos' at 1e-300, relu at 1e-200 with a step that reaches 0), this one can: the step is
    relative to the arguments below 1 (so it stays on the point's piece of a kinked gate),
    and the digits are those the difference cancels plus 40. It is evidence only when the
    central estimates at two steps 1000 times apart and the two one-sided ones all agree to
    1e-12 (a step that crosses a kink makes the sides differ), and every value is real.
    """
    B = mp_backend()
    nonzero = [abs(x) for x in xs if x != 0 and math.isfinite(x)]
    # at 0 the step is relative to the smallest other argument (min(0, 1e-300) is a kink away)
    base = min(abs(xs[k]) if xs[k] != 0 else min([*nonzero, 1.0]), 1.0)
    digits = 60

    def at(args, x):
        moved = list(args)
        moved[k] = x
        v = gate.forward(B, *moved)
        if isinstance(v, (int, float)):
            v = mpmath.mpf(v)  # a constant piece (relu's 0.0)
        if not isinstance(v, mpmath.mpf) or not mpmath.isfinite(v):
            raise ValueError("not a real number")
        return v

    try:
        while True:
            with mpmath.workdps(digits):
                args = [mpmath.mpf(x) for x in xs]
                x = args[k]
                h = mpmath.mpf(_PRECISE_STEP) * mpmath.mpf(base)
                fine = h / 1000
                f0 = at(args, x)
                up, down = at(args, x + h), at(args, x - h)
                up2, down2 = at(args, x + fine), at(args, x - fine)
                size = max(abs(f0), abs(up), abs(down))
                diff = abs(up2 - down2)
                if diff == 0:
                    # flat at these digits: a slope below size * 10**-digits / step; enough
                    # when that is below every double (else more digits)
                    needed = int(mpmath.log10(size / fine)) + 340 if size else 0
                else:
                    needed = int(mpmath.log10(size / diff)) + 1 + _PRECISE_KEEP
                if needed > digits and digits < _PRECISE_MOST:
                    digits = min(_PRECISE_MOST, needed)
                    continue
                if diff == 0:
                    # flat, or a smooth extremum (cos at 0): the one-sided slopes shrink with
                    # the step; at a kink (abs at 0) they would not
                    flat = up == down and abs(up2 - f0) * 100 <= abs(up - f0) / 1000
                    return 0.0 if flat or size == 0 else None
                coarse = (up - down) / (2 * h)
                slope = (up2 - down2) / (2 * fine)
                right, left = (up - f0) / h, (f0 - down) / h
                tol = _PRECISE_AGREE * abs(slope)
                if max(abs(coarse - slope), abs(right - slope), abs(left - slope)) > tol:
                    return None
                return float(slope)
    except (ArithmeticError, ValueError, TypeError):
        return None
