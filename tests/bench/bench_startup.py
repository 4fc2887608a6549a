"""Start-up of `circuit grad` on a small expression, against importing click and rich alone.

Run from a `pip install .` environment (an editable install adds an import hook that slows
every import, so it measures the hook, not circuitcli):

    python tests/bench/bench_startup.py [--runs N]

Three whole processes, interleaved (so all three see the same load on a shared machine),
N times each; medians are printed, and the ratios of the medians:

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
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_core import peak_rss

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
        peak_rss(GRAD, on_env)  # the first run writes the session; later runs find it
        times: dict[str, list[float]] = {"base": [], "off": [], "on": [], "also": []}
        for _ in range(runs):
            times["base"].append(peak_rss(BASE, env)[0])
            times["off"].append(peak_rss(GRAD, off_env)[0])
            times["on"].append(peak_rss(GRAD, on_env)[0])
            if options.also:
                times["also"].append(peak_rss([options.also, *GRAD[1:]], off_env)[0])
    med = {k: statistics.median(v) for k, v in times.items() if v}
    print(f"start-up, whole processes, medians of {runs} interleaved runs:")
    print(f"  base  import click, rich.console, rich.table   {med['base'] * 1000:6.1f} ms")
    print(f"  off   circuit grad \"(x+y)*z\" (session off)    {med['off'] * 1000:6.1f} ms   "
          f"ratio {med['off'] / med['base']:.2f}")
    print(f"  on    circuit grad \"(x+y)*z\" (session on)     {med['on'] * 1000:6.1f} ms   "
          f"ratio {med['on'] / med['base']:.2f}")
    if options.also:
        print(f"  also  {options.also} (session off)   {med['also'] * 1000:6.1f} ms   "
              f"ratio {med['also'] / med['base']:.2f}")
    print("  target: both ratios <= 1.20")


if __name__ == "__main__":
    main()
