"""What the current circuit costs `circuit grad`, what a lock library would cost, and how
fast `circuit step` walks.

Run: python tests/bench/bench_step.py   (figures are medians of several runs; ratios in one run)
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RUNS = 15
GRAD = ["grad", "(x+y)*z", "x=-2", "y=5", "z=-4"]


def wall(argv: list[str], env: dict, runs: int = RUNS) -> float:
    """Median wall time of a fresh process, in milliseconds."""
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       check=True)
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1e3


def main() -> None:
    py = sys.executable
    base_env = {**os.environ, "NO_COLOR": "1"}
    print("process start-up, median of", RUNS, "runs (ms)")
    t_pass = wall([py, "-c", "pass"], base_env)
    t_fcntl = wall([py, "-c", "import fcntl, json"], base_env)
    t_filelock = wall([py, "-c", "import filelock, json"], base_env)
    print(f"  python -c pass                     {t_pass:7.1f}")
    print(f"  import fcntl, json                 {t_fcntl:7.1f}  (+{t_fcntl - t_pass:.1f})")
    print(f"  import filelock, json              {t_filelock:7.1f}  (+{t_filelock - t_pass:.1f})")

    cli = [py, "-m", "circuitcli"]
    with tempfile.TemporaryDirectory() as tmp:
        def env(name: str) -> dict:
            return {**base_env, "CIRCUIT_SESSION": name if name == "off" else f"{tmp}/{name}"}

        for name in ("same.json", "step.json"):
            subprocess.run([*cli, *GRAD], env=env(name), check=True, stdout=subprocess.DEVNULL)
        variants = {  # label -> (argv for round i, session); run round-robin so load drift
            # on a shared machine falls on every variant alike
            "--no-session (reads, writes nothing)": (lambda i: GRAD, "off"),
            "same circuit again (no write)": (lambda i: GRAD, "same.json"),
            "new values each run (locked write)": (
                lambda i: ["grad", "(x+y)*z", f"x={i}", "y=5", "z=-4"], "changing.json"),
            "circuit grad (the current circuit)": (lambda i: ["grad"], "same.json"),
            "circuit step --lr 0.01": (lambda i: ["step", "--lr", "0.01"], "step.json"),
        }
        times: dict[str, list[float]] = {label: [] for label in variants}
        for i in range(RUNS):
            for label, (argv, session) in variants.items():
                t0 = time.perf_counter()
                subprocess.run([*cli, *argv(i)], env=env(session), check=True,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                times[label].append(time.perf_counter() - t0)
    medians = {label: statistics.median(ts) * 1e3 for label, ts in times.items()}
    base = medians["--no-session (reads, writes nothing)"]
    print(f"circuit grad \"(x+y)*z\" x=-2 y=5 z=-4 and friends, median of {RUNS} interleaved "
          "runs (ms)")
    for label, ms in medians.items():
        print(f"  {label:<38} {ms:7.1f}  ({ms / base:.2f}x)")

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from circuitcli.core.parser import parse
    from circuitcli.io.bundled import sample_dir
    from circuitcli.methods.strategies import step

    neuron = parse((sample_dir() / "neuron.circuit").read_text())
    rates = []
    for _ in range(5):
        t0 = time.perf_counter()
        step(neuron, neuron.values_for({}), lr=0.01, steps=20000)
        rates.append(20000 / (time.perf_counter() - t0))
    print(f"optimize.step on the neuron: {statistics.median(rates):,.0f} steps/s "
          "(median of 5 runs of 20,000; one forward + one backward pass each)")


if __name__ == "__main__":
    from figures import run  # --write-docs: the output becomes its section of the docs

    run(main)
