"""The Circuit: a tape of gates in topological order, built once, evaluated many times.

A node is a gate plus the indices of its arguments. A name used twice is one
node used twice, which is why `a*a` accumulates 2a in the backward sweep.
Building walks postfix terms with an explicit stack, so a million-gate chain
is as safe as a three-gate one.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

from .gates import FUNCTIONS, GATES, OPERATORS, Gate, format_number
from .syntax import CircuitError, Statement, iter_statements

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


class Circuit:
    """A tape: per node its gate, argument indices, user name and source span."""

    def __init__(self, text: str, source: str = "") -> None:
        self.text = text
        self.source = source
        self.gates: list[Gate] = []
        self.args: list[tuple[int, ...]] = []
        self.names: list[str | None] = []
        self.starts = array("l")
        self.ends = array("l")
        # the values a fresh evaluation starts from: constants filled in, the rest 0.0
        self.base: list[float] = []
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
        self._labels: list[str] | None = None
        self._used: bytearray | None = None

    # -- building ------------------------------------------------------------------------
    def _add(self, gate: Gate, args: tuple[int, ...], start: int, end: int, value: float = 0.0,
             live: bool = False) -> int:
        i = len(self.gates)
        self.gates.append(gate)
        self.args.append(args)
        self.names.append(None)
        self.starts.append(start)
        self.ends.append(end)
        self.base.append(value)
        self.live.append(live or any(self.live[a] for a in args))
        if gate.kink is not None:
            self.kinkable.append(i)
        return i

    def __len__(self) -> int:
        return len(self.gates)

    # -- reading -------------------------------------------------------------------------
    @property
    def output_name(self) -> str:
        return self.labels()[self.output]

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

    def formula(self, i: int) -> str:
        """Node i as its gate over its arguments' names: `x + y`, `sigmoid(q)`."""
        gate = self.gates[i]
        if not self.args[i]:
            return format_number(self.base[i]) if gate is _CONST else "input"
        labels = self.labels()
        return gate.describe([labels[a] for a in self.args[i]])

    def used(self) -> bytearray:
        """Which nodes the output depends on (1) or not (0): one reverse sweep, kept.

        Evaluators, check, code and the drawings all ask this one question; a circuit is
        not changed after it is built, so the answer is computed once.
        """
        if self._used is None:
            used = bytearray(len(self.gates))
            used[self.output] = 1
            args = self.args
            for i in range(self.output, -1, -1):
                if used[i]:
                    for a in args[i]:
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
        return [i for i in range(len(self)) if not used[i] and (self.args[i] or self.is_input(i))]

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
                " or declare it in the circuit (x = 1.5)",
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


def parse(text: str, source: str = "", output: str | None = None) -> Circuit:
    """Text (an expression or a circuit file's statements) to a Circuit."""
    return build(iter_statements(text, source), text, source, output)


def build(statements: Iterable[Statement], text: str, source: str = "",
          output: str | None = None) -> Circuit:
    """Statements to a tape, one at a time; names, arities and definition order are checked.

    A name met before any statement defines it becomes an input; should a later
    statement define it after all, that is the "used before its definition" error.
    """
    c = Circuit(text, source)
    defined: dict[str, int] = {}  # name -> where its statement names it
    named = c.named
    last: Statement | None = None
    try:
        for st in statements:
            if last is not None and last.name is None:
                raise CircuitError("only the last statement may be a bare expression; name this"
                                   " one (q = ...)", text, last.start, last.end)
            last = st
            name = st.name
            if name is not None:
                _check_new_name(c, defined, st, text)
                defined[name] = st.name_start
            if st.default is not None:
                i = c._add(_INPUT, (), st.name_start, st.name_end, live=True)
                c.names[i] = name
                c.inputs[name] = i
                c.defaults[name] = st.default
                named[name] = i
                continue
            top = _expression(c, st, text)
            if name is not None:
                if c.names[top] is None:
                    c.names[top] = name
                named[name] = top
    except CircuitError as err:
        err.source = source
        raise
    if last is None:
        raise CircuitError("the circuit is empty: write an expression such as (x+y)*z",
                           source=source)
    if output is not None:
        if output not in named:
            raise CircuitError(f"--of {output}: the circuit has no node named {output}"
                               + suggest(output, named), source=source)
        c.output = named[output]
    else:
        c.output = named[last.name] if last.name is not None else len(c.gates) - 1
    return c


