"""The Circuit: a tape of gates in topological order, built once, evaluated many times.

A node is a gate plus the indices of its arguments. A name used twice is one
node used twice, which is why `a*a` accumulates 2a in the backward sweep.
`parse` builds the tape in one pass over the text with explicit stacks, so a
million-gate chain or 100,000 nested parentheses are as safe as a three-gate one.
"""

from __future__ import annotations

import re
from array import array
from bisect import bisect_right
from collections.abc import Mapping
from functools import cache
from itertools import compress
from typing import TYPE_CHECKING

from .gates import FUNCTIONS, GATES, OPERATORS, Gate, format_number
from .syntax import (
    ASSIGN,
    CALL,
    CLOSE,
    COMMA,
    DIVIDE,
    END,
    EOF,
    MINUS,
    NAME,
    NUM,
    OPEN,
    PLUS,
    TOKEN,
    CircuitError,
    check_statement,
    statement_span,
)

if TYPE_CHECKING:
    from .evaluate import Result

__all__ = ["Circuit", "parse", "suggest"]

_INPUT = GATES["input"]
_CONST = GATES["const"]


def suggest(word: str, choices, what: str = "") -> str:
    """'; did you mean X?' for the nearest choice, or ''."""
    import difflib  # only on the error path: keeps start-up lean

    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"; did you mean {close[0]}?" if close else ""


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
        # source spans: filled by the exact parser; the fast path leaves them to `starts`
        self._starts: array | None = array("l")
        self._ends: array | None = array("l")
        # the values a fresh evaluation starts from: constants filled in, the rest 0.0
        self.base = array("d")
        # node depends on some input (only such nodes carry a meaningful gradient)
        self.live = bytearray()
        self.inputs: dict[str, int] = {}
        self.defaults: dict[str, float] = {}
        # every user name, including aliases (`q = x` names node x as q too)
        self.named: dict[str, int] = {}
        # nodes whose gate has kinks, to look at after a forward pass
        self.kinkable: list[int] = []
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
        exact = Circuit(self.text, self.source)
        _build(exact, self.text)
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
        # are never a counter's): the counter steps over them; one regular-expression pass
        # over the names, not a loop in Python
        every = "\n".join(self.named)
        taken = {stem: sorted(int(k) for k in re.findall(
            rf"^{re.escape(stem)}([1-9][0-9]*)$", every, re.MULTILINE)) for stem in stems}
        # the unnamed gates of each stem, counted segment by segment at C speed
        counts = dict.fromkeys(stems, 0)
        gates, names = self.gates, self.names
        before = 0
        for i in sorted(wanted):
            some, their = gates[before:i + 1], names[before:i + 1]
            labelled = list(compress(some, their))  # the segment's gates that have a name
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

    # -- evaluating ----------------------------------------------------------------------
    def values_for(self, given: Mapping[str, float] | None = None) -> dict[str, float]:
        """Defaults overridden by `given`; every input must end up with a value."""
        values = dict(self.defaults)
        for name, value in (given or {}).items():
            if name not in self.inputs:
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

    def forward(self, **values: float) -> Result:
        """Values of every node at these inputs (defaults fill the rest)."""
        from .evaluate import evaluate

        return evaluate(self, self.values_for(values), with_grads=False)

    def grad(self, pull: float = 1.0, **values: float) -> Result:
        """Forward, then one reverse sweep whose output gradient is `pull`."""
        from .evaluate import evaluate

        return evaluate(self, self.values_for(values), pull=pull)


def _free(count: int, taken: list[int]) -> int:
    """The count-th positive integer not in `taken` (sorted): what a counter that steps
    over taken numbers reaches on its count-th step."""
    number = count
    while True:
        reached = count + bisect_right(taken, number)
        if reached == number:
            return number
        number = reached


def parse(text: str, source: str = "", output: str | None = None) -> Circuit:
    """Text (an expression or a circuit file's statements) to a Circuit, in one pass.

    One regular-expression pass over the text; a shunting-yard over each statement's tokens
    appends every gate to the tape the moment its operator is reduced. No token, term or
    statement objects are kept, only the tape. A name met before any statement defines it
    becomes an input; should a later statement define it after all, that is the "used before
    its definition" error. When something is wrong, syntax.check_statement explains it.
    """
    c = Circuit(text, source)
    try:
        if len(text) < _FAST_FROM or not _by_shape(c, text):
            c = Circuit(text, source)
            _build(c, text)
        c.output = _output(c, output)
    except CircuitError as err:
        err.source = source
        raise
    return c


