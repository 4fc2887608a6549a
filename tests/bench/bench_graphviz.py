"""How long Graphviz's `dot -Tsvg` takes, and how much memory it needs, as circuits grow.

The figures choose GRAPHVIZ_NODE_LIMIT in circuitcli/render/dot.py. Each run is wrapped in
`/usr/bin/time -v` (peak resident memory), a wall-clock timeout and `ulimit -v`, so a run
that would eat the machine is stopped and reported as such, never left to the OOM killer.

    python tests/bench/bench_graphviz.py [--shapes chain,random,shared] [--sizes 500,1000]
        [--timeout 120] [--memory-gb 6]

"layout" is render.dot.layout_size: nodes plus the virtual nodes of long edges, the figure
`circuit graph` checks against GRAPHVIZ_LIMIT before it runs dot.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time

from circuitcli.core.evaluate import evaluate
from circuitcli.core.parser import parse
from circuitcli.render.dot import dot_source, layout_size


def chain(n: int) -> str:
    """x -> n gates in a row, each reading the one before (the issue's 20,000-gate chain)."""
    lines = ["x = 0.5", "n0 = tanh(x)"]
    lines += [f"n{i} = tanh(n{i - 1})" if i % 2 else f"n{i} = relu(n{i - 1})"
              for i in range(1, n)]
    return "\n".join(lines) + "\n"


def shared(n: int) -> str:
    """A chain whose every gate also reads one shared input w (a weight used n times)."""
    lines = ["x = 0.5", "w = 0.999", "n0 = x * w"]
    lines += [f"n{i} = n{i - 1} * w" for i in range(1, n)]
    return "\n".join(lines) + "\n"


def random_circuit(n: int, seed: int = 1) -> str:
    """n gates, each reading two earlier nodes picked at random (many crossing edges)."""
    rng = random.Random(seed)
    lines = [f"a{k} = {k + 1}" for k in range(8)]
    names = [f"a{k}" for k in range(8)]
    for i in range(n):
        x, y = rng.choice(names), rng.choice(names)
        lines.append(f"g{i} = {x} {rng.choice('+*')} {y}" if i % 3 else f"g{i} = tanh({x})")
        names.append(f"g{i}")
    return "\n".join(lines) + "\n"


# a weight shared along a chain costs dot about n*n/2 points, so it is measured smaller
SIZES = {"chain": "500,1000,2000,5000", "random": "500,1000,2000,5000",
         "shared": "50,100,200,500"}


def measure(source: str, timeout: float, memory_kb: int) -> tuple[str, str, str]:
    """(wall seconds, CPU seconds, peak MB) of `dot -Tsvg` over source, or why it stopped.

    CPU seconds (user + system) are the figure to read on a shared machine: wall time
    grows with whatever else runs.
    """
    with tempfile.NamedTemporaryFile("w", suffix=".dot", delete=False) as f:
        f.write(source)
    script = (f"ulimit -v {memory_kb}; exec /usr/bin/time -v timeout {timeout:g} "
              f"dot -Tsvg -o /dev/null {f.name}")
    started = time.monotonic()
    done = subprocess.run(["bash", "-c", script], capture_output=True, text=True, check=False)
    wall = time.monotonic() - started
    os.unlink(f.name)
    figures = dict(re.findall(r"^\s*(User time|System time|Maximum resident set size)"
                              r"[^:]*: ([\d.]+)$", done.stderr, re.MULTILINE))
    cpu = float(figures.get("User time", 0)) + float(figures.get("System time", 0))
    mb = f"{int(figures['Maximum resident set size']) / 1024:.0f}" if figures else "?"
    if "non-zero status 124" in done.stderr:
        return f">{timeout:g} timeout", f"{cpu:.1f}", mb
    if done.returncode != 0:
        return f"failed ({done.returncode})", f"{cpu:.1f}", mb
    return f"{wall:.1f}", f"{cpu:.1f}", mb


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="", help="gates per circuit (default: per shape)")
    parser.add_argument("--shapes", default="chain,random,shared")
    parser.add_argument("--timeout", type=float, default=120.0)
    parser.add_argument("--memory-gb", type=float, default=6.0)
    options = parser.parse_args()
    if shutil.which("dot") is None or not shutil.which("/usr/bin/time"):
        print("needs Graphviz's dot and GNU time (/usr/bin/time)", file=sys.stderr)
        return 2
    print(subprocess.run(["dot", "-V"], capture_output=True, text=True).stderr.strip())
    print(f"limits per run: {options.timeout:g} s, {options.memory_gb:g} GB address space")
    print(f"{'shape':8} {'nodes':>7} {'layout':>8} {'DOT bytes':>10} {'wall s':>14} "
          f"{'CPU s':>7} {'peak MB':>8}")
    makers = {"chain": chain, "random": random_circuit, "shared": shared}
    for shape in options.shapes.split(","):
        make = makers[shape]
        sizes = options.sizes or SIZES[shape]
        for n in (int(s) for s in sizes.split(",")):
            circuit = parse(make(n), "")
            source = dot_source(circuit, evaluate(circuit, circuit.values_for({})))
            wall, cpu, mb = measure(source, options.timeout, int(options.memory_gb * 1024 * 1024))
            print(f"{shape:8} {len(circuit):>7} {layout_size(circuit):>8} {len(source):>10} "
                  f"{wall:>14} {cpu:>7} {mb:>8}", flush=True)
    return 0


if __name__ == "__main__":
    from figures import run

    sys.exit(run(main))
