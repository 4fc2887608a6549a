"""The REPL's own circuit: input values plus node statements, with undo and redo.

A state is plain text and numbers: the declared inputs (`x = -2`), the statements
that define nodes (`q = x + y`) and the output (a bare expression, or a node's name).
Its circuit text is those lines in that order, so `:show` prints it and `:save`
writes it as a circuit file whose values are the defaults. Every change builds a
new state and re-parses the whole text (parsing is fast); a change that does not
parse, makes a cycle or leaves a gate's domain is refused and the state stays.
Node statements are kept in the order they were typed, moved only as far as the
definition order needs (a statement goes before the first one that uses it).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, replace

from ..core.circuit import Circuit
from ..core.evaluate import Result, evaluate
from ..core.gates import format_number
from ..core.parser import parse
from ..core.syntax import CircuitError, Statement, split_statements, suggest

__all__ = ["Built", "History", "Node", "State", "apply_line", "build", "state_from_text"]

_NAME = re.compile(r"[^\W\d]\w*")


@dataclass(frozen=True)
class Node:
    """`name = expression` as the user spelled it, and the names the expression uses."""

    name: str
    text: str
    uses: frozenset[str]


@dataclass(frozen=True)
class State:
    """One version of the REPL's circuit; immutable, so undo keeps old ones as they are."""

    values: tuple[tuple[str, float], ...] = ()
    nodes: tuple[Node, ...] = ()
    output: str | None = None  # a bare expression, or a node's name

    # -- reading ------------------------------------------------------------------------
    @property
    def value_map(self) -> dict[str, float]:
        return dict(self.values)

    @property
    def empty(self) -> bool:
        return not self.values and not self.nodes and self.output is None

    @property
    def has_expression(self) -> bool:
        return bool(self.nodes) or self.output is not None

    @property
    def output_node(self) -> str | None:
        """The node named as the output (`q` typed alone), if that is what the output is."""
        if self.output is not None and _NAME.fullmatch(self.output):
            return self.output
        return None

    def lines(self) -> list[str]:
        """The circuit as text lines: the values, the statements, then the bare output."""
        lines = [f"{name} = {format_number(value)}" for name, value in self.values]
        lines += [node.text for node in self.nodes]
        if self.output is not None and self.output_node is None:
            lines.append(self.output)
        return lines

    def text(self) -> str:
        return "\n".join(self.lines())

    def file_text(self) -> str:
        """The text as a circuit file that `circuit grad FILE` reads with the same output."""
        lines = self.lines()
        name = self.output_node
        if name is not None and not self.output_is_last():
            # a bare name would not pick its node in a file: an alias does
            taken = {n for n, _ in self.values} | {node.name for node in self.nodes}
            alias = next(a for a in ("out", "output", *(f"out{k}" for k in range(1, 999)))
                         if a not in taken)
            lines.append(f"{alias} = {name}")
        return "\n".join(lines) + "\n"

    def title(self) -> str:
        """What the tables are headed with: the output's expression."""
        if self.output is not None and self.output_node is None:
            return self.output
        name = self.output_node or (self.nodes[-1].name if self.nodes else None)
        for node in self.nodes:
            if node.name == name:
                return node.text
        return name or "repl"

    def names(self) -> list[str]:
        """Every input and node name, for completion."""
        names = [name for name, _ in self.values]
        names += [node.name for node in self.nodes]
        return names

    # -- changing -----------------------------------------------------------------------
    def with_value(self, name: str, value: float) -> State:
        """`name = number`: give an input its value; a node of that name becomes the input."""
        values = list(self.values)
        for k, (known, _) in enumerate(values):
            if known == name:
                values[k] = (name, value)
                break
        else:
            values.append((name, value))
        nodes = tuple(node for node in self.nodes if node.name != name)
        output = None if self.output_node == name and nodes != self.nodes else self.output
        return replace(self, values=tuple(values), nodes=nodes, output=output)

    def with_values(self, given: dict[str, float]) -> State:
        state = self
        for name, value in given.items():
            state = state.with_value(name, value)
        return state

    def with_node(self, node: Node) -> State:
        """Define a node (at the end) or redefine one (in place).

        The output stays what it was when it uses the node, so the change shows in it;
        otherwise the node just typed becomes the output, as a file's last statement is.
        """
        nodes = list(self.nodes)
        for k, known in enumerate(nodes):
            if known.name == node.name:
                nodes[k] = node
                break
        else:
            nodes.append(node)
        values = tuple((n, v) for n, v in self.values if n != node.name)
        output = self.output if self._output_uses(node.name) else node.name
        return replace(self, values=values, nodes=_definition_order(nodes), output=output)

    def _output_uses(self, name: str) -> bool:
        """Whether the current output depends on `name` (through the nodes as they are)."""
        if self.output is None:
            if not self.nodes:
                return False
            starts = [self.nodes[-1].name]
        elif self.output_node is not None:
            starts = [self.output_node]
        else:
            starts = [used for st in split_statements(self.output) for used in _uses(st)]
        return any(start != name and _depends(self.nodes, start, name) is not None
                   for start in starts) or (self.output_node is None and name in starts)

    def output_is_last(self) -> bool:
        """Whether the output is what a file of these lines would pick by itself."""
        return self.output_node is None or bool(
            self.nodes and self.nodes[-1].name == self.output_node)

    def with_output(self, output: str | None) -> State:
        return replace(self, output=output)