# Texts this long take the fast path first (core/shapes.py); shorter ones are parsed at
# once by the exact parser, which is as fast for them and keeps start-up lean.
_FAST_FROM = 20_000


def _by_shape(c: Circuit, text: str) -> bool:
    from .shapes import build_by_shape

    return build_by_shape(c, text, _parse_exact)


def _parse_exact(text: str) -> Circuit:
    """The exact parser alone: spans, and every error explained."""
    c = Circuit(text)
    _build(c, text)
    return c


def _binaries() -> tuple:
    """Per operator group of the TOKEN pattern: its gate, its operator-stack entry
    (precedence, gate, start) and the lowest precedence it reduces from the stack before it
    is pushed (left-associative operators: their own; ** is right-associative). Read from
    the gate table at each parse, so a gate replaced in the table is the one used."""
    return (None, None, None, None, *(
        (OPERATORS[op], (prec, OPERATORS[op], 0), prec + right)
        for op, prec, right in (("+", 1, 0), ("-", 1, 0), ("**", 4, 1), ("*", 2, 0),
                                ("/", 2, 0))
    ))


_PAREN = (0, None, 0)
# what may stand between two tokens: f( # nothing here
# ) is still f()
_NOTHING = r"(?:[ \t\r\f\v\n]+|\\\n|\#[^\n]*)*"


@cache
def _rare(pattern: str) -> re.Pattern:
    """Patterns for rare corners, compiled when first met (start-up stays lean)."""
    return re.compile(pattern)
_LITERAL = re.compile(r"(?:[ \t\r\f\v]|\\\n)*([+-]?)(?:[ \t\r\f\v]|\\\n)*"
                      r"((?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)")


