"""What the session costs a big file circuit: `circuit grad BIG --json --no-nodes`, session
on against session off.

Run from a `pip install .` environment (an editable install slows every import):

    python tests/bench/bench_session.py [--statements N] [--runs N]

BIG is the random workload (tests/bench/bench_core.py's random_circuit; 300,000 statements
by default, about 7 MB). Whole processes, interleaved (so both see the same load on a shared
machine), medians. The session keeps a circuit file over 1 MiB by reference (its path,
size, mtime and hash), so with the session on a run reads and hashes the file it reads
anyway, and writes only a few hundred bytes, and only when something changed. The first
run with the session on (which writes it) is timed apart. Target (issue 13): ratio ~1.0.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_core import peak_rss, random_circuit

PY = sys.executable
CIRCUIT = str(Path(PY).parent / "circuit")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--statements", type=int, default=300_000)
    parser.add_argument("--runs", type=int, default=7, help="runs of each (default 7)")
    options = parser.parse_args()
    env = {k: v for k, v in os.environ.items() if k != "CIRCUIT_SESSION"}
    with tempfile.TemporaryDirectory() as tmp:
        big = Path(tmp) / "big.circuit"
        big.write_text(random_circuit(options.statements))
        session = Path(tmp) / "session.json"
        on_env = dict(env, CIRCUIT_SESSION=str(session))
        off_env = dict(env, CIRCUIT_SESSION="off")
        argv = [CIRCUIT, "grad", str(big), "--json", "--no-nodes"]
        first = peak_rss(argv, on_env)
        times: dict[str, list[float]] = {"off": [], "on": []}
        rss: dict[str, list[float]] = {"off": [], "on": []}
        for _ in range(options.runs):
            for name, run_env in (("off", off_env), ("on", on_env)):
                elapsed, peak, _ = peak_rss(argv, run_env)
                times[name].append(elapsed)
                rss[name].append(peak)
        session_size = session.stat().st_size
        big_mb = big.stat().st_size / 1e6
    off, on = statistics.median(times["off"]), statistics.median(times["on"])
    print(f"circuit grad BIG --json --no-nodes, {options.statements:,} statements "
          f"({big_mb:.1f} MB), medians of {options.runs} interleaved "
          "runs:")
    print(f"  session off  {off:6.2f} s   peak RSS {statistics.median(rss['off']):6.0f} MB")
    print(f"  session on   {on:6.2f} s   peak RSS {statistics.median(rss['on']):6.0f} MB   "
          f"ratio {on / off:.3f} (target ~1.0)")
    print(f"  first run with the session on (writes it): {first[0]:.2f} s; "
          f"session file {session_size} bytes")


if __name__ == "__main__":
    main()
