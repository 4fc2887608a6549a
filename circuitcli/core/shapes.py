"""The fast path of `parse`: a circuit file read statement by statement, by shape.

A machine-written circuit has a million statements and a handful of shapes:
`n7 = 0.5*n3 - 0.5*n5 + 0.3` is `@ = @*@ - @*@ + @` with six operands. One
`re.split` per megabyte of text (C speed) cuts the text into operands and the
shape between them; each new shape is parsed once, by the exact parser, into a
plan (which operand is read when, which gate is appended when); every statement
of that shape then replays its plan on its own operands. The tape comes out
exactly as the exact parser builds it, node for node, without source spans
(`Circuit.starts` computes those when an error or a drawing asks).

Anything the plan cannot vouch for hands the whole text back to the exact
parser: a statement over several lines, `;`, `\\`, a name that is not yet
allowed (a function, the statement's own name, one defined twice), a syntax
error. The exact parser then builds the tape or says what is wrong, as ever.
"""

from __future__ import annotations

import re
from array import array
from collections.abc import Callable
from operator import itemgetter
from typing import TYPE_CHECKING

from .gates import FUNCTIONS, GATES
from .syntax import CircuitError

if TYPE_CHECKING:
    from .circuit import Circuit

__all__ = ["build_by_shape"]

# An operand, as syntax.TOKEN reads one: a name not followed by '(' (a call's name stays
# in the shape; `(?![\w(])` keeps a name from being cut short to escape that rule), or a
# number. The group makes re.split return the operands between the pieces of shape.
_OPERAND = re.compile(r"([^\W\d]\w*(?![\w(])|\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)")
_COMMENT = re.compile(r"#[^\n]*")
_HOLE = "@"  # an operand's place in a shape; a text with an @ of its own takes the exact path
_CHUNK = 1 << 20  # characters cut at a time, so the pieces of only one chunk are alive
_INPUT = GATES["input"]
_CONST = GATES["const"]


class _Bail(Exception):
    """The fast path cannot vouch for this text: the exact parser takes it."""


class _Plan:
    """What one shape of statement does, read off the exact parser's tape of the shape.

    `steps` in tape order: an int k is "operand k" (it makes a node the first time its
    name or number is met), a (gate, i, j) is "append gate over the results of steps i
    and j" (j is -1 for one argument), (gate, (i, ...)) a gate of more arguments. That is
    the general replay. Most statements meet only names and numbers already on the tape:
    then their gates are numbered n, n+1, ... in advance, and the replay is a few column
    extends, each argument picked by an itemgetter from [operand nodes..., gate nodes..., -1].
    """

    __slots__ = ("arg0", "arg1", "assigns", "first", "gates", "holes", "kinks", "literal",
                 "lives", "nones", "slots", "steps", "zeros")

    def __init__(self, shape: str, exact: Callable[[str], Circuit]) -> None:
        self.holes = shape.count(_HOLE)
        pieces = shape.split(_HOLE)
        # each hole becomes a distinct name, spaced off so that no two run together
        c = exact("".join(p + (f" _{k} " if k < self.holes else "")
                          for k, p in enumerate(pieces)))
        head, _, body = shape.partition("=")
        self.assigns = head.strip() == _HOLE and bool(body)
        body = "".join(body.split()) if self.assigns else ""
        # `x = 5`, `x = -5` declare an input with a default when the operand is a number
        self.literal = body[:-1] if body in ("@", "-@", "+@") else None
        self.first = first = 1 if self.assigns else 0
        if sorted(c.inputs) != sorted(f"_{k}" for k in range(first, self.holes)):
            raise _Bail
        steps: list = []
        a0, a1, more = c.a0, c.a1, c.more
        for i, gate in enumerate(c.gates):
            if gate is _INPUT:
                steps.append(int(c.names[i][1:]))
            elif gate is _CONST or a0[i] < 0:
                raise _Bail  # a shape has no numbers, and no gate without arguments
            elif a1[i] == -2:
                steps.append((gate, more[i]))
            else:
                steps.append((gate, a0[i], a1[i]))
        if c._last != len(steps) - 1:
            raise _Bail  # the statement's node is not the last one it made
        self.steps = tuple(steps)
        # the replay when every operand is already a node: slots are the operands' nodes
        # (hole k at k - first), then the gates' nodes, then -1 for "no second argument"
        slot = {}
        gate_steps = []
        for i, step in enumerate(steps):
            if step.__class__ is int:
                slot[i] = step - first
            else:
                slot[i] = self.holes - first + len(gate_steps)
                gate_steps.append(step)
        none = self.holes - first + len(gate_steps)
        self.slots = tuple(slot[i] for i in range(len(steps)))
        self.gates = [step[0] for step in gate_steps]
        if any(len(step) == 2 for step in gate_steps):
            self.arg0 = None  # a gate of many arguments: the general replay only
        else:
            self.arg0 = tuple(slot[step[1]] for step in gate_steps)
            self.arg1 = tuple(slot[step[2]] if step[2] >= 0 else none for step in gate_steps)
            if len(gate_steps) > 1:
                self.arg0, self.arg1 = itemgetter(*self.arg0), itemgetter(*self.arg1)
        self.kinks = tuple(m for m, g in enumerate(self.gates) if g.kink is not None)
        self.nones = [None] * len(gate_steps)
        self.zeros = array("d", bytes(8 * len(gate_steps)))
        self.lives: dict[bytes, bytes] = {}  # the operands' liveness -> the gates'

    def live(self, operands: bytes) -> bytes:
        """Which gates depend on an input, given which operands do."""
        alive = bytearray(operands)
        for step in self.steps:
            if step.__class__ is not int:
                those = step[1] if len(step) == 2 else (step[1], step[2])
                alive.append(any(alive[self.slots[i]] for i in those if i >= 0))
        found = self.lives[operands] = bytes(alive[len(operands):])
        return found