def _check_new_name(c: Circuit, defined: dict[str, int], st: Statement, text: str) -> None:
    name = st.name
    if name in FUNCTIONS:
        raise CircuitError(f"{name} is a function and cannot be a name", text, st.name_start,
                           st.name_end)
    if name in defined:
        raise CircuitError(
            f"{name} is defined twice: at {_place(text, defined[name])} and at "
            f"{_place(text, st.name_start)}", text, st.name_start, st.name_end)
    if name in c.inputs:  # met earlier as an input, defined only now
        first = c.inputs[name]
        raise CircuitError(f"{name} is used before its definition at "
                           f"{_place(text, st.name_start)}", text, c.starts[first],
                           c.ends[first])


def _line(text: str, pos: int) -> int:
    return text.count("\n", 0, pos) + 1


def _place(text: str, pos: int) -> str:
    """`line 3, column 1`: where a statement starts."""
    line_start = text.rfind("\n", 0, pos) + 1
    return f"line {_line(text, pos)}, column {pos - line_start + 1}"


def _expression(c: Circuit, st: Statement, text: str) -> int:
    """Append one statement's postfix terms to the tape; returns its top node.

    The appends are inlined: this loop runs once per gate of a million-gate chain.
    """
    stack: list[tuple[int, int, int]] = []  # (node, start, end)
    push = stack.append
    named = c.named
    gates, args_, names, starts, ends, base, live = (
        c.gates, c.args, c.names, c.starts, c.ends, c.base, c.live)
    kinkable = c.kinkable
    consts = c.consts
    operators = OPERATORS
    for kind, word, start, end, arity in st.expr:
        if kind == "num":
            # one node per distinct constant: 0.5 written a thousand times is one leaf
            node = consts.get(word)
            if node is not None:
                push((node, start, end))
                continue
            node = consts[word] = len(gates)
            push((node, start, end))
            gates.append(_CONST)
            args_.append(())
            base.append(float(word))
            live.append(0)
        elif kind == "name":
            node = named.get(word)
            if node is None:
                node = _new_input(c, st, word, start, end, text)
            push((node, start, end))
            continue
        else:
            gate = operators[word] if kind == "op" else _function(word, arity, start, end, text)
            if arity == 2:
                (a, s0, _), (b, _, e1) = stack[-2], stack[-1]
                del stack[-2:]
                args = (a, b)
                alive = live[a] or live[b]
            elif arity == 1:
                a, s0, e1 = stack.pop()
                args = (a,)
                alive = live[a]
            else:
                items = stack[-arity:]
                del stack[-arity:]
                args = tuple(item[0] for item in items)
                s0, e1 = items[0][1], items[-1][2]
                alive = any(live[a] for a in args)
            if start > s0:
                start = s0
            if e1 > end:
                end = e1
            if gate.kink is not None:
                kinkable.append(len(gates))
            push((len(gates), start, end))
            gates.append(gate)
            args_.append(args)
            base.append(0.0)
            live.append(alive)
        names.append(None)
        starts.append(start)
        ends.append(end)
    return stack[-1][0]


def _new_input(c: Circuit, st: Statement, word: str, start: int, end: int, text: str) -> int:
    """A name seen for the first time is an input, unless it names a function or a cycle."""
    if word == st.name:
        raise CircuitError(f"{word} is used in its own definition (a cycle)", text, start, end)
    if word in FUNCTIONS:
        raise CircuitError(f"{word} is a function: call it as {word}(...)", text, start, end)
    node = c._add(_INPUT, (), start, end, live=True)
    c.names[node] = word
    c.inputs[word] = node
    c.named[word] = node
    return node


def _function(word: str, arity: int, start: int, end: int, text: str) -> Gate:
    """The gate a call names, with its argument count checked."""
    gate = FUNCTIONS.get(word)
    if gate is None:
        hint = suggest(word, FUNCTIONS) or "; functions: " + ", ".join(FUNCTIONS)
        raise CircuitError(f"unknown function {word}(){hint}", text, start, start + len(word))
    want = gate.arity
    if (want is None and arity < 1) or (want is not None and arity != want):
        need = "at least 1 argument" if want is None else (
            f"{want} argument" + ("s" if want != 1 else ""))
        others = [name for name, g in FUNCTIONS.items()
                  if g.arity == arity or (g.arity is None and arity >= 1)]
        hint = f"; functions of {arity} argument{'s' * (arity != 1)}: {', '.join(others)}" if (
            others and arity) else ""
        raise CircuitError(f"{word}() takes {need}, got {arity}{hint}", text, start, end)
    return gate
