"""Start-up of `circuit grad` on a small expression, against importing click and rich alone.

Run from a `pip install .` environment (an editable install adds an import hook that slows
every import, so it measures the hook, not circuitcli):

    python tests/bench/bench_startup.py [--runs N]

Three whole processes, interleaved (so all three see the same load on a shared machine),
N times each; medians are printed, and the ratios of the medians, of wall time and of CPU
time (user + system, from wait4: on a busy machine it varies far less than wall time):

- base: `python -c "import click, rich.console, rich.table"`, the floor any click + rich
  command pays;
- off: `circuit grad "(x+y)*z" x=-2 y=5 z=-4` with CIRCUIT_SESSION=off;
- on: the same with the session on (the default), kept in a temporary XDG_STATE_HOME.

Target (issue 13): both ratios within 1.2. `--also PATH` adds another `circuit` executable
(an older install, say) to the same interleaved runs, session off.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

PY = sys.executable
CIRCUIT = str(Path(PY).parent / "circuit")
BASE = [PY, "-c", "import click, rich.console, rich.table"]
GRAD = [CIRCUIT, "grad", "(x+y)*z", "x=-2", "y=5", "z=-4"]


def editable() -> bool:
    """True when circuitcli comes from an editable install (its import hook skews times)."""
    import circuitcli

    return "site-packages" not in (circuitcli.__file__ or "") or any(
        "editable" in type(finder).__name__.lower() or "editable" in repr(finder).lower()
        for finder in sys.meta_path)


# Started from a small launcher process, as bench_core.peak_rss does: wall time from the
# launcher's Popen to wait4, and the child's own CPU time from wait4's rusage.
LAUNCHER = (
    "import os, subprocess, sys, time\n"
    "t = time.perf_counter()\n"
    "p = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL)\n"
    "_, status, usage = os.wait4(p.pid, 0)\n"
    "wall = time.perf_counter() - t\n"
    "print(wall, usage.ru_utime + usage.ru_stime, status)\n"
)


def timed(argv: list[str], env: dict) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one run of `argv`."""
    done = subprocess.run([PY, "-c", LAUNCHER, *argv], capture_output=True, env=env, text=True)
    wall, cpu, status = done.stdout.split()
    if int(status) != 0:
        raise SystemExit(f"{' '.join(argv)} failed with status {status}")
    return float(wall), float(cpu)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=21, help="runs of each (default 21)")
    parser.add_argument("--also", metavar="PATH", help="another circuit executable to time")
    options = parser.parse_args()
    runs = options.runs
    if editable():
        print("warning: circuitcli is an editable install here; its import hook slows every "
              "import (use a venv with `pip install .`)", file=sys.stderr)
    env = {k: v for k, v in os.environ.items() if k not in ("CIRCUIT_SESSION", "COLUMNS")}
    with tempfile.TemporaryDirectory() as state:
        off_env = dict(env, CIRCUIT_SESSION="off")
        on_env = dict(env, XDG_STATE_HOME=state)
        timed(GRAD, on_env)  # the first run writes the session; later runs find it
        runs_of = {"base": (BASE, env), "off": (GRAD, off_env), "on": (GRAD, on_env)}
        if options.also:
            runs_of["also"] = ([options.also, *GRAD[1:]], off_env)
        times: dict[str, list[tuple[float, float]]] = {name: [] for name in runs_of}
        for _ in range(runs):
            for name, (argv, run_env) in runs_of.items():
                times[name].append(timed(argv, run_env))
    wall = {k: statistics.median(t[0] for t in v) for k, v in times.items()}
    cpu = {k: statistics.median(t[1] for t in v) for k, v in times.items()}
    labels = {"base": "import click, rich.console, rich.table",
              "off": 'circuit grad "(x+y)*z" (session off)',
              "on": 'circuit grad "(x+y)*z" (session on)',
              "also": f"{options.also} grad (session off)"}
    print(f"start-up, whole processes, medians of {runs} interleaved runs:")
    print(f"  {'':44} {'wall':>8} {'ratio':>6} {'CPU':>8} {'ratio':>6}")
    for name in times:
        print(f"  {labels[name]:44} {wall[name] * 1000:5.1f} ms {wall[name] / wall['base']:6.2f} "
              f"{cpu[name] * 1000:5.1f} ms {cpu[name] / cpu['base']:6.2f}")
    print("  target: ratios <= 1.20")


if __name__ == "__main__":
    from figures import run  # --write-docs: the output becomes its section of the docs

    run(main)