def build_by_shape(c: Circuit, text: str, exact: Callable[[str], Circuit]) -> bool:
    """Build c's tape from text by statement shapes; False when the exact parser must.

    `exact(statement)` parses one statement's shape with the exact parser. On False, c is
    half built and must be thrown away.
    """
    c._starts = c._ends = None  # computed from the text when asked
    try:
        _build(c, text, exact)
    except _Bail:
        return False
    return True


def _build(c: Circuit, text: str, exact: Callable[[str], Circuit]) -> None:
    gates, a0, a1, names, base, live = c.gates, c.a0, c.a1, c.names, c.base, c.live
    named, kinkable = c.named, c.kinkable
    # While building, `named` also answers for numbers already on the tape (their const
    # node) and for function names (None: not an operand, not a name to define), so one
    # lookup sorts every word; both kinds are taken out again at the end.
    named.update(dict.fromkeys(FUNCTIONS))
    find = named.get
    liveness = live.__getitem__
    plans: dict[str, _Plan] = {}
    split = _OPERAND.split
    bare = False  # a bare expression was met: only the last statement may be one
    statements = 0
    last = -1
    pos, size = 0, len(text)
    while pos < size:
        end = text.find("\n", pos + _CHUNK)
        end = size if end < 0 else end + 1
        chunk = text[pos:end]
        pos = end
        if "#" in chunk:
            chunk = _COMMENT.sub("", chunk)
        if _HOLE in chunk or ";" in chunk or "\\" in chunk:
            raise _Bail
        parts = split(chunk)
        words = parts[1::2]
        shapes = _HOLE.join(parts[0::2]).split("\n")
        del parts
        w = 0
        for shape in shapes:
            plan = plans.get(shape)
            if plan is None:
                if not shape.strip(" \t\r\f\v"):
                    continue  # an empty line (TOKEN's spaces only: no other blank counts)
                try:
                    plan = plans[shape] = _Plan(shape, exact)
                except CircuitError:  # the exact parser will say what is wrong
                    raise _Bail from None
            if bare:
                raise _Bail
            if plan.assigns:
                name = words[w]
                # defined twice, used before, a function's name, or not a name at all
                if name in named or not name.isidentifier():
                    raise _Bail
                word = words[w + 1] if plan.literal is not None else ""
                if word[:1] == "." or word[:1].isdecimal():  # `x = 5`, not `x = y`
                    last = _declare(c, name, word, plan.literal)
                    w += 2
                    statements += 1
                    continue
            else:
                name = None
            ops = words[w + plan.first:w + plan.holes]
            w += plan.holes
            nodes = list(map(find, ops))
            kinds = plan.gates
            if None in nodes or plan.arg0 is None:
                node = _replay(c, plan, [None] * plan.first + ops, name)
            elif kinds:
                # every operand is on the tape: the gates are numbered n, n+1, ... already
                n = len(gates)
                lives = plan.lives.get(bytes(map(liveness, nodes))) or plan.live(
                    bytes(map(liveness, nodes)))
                nodes += range(n, n + len(kinds))
                nodes.append(-1)
                gates += kinds
                if plan.arg1.__class__ is tuple:
                    a0.append(nodes[plan.arg0[0]])
                    a1.append(nodes[plan.arg1[0]])
                else:
                    a0.extend(plan.arg0(nodes))
                    a1.extend(plan.arg1(nodes))
                live += lives
                names += plan.nones
                base += plan.zeros
                if plan.kinks:
                    kinkable.extend([n + m for m in plan.kinks])
                node = len(gates) - 1
            else:
                node = nodes[0]  # `q = x`: another name for node x
            statements += 1
            last = node
            if name is None:
                bare = True
            else:
                if names[node] is None:
                    names[node] = name
                named[name] = node
        if w != len(words):
            raise _Bail
    if not statements:
        raise _Bail
    for word in FUNCTIONS:
        del named[word]
    for word in c.consts:
        del named[word]
    c._last = last