def _build(c: Circuit, text: str) -> None:
    """The one pass: tokens in, gates appended to the tape's lists; no recursion.

    The operand stack holds (node, start, end): a node and the span of the text that made
    it; the operator stack holds (precedence, gate, start), (0, None, 0) for a parenthesis
    and (0, function name, start) for a call. The loop notices a mistake and hands the
    statement to check_statement, which says what the mistake is.

    Reducing the operators on the stack is written out where it happens (before a binary
    operator, at ')', at ',', at the end of a statement) rather than called: this loop runs
    once per token of a million-gate file, and a call per reduced gate is what it avoids.
    """
    gates, a0, a1, names, starts, ends, base, live = (
        c.gates, c.a0, c.a1, c.names, c._starts, c._ends, c.base, c.live)
    named, consts, kinkable, inputs = c.named, c.consts, c.kinkable, c.inputs
    defined: dict[str, int] = {}  # name -> where its statement names it
    binaries = _binaries()
    neg = OPERATORS["neg"]
    stack: list[tuple[int, int, int]] = []
    push, pop = stack.append, stack.pop
    ops: list[tuple] = []
    counts: list[int] = []  # arguments so far of each open call
    expect = True  # an operand comes next (else an operator)
    depth = 0  # open parentheses, so a newline inside them continues the statement
    at = 0  # where the current statement starts (after the last ';' or newline)
    name: str | None = None  # the current statement's `name =`
    name_start = name_end = body_at = 0
    first = 0  # the tape's length when the current statement began
    skip = -1  # the end of a '(' already taken as a call's
    bare = -1  # where the last bare expression statement starts, -1 if none
    statements = 0

    for m in TOKEN.finditer(text):
        k = m.lastindex
        if k == NAME:
            if not expect:
                raise _mistake(text, at)
            word = m.group(1)
            e = m.end()
            s = e - len(word)
            node = named.get(word)
            if node is None:
                if word == name or word in FUNCTIONS:
                    # (relu
                    #  (x)): a call after all, its '(' on the next line
                    after = _rare(_NOTHING + r"\(").match(text, e) if depth > 0 else None
                    if after is None:
                        raise _wrong(text, at, bare, _bad_reference(text, word, name, s, e))
                    ops.append((0, word, s, after.end()))
                    counts.append(1)
                    depth += 1
                    skip = after.end()
                    continue
                node = c._add(_INPUT, (), s, e, live=True)
                names[node] = word
                inputs[word] = node
                named[word] = node
            push((node, s, e))
            expect = False
        elif CALL < k <= DIVIDE:
            if expect:
                if k == MINUS:
                    ops.append((3, neg, m.end() - 1))
                elif k != PLUS:  # unary plus changes nothing
                    raise _mistake(text, at)
                continue
            gate, entry, lowest = binaries[k]
            while ops and ops[-1][0] >= lowest:
                _, g, s = ops.pop()
                n = len(gates)
                if g is neg:
                    a, _, e = stack[-1]
                    a0.append(a)
                    a1.append(-1)
                    live.append(live[a])
                else:
                    b, _, e = pop()
                    a, s, _ = stack[-1]
                    a0.append(a)
                    a1.append(b)
                    live.append(live[a] or live[b])
                gates.append(g)
                if g.kink is not None:  # pow at 0 ** 0
                    kinkable.append(len(gates) - 1)
                names.append(None)
                starts.append(s)
                ends.append(e)
                base.append(0.0)
                stack[-1] = (n, s, e)
            ops.append(entry)
            expect = True
        elif k == NUM:
            if not expect:
                raise _mistake(text, at)
            word = m.group(k)
            e = m.end()
            node = consts.get(word)
            if node is None:
                # one node per distinct constant: 0.5 written a thousand times is one leaf
                node = consts[word] = len(gates)
                gates.append(_CONST)
                a0.append(-1)
                a1.append(-1)
                names.append(None)
                starts.append(e - len(word))
                ends.append(e)
                base.append(float(word))
                live.append(0)
            push((node, e - len(word), e))
            expect = False
        elif k in (END, EOF):
            if k == END and depth > 0 and m.group(k) == "\n":
                continue  # a newline inside parentheses continues the statement
            if m.start() == at:  # an empty statement
                at = m.end()
                if k == EOF:
                    break
                continue
            if expect:
                raise _mistake(text, at)
            while ops:
                if ops[-1][0] == 0:
                    raise _mistake(text, at)  # a parenthesis never closed
                _, g, s = ops.pop()
                n = len(gates)
                if g is neg:
                    a, _, e = stack[-1]
                    a0.append(a)
                    a1.append(-1)
                    live.append(live[a])
                else:
                    b, _, e = pop()
                    a, s, _ = stack[-1]
                    a0.append(a)
                    a1.append(b)
                    live.append(live[a] or live[b])
                gates.append(g)
                if g.kink is not None:  # pow at 0 ** 0
                    kinkable.append(len(gates) - 1)
                names.append(None)
                starts.append(s)
                ends.append(e)
                base.append(0.0)
                stack[-1] = (n, s, e)
            top, _, e = pop()
            if bare >= 0:
                raise _bare_error(text, bare)
            statements += 1
            if name is None:
                bare = at
                c._last = top  # `q` alone names node q, even when later nodes use it
            else:
                literal = (_literal(c, text, top, first, body_at, e)
                           if len(gates) - first <= 2 else None)
                if literal is not None:
                    top = c._add(_INPUT, (), name_start, name_end, live=True)
                    inputs[name] = top
                    c.defaults[name] = literal
                if names[top] is None:
                    names[top] = name
                named[name] = top
                c._last = top
                name = None
            expect = True
            depth = 0
            at = m.end()
            if k == EOF:
                break
        elif k == CALL:
            if not expect:
                raise _mistake(text, at)
            ops.append((0, m.group(NAME), m.start(NAME), m.end()))
            counts.append(1)
            depth += 1
        elif k == CLOSE:
            depth -= 1
            if expect:
                if not (ops and type(ops[-1][1]) is str and counts[-1] == 1
                        and _rare(_NOTHING).fullmatch(text, ops[-1][3], m.end() - 1)):
                    raise _mistake(text, at)
                # f(): a call without arguments, never right
                err = _function_error(ops[-1][1], 0, ops[-1][2], m.end(), text)
                raise _wrong(text, at, bare, err)
            while ops and ops[-1][0] > 0:
                _, g, s = ops.pop()
                n = len(gates)
                if g is neg:
                    a, _, e = stack[-1]
                    a0.append(a)
                    a1.append(-1)
                    live.append(live[a])
                else:
                    b, _, e = pop()
                    a, s, _ = stack[-1]
                    a0.append(a)
                    a1.append(b)
                    live.append(live[a] or live[b])
                gates.append(g)
                if g.kink is not None:  # pow at 0 ** 0
                    kinkable.append(len(gates) - 1)
                names.append(None)
                starts.append(s)
                ends.append(e)
                base.append(0.0)
                stack[-1] = (n, s, e)
            if not ops:
                raise _mistake(text, at)
            entry = ops.pop()
            word = entry[1]
            if word is None:
                continue  # a parenthesis: the operand inside is the operand
            arity = counts.pop()
            s = entry[2]
            e = m.end()
            gate = FUNCTIONS.get(word)
            if gate is None or (gate.arity != arity and (gate.arity is not None or arity < 1)):
                raise _wrong(text, at, bare, _function_error(word, arity, s, e, text))
            items = stack[-arity:]
            del stack[-arity:]
            node_args = tuple(item[0] for item in items)
            if gate.kink is not None:
                kinkable.append(len(gates))
            c._put_args(len(gates), node_args)
            push((len(gates), s, e))
            gates.append(gate)
            names.append(None)
            starts.append(s)
            ends.append(e)
            base.append(0.0)
            live.append(any(live[a] for a in node_args))
        elif k == OPEN:
            if m.end() == skip:
                continue  # the '(' of a call already opened
            if not expect:
                call = _call_after_all(c, text, stack, m.end())
                if call is None:
                    raise _mistake(text, at)
                ops.append((0, *call, m.end()))
                counts.append(1)
                depth += 1
                expect = True
                continue
            ops.append(_PAREN)
            depth += 1
        elif k == COMMA:
            if expect:
                raise _mistake(text, at)
            while ops and ops[-1][0] > 0:
                _, g, s = ops.pop()
                n = len(gates)
                if g is neg:
                    a, _, e = stack[-1]
                    a0.append(a)
                    a1.append(-1)
                    live.append(live[a])
                else:
                    b, _, e = pop()
                    a, s, _ = stack[-1]
                    a0.append(a)
                    a1.append(b)
                    live.append(live[a] or live[b])
                gates.append(g)
                if g.kink is not None:  # pow at 0 ** 0
                    kinkable.append(len(gates) - 1)
                names.append(None)
                starts.append(s)
                ends.append(e)
                base.append(0.0)
                stack[-1] = (n, s, e)
            if not ops or type(ops[-1][1]) is not str:
                raise _mistake(text, at)
            counts[-1] += 1
            expect = True
        elif k == ASSIGN:
            if m.start() != at:
                raise _mistake(text, at)  # `=` anywhere but after a statement's first name
            name = m.group(NAME)
            name_start = m.start(NAME)
            name_end = name_start + len(name)
            if name in FUNCTIONS or name in defined or name in inputs or bare >= 0:
                problem = _check_new_name(c, defined, name, name_start, name_end, text)
                raise _wrong(text, at, bare, problem or _bare_error(text, bare))
            defined[name] = name_start
            first = len(gates)
            body_at = m.end()
        else:  # EQUALS, BAD
            raise _mistake(text, at)
    if not statements:
        raise CircuitError("the circuit is empty: write an expression such as (x+y)*z")


