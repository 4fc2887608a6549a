"""Core benchmark: parse, forward and backward at scale, memory per gate, micrograd, start-up.

Run: python tests/bench/bench_core.py [--quick]   (micrograd comes with `pip install '.[bench]'`)

Prints, for a random 100,000-statement circuit and a 1,000,000-gate chain: parse,
forward and backward times (medians) and bytes per gate; then `circuit grad --json
--no-nodes FILE` end to end against micrograd building the same graph and calling
backward(), as time and peak-memory ratios with a gradient agreement check; then the
start-up of `circuit grad` against `python -c "import click, rich.console, rich.table"`.
Times are medians of several runs; the machine is shared, so read the ratios. Run it from a
`pip install .` environment: an editable install adds an import hook that slows every start.
"""

from __future__ import annotations

import gc
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import circuitcli
from circuitcli.core.evaluate import backward, forward

PY = sys.executable
CIRCUIT = str(Path(PY).parent / "circuit")


def random_circuit(n_nodes: int = 100_000, n_inputs: int = 100, seed: int = 0) -> str:
    """One statement per node over two of the 200 latest nodes, so values stay of order 1."""
    rnd = random.Random(seed)
    lines = [f"x{i} = {rnd.uniform(-1, 1)!r}" for i in range(n_inputs)]
    names = [f"x{i}" for i in range(n_inputs)]
    forms = ["0.5*{a} - 0.5*{b} + 0.3", "{a}*{b}*1.5 - 0.2", "relu({a})*{b} + 0.4"]
    for k in range(n_nodes):
        a, b = rnd.sample(names[-200:], 2)
        lines.append(f"n{k} = " + rnd.choice(forms).format(a=a, b=b))
        names.append(f"n{k}")
    return "\n".join(lines) + "\n"


def chain(n: int) -> str:
    """x, then n gates alternating * 1.000001 and + 0.000001, as one expression."""
    return "x" + "".join("*1.000001" if k % 2 == 0 else "+0.000001" for k in range(n))


def median_time(fn, runs: int) -> float:
    times = []
    for _ in range(runs):
        gc.collect()
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def scale(label: str, text: str, runs: int) -> None:
    """Parse, forward, backward medians and tape bytes per gate for one circuit."""
    circuit = circuitcli.parse(text)
    values = circuit.values_for({"x": 0.5} if "x" in circuit.inputs else {})
    gates = len(circuit)
    t_parse = median_time(lambda: circuitcli.parse(text), runs)
    vals = forward(circuit, values)
    t_fwd = median_time(lambda: forward(circuit, values), runs)
    t_bwd = median_time(lambda: backward(circuit, vals), runs)
    circuit = vals = None  # free the timed copies before measuring memory
    gc.collect()
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    circuit = circuitcli.parse(text)
    tape = tracemalloc.get_traced_memory()[0] - base
    vals = forward(circuit, values)
    grads = backward(circuit, vals)
    total = tracemalloc.get_traced_memory()[0] - base
    tracemalloc.stop()
    assert len(grads) == gates
    circuit = vals = grads = None
    print(f"{label}: {gates:,} tape nodes")
    print(f"  parse {t_parse:.3f} s   forward {t_fwd:.3f} s   backward {t_bwd:.3f} s   "
          f"backward/forward {t_bwd / t_fwd:.2f} (target <= 2)")
    print(f"  bytes per gate: tape {tape / gates:.0f}, with values and gradients "
          f"{total / gates:.0f} (target <= 300; micrograd: 584 per node)")


MICROGRAD = r'''
import json, os, resource, sys, time
sys.setrecursionlimit(1_000_000)
from micrograd.engine import Value
# the lines already split: (name, form, a, b), no parser timed
ops = json.load(open(sys.argv[1]))
t = time.perf_counter()
env = {}
for name, form, a, b in ops:
    if form == "in":
        env[name] = Value(a)
    elif form == 0:
        env[name] = 0.5 * env[a] - 0.5 * env[b] + 0.3
    elif form == 1:
        env[name] = env[a] * env[b] * 1.5 - 0.2
    else:
        env[name] = env[a].relu() * env[b] + 0.4
out = env[name]
out.backward()
elapsed = time.perf_counter() - t
grads = {n: env[n].grad for n, form, _, _ in ops if form == "in"}
print(json.dumps({"time": elapsed, "out": out.data, "grads": grads}))
'''


def split_lines(text: str) -> list:
    """The benchmark's own lines as (name, form, a, b): micrograd gets them pre-split."""
    forms = {"0.5*": 0, "relu": 2}
    ops = []
    for line in text.splitlines():
        name, expr = (s.strip() for s in line.split("=", 1))
        if name.startswith("x"):
            ops.append((name, "in", float(expr), None))
            continue
        form = forms.get(expr[:4], 1)
        if form == 0:
            a, b = expr[4:].split(" - 0.5*")[0], expr.split(" - 0.5*")[1].split(" ")[0]
        elif form == 2:
            a, b = expr[5:].split(")*")[0], expr.split(")*")[1].split(" ")[0]
        else:
            a, b = expr.split("*")[0], expr.split("*")[1]
        ops.append((name, form, a, b))
    return ops


