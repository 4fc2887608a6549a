"""Issue 19's speed acceptance, measured side by side in one run: the figures and verdicts.

Run from a `pip install .` environment (an editable install adds an import hook that slows
every start), with micrograd installed (`pip install '.[bench]'`):

    python tests/bench/bench_speed.py [--quick] [--runs N]

The random workload: 100 inputs; each statement `n = 0.5*a - 0.5*b + 0.3`, `n = a*b*1.5 -
0.2` or `n = relu(a)*b + 0.4` over two of the 200 latest names (tests/bench/bench_core.py
writes it). Everything is a whole process, started by a small launcher that reads its wall
time, CPU time (user + system) and peak RSS from wait4; the two sides of a comparison run
interleaved, N times each (so both see the same load on the shared machine), and medians
are compared:

1. micrograd at 100,000 gates: time and peak memory of `circuit grad --json --no-nodes`
   against micrograd building the same graph and calling backward() (targets: at least 8x
   faster, at most a quarter of its memory; gradients within 1e-9);
2. the 1,000,000-gate file (300,000 statements): `circuit grad --json --no-nodes` against
   one `re.findall` tokenisation of the same file (read + findall, a whole process: the
   floor of any Python parser), and its peak memory per gate: peak RSS above that of an
   empty run (`circuit grad x*y`, what every run pays anyway) over the tape's nodes
   (targets: within 4x of the floor, at most 150 bytes a gate);
3. a scaling table at 1k, 10k and 100k statements (and 1M without --quick): wall time,
   peak memory, bytes per gate and the share of each phase (parse, forward with the kink
   and non-finite checks, backward with the non-finite and underflow checks, JSON
   output), timed inside one process;
4. start-up on a small expression against `python -c "import click, rich.console,
   rich.table"` (target: within 1.2x).

It ends with the acceptance figures and whether each is met. Wall-time ratios are the
figures; the CPU-time ratios beside them move far less with the machine's load.
--quick takes fewer runs and stops the table at 100k (about two minutes).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import NamedTuple

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_core import MICROGRAD, random_circuit, split_lines

PY = sys.executable
CIRCUIT = str(Path(PY).parent / "circuit")
ENV = dict(os.environ, CIRCUIT_SESSION="off")
GATES_PER_STATEMENT = 10 / 3  # the three forms make 4, 3 and 3 gates; constants are shared
VERDICTS: list[tuple[str, bool]] = []  # (figure against its target, met), for the summary

# A small launcher: Linux copies a process's peak RSS into its children at fork, so the
# child is started from a fresh, small process whose own peak does not hide the child's.
LAUNCHER = (
    "import os, subprocess, sys, time\n"
    "t = time.perf_counter()\n"
    "p = subprocess.Popen(sys.argv[1:], stdout=subprocess.PIPE)\n"
    "out = p.stdout.read()\n"
    "_, status, usage = os.wait4(p.pid, 0)\n"
    "sys.stderr.write(f'{time.perf_counter() - t} {usage.ru_utime + usage.ru_stime} '\n"
    "                 f'{usage.ru_maxrss} {status}\\n')\n"
    "sys.stdout.buffer.write(out)\n"
)


class Run(NamedTuple):
    wall: float  # seconds
    cpu: float  # seconds, user + system
    mb: float  # peak RSS
    out: str


def launch(argv: list[str]) -> Run:
    """One whole process: its wall time, CPU time, peak RSS and standard output."""
    done = subprocess.run([PY, "-c", LAUNCHER, *argv], capture_output=True, env=ENV)
    wall, cpu, rss_kb, status = done.stderr.decode().split()[-4:]
    if int(status) != 0:
        raise SystemExit(f"{' '.join(argv)} failed with status {status}")
    return Run(float(wall), float(cpu), int(rss_kb) / 1024, done.stdout.decode())


def median(xs) -> float:
    return statistics.median(xs)


def medians(runs: list[Run]) -> Run:
    return Run(median(r.wall for r in runs), median(r.cpu for r in runs),
               median(r.mb for r in runs), runs[0].out)


def verdict(figure: str, met: bool) -> str:
    VERDICTS.append((figure, met))
    return "met" if met else "NOT MET"


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


def write(tmp: Path, name: str, text: str) -> str:
    path = tmp / name
    path.write_text(text)
    return str(path)


def grad_argv(path: str) -> list[str]:
    return [CIRCUIT, "grad", "--json", "--no-nodes", path]


EMPTY = [CIRCUIT, "grad", "x*y", "x=1", "y=2", "--json", "--no-nodes"]


def spread(pairs: list[tuple[Run, Run]]) -> str:
    """The range of the pair-by-pair wall ratios: how much the machine's load moved them."""
    ratios = sorted(ours.wall / theirs.wall for ours, theirs in pairs)
    return f"{ratios[0]:.2f}-{ratios[-1]:.2f}"


