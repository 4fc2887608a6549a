"""Second-order derivatives (issue 20): cost and correctness, beside PyTorch.

    python tests/bench/bench_second_order.py [--quick] [--runs N]

1. A Hessian-vector product (forward-over-reverse: the rules over dual numbers) on a
   100,000-gate circuit against one gradient on the same circuit, medians of N runs
   each, timed alternately in one process (target: at most 5 gradients).
2. The full Hessian of a 50-input, 10,000-gate circuit against `torch.func.hessian` on the
   same scalar graph (float64), side by side in one run.
3. Random circuits of every gate, half at stress points, judged against the 50-digit
   reference (tests/reference.py): wrong finite entries and nan where the truth is finite,
   for us (Hessians and forward-mode tangents) and for PyTorch float64 on the same graphs.

PyTorch is optional: `pip install torch` (the CPU wheel) into the benchmark's environment;
without it the script prints our figures and says so.
"""

from __future__ import annotations

import argparse
import collections
import gc
import random
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # tests/: reference.py

import reference as R  # noqa: E402

import circuitcli  # noqa: E402
from circuitcli.core.evaluate import backward, evaluate, forward  # noqa: E402
from circuitcli.core.syntax import CircuitError  # noqa: E402
from circuitcli.methods.derivatives import dual_values, hessian_of, hvp  # noqa: E402

try:
    import torch
    from torch.func import hessian as torch_hessian
except ImportError:  # the figures of our own still print
    torch = None


def smooth_circuit(statements: int, inputs: int, seed: int = 0) -> str:
    """Smooth gates of every kind, each statement over two of the 200 latest nodes, with
    values kept of order 1 (tanh, sigmoid and sin bound them; division by 1.5 + b*b)."""
    rnd = random.Random(seed)
    lines = [f"x{i} = {rnd.uniform(-1, 1)!r}" for i in range(inputs)]
    names = [f"x{i}" for i in range(inputs)]
    forms = ["tanh({a}) * {b} + 0.1", "sigmoid({a}) - 0.5 * {b}", "{a} * {b} * 0.9",
             "sin({a}) + 0.5 * {b}", "{a} / (1.5 + {b} * {b})", "exp(-{a} * {a}) * {b}",
             "log(1.5 + {a} * {a}) - {b}", "cos({a}) * {b}"]
    for k in range(statements):
        a, b = rnd.sample(names[-200:], 2)
        lines.append(f"n{k} = " + rnd.choice(forms).format(a=a, b=b))
        names.append(f"n{k}")
    lines.append("out = " + " + ".join(names[-50:]))
    return "\n".join(lines) + "\n"


def sized(gates: int, inputs: int) -> circuitcli.Circuit:
    """A smooth circuit of about `gates` gates."""
    statements = gates // 4
    while True:
        c = circuitcli.parse(smooth_circuit(statements, inputs))
        live = sum(1 for a in c.args if a)
        if live >= gates * 0.98:
            return c
        statements = int(statements * gates / live) + 1


def alternate(fns: dict, runs: int) -> dict[str, float]:
    """Medians of each function's runs, the runs interleaved (a shared machine's load falls
    on all of them alike)."""
    times: dict[str, list[float]] = {k: [] for k in fns}
    for _ in range(runs):
        for name, fn in fns.items():
            gc.collect()
            t = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t)
    return {k: statistics.median(v) for k, v in times.items()}


# ---- the same scalar graph in PyTorch -----------------------------------------------------


def torch_function(c):
    """f(x) over a 1-d float64 tensor of the inputs, one torch op per gate of the tape."""
    order = list(c.inputs)
    at = {c.inputs[n]: k for k, n in enumerate(order)}
    ops = {
        "add": lambda x, y: x + y, "sub": lambda x, y: x - y, "mul": lambda x, y: x * y,
        "div": lambda x, y: x / y, "neg": lambda x: -x, "pow": lambda x, y: torch.pow(x, y),
        "sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": torch.relu, "exp": torch.exp,
        "log": torch.log, "sqrt": torch.sqrt, "abs": torch.abs, "sin": torch.sin,
        "cos": torch.cos,
        "max": lambda *xs: torch.amax(torch.stack(xs), 0),
        "min": lambda *xs: torch.amin(torch.stack(xs), 0),
    }
    gates, args, base, out = c.gates, c.args, c.base, c.output

    def f(x):
        vals = [None] * (out + 1)
        for i in range(out + 1):
            a = args[i]
            if i in at:
                vals[i] = x[at[i]]
            elif not a:
                vals[i] = torch.tensor(base[i], dtype=torch.float64)
            else:
                vals[i] = ops[gates[i].name](*[vals[j] for j in a])
        return vals[out]

    return f, order


def torch_hessian_at(c, point):
    f, order = torch_function(c)
    x = torch.tensor([point[n] for n in order], dtype=torch.float64)
    H = torch_hessian(f)(x)
    return [[float(v) for v in row] for row in H]


# ---- 1. a Hessian-vector product against one gradient --------------------------------------


