"""A circuit compiled once for batches: a few array operations per level, not one per gate.

Training runs the same tape forward and backward thousands of times over the same
rows. Gate by gate, each numpy call does little arithmetic and pays its overhead
(the moons MLP has ~1,000 gates, so ~3,000 calls per step). Here the nodes the
output uses are put in levels (one more than the deepest argument's), and the gates
of one kind, arity and level form a group. Values live in one (nodes x rows) array
whose rows are ordered so that every group's outputs are one contiguous block, and
an argument list that is evenly spaced is read as a strided view (no copy). Each
group runs its gate's own rules once (`gate.forward(B, ...)` and
`gate.partials(B, ...)` with the numpy backend), so the compiled path follows the
gate table and names no gate. Backward adds each group's pulls into its arguments'
rows in place; an argument used twice in a group is summed with `np.add.reduceat`.

Values equal the gate-by-gate interpreter's element for element; gradients differ
only in the order a node's pulls are summed (rounding, ~1e-16 relative).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..core.circuit import Circuit

__all__ = ["Compiled"]


@dataclass
class _Group:
    """Gates of one kind and arity on one level: rows out = gate(rows args[0], args[1], ...)."""

    gate: Any
    out: slice
    args: list[Any]  # per argument position: a slice (a view) or an index array (a copy)
    # per argument position: None (its rows are distinct: add in place) or
    # (sort order, distinct rows, start of each run) for np.add.reduceat
    sums: list[Any]


def _as_slice(rows) -> Any:
    """Evenly spaced ascending rows as a slice (read as a view), else the index array."""
    import numpy as np

    if len(rows) == 1:
        return slice(int(rows[0]), int(rows[0]) + 1)
    step = int(rows[1] - rows[0])
    if step > 0 and np.all(np.diff(rows) == step):
        return slice(int(rows[0]), int(rows[-1]) + 1, step)
    return rows


def _sums(rows) -> Any:
    """None if the rows are distinct, else how to sum pulls that land on the same row."""
    import numpy as np

    uniq, counts = np.unique(rows, return_counts=True)
    if counts.max() == 1:
        return None
    order = np.argsort(rows, kind="stable")
    return order, uniq, np.concatenate(([0], np.cumsum(counts)[:-1]))


class Compiled:
    """A circuit's groups, and value/gradient buffers for batches of each size.

    Use: `rows(names)` once; per batch `values(m)`, fill the input rows, `forward(V)`,
    then `backward(V, pull)`: row `rows([name])[0]` of the result is that input's
    gradient over the batch.
    """

    def __init__(self, circuit: Circuit) -> None:
        import numpy as np

        self.circuit = circuit
        n = len(circuit)
        used = circuit.used()
        args = circuit.args
        gates = circuit.gates
        level = [0] * n
        buckets: dict[tuple[int, int, int], list[int]] = {}
        for i in range(circuit.output + 1):
            a = args[i]
            if used[i] and a:
                level[i] = lv = 1 + max(level[j] for j in a)
                buckets.setdefault((lv, id(gates[i]), len(a)), []).append(i)
        keys = sorted(buckets, key=lambda k: k[0])  # stable: tape order within a level
        grouped = {i for nodes in buckets.values() for i in nodes}
        order = [i for i in range(n) if i not in grouped]  # leaves (and unused nodes) first
        spans = []
        for key in keys:
            spans.append((len(order), len(order) + len(buckets[key])))
            order.extend(buckets[key])
        self.row = np.empty(n, dtype=np.intp)  # node -> its row in the value array
        self.row[np.array(order, dtype=np.intp)] = np.arange(n)
        self.groups: list[_Group] = []
        for key, (s, e) in zip(keys, spans):
            nodes = buckets[key]
            cols = [self.row[np.array([args[i][k] for i in nodes], dtype=np.intp)]
                    for k in range(key[2])]
            self.groups.append(_Group(gates[nodes[0]], slice(s, e),
                                      [_as_slice(c) for c in cols], [_sums(c) for c in cols]))
        self.size = n
        self.output = int(self.row[circuit.output])
        consts = [i for i in range(n) if not args[i] and not circuit.is_input(i)]
        self._const_rows = self.row[np.array(consts, dtype=np.intp)]
        self._const_values = np.array([circuit.base[i] for i in consts], dtype=float)
        self._buffers: dict[int, tuple[Any, Any]] = {}
        # per batch size, each group's arguments as the last forward read them (for backward;
        # a view of V stays right: nothing writes a group's argument rows after it ran)
        self._args: dict[int, list[list[Any]]] = {}

    def rows(self, names: Sequence[str]):
        """The value-array rows of these inputs (an index array)."""
        import numpy as np

        inputs = self.circuit.inputs
        return self.row[np.array([inputs[name] for name in names], dtype=np.intp)]

    def values(self, m: int):
        """The (nodes x m) value array for batches of m rows, constants filled in.

        Made once per batch size and reused: fill the input rows, then `forward`.
        """
        import numpy as np

        found = self._buffers.get(m)
        if found is None:
            V = np.zeros((self.size, m))
            V[self._const_rows] = self._const_values[:, None]
            found = self._buffers[m] = (V, np.zeros((self.size, m)))
        return found[0]

    def forward(self, V) -> None:
        """Every group's values, level by level, written into V in place."""
        import numpy as np

        from ..core.backend import numpy_backend

        B = numpy_backend()
        saved = self._args[V.shape[1]] = []
        with np.errstate(all="ignore"):
            for g in self.groups:
                xs = [V[a] for a in g.args]
                V[g.out] = g.gate.forward(B, *xs)
                saved.append(xs)

    def backward(self, V, pull):
        """Every node's gradient over the rows (V from `forward`), the output's being `pull`.

        Returns this object's gradient buffer for the batch size: the next call reuses it.
        """
        import numpy as np

        from ..core.backend import numpy_backend

        B = numpy_backend()
        G = self._buffers[V.shape[1]][1]
        G.fill(0.0)
        G[self.output] = pull
        reduceat = np.add.reduceat
        with np.errstate(all="ignore"):
            for g, xs in zip(reversed(self.groups), reversed(self._args[V.shape[1]])):
                up = G[g.out]
                partials = g.gate.partials(B, V[g.out], *xs)
                for a, s, p in zip(g.args, g.sums, partials):
                    if s is None:
                        if p.__class__ is float and (p == 1.0 or p == -1.0):
                            # a constant local derivative of +-1 (add, sub, neg): no product
                            if p == 1.0:
                                G[a] += up
                            else:
                                G[a] -= up
                        else:
                            G[a] += p * up
                    else:
                        order, uniq, starts = s
                        G[uniq] += reduceat((p * up)[order], starts, axis=0)
        return G
