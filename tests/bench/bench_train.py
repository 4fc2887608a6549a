"""`circuit train` against micrograd: the moons MLP, 100 full-batch steps, same everything.

Both train micrograd's demo network (2-16-16-1 ReLU, 337 parameters) on
samples/moons.csv (100 rows) for 100 full-batch steps from the same starting
values (the ones `circuit train --seed 1` draws), with the mean hinge loss,
L2 regularization 1e-4/2 * sum(p**2) and the learning rate 1.0 decaying linearly
to 0.1. circuitcli runs as the real command in a subprocess (start-up and
imports included); micrograd builds its Value graph for every row at every
step, as its demo does. Prints the median wall time of each, their ratio and
both final accuracies.

    /work/venv/bin/python tests/bench/bench_train.py [--repeat 5] [--micrograd-repeat 3]

micrograd needs minutes per run: the default three runs take about ten minutes.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MODEL = ROOT / "samples" / "mlp.circuit"
DATA = ROOT / "samples" / "moons.csv"
STEPS = 100
REG = 1e-4
LR, LR_END = 1.0, 0.1
SEED = 1


def run_circuit() -> tuple[float, dict]:
    """Wall time of one `circuit train ... --json` run, and its document."""
    cmd = [sys.executable, "-m", "circuitcli", "train", str(MODEL), "--data", str(DATA),
           "--loss", "hinge", "--reg", str(REG), "--epochs", str(STEPS), "--lr", str(LR),
           "--lr-end", str(LR_END), "--seed", str(SEED), "--json"]
    began = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, check=True,
                          env={**os.environ, "CIRCUIT_SESSION": "off"})
    return time.perf_counter() - began, json.loads(done.stdout)


def starting_values() -> dict[str, float]:
    """The parameters' starting values as `circuit train --seed 1` draws them."""
    from circuitcli.core.circuit import parse
    from circuitcli.io.data import read_csv
    from circuitcli.methods.model import prepare

    circuit = parse(MODEL.read_text(), str(MODEL))
    return prepare(circuit, read_csv(str(DATA)), {}, seed=SEED).start


def run_micrograd(start: dict[str, float]) -> tuple[float, float]:
    """Wall time of micrograd's demo loop on the same data and start, and its final accuracy."""
    from micrograd.engine import Value
    from micrograd.nn import MLP

    rows = [line.split(",") for line in DATA.read_text().splitlines()[1:] if line]
    X = [(float(a), float(b)) for a, b, _ in rows]
    Y = [float(c) for _, _, c in rows]
    began = time.perf_counter()
    model = MLP(2, [16, 16, 1])
    for k, layer in enumerate(model.layers, start=1):
        for j, neuron in enumerate(layer.neurons):
            for i, w in enumerate(neuron.w):
                w.data = start[f"w{k}_{j}_{i}"]
            neuron.b.data = start[f"b{k}_{j}"]
    params = model.parameters()

    def loss_and_accuracy():
        inputs = [list(map(Value, x)) for x in X]
        scores = [model(x) for x in inputs]
        losses = [(1 + -yi * si).relu() for yi, si in zip(Y, scores)]
        data_loss = sum(losses) * (1.0 / len(losses))
        reg_loss = (REG / 2) * sum(p * p for p in params)
        right = sum((yi > 0) == (si.data > 0) for yi, si in zip(Y, scores))
        return data_loss + reg_loss, right / len(Y)

    for k in range(STEPS):
        total, _ = loss_and_accuracy()
        model.zero_grad()
        total.backward()
        lr = LR + (LR_END - LR) * k / STEPS
        for p in params:
            p.data -= lr * p.grad
    _, accuracy = loss_and_accuracy()
    return time.perf_counter() - began, accuracy


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="circuit train runs (median)")
    parser.add_argument("--micrograd-repeat", type=int, default=3, help="micrograd runs (median)")
    args = parser.parse_args()
    circuit_runs = [run_circuit() for _ in range(args.repeat)]
    circuit_time = statistics.median(t for t, _ in circuit_runs)
    doc = circuit_runs[0][1]
    start = starting_values()
    micro_runs = [run_micrograd(start) for _ in range(args.micrograd_repeat)]
    micro_time = statistics.median(t for t, _ in micro_runs)
    micro_accuracy = micro_runs[0][1]
    print(f"moons MLP 2-16-16-1 (337 parameters), {STEPS} full-batch steps on 100 rows")
    print(f"circuit train : {circuit_time:8.3f} s  (median of {args.repeat}, whole command)"
          f"   final accuracy {doc['accuracy']:.0%}")
    print(f"micrograd     : {micro_time:8.3f} s  (median of {args.micrograd_repeat})"
          f"              final accuracy {micro_accuracy:.0%}")
    print(f"ratio         : {micro_time / circuit_time:8.1f}x faster than micrograd")


if __name__ == "__main__":
    main()
