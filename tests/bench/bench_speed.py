"""End-to-end speed and memory of `circuit grad --json --no-nodes` on the random workload.

Run from a `pip install .` environment (an editable install adds an import hook that slows
every start), with micrograd installed (`pip install '.[bench]'`):

    python tests/bench/bench_speed.py [--quick] [--runs N]

The random workload: 100 inputs; each node `0.5*a - 0.5*b + 0.3`, `a*b*1.5 - 0.2` or
`relu(a)*b + 0.4` over two of the 200 latest nodes (tests/bench/bench_core.py writes it).
Everything is measured as whole processes, interleaved (so both sides see the same load on
a shared machine), and reported as medians:

1. against micrograd at 100,000 gates: time, peak memory, gradients (targets: at least 8x
   faster, at most 1/4 of its peak memory, gradients within 1e-9);
2. against the floor of any Python parser, one `re.findall` pass splitting the same
   1,000,000-gate file into tokens (target: grad within 4x of it);
3. a scaling table at 1k, 10k, 100k and 1M statements: wall time, peak memory, bytes per
   gate (peak RSS above an empty run's) and the share of each phase (parse, forward with
   the kink and non-finite checks, backward with the non-finite and underflow checks, JSON
   output), timed inside one process;
4. start-up on a small expression against `python -c "import click, rich.console,
   rich.table"` (target: within 1.2x).

--quick stops the table at 100k statements and takes fewer runs (about two minutes); the
full run keeps within about ten minutes on a quiet machine.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_core import MICROGRAD, peak_rss, random_circuit, split_lines

PY = sys.executable
CIRCUIT = str(Path(PY).parent / "circuit")
ENV = dict(os.environ, CIRCUIT_SESSION="off")
GATES_PER_STATEMENT = 10 / 3  # the three forms make 3, 4 and 3 gates; constants are shared

# the floor: one pass of a plain tokeniser (numbers, names, operators; spaces skipped)
FLOOR = (
    "import re, sys\n"
    "text = open(sys.argv[1]).read()\n"
    "tokens = re.findall(r'\\*\\*|[-+*/^(),=;\\n]|[^\\W\\d]\\w*|"
    "(?:\\d+\\.?\\d*|\\.\\d+)(?:[eE][+-]?\\d+)?', text)\n"
    "print(len(tokens))\n"
)

# phases inside one process, as `circuit grad --json --no-nodes` runs them
PHASES = r'''
import sys, time, json
from circuitcli.core.parser import parse
from circuitcli.core.evaluate import _flag_nonfinite, _flag_underflow, backward, evaluate
from circuitcli.render.json import dumps, grad_document
path = sys.argv[1]
with open(path, encoding="utf-8") as f:
    text = f.read()
t0 = time.perf_counter()
c = parse(text, path)
t1 = time.perf_counter()
result = evaluate(c, c.values_for({}), with_grads=False)
t2 = time.perf_counter()
result.grads = backward(c, result.values)
_flag_nonfinite(result, result.grads, "gradient")
_flag_underflow(result)
t3 = time.perf_counter()
out = dumps(grad_document(result, nodes=False))
t4 = time.perf_counter()
print(json.dumps({"gates": len(c), "parse": t1 - t0, "forward": t2 - t1,
                  "backward": t3 - t2, "output": t4 - t3}))
'''


def median(xs) -> float:
    return statistics.median(xs)


def write(tmp: Path, name: str, text: str) -> str:
    path = tmp / name
    path.write_text(text)
    return str(path)


def grad_argv(path: str) -> list[str]:
    return [CIRCUIT, "grad", "--json", "--no-nodes", path]


def empty_run_mb(runs: int) -> float:
    """Peak RSS of `circuit grad` on a one-gate expression: what every run pays anyway."""
    return median(peak_rss([CIRCUIT, "grad", "x*y", "x=1", "y=2", "--json", "--no-nodes"],
                           ENV)[1] for _ in range(runs))


def against_micrograd(tmp: Path, runs: int) -> None:
    try:
        import micrograd  # noqa: F401
    except ImportError:
        print("1. micrograd is not installed (pip install '.[bench]'): skipped\n")
        return
    statements = round(100_000 / GATES_PER_STATEMENT)
    text = random_circuit(statements)
    path = write(tmp, "mg.circuit", text)
    ops = write(tmp, "ops.json", json.dumps(split_lines(text)))
    script = write(tmp, "mg.py", MICROGRAD)
    ours, theirs = [], []
    for _ in range(runs):  # interleaved
        ours.append(peak_rss(grad_argv(path), ENV))
        theirs.append(peak_rss([PY, script, ops], ENV))
    t_ours, m_ours = median(r[0] for r in ours), median(r[1] for r in ours)
    t_mg, m_mg = median(r[0] for r in theirs), median(r[1] for r in theirs)
    doc, mg = json.loads(ours[0][2]), json.loads(theirs[0][2])
    worst = max(abs(doc["inputs"][n]["grad"] - g) / max(1.0, abs(g))
                for n, g in mg["grads"].items())
    gates = phases(path)["gates"]
    print(f"1. against micrograd: {statements:,} statements, {gates:,} gates, 100 inputs "
          f"(whole processes, medians of {runs})")
    print(f"   circuit grad --json --no-nodes   {t_ours:6.2f} s   peak RSS {m_ours:6.0f} MB")
    print(f"   micrograd build + backward()     {t_mg:6.2f} s   peak RSS {m_mg:6.0f} MB")
    print(f"   {t_mg / t_ours:.1f}x faster (target >= 8x); {m_ours / m_mg:.2f} of its memory "
          f"(target <= 0.25); output {doc['output']['value']!r} vs {mg['out']!r}; largest "
          f"gradient difference {worst:.1e} (target <= 1e-9)\n")


def against_the_floor(tmp: Path, runs: int) -> None:
    statements = round(1_000_000 / GATES_PER_STATEMENT)
    path = write(tmp, "floor.circuit", random_circuit(statements))
    script = write(tmp, "floor.py", FLOOR)
    ours, floor = [], []
    for _ in range(runs):
        floor.append(peak_rss([PY, script, path], ENV)[0])
        ours.append(peak_rss(grad_argv(path), ENV)[0])
    t_ours, t_floor = median(ours), median(floor)
    print(f"2. against the floor: {statements:,} statements (about 1,000,000 gates), "
          f"medians of {runs}")
    print(f"   python: read + one re.findall   {t_floor:6.2f} s")
    print(f"   circuit grad --json --no-nodes   {t_ours:6.2f} s   ratio {t_ours / t_floor:.1f}x "
          "(target <= 4x)\n")


def phases(path: str) -> dict:
    done = peak_rss([PY, "-c", PHASES, path], ENV)
    return json.loads(done[2])


def scaling(tmp: Path, sizes: list[int], runs: int, base_mb: float) -> None:
    print(f"3. scaling (whole processes, medians of {runs}; bytes per gate = peak RSS above an "
          f"empty run's {base_mb:.0f} MB; phases timed inside one process)")
    print(f"   {'statements':>10} {'gates':>10} {'time s':>8} {'peak MB':>8} {'B/gate':>7}"
          f"   {'parse':>6} {'forward':>7} {'backward':>8} {'output':>6}")
    for n in sizes:
        path = write(tmp, f"s{n}.circuit", random_circuit(n))
        runs_n = runs if n <= 100_000 else 1
        timed = [peak_rss(grad_argv(path), ENV) for _ in range(runs_n)]
        t, mb = median(r[0] for r in timed), median(r[1] for r in timed)
        ph = phases(path)
        total = ph["parse"] + ph["forward"] + ph["backward"] + ph["output"]
        share = {k: 100 * ph[k] / total for k in ("parse", "forward", "backward", "output")}
        per_gate = (mb - base_mb) * 2**20 / ph["gates"]
        print(f"   {n:>10,} {ph['gates']:>10,} {t:>8.2f} {mb:>8.0f} {per_gate:>7.0f}"
              f"   {share['parse']:>5.0f}% {share['forward']:>6.0f}% {share['backward']:>7.0f}%"
              f" {share['output']:>5.0f}%")
        os.unlink(path)
    print("   (target: at most 150 bytes per gate at 1,000,000 gates)\n")


def startup(runs: int) -> None:
    base_cmd = [PY, "-c", "import click, rich.console, rich.table"]
    grad_cmd = [CIRCUIT, "grad", "(x+y)*z", "x=-2", "y=5", "z=-4"]
    base, ours = [], []
    for _ in range(runs):  # interleaved, so both see the same machine load
        base.append(peak_rss(base_cmd, ENV)[0])
        ours.append(peak_rss(grad_cmd, ENV)[0])
    b, o = median(base), median(ours)
    print(f"4. start-up (medians of {runs}): import click + rich {b * 1000:.0f} ms, "
          f"circuit grad \"(x+y)*z\" {o * 1000:.0f} ms, ratio {o / b:.2f} (target <= 1.2)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes, fewer runs")
    parser.add_argument("--runs", type=int, default=None, help="runs per measurement")
    opts = parser.parse_args()
    runs = opts.runs or (1 if opts.quick else 3)
    if not Path(CIRCUIT).exists():
        raise SystemExit(f"no {CIRCUIT}: run from an environment where circuitcli is installed")
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        against_micrograd(tmp, runs)
        against_the_floor(tmp, runs)
        base_mb = empty_run_mb(3)
        sizes = [1_000, 10_000, 100_000] + ([] if opts.quick else [1_000_000])
        scaling(tmp, sizes, runs, base_mb)
    startup(7 if opts.quick else 15)


if __name__ == "__main__":
    from figures import run  # --write-docs: the output becomes its section of the docs

    run(main)
