"""One training step of `circuit train` against PyTorch: the moons MLP, full batch, float64.

Both run micrograd's demo network (2-16-16-1 ReLU, 337 parameters) on
samples/moons.csv (100 rows): forward over every row, mean hinge loss plus
L2 1e-4/2 * sum(p**2), backward, p -= lr * grad. circuitcli runs its own training
loop in-process (`methods.train.train`, the circuit compiled once per run);
PyTorch runs the same network as three float64 matrix products on one thread.
Each run does STEPS steps; the figure is ms per step, the median of several runs,
interleaved, and their ratio measured in the same process.

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
    from circuitcli.core.circuit import parse
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
    began = time.perf_counter()
    for _ in range(steps):
        h = X
        for k, (W, b) in enumerate(layers):
            h = h @ W.T + b
            if k < 2:
                h = torch.relu(h)
        s = h[:, 0]
        loss = torch.relu(1 - y * s).mean() + REG / 2 * sum((p * p).sum() for p in params)
        for p in params:
            p.grad = None
        loss.backward()
        with torch.no_grad():
            for p in params:
                p -= LR * p.grad
    return (time.perf_counter() - began) * 1e3 / steps, float(loss.detach())


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
    print(f"moons MLP 2-16-16-1 (337 parameters), full batch of 100 rows, float64, "
          f"{args.steps} steps per run, median of {args.repeat} runs")
    print(f"circuit train (in-process) : {ms:7.3f} ms/step   final loss {ours[0][1]:.6f}")
    if not have_torch:
        print("PyTorch                    : skipped (not installed; pip install torch to compare)")
        return
    tms = statistics.median(t for t, _ in theirs)
    print(f"PyTorch float64, 1 thread  : {tms:7.3f} ms/step   final loss {theirs[0][1]:.6f}")
    print(f"ratio circuit / PyTorch    : {ms / tms:7.2f}x")


if __name__ == "__main__":
    main()
