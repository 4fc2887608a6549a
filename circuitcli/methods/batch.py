"""A circuit compiled once for batches: a few array operations per level, not one per gate.

Training runs the same tape forward and backward thousands of times over the same
rows. Gate by gate, each numpy call does little arithmetic and pays its overhead
(the moons MLP has ~1,000 gates, so ~3,000 calls per step). Here the nodes the
output uses are put in levels (one more than the deepest argument's), and the gates
of one kind, arity and level form a group. Values live in one (nodes x rows) array
whose rows are ordered so that every group's outputs are one contiguous block, and
an argument list that is evenly spaced is read as a strided view (no copy). Each
group runs its gate's own rules once (`gate.forward(B, ...)` and
`gate.backward(B, ...)` with the numpy backend), so the compiled path follows the
gate table and names no gate. Backward adds each group's pulls into its arguments'
rows in place; an argument used twice in a group is summed with `np.add.reduceat`.

Values equal the gate-by-gate interpreter's element for element; gradients differ
only in the order a node's pulls are summed (rounding, ~1e-16 relative).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..core.backend import numpy_backend
from ..core.circuit import Circuit
from ..core.lazy import lazy

np = lazy("numpy")

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
    # (k, block) when some argument reads one block of rows k times over (a layer's
    # inputs, once per unit): the group runs as k x block x rows, such arguments as
    # 1 x block x rows (broadcast, not copied), their pulls summed over the k copies
    tile: tuple[int, int] | None = None
    tiled: list[bool] | None = None


def _as_slice(rows) -> Any:
    """Evenly spaced ascending rows as a slice (read as a view), else the index array."""
    if len(rows) == 1:
        return slice(int(rows[0]), int(rows[0]) + 1)
    step = int(rows[1] - rows[0])
    if step > 0 and np.all(np.diff(rows) == step):
        return slice(int(rows[0]), int(rows[-1]) + 1, step)
    return rows


def _block(rows) -> int:
    """b when rows are their first b (distinct) rows repeated len/b > 1 times, else 0."""
    again = np.flatnonzero(rows[1:] == rows[0])
    if not again.size:
        return 0
    b = int(again[0]) + 1
    if len(rows) % b or len(np.unique(rows[:b])) != b:
        return 0
    return b if np.array_equal(rows, np.tile(rows[:b], len(rows) // b)) else 0


def _sums(rows) -> Any:
    """None if the rows are distinct, else how to sum pulls that land on the same row."""
    uniq, counts = np.unique(rows, return_counts=True)
    if counts.max() == 1:
        return None
    order = np.argsort(rows, kind="stable")
    return order, uniq, np.concatenate(([0], np.cumsum(counts)[:-1]))


class Compiled:
    """A circuit's groups, and value/gradient buffers for batches of each size.

    Use: `rows(names)` once; per batch `values(m)`, fill the input rows, `forward(V)`,
    then `backward(V, pull)`: row `rows([name])[0]` of the result is that input's
    gradient over the batch. `wrt` names the inputs whose gradients are wanted
    (default: all); backward leaves out what only the others need (the features'
    gradients, when training), and other rows of its result are not meaningful.
    """

    def __init__(self, circuit: Circuit, wrt: Sequence[str] | None = None) -> None:
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
        # leaves first, in the order the groups first read them, so that a group's leaf
        # arguments (a layer's weights) are often one evenly spaced block: a view, not a copy
        placed: set[int] = set()
        order = []
        for key in keys:
            for k in range(key[2]):
                for i in buckets[key]:
                    j = args[i][k]
                    if j not in grouped and j not in placed:
                        placed.add(j)
                        order.append(j)
        order += [i for i in range(n) if i not in grouped and i not in placed]
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
            blocks = [_block(c) for c in cols]
            b = next((x for x in blocks if x), 0)
            tiled = [x == b and b > 0 for x in blocks]
            cols = [c[:b] if t else c for c, t in zip(cols, tiled)]
            self.groups.append(_Group(gates[nodes[0]], slice(s, e),
                                      [_as_slice(c) for c in cols], [_sums(c) for c in cols],
                                      ((e - s) // b, b) if b else None, tiled if b else None))
        self.size = n
        self.output = int(self.row[circuit.output])
        consts = [i for i in range(n) if not args[i] and not circuit.is_input(i)]
        self._const_rows = self.row[np.array(consts, dtype=np.intp)]
        self._const_values = np.array([circuit.base[i] for i in consts], dtype=float)
        self._buffers: dict[int, tuple[Any, Any]] = {}
        self._plan_backward(circuit, [circuit.inputs[name] for name in
                                      (circuit.inputs if wrt is None else wrt)])
        # per batch size, each group's arguments as the last forward read them (for backward;
        # a view of V stays right: nothing writes a group's argument rows after it ran)
        self._args: dict[int, list[list[Any]]] = {}

    def _plan_backward(self, circuit: Circuit, wanted: list[int]) -> None:
        """Which pulls backward makes, and whether each sets its rows or adds to them.

        A node needs a gradient only if it depends on a wanted input; a group none of
        whose nodes needs one is skipped, and so is an argument position none of whose
        nodes needs one. The first pull into a row sets it (no zero-fill of the whole
        buffer); rows read before anything set them are zeroed first.
        """
        needs = bytearray(len(circuit))
        for i in wanted:
            needs[i] = 1
        for i, a in enumerate(circuit.args):
            if a and any(needs[j] for j in a):
                needs[i] = 1
        node_of = np.empty(self.size, dtype=np.intp)
        node_of[self.row] = np.arange(self.size)
        need_row = np.frombuffer(bytes(needs), dtype=np.uint8)[node_of].astype(bool)
        written = np.zeros(self.size, dtype=bool)
        written[self.output] = True
        zero: list[Any] = []
        self._plan: list[Any] = []  # per group, from the last: None (skip) or its pulls
        for g in reversed(self.groups):
            outs = np.arange(g.out.start, g.out.stop)
            if not need_row[outs].any():
                self._plan.append(None)
                continue
            unset = outs[~written[outs]]
            zero.extend(unset.tolist())  # read before anything pulled on them
            written[outs] = True
            pulls = []
            for a, sums in zip(g.args, g.sums):
                rows = np.arange(self.size)[a]
                if not need_row[rows].any():
                    pulls.append(None)
                    continue
                fresh = not written[rows].any()
                if not fresh:
                    zero.extend(np.unique(rows[~written[rows]]).tolist())
                written[rows] = True
                pulls.append((fresh, sums))
            self._plan.append(pulls)
        wanted_rows = self.row[np.array(wanted, dtype=np.intp)]
        zero.extend(wanted_rows[~written[wanted_rows]].tolist())  # wanted, never pulled on
        self._zero = np.unique(np.array(zero, dtype=np.intp))

    def rows(self, names: Sequence[str]):
        """The value-array rows of these inputs (an index array)."""
        inputs = self.circuit.inputs
        return self.row[np.array([inputs[name] for name in names], dtype=np.intp)]

    def values(self, m: int):
        """The (nodes x m) value array for batches of m rows, constants filled in.

        Made once per batch size and reused: fill the input rows, then `forward`.
        """
        found = self._buffers.get(m)
        if found is None:
            V = np.zeros((self.size, m))
            V[self._const_rows] = self._const_values[:, None]
            found = self._buffers[m] = (V, np.zeros((self.size, m)))
        return found[0]

    def forward(self, V) -> None:
        """Every group's values, level by level, written into V in place."""
        B = numpy_backend()
        saved = self._args[V.shape[1]] = []
        with np.errstate(all="ignore"):
            for g in self.groups:
                if g.tile is None:
                    xs = [V[a] for a in g.args]
                    V[g.out] = g.gate.forward(B, *xs)
                else:
                    shape = (*g.tile, V.shape[1])
                    xs = [V[a][None] if t else V[a].reshape(shape)
                          for a, t in zip(g.args, g.tiled)]
                    V[g.out].reshape(shape)[...] = g.gate.forward(B, *xs)
                saved.append(xs)

    def backward(self, V, pull):
        """Every node's gradient over the rows (V from `forward`), the output's being `pull`.

        Returns this object's gradient buffer for the batch size: the next call reuses it.
        """
        B = numpy_backend()
        G = self._buffers[V.shape[1]][1]
        if self._zero.size:
            G[self._zero] = 0.0
        G[self.output] = pull
        reduceat = np.add.reduceat
        groups = zip(reversed(self.groups), reversed(self._args[V.shape[1]]), self._plan)
        with np.errstate(all="ignore"):
            for g, xs, plan in groups:
                if plan is None:
                    continue  # no node of this group leads to a wanted input
                if g.tile is None:
                    up = G[g.out]
                    out = V[g.out]
                else:
                    shape = (*g.tile, V.shape[1])
                    up = G[g.out].reshape(shape)
                    out = V[g.out].reshape(shape)
                slopes = g.gate.slopes
                # what each argument gets: the gate's own backward rule (a flat zero passes
                # back 0 even under an infinite pull), or the pull itself for slopes of +-1
                flows = g.gate.backward(B, up, out, *xs) if slopes is None else None
                for k, (a, how) in enumerate(zip(g.args, plan)):
                    if how is None:
                        continue
                    fresh, sums = how
                    p = slopes[k] if slopes is not None else None
                    if g.tile is None and sums is None and (p == 1.0 or p == -1.0):
                        # a constant local derivative of +-1 (add, sub, neg): no product
                        if fresh:
                            G[a] = up if p == 1.0 else 0.0 - up  # 0 passes 0, not -0
                        elif p == 1.0:
                            G[a] += up
                        else:
                            G[a] -= up
                        continue
                    q = p * up if p is not None else np.broadcast_to(flows[k], up.shape)
                    if g.tile is not None:
                        # k x block x rows: a tiled argument's pulls summed over its k copies
                        q = q.sum(axis=0) if g.tiled[k] else q.reshape(-1, shape[2])
                    # a first pull is added to 0.0, as grad's sums are: -0.0 (cos at 0)
                    # reads 0.0, in the same pass as the copy where the rows are a view
                    if sums is not None:
                        order, uniq, starts = sums
                        if fresh:
                            total = reduceat(q[order], starts, axis=0)
                            total += 0.0
                            G[uniq] = total
                        else:
                            G[uniq] += reduceat(q[order], starts, axis=0)
                    elif fresh:
                        if isinstance(a, slice):
                            np.add(q, 0.0, out=G[a])
                        else:
                            G[a] = q + 0.0
                    else:
                        G[a] += q
        return G
