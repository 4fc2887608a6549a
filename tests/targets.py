"""The three places a circuit's numbers are computed, side by side, bit for bit.

`grad` (the float rules), the program `circuit code` prints (executed), and the live page's
own two passes (page.js's `compute`, taken from the page's source as it ships and run by
node over the gate table that render/js.py generates). `compare` runs many cases through all
three (one node process for all of them) and returns the nodes where any two differ in any
bit (nan equal to nan; the sign of a zero counts). Used by tests/test_truth_stress.py and
tests/bench/bench_truth.py.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import shutil
import struct
import subprocess
from dataclasses import dataclass
from pathlib import Path

from circuitcli.core.circuit import Circuit
from circuitcli.core.syntax import CircuitError
from circuitcli.render.code import ninja_code, python_names
from circuitcli.render.html import page_data
from circuitcli.render.js import gates_js

PAGE_JS = Path(__file__).resolve().parent.parent / "circuitcli" / "render" / "page" / "page.js"
NODE = shutil.which("node") or shutil.which("nodejs")


def bits(x: float) -> bytes:
    """The double's bytes; every nan the same (its payload and sign are not a number)."""
    return b"nan" if x != x else struct.pack("<d", x)


def _function(source: str, name: str) -> str:
    """One `function name(...) {...}` of page.js, by matching braces."""
    start = source.index(f"function {name}(")
    depth = 0
    for k in range(source.index("{", start), len(source)):
        depth += {"{": 1, "}": -1}.get(source[k], 0)
        if depth == 0:
            return source[start:k + 1]
    raise ValueError(f"page.js: function {name} has no end")


def _decode(s: str) -> float:
    special = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf, "-0": -0.0}
    return special[s] if s in special else float(s)


def page_numbers(cases: list[tuple[Circuit, dict[str, float]]]) -> list[tuple[list, list]]:
    """(values, gradients) per case, as the live page computes them (node runs page.js's
    compute over the generated gate table)."""
    source = PAGE_JS.read_text(encoding="utf-8")
    data = [page_data(c, c.values_for(v), "", {}) for c, v in cases]
    script = "\n".join([
        '"use strict";',
        gates_js(),
        "let DATA, NODES, OUT;",
        "function flag() {}",  # the page's warnings are words; the numbers are what we compare
        _function(source, "compute"),
        "const enc = (x) => Object.is(x, -0) ? '-0' : String(x);",
        "const CASES = JSON.parse(require('fs').readFileSync(0, 'utf8'));",
        "const out = CASES.map((d) => { DATA = d; NODES = d.nodes; OUT = d.output;",
        "  const r = compute(d.values); return [r.vals.map(enc), r.grads.map(enc)]; });",
        "process.stdout.write(JSON.stringify(out));",
    ])
    run = subprocess.run([NODE, "-e", script], input=json.dumps(data), capture_output=True,
                         text=True, timeout=600, check=True)
    return [([_decode(v) for v in vals], [_decode(g) for g in grads])
            for vals, grads in json.loads(run.stdout)]


def code_numbers(c: Circuit, values: dict[str, float]) -> dict[str, float]:
    """The variables of the program `circuit code --values` prints, after running it."""
    ns: dict = {}
    with contextlib.redirect_stdout(io.StringIO()):
        program = ninja_code(c, c.values_for(values))
        exec(compile(program, "<circuit code>", "exec"), ns)  # safe: our own generated code
    return ns


@dataclass
class Mismatch:
    text: str
    point: dict
    where: str  # "value of x3", "gradient of x"
    grad: float
    code: float
    page: float

    def __str__(self) -> str:
        return (f"{self.text!r} at {self.point}: {self.where}: grad {self.grad!r}, code "
                f"{self.code!r}, page {self.page!r}")


def compare(cases: list[tuple[Circuit, dict[str, float]]]) -> tuple[int, list[Mismatch]]:
    """Run every case that grad computes through all three; (cases compared, mismatches)."""
    kept = []
    for c, point in cases:
        try:
            kept.append((c, point, c.grad(**point)))
        except CircuitError:
            continue  # outside a gate's domain: every target refuses (not compared here)
    page = page_numbers([(c, p) for c, p, _ in kept])
    found = []
    for (c, point, result), (pvals, pgrads) in zip(kept, page):
        try:
            ns = code_numbers(c, point)
        except Exception as exc:  # the printed program must run wherever grad does
            found.append(Mismatch(c.text, point, f"code raised {type(exc).__name__}: {exc}",
                                  result.output, math.nan, pvals[c.output]))
            continue
        names = python_names(c)
        for i in range(c.output + 1):
            if not c.args[i] or not c.live[i]:
                continue
            ours, theirs, js = result.values[i], ns[names[i]], pvals[i]
            if not bits(ours) == bits(theirs) == bits(js):
                found.append(Mismatch(c.text, point, f"value of {names[i]}", ours, theirs, js))
        for name, i in c.inputs.items():
            ours, theirs, js = result.grads[i], ns["d" + names[i]], pgrads[i]
            if not bits(ours) == bits(theirs) == bits(js):
                found.append(Mismatch(c.text, point, f"gradient of {name}", ours, theirs, js))
    return len(kept), found


def kind(m: Mismatch) -> str:
    """Why three numbers differ: the sign of a zero, nan against a number, or last bits."""
    a, b, c = m.grad, m.code, m.page
    if m.where.startswith("code raised"):
        return "the printed code raises where grad computes"
    if a == b == c:
        return "the sign of a zero (-0.0 against 0.0)"
    if any(x != x for x in (a, b, c)) and not all(x != x for x in (a, b, c)):
        return "nan in one target, a number in another"
    finite = [x for x in (a, b, c) if math.isfinite(x)]
    if len(finite) == 3:
        spread = max(finite) - min(finite)
        if spread <= 4 * math.ulp(max(abs(x) for x in finite)):
            who = "page" if a == b else "code" if a == c else "grad"
            return f"last bits ({who} differs by at most 4 ulps)"
    return "other"