def against_micrograd(tmp: Path, runs: int) -> None:
    try:
        import micrograd  # noqa: F401
    except ImportError:
        print("1. micrograd is not installed (pip install '.[bench]'): skipped\n")
        VERDICTS.append(("against micrograd: not measured (micrograd not installed)", False))
        return
    statements = round(100_000 / GATES_PER_STATEMENT)
    text = random_circuit(statements)
    path = write(tmp, "mg.circuit", text)
    ops = write(tmp, "ops.json", json.dumps(split_lines(text)))
    script = write(tmp, "mg.py", MICROGRAD)
    # interleaved, so both see the same load
    pairs = [(launch(grad_argv(path)), launch([PY, script, ops])) for _ in range(runs)]
    ours, theirs = medians([p[0] for p in pairs]), medians([p[1] for p in pairs])
    doc, mg = json.loads(ours.out), json.loads(theirs.out)
    worst = max(abs(doc["inputs"][n]["grad"] - g) / max(1.0, abs(g))
                for n, g in mg["grads"].items())
    gates = phases(path)["gates"]
    faster, memory = theirs.wall / ours.wall, ours.mb / theirs.mb
    print(f"1. against micrograd: {statements:,} statements, {gates:,} gates, 100 inputs "
          f"(whole processes, interleaved, medians of {runs})")
    print(f"   {'':34} {'wall s':>7} {'CPU s':>7} {'peak RSS MB':>12}")
    print(f"   {'circuit grad --json --no-nodes':34} {ours.wall:7.2f} {ours.cpu:7.2f} "
          f"{ours.mb:12.0f}")
    print(f"   {'micrograd build + backward()':34} {theirs.wall:7.2f} {theirs.cpu:7.2f} "
          f"{theirs.mb:12.0f}")
    print(f"   {faster:.1f}x faster (CPU {theirs.cpu / ours.cpu:.1f}x; pairs "
          f"{spread([(t, o) for o, t in pairs])}x), target >= 8x: "
          + verdict(f"100k gates: {faster:.1f}x faster than micrograd (target >= 8x)",
                    faster >= 8))
    print(f"   {memory:.2f} of its peak memory, target <= 0.25: "
          + verdict(f"100k gates: {memory:.2f} of micrograd's peak memory (target <= 0.25)",
                    memory <= 0.25))
    print(f"   output {doc['output']['value']!r} vs {mg['out']!r}; largest gradient "
          f"difference {worst:.1e} (target <= 1e-9): "
          + verdict(f"100k gates: gradients agree with micrograd's to {worst:.0e} (target "
                    "<= 1e-9)", worst <= 1e-9) + "\n")


def against_the_floor(tmp: Path, runs: int) -> None:
    statements = round(1_000_000 / GATES_PER_STATEMENT)
    path = write(tmp, "floor.circuit", random_circuit(statements))
    script = write(tmp, "floor.py", FLOOR)
    gates = phases(path)["gates"]
    pairs, empty = [], []
    for _ in range(runs):  # interleaved: the floor, ours, and an empty run for memory
        floor = launch([PY, script, path])
        pairs.append((launch(grad_argv(path)), floor))
        empty.append(launch(EMPTY))
    ours, floor, base = (medians([p[0] for p in pairs]), medians([p[1] for p in pairs]),
                         medians(empty))
    ratio = ours.wall / floor.wall
    per_gate = (ours.mb - base.mb) * 2**20 / gates
    print(f"2. the 1,000,000-gate file: {statements:,} statements, {gates:,} nodes, "
          f"{Path(path).stat().st_size / 2**20:.1f} MB (whole processes, interleaved, medians "
          f"of {runs})")
    print(f"   {'':34} {'wall s':>7} {'CPU s':>7} {'peak RSS MB':>12}")
    print(f"   {'python: read + one re.findall':34} {floor.wall:7.2f} {floor.cpu:7.2f} "
          f"{floor.mb:12.0f}")
    print(f"   {'circuit grad --json --no-nodes':34} {ours.wall:7.2f} {ours.cpu:7.2f} "
          f"{ours.mb:12.0f}")
    print(f"   {'circuit grad x*y (an empty run)':34} {base.wall:7.2f} {base.cpu:7.2f} "
          f"{base.mb:12.0f}")
    print(f"   {ratio:.2f}x the floor (CPU {ours.cpu / floor.cpu:.2f}x; pairs {spread(pairs)}x),"
          " target <= 4x: "
          + verdict(f"1M gates: {ratio:.2f}x one re.findall tokenisation (target <= 4x)",
                    ratio <= 4))
    print(f"   {per_gate:.0f} bytes of peak memory per gate ({ours.mb:.0f} - {base.mb:.0f} MB "
          f"over {gates:,} nodes), target <= 150: "
          + verdict(f"1M gates: {per_gate:.0f} bytes of peak memory per gate (target <= 150)",
                    per_gate <= 150) + "\n")


