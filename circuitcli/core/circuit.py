"""The Circuit: a tape of gates in topological order, built once, evaluated many times.

A node is a gate plus the indices of its arguments. A name used twice is one
node used twice, which is why `a*a` accumulates 2a in the backward sweep. The tape
answers its own graph questions (which nodes the output uses, their labels); it knows
neither the text's grammar (core/parser.py builds it) nor how to evaluate it
(core/evaluate.py runs it).
"""

from __future__ import annotations

import re
from array import array
from bisect import bisect_right
from collections.abc import Callable, Mapping
from itertools import compress, islice

from .gates import GATES, Gate, format_number
from .grammar import CONSTANTS
from .syntax import CircuitError, suggest

__all__ = ["Circuit"]

_INPUT = GATES["input"]
_CONST = GATES["const"]


class Args:
    """Node i's arguments as a tuple, read from the circuit's columns: what readers that
    are not on the hot path use (the evaluators read the columns themselves)."""

    __slots__ = ("c",)

    def __init__(self, c: Circuit) -> None:
        self.c = c

    def __len__(self) -> int:
        return len(self.c.a0)

    def __getitem__(self, i: int) -> tuple[int, ...]:
        c = self.c
        a = c.a0[i]
        if a < 0:
            return ()
        b = c.a1[i]
        if b >= 0:
            return (a, b)
        if b == -1:
            return (a,)
        return c.more[i if i >= 0 else i + len(c.a0)]

    def __iter__(self):
        more = self.c.more
        for i, (a, b) in enumerate(zip(self.c.a0, self.c.a1)):
            yield (a, b) if b >= 0 else () if a < 0 else (a,) if b == -1 else more[i]


