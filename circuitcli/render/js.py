"""The gate table's rules in JavaScript, for the live HTML page.

`gates_js()` defines `const GATES = {name: {arity, forward(...xs), partials(out, ...xs),
backward(g, out, ...xs), kink(out, ...xs)}}` for every gate of core.gates.GATES, in the
same arithmetic as the REAL backend (IEEE doubles; where Python raises for a domain
error the page gets the IEEE inf or nan and flags it). Interim version: one JS snippet
per gate, next to its name; a gate missing here is an error, not a silent gap.
"""

from __future__ import annotations

from ..core.gates import GATES

__all__ = ["gates_js"]

# shared helpers: REAL backend's div (IEEE already), num6 = Python's f"{x:.6g}"
_PRELUDE = r"""
function num6(x) {
  if (x !== x) return "nan";
  if (!isFinite(x)) return x > 0 ? "inf" : "-inf";
  if (x === 0) return (1 / x < 0) ? "-0" : "0";
  const e = x.toExponential(5);
  const [m, ex] = e.split("e");
  const exp = Number(ex);
  if (exp < -4 || exp >= 6) {
    const mant = m.includes(".") ? m.replace(/0+$/, "").replace(/\.$/, "") : m;
    const sign = exp < 0 ? "-" : "+";
    const digits = String(Math.abs(exp)).padStart(2, "0");
    return mant + "e" + sign + digits;
  }
  let f = x.toFixed(Math.max(0, 5 - exp));
  if (f.includes(".")) f = f.replace(/0+$/, "").replace(/\.$/, "");
  return f;
}
function tie(out, xs) {
  let ties = 0;
  for (const x of xs) if (x === out) ties += 1;
  if (ties <= 1) return null;
  return `tie between ${ties} arguments at ${num6(out)}: each gets 1/${ties} of the gradient`;
}
function hits(out, xs) {
  const h = xs.map(x => (x === out ? 1 : 0));
  let count = 0;
  for (const v of h) count += v;
  return h.map(v => v / count);
}
"""

# name -> (forward body over x, y or xs; partials body over out and the same)
_RULES: dict[str, tuple[str, str, str]] = {
    # (arguments, forward expression, partials expression)
    "add": ("x, y", "x + y", "[1, 1]"),
    "sub": ("x, y", "x - y", "[1, -1]"),
    "mul": ("x, y", "x * y", "[y, x]"),
    "div": ("x, y", "x / y", "[1 / y, -out / y]"),
    "neg": ("x", "-x", "[-1]"),
    "pow": ("x, y", "Math.pow(x, y)",
            "[y !== 0 ? y * Math.pow(x, y - 1) : 0,"
            " x > 0 ? out * Math.log(x) : (x === 0 ? 0 : NaN)]"),
    "sigmoid": ("x", "(x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x)))",
                "[out * (1 - out)]"),
    "tanh": ("x", "Math.tanh(x)", "[1 - out * out]"),
    "relu": ("x", "(x > 0 ? x : 0)", "[x > 0 ? 1 : 0]"),
    "exp": ("x", "Math.exp(x)", "[out]"),
    "log": ("x", "Math.log(x)", "[1 / x]"),
    "sqrt": ("x", "Math.sqrt(x)", "[0.5 / out]"),
    "abs": ("x", "Math.abs(x)", "[x > 0 ? 1 : (x < 0 ? -1 : 0)]"),
    "sin": ("x", "Math.sin(x)", "[Math.cos(x)]"),
    "cos": ("x", "Math.cos(x)", "[-Math.sin(x)]"),
    "max": ("...xs", "xs.reduce((best, x) => (x > best ? x : best))", "hits(out, xs)"),
    "min": ("...xs", "xs.reduce((best, x) => (best > x ? x : best))", "hits(out, xs)"),
}

_KINKS: dict[str, str] = {
    "relu": '(out, x) => (x === 0 ? "relu at 0: uses the subgradient 0" : null)',
    "abs": '(out, x) => (x === 0 ? "abs at 0: uses the subgradient 0" : null)',
    "max": "(out, ...xs) => tie(out, xs)",
    "min": "(out, ...xs) => tie(out, xs)",
}


def gates_js() -> str:
    """`const GATES = {...}`: every gate of the table with arity, forward, partials,
    backward (contributions for a pull g) and kink."""
    entries = []
    for name, gate in GATES.items():
        if gate.arity == 0:
            continue  # inputs and constants: the page reads their values, nothing to compute
        if name not in _RULES:
            raise KeyError(f"gate {name} has no JavaScript rule in render/js.py")
        params, forward, partials = _RULES[name]
        kink = _KINKS.get(name, "() => null")
        arity = "null" if gate.arity is None else str(gate.arity)
        entries.append(
            f"  {name}: {{\n"
            f"    arity: {arity},\n"
            f"    forward: ({params}) => {forward},\n"
            f"    partials: (out, {params}) => {partials},\n"
            "    backward(g, out, ...xs) {"
            " return this.partials(out, ...xs).map(p => p * g); },\n"
            f"    kink: {kink},\n"
            "  },")
    return _PRELUDE + "const GATES = {\n" + "\n".join(entries) + "\n};\n"