def hvp_cost(runs: int, gates: int) -> None:
    c = sized(gates, 100)
    values = c.values_for({})
    direction = {n: (-1.0) ** k for k, n in enumerate(c.inputs)}
    evaluate(c, values)
    hvp(c, values, direction)  # compile once: the rules' lowerings and the sweeps
    t = alternate({
        "gradient (grad: forward, backward, checks)": lambda: evaluate(c, values),
        "gradient (one forward + one backward pass)": lambda: backward(c, forward(c, values)),
        "Hessian-vector product": lambda: hvp(c, values, direction),
    }, runs)
    live = sum(1 for a in c.args if a)
    print(f"1. Hessian-vector product on a {live:,}-gate circuit (100 inputs), medians of "
          f"{runs} interleaved runs")
    for name, seconds in t.items():
        print(f"   {name:44s} {seconds * 1e3:9.1f} ms")
    hv = t["Hessian-vector product"]
    for name in list(t)[:2]:
        print(f"   HVP / {name:38s} {hv / t[name]:6.2f}x   (target: at most 5x)")


# ---- 2. the full Hessian against torch.func.hessian ----------------------------------------


def full_hessian(runs: int, gates: int) -> None:
    c = sized(gates, 50)
    values = c.values_for({})
    live = sum(1 for a in c.args if a)
    hessian_of(c, values)  # compile once
    print(f"\n2. Full Hessian, 50 inputs, {live:,} gates (one process, side by side)")
    ours = alternate({"circuitcli": lambda: hessian_of(c, values)}, runs)["circuitcli"]
    print(f"   circuitcli: 50 HVPs side by side (one forward and one backward pass over "
          f"duals with 50 tangents), median of {runs}: {ours:.3f} s")
    if torch is None:
        print("   PyTorch not installed (pip install torch): no side-by-side figure")
        return
    f, order = torch_function(c)
    x = torch.tensor([values[n] for n in order], dtype=torch.float64)
    t = time.perf_counter()
    theirs_h = torch_hessian(f)(x)
    theirs = time.perf_counter() - t
    print(f"   torch.func.hessian, float64, the same scalar graph, one run: {theirs:.3f} s")
    mine = hessian_of(c, values)[1]
    worst = max(abs(mine[r][k] - float(theirs_h[r][k])) / (abs(float(theirs_h[r][k])) + 1e-12)
                for r in range(50) for k in range(50))
    print(f"   torch / circuitcli: {theirs / ours:.1f}x   (largest relative difference between "
          f"the two Hessians: {worst:.1e})")


# ---- 3. correctness against the 50-digit reference -----------------------------------------


def reference_counts(cases: int, seed: int) -> None:
    rnd = random.Random(seed)
    ours = collections.Counter()
    theirs = collections.Counter()
    examples: dict[str, list] = collections.defaultdict(list)
    for n in range(cases):
        c, p = R.random_case(rnd, stress=n % 2 == 1)
        try:
            c.grad(**p)
            H = hessian_of(c, c.values_for(p))[1]
            first = list(c.inputs)[:1]  # every node's tangent along the first input, judged too
            tans = [d.t for d in dual_values(c, c.values_for(p), {first[0]: 1.0})] \
                if first else None
        except CircuitError:
            H, tans = None, None
        v = R.judge_second(c, p, H, tans)
        ours[v.kind] += 1
        if v.kind in ("wrong", "nan-where-finite", "error"):
            examples["ours " + v.kind].append((c.text, p, v.detail))
        if torch is not None:
            try:
                T = torch_hessian_at(c, p) if c.inputs else []
            except Exception:  # torch raises on nothing but our own misuse
                T = None
            w = R.judge_second(c, p, T)
            theirs[w.kind] += 1
            if w.kind in ("wrong", "nan-where-finite"):
                examples["torch " + w.kind].append((c.text, p, w.detail))
    kinds = ["ok", "wrong", "nan-where-finite", "ill-conditioned", "undefined", "out-of-range"]
    print(f"\n3. Hessians of {cases} random circuits of every gate (half at stress points) "
          "against the 50-digit reference\n   (ours: every Hessian entry and every node's "
          "tangent along the first input; torch: every Hessian entry)")
    print(f"   {'':28s}" + "".join(f"{k:>18s}" for k in kinds))
    print(f"   {'circuitcli':28s}" + "".join(f"{ours[k]:18d}" for k in kinds))
    if torch is not None:
        print(f"   {'torch.func.hessian float64':28s}" + "".join(f"{theirs[k]:18d}"
                                                               for k in kinds))
    else:
        print("   PyTorch not installed (pip install torch): no comparison row")
    for what, found in sorted(examples.items()):
        for text, p, detail in found[:3]:
            print(f"   {what}: {text}  at {p}: {detail}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="smaller runs (about a minute)")
    ap.add_argument("--runs", type=int, default=None)
    ap.add_argument("--cases", type=int, default=None)
    a = ap.parse_args()
    runs = a.runs or (3 if a.quick else 7)
    print(f"python {sys.version.split()[0]}, torch "
          f"{torch.__version__ if torch is not None else 'not installed'}")
    hvp_cost(runs, 100_000)
    full_hessian(max(1, runs // 2) if a.quick else runs, 10_000)
    reference_counts(a.cases or (100 if a.quick else 600), 7)


if __name__ == "__main__":
    from figures import run  # --write-docs: the output becomes its section of the docs

    run(main)