def phases(path: str) -> dict:
    return json.loads(launch([PY, "-c", PHASES, path]).out)


def scaling(tmp: Path, sizes: list[int], runs: int) -> None:
    base_mb = median(launch(EMPTY).mb for _ in range(3))
    print(f"3. scaling (whole processes, medians of {runs}; bytes per gate = peak RSS above an "
          f"empty run's {base_mb:.0f} MB; phases timed inside one process)")
    print(f"   {'statements':>10} {'gates':>10} {'time s':>8} {'peak MB':>8} {'B/gate':>7}"
          f"   {'parse':>6} {'forward':>7} {'backward':>8} {'output':>6}")
    for n in sizes:
        path = write(tmp, f"s{n}.circuit", random_circuit(n))
        timed = medians([launch(grad_argv(path)) for _ in range(runs if n <= 100_000 else 1)])
        ph = phases(path)
        total = ph["parse"] + ph["forward"] + ph["backward"] + ph["output"]
        share = {k: 100 * ph[k] / total for k in ("parse", "forward", "backward", "output")}
        per_gate = (timed.mb - base_mb) * 2**20 / ph["gates"]
        print(f"   {n:>10,} {ph['gates']:>10,} {timed.wall:>8.2f} {timed.mb:>8.0f} "
              f"{per_gate:>7.0f}   {share['parse']:>5.0f}% {share['forward']:>6.0f}% "
              f"{share['backward']:>7.0f}% {share['output']:>5.0f}%")
        os.unlink(path)
    print()


def startup(runs: int) -> None:
    base_cmd = [PY, "-c", "import click, rich.console, rich.table"]
    grad_cmd = [CIRCUIT, "grad", "(x+y)*z", "x=-2", "y=5", "z=-4"]
    pairs = [(launch(grad_cmd), launch(base_cmd)) for _ in range(runs)]  # interleaved
    ours, base = medians([p[0] for p in pairs]), medians([p[1] for p in pairs])
    ratio = ours.wall / base.wall
    print(f"4. start-up (whole processes, interleaved, medians of {runs}): import click + rich "
          f"{base.wall * 1000:.0f} ms, circuit grad \"(x+y)*z\" {ours.wall * 1000:.0f} ms")
    print(f"   ratio {ratio:.2f} (CPU {ours.cpu / base.cpu:.2f}; pairs {spread(pairs)}), "
          "target <= 1.2: "
          + verdict(f"start-up: {ratio:.2f}x importing click and rich (target <= 1.2x)",
                    ratio <= 1.2) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer runs; the table to 100k")
    parser.add_argument("--runs", type=int, default=None, help="runs per comparison")
    opts = parser.parse_args()
    runs = opts.runs or (3 if opts.quick else 5)
    if not Path(CIRCUIT).exists():
        raise SystemExit(f"no {CIRCUIT}: run from an environment where circuitcli is installed")
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        against_micrograd(tmp, runs)
        against_the_floor(tmp, runs)
        scaling(tmp, [1_000, 10_000, 100_000] + ([] if opts.quick else [1_000_000]),
                1 if opts.quick else 3)
    startup(9 if opts.quick else 21)
    met = sum(ok for _, ok in VERDICTS)
    print(f"issue 19, speed acceptance: {met} of {len(VERDICTS)} met")
    for figure, ok in VERDICTS:
        print(f"   {'met    ' if ok else 'NOT MET'}  {figure}")


if __name__ == "__main__":
    from figures import run  # --write-docs: the output becomes its section of the docs

    run(main)