def _definition_order(nodes: list[Node]) -> tuple[Node, ...]:
    """The nodes in typed order, each moved only as far as its definition must come first.

    Cycles are refused before this runs (see Change), so every round places one node.
    """
    defined = {node.name for node in nodes}
    placed: set[str] = set()
    pending = list(nodes)
    order: list[Node] = []
    while pending:
        for k, node in enumerate(pending):
            if all(used in placed or used not in defined or used == node.name
                   for used in node.uses):
                order.append(node)
                placed.add(node.name)
                del pending[k]
                break
        else:  # a cycle slipped through: keep the order; parse will say where
            order.extend(pending)
            break
    return tuple(order)


def _uses(st: Statement) -> frozenset[str]:
    return frozenset(word for word, _, _ in st.uses)


def _depends(nodes: Iterable[Node], start: str, target: str) -> list[str] | None:
    """The chain of node names from `start` down to `target`, if `start` uses `target`."""
    by_name = {node.name: node for node in nodes}
    stack = [(start, [start])]
    seen = set()
    while stack:
        name, path = stack.pop()
        if name == target:
            return path
        if name in seen or name not in by_name:
            continue
        seen.add(name)
        stack.extend((used, [*path, used]) for used in by_name[name].uses)
    return None


def _clean(text: str) -> str:
    """One statement on one line: comments, continuations and runs of spaces removed."""
    text = re.sub(r"#[^\n]*", "", text)
    return " ".join(text.replace("\\\n", " ").split())


@dataclass
class Built:
    """A state's circuit, and its values when every input has one (else the missing names)."""

    state: State
    circuit: Circuit | None
    values: dict[str, float] | None
    missing: list[str]
    result: Result | None = None


def build(state: State) -> Built:
    """Parse the state's text (and evaluate it when it can be): CircuitError if it is wrong."""
    if not state.has_expression:
        return Built(state, None, None, [])
    circuit = parse(state.text(), "circuit", state.output_node)
    missing = [name for name in circuit.inputs if name not in circuit.defaults]
    if missing:
        return Built(state, circuit, None, missing)
    values = dict(circuit.defaults)
    return Built(state, circuit, values, [], evaluate(circuit, values))


def state_from_text(text: str, source: str = "", values: dict[str, float] | None = None,
                    output: str | None = None) -> State:
    """A circuit file's (or expression's) text as a state; `values` override its defaults."""
    state = State()
    statements = list(split_statements(text, source))
    for k, st in enumerate(statements):
        if st.name is not None and st.default is not None:
            state = state.with_value(st.name, _finite(st, text, source))
        elif st.name is not None:
            state = replace(state, nodes=(*state.nodes, Node(
                st.name, _clean(text[st.start:st.end]), _uses(st))))
        elif k == len(statements) - 1:
            state = state.with_output(_clean(text[st.start:st.end]))
    if output is not None:
        state = state.with_output(output)
    if values:
        state = state.with_values(values)
    build(state)  # refuses what does not parse, as a command would
    return state


