"""Numerical truth: 5,000 random circuits over every gate against a 50-digit reference.

Run: python tests/bench/bench_truth.py [--n 5000] [--seed 1] [--stress-only] [--targets]

--stress-only draws every circuit at a stress point. --targets also runs every circuit
through the program `circuit code` prints and the live page's own passes (node), and counts
the nodes where grad, code and page differ in any bit (nan equal to nan), by kind, and which
target differs from grad (the page's exp, log, ... are render/page/libm.js's, following the
C library build Python uses).

Half the circuits are at ordinary points, half at stress points (saturation, exp near
709, tiny and huge numbers, zeros and ties). Each answer of `grad` is classified by
tests/reference.py (ok, undefined, out-of-range, ill-conditioned, wrong,
nan-where-finite, error) and the counts are printed. If PyTorch is installed (for the
benchmark only: `pip install torch`), the same circuits run through torch float64
autograd, built from the same tape, and its counts are printed beside ours.
"""

from __future__ import annotations

import argparse
import collections
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import reference as R

KINDS = ["ok", "undefined", "out-of-range", "ill-conditioned", "wrong", "nan-where-finite",
         "error"]


def torch_grads(c, point):
    """torch float64 autograd on the same tape (tie-splitting amax/amin for max/min)."""
    import torch

    ops = {
        "add": lambda x, y: x + y, "sub": lambda x, y: x - y, "mul": lambda x, y: x * y,
        "div": lambda x, y: x / y, "neg": lambda x: -x, "pow": torch.pow,
        "sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": torch.relu, "exp": torch.exp,
        "log": torch.log, "sqrt": torch.sqrt, "abs": torch.abs, "sin": torch.sin,
        "cos": torch.cos, "max": lambda *xs: torch.amax(torch.stack(xs)),
        "min": lambda *xs: torch.amin(torch.stack(xs)),
    }
    leaves = {n: torch.tensor(v, dtype=torch.float64, requires_grad=True)
              for n, v in point.items()}
    vals = []
    for i, (gate, args) in enumerate(zip(c.gates, c.args)):
        if c.is_input(i):
            vals.append(leaves[c.names[i]])
        elif not args:
            vals.append(torch.tensor(c.base[i], dtype=torch.float64))
        else:
            vals.append(ops[gate.name](*[vals[j] for j in args]))
    out = vals[c.output]
    if not out.requires_grad:
        return {n: 0.0 for n in point}
    grads = torch.autograd.grad(out, list(leaves.values()), allow_unused=True)
    return {n: 0.0 if g is None else float(g) for n, g in zip(leaves, grads)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--stress-only", action="store_true")
    parser.add_argument("--targets", action="store_true")
    opts = parser.parse_args()
    try:
        import torch  # noqa: F401

        have_torch = True
    except ImportError:
        have_torch = False
    rnd = random.Random(opts.seed)
    ours: collections.Counter = collections.Counter()
    theirs: collections.Counter = collections.Counter()
    examples: dict[str, list] = collections.defaultdict(list)
    began = time.perf_counter()
    cases = []
    for k in range(opts.n):
        c, point = R.random_case(rnd, stress=opts.stress_only or k % 2 == 1)
        cases.append((c, point))
        verdict = R.classify(c, point)
        ours[verdict.kind] += 1
        if verdict.kind in ("wrong", "nan-where-finite", "error"):
            examples[verdict.kind].append((c.text, point, verdict.detail))
        if have_torch:
            try:
                t = R.judge(c, point, torch_grads(c, point)).kind
            except Exception:
                t = "error"
            theirs[t] += 1
    seconds = time.perf_counter() - began
    where = "all at stress points" if opts.stress_only else "half at stress points"
    print(f"{opts.n} random circuits over every gate ({where}), seed {opts.seed},"
          f" {seconds:.0f} s")
    head = f"{'class':<18}{'circuitcli':>12}"
    print(head + (f"{'torch float64':>16}" if have_torch else ""))
    for kind in KINDS:
        line = f"{kind:<18}{ours[kind]:>12}"
        print(line + (f"{theirs[kind]:>16}" if have_torch else ""))
    if not have_torch:
        print("(PyTorch is not installed: pip install torch, for the benchmark only)")
    for kind, found in examples.items():
        for text, point, detail in found[:5]:
            print(f"  {kind}: {text!r} at {point}: {detail}")
    if opts.targets:
        import targets as T

        compared, mismatches = T.compare(cases)
        kinds = collections.Counter(T.kind(m) for m in mismatches)
        affected = len({(m.text, tuple(m.point.items())) for m in mismatches})
        print(f"grad, code and page on the {compared} circuits grad computes: {affected} "
              f"circuits with a node that differs in some bit ({len(mismatches)} numbers)")
        for kind, count in kinds.most_common():
            print(f"  {kind:<58}{count:>6}")
        from circuitcli.render.libm import fused_builds

        page = sum(T.bits(m.page) != T.bits(m.grad) for m in mismatches)
        code = sum(T.bits(m.code) != T.bits(m.grad) for m in mismatches)
        last = sum(T.kind(m).startswith("last bits") for m in mismatches)
        builds = {name: {True: "fma", False: "plain", None: "?"}[f]
                  for name, f in fused_builds().items()}
        print(f"  numbers where the page differs from grad: {page}; code from grad: {code};"
              f" in last bits only: {last} (the page's libm follows {builds})")
        shown = collections.Counter()
        for m in mismatches:
            k = T.kind(m)
            if shown[k] < 2:
                shown[k] += 1
                print(f"    e.g. {m}")


if __name__ == "__main__":
    from figures import run  # --write-docs: the output becomes its section of the docs

    run(main)