def _mistake(text: str, at: int) -> CircuitError:
    """The statement at `at` is wrong: check_statement raises what is wrong with it."""
    check_statement(text, at)
    raise AssertionError(f"parser and checker disagree on the statement at {at}")


def _wrong(text: str, at: int, bare: int, err: CircuitError) -> CircuitError:
    """A mistake in meaning; syntax errors of the statement, and a bare statement before
    it, are reported first, in the order the user reads them."""
    check_statement(text, at)
    if bare >= 0:
        return _bare_error(text, bare)
    return err


def _call_after_all(c: Circuit, text: str, stack: list, paren_end: int
                    ) -> tuple[str, int] | None:
    """(name, start) when the operand just read is a name and this '(' follows it on a
    later line inside parentheses: `(relu` newline `(x))` calls relu. The operand is taken
    back (and the input it made, if it made one). None otherwise: a missing operator."""
    if not stack:
        return None
    node, s, e = stack[-1]
    if not (_rare(r"[^\W\d]\w*").fullmatch(text, s, e)
            and _rare(_NOTHING).fullmatch(text, e, paren_end - 1)):
        return None
    stack.pop()
    word = text[s:e]
    if (node == len(c.gates) - 1 and c.gates[node] is _INPUT and c.starts[node] == s
            and c.inputs.get(word) == node):
        _truncate(c, node)
        del c.inputs[word]
        del c.named[word]
    return word, s