def _finite(st: Statement, text: str, source: str = "") -> float:
    value = st.default
    assert value is not None
    if value - value != 0:
        raise CircuitError(f"{text[st.start:st.end]}: a value must be a finite number", text,
                           st.start, st.end, source)
    return value


def apply_line(state: State, line: str) -> tuple[State, Built]:
    """The state after one line of statements, built and evaluated.

    CircuitError leaves `state` as it was; it points at the line typed when the problem
    is there, else at the circuit's own line (as `:show` prints them).
    """
    new = state
    placed: list[tuple[str, int, int]] = []  # (name or "", start, end in the line)
    for st in split_statements(line):
        if st.name is not None and st.default is not None:
            new = new.with_value(st.name, _finite(st, line))
        elif st.name is not None:
            uses = _uses(st)
            _refuse_cycle(new, st, line)
            new = new.with_node(Node(st.name, line[st.start:st.end], uses))
        else:
            body = line[st.start:st.end]
            if _NAME.fullmatch(body) and body not in new.names():
                known = new.names()
                hint = suggest(body, known) or (f"; names: {', '.join(known)}" if known
                                                else "; give it a value first (x = 1.5)")
                raise CircuitError(f"no input or node named {body}{hint}", line, st.start,
                                   st.end)
            new = new.with_output(body)
        placed.append((st.name or "", st.start, st.end))
    try:
        built = build(new)
    except CircuitError as err:
        raise _relocate(err, new, line, placed) from None
    return new, built


def _refuse_cycle(state: State, st: Statement, line: str) -> None:
    name = st.name
    assert name is not None
    for word, start, end in st.uses:
        if word == name:
            raise CircuitError(
                f"{name} is used in its own definition: a circuit has no loops (to change "
                f"an input's value give a number, {name} = 1.5, or use :step)",
                line, start, end)
        chain = _depends(state.nodes, word, name)
        if chain is not None:
            path = " uses ".join(chain)
            raise CircuitError(f"that would be a cycle: {path}, so {name} cannot use "
                               f"{word}", line, start, end)


def _relocate(err: CircuitError, state: State, line: str,
              placed: list[tuple[str, int, int]]) -> CircuitError:
    """Point an error found in the circuit's text at the line typed, when it lies there."""
    if err.start is None or err.text is None:
        err.source = ""
        return err
    offset = 0
    for text in state.lines():
        end = offset + len(text)
        if offset <= err.start <= end:
            for name, start, stop in placed:
                if line[start:stop] == text or (name and text.startswith(f"{name} = ")
                                                and line[start:stop].startswith(name)):
                    if line[start:stop] != text:  # a value line: point at the name
                        return CircuitError(err.message, line, start, start + len(name))
                    return CircuitError(err.message, line, start + err.start - offset,
                                        start + (err.end or err.start + 1) - offset)
            break
        offset = end + 1
    err.source = "circuit"
    return err


class History:
    """The current state, the states before it (undo) and those undone (redo)."""

    def __init__(self, state: State | None = None) -> None:
        self.state = state or State()
        self.undo_stack: list[tuple[State, str]] = []
        self.redo_stack: list[tuple[State, str]] = []

    def commit(self, state: State, what: str) -> bool:
        """Make `state` current (undoably); False if it is no change at all."""
        if state == self.state:
            return False
        self.undo_stack.append((self.state, what))
        self.redo_stack.clear()
        self.state = state
        return True

    def undo(self) -> str | None:
        """Go back one change; what was undone, or None when there is nothing to undo."""
        if not self.undo_stack:
            return None
        state, what = self.undo_stack.pop()
        self.redo_stack.append((self.state, what))
        self.state = state
        return what

    def redo(self) -> str | None:
        if not self.redo_stack:
            return None
        state, what = self.redo_stack.pop()
        self.undo_stack.append((self.state, what))
        self.state = state
        return what