def _declare(c: Circuit, name: str, word: str, sign: str) -> int:
    """`name = 5`: an input with a default, as the exact parser makes it."""
    node = len(c.gates)
    c.gates.append(_INPUT)
    c.a0.append(-1)
    c.a1.append(-1)
    c.names.append(name)
    c.base.append(0.0)
    c.live.append(1)
    c.inputs[name] = c.named[name] = node
    value = float(word)
    c.defaults[name] = -value if sign == "-" else value
    return node


def _replay(c: Circuit, plan: _Plan, ops: list, name: str | None) -> int:
    """The general replay of a plan: operands may be new inputs or constants (made the
    moment they are read, as the exact parser makes them), gates may take many arguments."""
    gates, a0, a1, names, base, live = c.gates, c.a0, c.a1, c.names, c.base, c.live
    known = c.named  # names, and while building also numbers and functions (None)
    made: list[int] = []
    node = -1
    for step in plan.steps:
        if step.__class__ is int:
            word = ops[step]
            node = known.get(word)
            if node is None:
                node = len(gates)
                if word[0] == "." or word[0].isdecimal():  # a number
                    c.consts[word] = known[word] = node
                    gates.append(_CONST)
                    names.append(None)
                    base.append(float(word))
                    live.append(0)
                else:
                    if word == name or word in FUNCTIONS:
                        raise _Bail  # a cycle, or a function without a call
                    gates.append(_INPUT)
                    names.append(word)
                    base.append(0.0)
                    live.append(1)
                    c.inputs[word] = known[word] = node
                a0.append(-1)
                a1.append(-1)
        else:
            gate = step[0]
            node = len(gates)
            args = (tuple(made[i] for i in step[1]) if len(step) == 2
                    else (made[step[1]],) if step[2] < 0 else (made[step[1]], made[step[2]]))
            c._put_args(node, args)
            gates.append(gate)
            names.append(None)
            base.append(0.0)
            live.append(any(live[x] for x in args))
            if gate.kink is not None:
                c.kinkable.append(node)
        made.append(node)
    return node