# A small launcher: Linux copies a process's peak RSS into its children at fork, so the
# child is started from a fresh, small process whose own peak does not hide the child's.
LAUNCHER = (
    "import os, subprocess, sys, time\n"
    "t = time.perf_counter()\n"
    "p = subprocess.Popen(sys.argv[1:], stdout=subprocess.PIPE)\n"
    "out = p.stdout.read()\n"
    "_, status, usage = os.wait4(p.pid, 0)\n"
    "sys.stderr.write(f'{time.perf_counter() - t} {usage.ru_maxrss} {status}\\n')\n"
    "sys.stdout.buffer.write(out)\n"
)


def peak_rss(argv: list[str], env: dict | None = None) -> tuple[float, float, str]:
    """Wall time, peak RSS in MB and stdout of one child process."""
    done = subprocess.run([PY, "-c", LAUNCHER, *argv], capture_output=True, env=env)
    elapsed, rss_kb, status = done.stderr.decode().split()[-3:]
    if int(status) != 0:
        raise SystemExit(f"{argv[0]} failed with status {status}")
    return float(elapsed), int(rss_kb) / 1024, done.stdout.decode()


def end_to_end(text: str, runs: int) -> None:
    try:
        import micrograd  # noqa: F401
    except ImportError:
        print("end to end: micrograd is not installed (pip install '.[bench]'); skipped")
        return
    env = dict(os.environ, CIRCUIT_SESSION="off")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "random.circuit"
        path.write_text(text)
        ops_path = Path(tmp) / "ops.json"
        ops_path.write_text(json.dumps(split_lines(text)))
        script = Path(tmp) / "mg.py"
        script.write_text(MICROGRAD)
        ours, theirs = [], []
        for _ in range(runs):
            ours.append(peak_rss([CIRCUIT, "grad", "--json", "--no-nodes", str(path)], env))
            theirs.append(peak_rss([PY, str(script), str(ops_path)], env))
    t_ours = statistics.median(r[0] for r in ours)
    m_ours = statistics.median(r[1] for r in ours)
    t_mg = statistics.median(r[0] for r in theirs)
    m_mg = statistics.median(r[1] for r in theirs)
    mg_inner = statistics.median(json.loads(r[2])["time"] for r in theirs)
    doc = json.loads(ours[0][2])
    mg = json.loads(theirs[0][2])
    worst = max(abs(doc["inputs"][n]["grad"] - g) / max(1.0, abs(g))
                for n, g in mg["grads"].items())
    print(f"end to end, {text.count(chr(10)) - 100:,} statements, 100 inputs "
          f"(whole processes, medians of {runs}):")
    print(f"  circuit grad --json --no-nodes: {t_ours:.2f} s, peak RSS {m_ours:.0f} MB")
    print(f"  micrograd build + backward():   {t_mg:.2f} s ({mg_inner:.2f} s inside), "
          f"peak RSS {m_mg:.0f} MB")
    print(f"  time ratio {mg_inner / t_ours:.1f}x against micrograd's build + backward alone, "
          f"{t_mg / t_ours:.1f}x process to process; memory ratio {m_mg / m_ours:.1f}x "
          "(target >= 3x each)")
    print(f"  output {doc['output']['value']!r} vs {mg['out']!r}; "
          f"largest gradient difference {worst:.1e} (target <= 1e-9)")


def startup(runs: int) -> None:
    env = dict(os.environ, CIRCUIT_SESSION="off")
    base_cmd = [PY, "-c", "import click, rich.console, rich.table"]
    grad_cmd = [CIRCUIT, "grad", "(x+y)*z", "x=-2", "y=5", "z=-4"]
    base, ours = [], []
    for _ in range(runs):  # interleaved, so both see the same machine load
        base.append(peak_rss(base_cmd, env)[0])
        ours.append(peak_rss(grad_cmd, env)[0])
    b, o = statistics.median(base), statistics.median(ours)
    print(f"start-up (medians of {runs}): import click+rich {b * 1000:.0f} ms, "
          f"circuit grad \"(x+y)*z\" {o * 1000:.0f} ms, ratio {o / b:.2f} (target <= 1.2)")


def main() -> None:
    quick = "--quick" in sys.argv
    runs = 1 if quick else 3
    text = random_circuit(10_000 if quick else 100_000)
    scale(f"random circuit, {text.count(chr(10)) - 100:,} statements", text, runs)
    n = 100_000 if quick else 1_000_000
    scale(f"chain, {n:,} gates", chain(n), runs)
    end_to_end(text, runs)
    startup(5 if quick else 15)


if __name__ == "__main__":
    from figures import run  # --write-docs: the output becomes its section of the docs

    run(main)
