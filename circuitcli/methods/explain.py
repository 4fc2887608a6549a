"""The chain rule, one use at a time: who pulls on each node, and with what.

`backward` adds `local × pull` into a node's gradient once per use; this module keeps
each of those products instead of only their sum, so `circuit explain` can tell the
backward pass as a story and `circuit graph` can label every edge with what flows along
it. The products come from the tape and each gate's own backward rule, in the same
order `backward` adds them, so their sum is the gradient bit for bit. No gate is named.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..core.backend import REAL
from ..core.evaluate import Result

__all__ = ["Explanation", "Use", "edge_contributions", "explain"]


@dataclass(frozen=True, slots=True)
class Use:
    """One use of a node: node `by` computes from it and pulls on it.

    `local` is d by / d node, `pull` is by's gradient, `contribution` = local × pull
    (0 when nothing pulls on `by`, as backward skips it).
    """

    by: int
    slot: int  # which argument of `by` this use is (a*a has slots 0 and 1)
    local: float
    pull: float
    contribution: float


@dataclass
class Explanation:
    """A result and, per node, its uses in the order backward adds them."""

    result: Result
    uses: list[list[Use]]

    def total(self, i: int) -> float:
        """The sum of node i's contributions, added as backward adds them."""
        if i == self.result.circuit.output:
            return self.result.pull
        g = 0.0
        for use in self.uses[i]:
            g += use.contribution
        return g


def explain(result: Result) -> Explanation:
    """Every use of every node the output's backward sweep reaches, with its product.

    Users are walked from the output down, as `backward` does, so each node's list
    sums (left to right from 0.0) to exactly the gradient `backward` gave it. Nodes
    after the output, and the output's own users, are not part of its sweep.
    """
    c = result.circuit
    if result.grads is None:
        raise ValueError("explain needs a result with gradients")
    vals, grads = result.values, result.grads
    uses: list[list[Use]] = [[] for _ in range(len(c))]
    reached = bytearray(len(c))  # backward runs a gate's rule once the sweep reaches it
    reached[c.output] = 1
    for i in range(c.output, -1, -1):
        a = c.args[i]
        if not a or not reached[i]:
            continue
        g, gate = grads[i], c.gates[i]
        xs = [vals[j] for j in a]
        # the contributions are the gate's own backward rule (kept in range, a flat zero
        # passes back 0), exactly what backward adds; `local` is the slope it stands for
        flows = gate.backward(REAL, g, vals[i], *xs)
        locals_ = gate.partials(REAL, vals[i], *xs)
        for slot, (j, p, flow) in enumerate(zip(a, locals_, flows)):
            uses[j].append(Use(i, slot, p, g, flow))
            reached[j] = 1
    return Explanation(result, uses)


def edge_contributions(explanation: Explanation) -> dict[tuple[int, int, int], float]:
    """(argument, user, slot) -> what flows back along that edge."""
    edges: dict[tuple[int, int, int], float] = {}
    for j, node_uses in enumerate(explanation.uses):
        for use in node_uses:
            edges[(j, use.by, use.slot)] = use.contribution
    return edges