class Circuit:
    """A tape: per node its gate, argument indices, user name and source span."""

    def __init__(self, text: str, source: str = "") -> None:
        self.text = text
        self.source = source
        self.gates: list[Gate] = []
        # the arguments as two columns of node indices (8 bytes a node, no tuple per node):
        # a0 is -1 for a leaf, a1 is -1 for a one-argument gate and -2 for a gate of more
        # than two arguments, whose arguments are then in `more`. `args` reads them as tuples.
        self.a0 = array("i")
        self.a1 = array("i")
        self.more: dict[int, tuple[int, ...]] = {}
        self.names: list[str | None] = []
        # source spans: filled by the exact parser; the fast path leaves them to `starts`,
        # which asks `_spans_from` (the exact parser) for them
        self._starts: array | None = array("l")
        self._ends: array | None = array("l")
        self._spans_from: Callable[[str], Circuit] | None = None
        # the values a fresh evaluation starts from: constants filled in, the rest 0.0
        self.base = array("d")
        # node depends on some input (only such nodes carry a meaningful gradient)
        self.live = bytearray()
        self.inputs: dict[str, int] = {}
        self.defaults: dict[str, float] = {}
        # every user name, including aliases (`q = x` names node x as q too)
        self.named: dict[str, int] = {}
        # nodes whose gate has kinks, to look at after a forward pass
        self.kinkable = array("i")
        # constant nodes by their text, so each distinct literal is one leaf
        self.consts: dict[str, int] = {}
        self.output = -1
        self._last = -1  # the last statement's node: the output unless --of says otherwise
        self._labels: list[str] | None = None
        self._used: bytearray | None = None
        self._kinds: list[Gate] | None = None
        self._sweeps: tuple | None = None  # core/sweep.py's compiled loops, for big tapes

    # -- building ------------------------------------------------------------------------
    def _add(self, gate: Gate, args: tuple[int, ...], start: int, end: int, value: float = 0.0,
             live: bool = False) -> int:
        i = len(self.gates)
        self.gates.append(gate)
        self._put_args(i, args)
        self.names.append(None)
        self._starts.append(start)
        self._ends.append(end)
        self.base.append(value)
        self.live.append(live or any(self.live[a] for a in args))
        if gate.kink is not None:
            self.kinkable.append(i)
        return i

    def _put_args(self, i: int, args: tuple[int, ...]) -> None:
        """Append node i's arguments to the columns."""
        n = len(args)
        self.a0.append(args[0] if n else -1)
        self.a1.append(args[1] if n == 2 else -1 if n < 2 else -2)
        if n > 2:
            self.more[i] = args

    @property
    def args(self) -> Args:
        """Each node's arguments as a tuple (a view over the columns a0, a1, more)."""
        return Args(self)

    @property
    def starts(self) -> array:
        """Where each node's text starts; the fast path computes spans only when asked."""
        if self._starts is None:
            self._spans()
        return self._starts

    @property
    def ends(self) -> array:
        if self._ends is None:
            self._spans()
        return self._ends

    def _spans(self) -> None:
        """The source spans, from the exact parser over the same text: an error message or a
        drawing that points into the text pays for them, a run of a big file does not."""
        exact = self._spans_from(self.text)
        if (len(exact) != len(self) or exact.gates != self.gates or exact.a0 != self.a0
                or exact.a1 != self.a1):
            raise AssertionError("the fast and the exact parser built different tapes")
        self._starts, self._ends = exact._starts, exact._ends

    def __len__(self) -> int:
        return len(self.gates)

    # -- reading -------------------------------------------------------------------------
    @property
    def output_name(self) -> str:
        return self.label(self.output)

    def label(self, i: int) -> str:
        """Node i's label, as labels()[i], without building every node's label."""
        return self.labels_of([i])[i]

    def labels_of(self, nodes) -> dict[int, str]:
        """Some nodes' labels, as labels() gives them, in one pass and no other strings.

        Named nodes (the usual output) answer at once; for the others one pass counts the
        unnamed gates of each stem up to the last node asked for: warnings about a few nodes
        of a million-gate tape do not build a million labels.
        """
        if self._labels is not None:
            return {i: self._labels[i] for i in nodes}
        found: dict[int, str] = {}
        wanted: dict[int, str] = {}  # node -> its stem, for the nodes a count must name
        out = self.output if "out" not in self.named else -1
        for i in nodes:
            name = self.names[i]
            gate = self.gates[i]
            if name is not None:
                found[i] = name
            elif i == out:
                found[i] = "out"
            elif gate is _CONST:
                found[i] = format_number(self.base[i])
            else:
                wanted[i] = gate.stem
        if not wanted:
            return found
        stems = set(wanted.values())
        kinds = {stem: [g for g in set(self.gates) if g.stem == stem and g is not _CONST]
                 for stem in stems}
        # the numbers k >= 1 whose name stem+k a user took (no leading zeros: mul01 and mul0
        # are never a counter's): the counter steps over them; regular-expression passes
        # over the names, not a loop in Python
        taken: dict[str, list[int]] = {stem: [] for stem in stems}
        names_left = iter(self.named)
        while True:  # a segment of names at a time: no copy of them all on a big tape
            block = "\n".join(islice(names_left, _SEGMENT))
            if not block:
                break
            for stem in stems:
                taken[stem] += map(int, re.findall(rf"^{re.escape(stem)}([1-9][0-9]*)$", block,
                                                   re.MULTILINE))
        for numbers in taken.values():
            numbers.sort()
        # the unnamed gates of each stem, counted segment by segment at C speed
        counts = dict.fromkeys(stems, 0)
        gates, names = self.gates, self.names
        before = 0
        for i in sorted(wanted):
            for low in range(before, i + 1, _SEGMENT):  # copies of a segment at most
                high = min(low + _SEGMENT, i + 1)
                some, their = gates[low:high], names[low:high]
                labelled = list(compress(some, their))  # the segment's gates with a name
                for stem in stems:
                    counts[stem] += sum(some.count(g) - labelled.count(g) for g in kinds[stem])
            if before <= out <= i and names[out] is None and gates[out].stem in stems:
                counts[gates[out].stem] -= 1  # the output is `out`, not counted
            before = i + 1
            found[i] = f"{wanted[i]}{_free(counts[wanted[i]], taken[wanted[i]])}"
        return found

    def labels(self) -> list[str]:
        """A name for every node: the user's, else the gate's stem and a counter (mul1)."""
        if self._labels is None:
            taken = set(self.named)
            counters: dict[str, int] = {}
            labels = []
            for i, (gate, name) in enumerate(zip(self.gates, self.names)):
                if name is None:
                    if i == self.output and "out" not in taken:
                        name = "out"
                    elif gate is _CONST:
                        name = format_number(self.base[i])
                    else:
                        k = counters.get(gate.stem, 0)
                        while True:
                            k += 1
                            name = f"{gate.stem}{k}"
                            if name not in taken:
                                break
                        counters[gate.stem] = k
                labels.append(name)
            self._labels = labels
        return self._labels

    def formula(self, i: int, labels: Mapping[int, str] | None = None) -> str:
        """Node i as its gate over its arguments' names: `x + y`, `sigmoid(q)`.

        `labels` may hold the arguments' labels already (labels_of, for several formulas).
        """
        gate = self.gates[i]
        if self.a0[i] < 0:
            return format_number(self.base[i]) if gate is _CONST else "input"
        args = self.args[i]
        if labels is None:
            labels = self.labels_of(args)
        return gate.describe([labels[a] for a in args])

    def labels_around(self, nodes: list[int]) -> dict[int, str]:
        """labels_of these nodes and their arguments: what their formulas name."""
        return self.labels_of({j for i in nodes for j in (i, *self.args[i])})

    def kinds(self) -> list[Gate]:
        """The distinct gates of the tape, each with its float rules compiled (kept)."""
        if self._kinds is None:
            self._kinds = [gate.ready() for gate in set(self.gates)]
        return self._kinds

    def used(self) -> bytearray:
        """Which nodes the output depends on (1) or not (0): one reverse sweep, kept.

        Evaluators, check, code and the drawings all ask this one question; a circuit is
        not changed after it is built, so the answer is computed once.
        """
        if self._used is None:
            used = bytearray(len(self.gates))
            used[self.output] = 1
            a0, a1, more = self.a0, self.a1, self.more
            for i in range(self.output, -1, -1):
                if used[i]:
                    a = a0[i]
                    if a >= 0:
                        used[a] = 1
                        b = a1[i]
                        if b >= 0:
                            used[b] = 1
                        elif b == -2:
                            for a in more[i]:
                                used[a] = 1
            self._used = used
        return self._used

    def ancestors(self) -> list[int]:
        """The live nodes the output depends on, in tape order."""
        used, live = self.used(), self.live
        return [i for i in range(self.output + 1) if used[i] and live[i]]

    def unused(self) -> list[int]:
        """Inputs and gates the output does not depend on (dead statements, unused inputs)."""
        used = self.used()
        a0 = self.a0
        return [i for i in range(len(self)) if not used[i] and (a0[i] >= 0 or self.is_input(i))]

    def is_input(self, i: int) -> bool:
        return self.gates[i] is _INPUT

    def is_const(self, i: int) -> bool:
        return not self.live[i]

    def _reads_constant(self, name: str) -> bool:
        """Whether the text reads `name` as a named constant (pi, e): its leaf is named so."""
        node = self.consts.get(repr(CONSTANTS[name]))
        return node is not None and self.names[node] == name

    # -- values --------------------------------------------------------------------------
    def values_for(self, given: Mapping[str, float] | None = None) -> dict[str, float]:
        """Defaults overridden by `given`; every input must end up with a value."""
        values = dict(self.defaults)
        for name, value in (given or {}).items():
            if name not in self.inputs:
                if name in CONSTANTS and self._reads_constant(name):
                    raise CircuitError(
                        f"{name} is the constant {CONSTANTS[name]!r} in this circuit, not an"
                        f" input; to make it an input, define it there first ({name} = 1.5)")
                if name in self.named:
                    raise CircuitError(
                        f"{name} is computed by the circuit, not an input; inputs: "
                        + ", ".join(self.inputs)
                    )
                raise CircuitError(
                    f"the circuit has no input named {name}"
                    + (suggest(name, self.inputs)
                       or f"; inputs: {', '.join(self.inputs) or 'none'}")
                )
            values[name] = float(value)
        missing = [n for n in self.inputs if n not in values]
        if missing:
            first = self.inputs[missing[0]]
            shown = missing[:5]
            more = f" and {len(missing) - 5} more" if len(missing) > 5 else ""
            listed = " ".join(f"{n}=..." for n in shown)
            raise CircuitError(
                f"no value for {', '.join(shown)}{more}: give one on the command line ({listed})"
                f" or declare it in the circuit ({shown[0]} = 1.5)",
                self.text, self.starts[first], self.ends[first], self.source,
            )
        return values


# labels_of counts over copies of this many nodes at a time (a copy of a million-node
# column would add to the peak memory of a run that warns about a node near its end)
_SEGMENT = 1 << 16


def _free(count: int, taken: list[int]) -> int:
    """The count-th positive integer not in `taken` (sorted): what a counter that steps
    over taken numbers reaches on its count-th step."""
    number = count
    while True:
        reached = count + bisect_right(taken, number)
        if reached == number:
            return number
        number = reached
