"""How long `circuit check` takes on circuits of 100, 1,000 and 10,000 gates.

The circuit is a chain of neurons, s = tanh(s * w + b), whose weights are shared
along the chain (one input per ten gates), so sympy must keep the graph's sharing
and the numerical pass must nudge hundreds of inputs. For each size it prints the
median of several runs of: the whole check (central differences and sympy), the
numerical part alone (--no-sympy), complex-step, and --nodes (a row per node);
and, as the baseline the batch replaces, 2n scalar forward runs of the tape.

Run: python tests/bench/bench_check.py [--repeat N]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

from circuitcli.core.evaluate import forward
from circuitcli.core.parser import parse
from circuitcli.methods.check import check


def chain(gates: int) -> tuple[str, dict[str, float]]:
    """A tanh chain with `gates` gates and gates // 10 shared weight inputs."""
    m = max(2, gates // 10)
    lines = ["s0 = 0.5"]
    for k in range(1, gates // 3 + 1):
        lines.append(f"s{k} = tanh(s{k - 1} * w{k % m} + w{(7 * k + 1) % m})")
    values = {f"w{i}": 0.3 + 0.4 * ((i * 37) % 11) / 11 for i in range(m)}
    return "\n".join(lines), values


def timed(fn, repeat: int) -> float:
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - start)
    return statistics.median(runs)


def scalar_baseline(circuit, values) -> None:
    """What the batch replaces: two Python-level forward runs per input."""
    for name in circuit.inputs:
        for sign in (1, -1):
            nudged = dict(values)
            nudged[name] += sign * 1e-6
            forward(circuit, nudged)


def cold_cli(text: str, values: dict[str, float]) -> None:
    """The whole command as a user runs it: a new process, imports, sympy, JSON out."""
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "chain.circuit")
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        args = [f"{k}={v!r}" for k, v in values.items()]
        env = {**os.environ, "CIRCUIT_SESSION": "off"}
        subprocess.run([sys.executable, "-m", "circuitcli", "check", path, *args, "--json"],
                       check=True, stdout=subprocess.DEVNULL, env=env)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="runs per figure (median shown)")
    args = parser.parse_args()
    check(*(lambda t: (parse(t[0]), t[1]))(chain(30)))  # imports and sympy's rule cache
    header = (f"{'gates':>7} {'inputs':>7} {'check':>9} {'no-sympy':>9} {'complex':>9} "
              f"{'--nodes':>9} {'cold CLI':>9} {'2n scalar':>10} {'batch speedup':>14}")
    print(header)
    print("-" * len(header))
    for gates in (100, 1_000, 10_000):
        text, values = chain(gates)
        circuit = parse(text)
        values = circuit.values_for(values)
        repeat = args.repeat if gates < 10_000 else max(1, args.repeat // 2)

        def run(c=circuit, v=values, **options) -> None:
            check(c, v, **options)

        whole = timed(run, repeat)
        numeric = timed(lambda: run(use_sympy=False), repeat)
        cplx = timed(lambda: run(method="complex", use_sympy=False), repeat)
        nodes = timed(lambda: run(nodes=True, use_sympy=False), repeat)
        baseline = timed(lambda c=circuit, v=values: scalar_baseline(c, v), max(1, repeat // 2))
        cli = timed(lambda t=text, v=values: cold_cli(t, v), max(1, repeat // 2))
        ok = check(circuit, values, nodes=True).ok
        n_gates = sum(1 for a in circuit.args if a)
        print(f"{n_gates:>7} {len(circuit.inputs):>7} {whole:>8.3f}s {numeric:>8.3f}s "
              f"{cplx:>8.3f}s {nodes:>8.3f}s {cli:>8.3f}s {baseline:>9.3f}s "
              f"{baseline / numeric:>13.1f}x"
              + ("" if ok else "   (check FAILED)"))
    print(f"\nmedians of {args.repeat} runs ({max(1, args.repeat // 2)} at 10,000 gates)."
          "\n'cold CLI': `circuit check FILE --json` in a new process (imports, sympy, JSON);"
          "\n'2n scalar': the 2n forward runs alone; speedup: that over the whole --no-sympy check")


if __name__ == "__main__":
    from figures import run  # --write-docs: the output becomes its section of the docs

    run(main)
