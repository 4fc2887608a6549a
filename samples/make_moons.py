"""Write moons.csv: two interleaving half-circles, the data set of micrograd's demo.

The same recipe as scikit-learn's make_moons(n_samples=100, noise=0.1), without
scikit-learn: 50 points on the upper half of the unit circle (label -1), 50 on a
lower half-circle shifted right by 1 and down by 0.5 (label +1), Gaussian noise
of standard deviation 0.1 on both coordinates, rows shuffled. Python's own
random.Random(SEED) draws the noise and the shuffle, so the file is the same on
every machine. Run it from anywhere:

    python samples/make_moons.py            # rewrites samples/moons.csv
    python samples/make_moons.py --seed 7 --points 200 --noise 0.2 out.csv
"""

from __future__ import annotations

import argparse
import math
import os
import random

from circuitcli.io.files import write_atomic

SEED = 1
POINTS = 100
NOISE = 0.1


def moons(points: int = POINTS, noise: float = NOISE, seed: int = SEED) -> list[tuple]:
    """(x1, x2, label) rows: the outer moon is label -1, the inner one +1."""
    rng = random.Random(seed)
    outer = points // 2
    inner = points - outer
    rows = []
    for k in range(outer):
        t = math.pi * k / (outer - 1)
        rows.append((math.cos(t), math.sin(t), -1))
    for k in range(inner):
        t = math.pi * k / (inner - 1)
        rows.append((1 - math.cos(t), 0.5 - math.sin(t), 1))
    rows = [(x + rng.gauss(0, noise), y + rng.gauss(0, noise), label) for x, y, label in rows]
    rng.shuffle(rows)
    return rows


def write_csv(rows: list[tuple], path: str) -> None:
    """x1,x2,label with 6 decimals; written to a temporary file, then renamed into place."""
    text = "x1,x2,label\n" + "".join(f"{x:.6f},{y:.6f},{label:+d}\n" for x, y, label in rows)
    write_atomic(path, text)


def main() -> None:
    here = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", nargs="?", default=os.path.join(here, "moons.csv"))
    parser.add_argument("--points", type=int, default=POINTS)
    parser.add_argument("--noise", type=float, default=NOISE)
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args()
    write_csv(moons(args.points, args.noise, args.seed), args.out)


if __name__ == "__main__":
    main()
