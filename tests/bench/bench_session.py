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

A whole run of a big circuit takes seconds, so the session's share is then also timed
alone, in this process: what a run does with the session on top of reading the file,
kept by reference (hash, compare, and a write when the values change) against keeping
the text as version 1 did (compare by parsing the stored copy, or write it all).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_core import peak_rss, random_circuit

PY = sys.executable
CIRCUIT = str(Path(PY).parent / "circuit")


def session_work(big: Path, folder: Path, runs: int) -> None:
    """The session's own work per run, by reference and by copy, medians of `runs`."""
    from circuitcli.io.files import read_file
    from circuitcli.io.session import FileRef, Saved, Session

    data, st = read_file(str(big))
    text = data.decode()
    values = {"x0": 0.5}

    def by_reference(value: float) -> Saved:
        ref = FileRef.of(str(big), data, st.st_mtime_ns)  # hashing is part of the cost
        return Saved(text, {**values, "x1": value}, str(big), None, file=ref)

    def by_copy(value: float) -> Saved:
        return Saved(text, {**values, "x1": value}, str(big), None)

    print(f"the session's own work per run ({len(data) / 1e6:.1f} MB file), medians of "
          f"{runs}:")
    for label, make in (("by reference (now)", by_reference), ("a copy of the text (v1)",
                                                                by_copy)):
        session = Session(folder / f"{make.__name__}.json")
        session.update(make(0.0))
        same, changed = [], []
        for k in range(runs):
            t = time.perf_counter()
            session.update(make(0.0))  # the same circuit and values: nothing to write
            same.append(time.perf_counter() - t)
            t = time.perf_counter()
            session.update(make(k + 1.0))  # new values (a step): written
            changed.append(time.perf_counter() - t)
            session.update(make(0.0))
        size = (folder / f"{make.__name__}.json").stat().st_size
        print(f"  {label:24} unchanged {statistics.median(same) * 1000:7.1f} ms   changed "
              f"{statistics.median(changed) * 1000:7.1f} ms   session file {size:,} bytes")


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
        session_work(big, Path(tmp), options.runs)
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
    from figures import run  # --write-docs: the output becomes its section of the docs

    run(main)