def _truncate(c: Circuit, length: int) -> None:
    """Take the nodes from `length` on off the tape."""
    for column in (c.gates, c.a0, c.a1, c.names, c.base, c._starts, c._ends, c.live):
        del column[length:]
    for i in [i for i in c.more if i >= length]:
        del c.more[i]


def _output(c: Circuit, output: str | None) -> int:
    """The node to differentiate: --of NAME, else the last statement's."""
    if output is not None:
        if output not in c.named:
            raise CircuitError(f"--of {output}: the circuit has no node named {output}"
                               + suggest(output, c.named))
        return c.named[output]
    return c._last


def _literal(c: Circuit, text: str, top: int, first: int, after: int, end: int) -> float | None:
    """`name = <number>` (or -<number>, +<number>) declares an input: its default, else None.

    The tape has then just grown by that constant (and its negation): they are taken off.
    """
    gate = c.gates[top]
    if len(c.gates) - first > 2 or not (gate is _CONST or (gate is OPERATORS["neg"]
                                                           and c.gates[c.a0[top]]
                                                           is _CONST)):
        return None
    m = _LITERAL.fullmatch(text, after, end)
    if m is None:
        return None
    sign, word = m.groups()
    value = float(word)
    if len(c.gates) > first:  # undo the nodes this statement made
        for i in range(first, len(c.gates)):
            if c.gates[i] is _CONST:
                del c.consts[word]
        _truncate(c, first)
    return -value if sign == "-" else value


def _bare_error(text: str, at: int) -> CircuitError:
    start, end = statement_span(text, at)
    return CircuitError("only the last statement may be a bare expression; name this one"
                        " (q = ...)", text, start, end)


def _check_new_name(c: Circuit, defined: dict[str, int], name: str, start: int, end: int,
                    text: str) -> CircuitError | None:
    if name in FUNCTIONS:
        return CircuitError(f"{name} is a function and cannot be a name", text, start, end)
    if name in defined:
        return CircuitError(
            f"{name} is defined twice: at {_place(text, defined[name])} and at "
            f"{_place(text, start)}", text, start, end)
    if name in c.inputs:  # met earlier as an input, defined only now
        first = c.inputs[name]
        return CircuitError(f"{name} is used before its definition at "
                            f"{_place(text, start)}", text, c.starts[first], c.ends[first])
    return None


def _line(text: str, pos: int) -> int:
    return text.count("\n", 0, pos) + 1


def _place(text: str, pos: int) -> str:
    """`line 3, column 1`: where a statement starts."""
    line_start = text.rfind("\n", 0, pos) + 1
    return f"line {_line(text, pos)}, column {pos - line_start + 1}"


def _bad_reference(text: str, word: str, name: str | None, start: int, end: int
                   ) -> CircuitError:
    """A name that cannot be an input: the statement's own name, or a function's."""
    if word == name:
        return CircuitError(f"{word} is used in its own definition (a cycle)", text, start, end)
    return CircuitError(f"{word} is a function: call it as {word}(...)", text, start, end)


def _function_error(word: str, arity: int, start: int, end: int, text: str) -> CircuitError:
    """Why a call is wrong: an unknown function, or the wrong number of arguments."""
    gate = FUNCTIONS.get(word)
    if gate is None:
        hint = suggest(word, FUNCTIONS) or "; functions: " + ", ".join(FUNCTIONS)
        return CircuitError(f"unknown function {word}(){hint}", text, start, start + len(word))
    want = gate.arity
    need = "at least 1 argument" if want is None else (
        f"{want} argument" + ("s" if want != 1 else ""))
    others = [name for name, g in FUNCTIONS.items()
              if g.arity == arity or (g.arity is None and arity >= 1)]
    hint = f"; functions of {arity} argument{'s' * (arity != 1)}: {', '.join(others)}" if (
        others and arity) else ""
    return CircuitError(f"{word}() takes {need}, got {arity}{hint}", text, start, end)
