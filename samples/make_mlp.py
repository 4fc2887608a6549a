"""Write mlp.circuit: micrograd's moons network, 2 inputs -> 16 ReLU -> 16 ReLU -> 1 linear.

micrograd's `MLP(2, [16, 16, 1])` as a circuit: each neuron is
`relu(w*x + w*x + ... + b)` (the last one without relu, its score), with one named
parameter per weight and bias, 16*3 + 16*17 + 17 = 337 in all. Names say where a
parameter sits: `w2_5_3` is the weight from unit 3 of layer 1 into unit 5 of
layer 2, `b2_5` that unit's bias; `h2_5` is its output. The features are `x1` and
`x2`, the columns of moons.csv. No values are written, so `circuit train` starts
every parameter at random (uniform in [-0.5, 0.5] from --seed). Run it from anywhere:

    python samples/make_mlp.py                          # rewrites samples/mlp.circuit
    python samples/make_mlp.py --sizes 2,8,1 small.circuit
"""

from __future__ import annotations

import argparse
import os

from circuitcli.io.files import write_atomic

SIZES = (2, 16, 16, 1)


def mlp(sizes: tuple[int, ...] = SIZES) -> str:
    """The circuit text of a ReLU MLP with these layer sizes (the last layer is linear)."""
    if len(sizes) < 2:
        raise ValueError("need at least an input size and an output size")
    layers = len(sizes) - 1
    count = sum((sizes[k] + 1) * sizes[k + 1] for k in range(layers))
    shape = "-".join(map(str, sizes))
    lines = [
        f"# micrograd's moons MLP: {shape} ReLU network, {count} parameters",
        "# Made by samples/make_mlp.py. Train it as micrograd's demo does:",
        "#   circuit train mlp.circuit --data moons.csv --epochs 100 --lr 1.0 --lr-end 0.1",
        "# The line below sets the features, the loss and the L2 regularization (on every"
        " parameter):",
        f"# train: --features {','.join(f'x{i + 1}' for i in range(sizes[0]))} --loss hinge"
        " --reg 1e-4",
    ]
    inputs = [f"x{i + 1}" for i in range(sizes[0])]
    for k in range(1, layers + 1):
        last = k == layers
        kind = "linear" if last else "ReLU"
        lines.append(f"# layer {k}: {sizes[k - 1]} -> {sizes[k]}, {kind}")
        outputs = []
        for j in range(sizes[k]):
            terms = " + ".join(f"w{k}_{j}_{i} * {x}" for i, x in enumerate(inputs))
            total = f"{terms} + b{k}_{j}"
            if last and sizes[k] == 1:
                lines.append(f"score = {total}")
                outputs.append("score")
            elif last:
                lines.append(f"out{j} = {total}")
                outputs.append(f"out{j}")
            else:
                lines.append(f"h{k}_{j} = relu({total})")
                outputs.append(f"h{k}_{j}")
        inputs = outputs
    return "\n".join(lines) + "\n"


def main() -> None:
    here = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", nargs="?", default=os.path.join(here, "mlp.circuit"))
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)),
                        help="layer sizes, comma-separated (default 2,16,16,1)")
    args = parser.parse_args()
    sizes = tuple(int(s) for s in args.sizes.split(","))
    if len(sizes) < 2 or min(sizes) < 1:
        parser.error("--sizes needs at least two positive sizes, e.g. 2,16,16,1")
    write_atomic(args.out, mlp(sizes))


if __name__ == "__main__":
    main()
