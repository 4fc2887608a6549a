"""One training step of `circuit train` against PyTorch: the moons MLP, full batch, float64.

Both run micrograd's demo network (2-16-16-1 ReLU, 337 parameters) on
samples/moons.csv (100 rows): forward over every row, mean hinge loss plus
L2 1e-4/2 * sum(p**2), backward, p -= lr * grad. circuitcli runs its own training
loop in-process (`methods.train.train`, the circuit compiled once per run);
PyTorch runs the same network as three float64 matrix products on one thread.
Each run does STEPS steps; the figure is ms per step, the median of several runs,
interleaved, and their ratio measured in the same process. Both print the
objective after the last step: equal to many digits, so both did the same work.

PyTorch is used here only, never a dependency of circuitcli: install it in the
venv to compare (`pip install torch`); without it the script prints circuitcli's
figure alone and says PyTorch was skipped.

    python tests/bench/bench_train.py [--repeat 7] [--steps 200]
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
MODEL = ROOT / "samples" / "mlp.circuit"
DATA = ROOT / "samples" / "moons.csv"
REG = 1e-4
LR = 0.5
SEED = 1


def setup():
    from circuitcli.core.parser import parse
    from circuitcli.io.data import read_csv
    from circuitcli.methods.model import prepare

    circuit = parse(MODEL.read_text(), str(MODEL))
    data = read_csv(str(DATA))
    return prepare(circuit, data, {}, loss="hinge", reg=REG, seed=SEED)


def run_circuit(model, steps: int) -> tuple[float, float]:
    """ms per step of `train` (full batch: one forward + backward + update per step)."""
    from circuitcli.methods.train import Schedule, train

    began = time.perf_counter()
    run = train(model, Schedule(lr=LR, epochs=steps))
    return (time.perf_counter() - began) * 1e3 / steps, run.loss


def run_interpreter(model, steps: int) -> float:
    """ms per step of the gate-by-gate path training used before compiling (for reference)."""
    import numpy as np

    from circuitcli.core.backend import numpy_backend
    from circuitcli.core.evaluate import backward, forward

    B = numpy_backend()
    circuit = model.circuit
    X = {name: model.data.values[name] for name in model.features}
    y = model.data.values[model.label]
    params = dict(model.start)
    began = time.perf_counter()
    for _ in range(steps):
        with np.errstate(all="ignore"):
            vals = forward(circuit, {**params, **X}, backend=B)
            s = vals[circuit.output]
            grads = backward(circuit, vals, pull=np.where(y * s < 1.0, -y, 0.0) / len(y),
                             backend=B)
        for name in model.params:
            params[name] -= LR * (float(np.sum(grads[circuit.inputs[name]]))
                                  + REG * params[name])
    return (time.perf_counter() - began) * 1e3 / steps


def torch_model(model):
    """The circuit's parameters as PyTorch float64 weight matrices (same starting values)."""
    import torch

    start = model.start
    sizes = [2, 16, 16, 1]
    layers = []
    for k in range(1, 4):
        n_in, n_out = sizes[k - 1], sizes[k]
        W = torch.tensor([[start[f"w{k}_{j}_{i}"] for i in range(n_in)] for j in range(n_out)],
                         dtype=torch.float64, requires_grad=True)
        b = torch.tensor([start[f"b{k}_{j}"] for j in range(n_out)], dtype=torch.float64,
                         requires_grad=True)
        layers.append((W, b))
    return layers


def run_torch(model, steps: int) -> tuple[float, float]:
    import torch

    torch.set_num_threads(1)
    data = model.data
    X = torch.tensor([[float(a), float(b)] for a, b in zip(data.values["x1"], data.values["x2"])],
                     dtype=torch.float64)
    y = torch.tensor(data.values["label"], dtype=torch.float64)
    layers = torch_model(model)
    params = [t for layer in layers for t in layer]
    def objective():
        h = X
        for k, (W, b) in enumerate(layers):
            h = h @ W.T + b
            if k < 2:
                h = torch.relu(h)
        s = h[:, 0]
        return torch.relu(1 - y * s).mean() + REG / 2 * sum((p * p).sum() for p in params)

    began = time.perf_counter()
    for _ in range(steps):
        loss = objective()
        for p in params:
            p.grad = None
        loss.backward()
        with torch.no_grad():
            for p in params:
                p -= LR * p.grad
    ms = (time.perf_counter() - began) * 1e3 / steps
    with torch.no_grad():
        return ms, float(objective())  # after the last step, as circuit train reports it


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7, help="runs of each (median)")
    parser.add_argument("--steps", type=int, default=200, help="steps per run")
    args = parser.parse_args()
    model = setup()
    try:
        import torch  # noqa: F401

        have_torch = True
    except ImportError:
        have_torch = False
    ours, theirs = [], []
    for _ in range(args.repeat):
        ours.append(run_circuit(model, args.steps))
        if have_torch:
            theirs.append(run_torch(model, args.steps))
    ms = statistics.median(t for t, _ in ours)
    before = statistics.median(run_interpreter(model, max(1, args.steps // 10))
                               for _ in range(3))
    print(f"moons MLP 2-16-16-1 (337 parameters), full batch of 100 rows, float64, "
          f"{args.steps} steps per run, median of {args.repeat} runs")
    print(f"gate by gate (the old path): {before:7.3f} ms/step   (median of 3 short runs)")
    print(f"circuit train (in-process) : {ms:7.3f} ms/step   final loss {ours[0][1]:.12g}")
    if not have_torch:
        print("PyTorch                    : skipped (not installed; pip install torch to compare)")
        return
    tms = statistics.median(t for t, _ in theirs)
    print(f"PyTorch float64, 1 thread  : {tms:7.3f} ms/step   final loss {theirs[0][1]:.12g}")
    print(f"ratio circuit / PyTorch    : {ms / tms:7.2f}x")


if __name__ == "__main__":
    from figures import run  # --write-docs: the output becomes its section of the docs

    run(main)
