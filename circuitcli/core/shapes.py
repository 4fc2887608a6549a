"""The fast path of `parse`: a circuit file read statement by statement, by shape.

A machine-written circuit has a million statements and a handful of shapes:
`n7 = 0.5*n3 - 0.5*n5 + 0.3` is `@ = @*@ - @*@ + @` with six operands. One
`re.split` per 64 KB of text (C speed) cuts the text into words (names and
numbers) and the shape between them; each new shape is parsed once, by the exact
parser, into a plan (which operand is read when, which gate is appended when);
every statement of that shape then replays its plan on its own words. A word
followed by `(` names a function: a shape with calls has one plan per set of
functions it calls (`@ = relu(@)*@` and `@ = exp(@)*@`). The tape comes out
exactly as the exact parser builds it, node for node, without source spans
(`Circuit.starts` computes those when an error or a drawing asks).

Anything a plan cannot vouch for hands the whole text back to the exact parser:
a statement over several lines, `;`, `\\`, a name not allowed where it stands (a
function, the statement's own name, one defined twice), a syntax error. The exact
parser then builds the tape, or says what is wrong, as ever.
"""

from __future__ import annotations

import re
from array import array
from collections.abc import Callable
from contextlib import suppress
from itertools import accumulate, chain, repeat
from operator import attrgetter, itemgetter
from typing import TYPE_CHECKING

from .gates import GATES
from .grammar import (
    CONSTANTS,
    NAME_TEXT,
    NUMBER_TEXT,
    SPACE,
    WORD,
    function,
    is_function_name,
    is_number_word,
    reserved_names,
)
from .lazy import lazy
from .syntax import CircuitError

if TYPE_CHECKING:
    from .circuit import Circuit

np = lazy("numpy")  # from VECTOR_FROM characters on
ctypes = lazy("ctypes")  # to hand freed heap back after a big text

__all__ = ["build_by_shape"]

_CALL = re.compile(rf"@{SPACE}*\(")  # a word that a '(' follows: TOKEN's call
_COMMENT = re.compile(r"#[^\n]*")
_HOLE = "@"  # a word's place in a shape; a text with an @ of its own takes the exact path
_CHUNK = 1 << 16  # characters cut at a time, so the pieces of only one chunk are alive
_LONGEST = 512  # words in a statement the shape path takes on
_SHAPES = 256  # shapes it takes on before asking whether statements share them (1 in 4)
_INPUT = GATES["input"]
_CONST = GATES["const"]


class _Bail(Exception):
    """The fast path cannot vouch for this text: the exact parser takes it."""


class _Plan:
    """What one shape of statement does, read off the exact parser's tape of the shape.

    `steps` in tape order: an int k is "the word in hole k" (it makes a node the first
    time its name or number is met), a (gate, i, j) is "append gate over the results of
    steps i and j" (j is -1 for one argument), (gate, (i, ...)) a gate of more arguments.
    That is the general replay. Most statements meet only names and numbers already on
    the tape: then their gates are numbered n, n+1, ... in advance, and the replay is a
    few column extends, each argument picked by an itemgetter from [operand nodes...,
    gate nodes..., -1].
    """

    __slots__ = ("arg0", "arg1", "assigns", "count", "first", "gates", "holes", "kinks",
                 "literal", "lives", "operands", "pick", "single", "slots", "sources", "steps",
                 "together")

    def __init__(self, shape: str, calls: dict[int, str], exact: Callable[[str], Circuit]
                 ) -> None:
        self.holes = holes = shape.count(_HOLE)
        pieces = shape.split(_HOLE)
        head, _, body = shape.partition("=")
        self.assigns = head.strip(" \t\r\f\v") == _HOLE and bool(body)
        self.first = first = 1 if self.assigns else 0
        # each operand hole becomes a distinct name, spaced off so that no two run together
        c = exact("".join(p + (f" {calls[k]}" if k in calls else f" _{k} " if k < holes else "")
                          for k, p in enumerate(pieces)))
        body = "".join(body.split()) if self.assigns else ""
        # `x = 5`, `x = -5` declare an input with a default when the operand is a number
        self.literal = body[:-1] if body in ("@", "-@", "+@") else None
        self.operands = operands = [k for k in range(first, holes) if k not in calls]
        if sorted(c.inputs) != sorted(f"_{k}" for k in operands):
            raise _Bail
        # the words the fast replay looks up: holes first..holes, less the functions' names
        self.pick = None
        if calls:
            offsets = [k - first for k in operands]
            self.pick = (itemgetter(*offsets) if len(offsets) > 1 else
                         (lambda ws, k=offsets[0]: (ws[k],)) if offsets else (lambda ws: ()))
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
        # the fast replay: slots are the operands' nodes, the gates' nodes, then -1
        where = {k: p for p, k in enumerate(operands)}
        slot = {}
        gate_steps = []
        for i, step in enumerate(steps):
            if step.__class__ is int:
                slot[i] = where[step]
            else:
                slot[i] = len(operands) + len(gate_steps)
                gate_steps.append(step)
        none = len(operands) + len(gate_steps)
        self.slots = tuple(slot[i] for i in range(len(steps)))
        self.gates = [step[0] for step in gate_steps]
        self.count = len(gate_steps)
        self.single = self.count == 1
        self.arg0 = self.arg1 = None
        self.sources: list[tuple[int, int]] = []
        if not any(len(step) == 2 for step in gate_steps):  # else: the general replay only
            arg0 = [slot[step[1]] for step in gate_steps]
            arg1 = [slot[step[2]] if step[2] >= 0 else none for step in gate_steps]
            self.sources = list(zip(arg0, arg1))
            if self.single:
                self.arg0, self.arg1 = arg0[0], arg1[0]
            elif gate_steps:
                self.arg0, self.arg1 = itemgetter(*arg0), itemgetter(*arg1)
        self.kinks = tuple(m for m, g in enumerate(self.gates) if g.kink is not None)
        # `name = expression` that makes gates of one or two arguments: a chunk of such
        # statements can be appended all at once (_all_at_once)
        self.together = (self.assigns and self.literal is None and self.count > 0
                         and self.arg0 is not None)
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


class _Calls:
    """A shape with calls in it: one plan per set of functions called."""

    __slots__ = ("calls", "holes", "key", "plans", "shape")

    def __init__(self, shape: str, calls: list[int]) -> None:
        self.shape = shape
        self.holes = shape.count(_HOLE)
        self.calls = calls
        # the words that name the functions, picked from the statement's words
        self.key = itemgetter(*calls)
        self.plans: dict[str | tuple[str, ...], _Plan] = {}

    def plan(self, names: str | tuple[str, ...], exact: Callable[[str], Circuit]) -> _Plan:
        """The plan for these functions' names (one name, or a tuple of several)."""
        names_ = (names,) if isinstance(names, str) else names
        if not all(function(name) is not None for name in names_):
            raise _Bail  # an unknown function, or a number before '('
        found = self.plans[names] = _compile(self.shape, dict(zip(self.calls, names_)), exact)
        return found


def _compile(shape: str, calls: dict[int, str], exact: Callable[[str], Circuit]) -> _Plan:
    try:
        return _Plan(shape, calls, exact)
    except CircuitError:  # the exact parser will say what is wrong
        raise _Bail from None


def _shape(shape: str, exact: Callable[[str], Circuit]) -> _Plan | _Calls:
    if shape.count(_HOLE) > _LONGEST:
        raise _Bail  # a long statement is met once: the exact parser reads it as fast
    calls = [shape.count(_HOLE, 0, m.start()) for m in _CALL.finditer(shape)]
    return _Calls(shape, calls) if calls else _compile(shape, {}, exact)


def build_by_shape(c: Circuit, text: str, exact: Callable[[str], Circuit]) -> bool:
    """Build c's tape from text by statement shapes; False when the exact parser must.

    `exact(statement)` parses one statement's shape with the exact parser. On False, c is
    half built and must be thrown away.
    """
    c._starts = c._ends = None  # computed from the text when asked, by the exact parser
    c._spans_from = exact
    try:
        _build(c, text, exact)
    except _Bail:
        return False
    finally:
        if len(text) >= VECTOR_FROM:
            _give_back()
    return True


def _give_back() -> None:
    """Hand the heap the cutting freed back to the system. glibc keeps freed heap for
    reuse, but the evaluation's big arrays are mapped afresh, on top of it: on a
    million-gate file that kept heap is about a tenth of the run's peak memory."""
    with suppress(OSError, AttributeError, TypeError):  # not glibc: nothing to hand back
        ctypes.CDLL(None).malloc_trim(0)


def _build(c: Circuit, text: str, exact: Callable[[str], Circuit]) -> None:
    gates, a0, a1, live = c.gates, c.a0, c.a1, c.live
    named, kinkable = c.named, c.kinkable
    # While building, `named` also answers for numbers already on the tape (their const
    # node) and for function names (-2: not an operand, not a name to define), so one
    # lookup sorts every word (None, or -1 where an array needs a number: not met yet);
    # both kinds are taken out at the end.
    reserved = reserved_names()
    named.update(dict.fromkeys(reserved, -2))
    vector = np if len(text) >= VECTOR_FROM else None
    find = named.get
    liveness = live.__getitem__
    plans: dict[str, _Plan | _Calls] = {}
    bare = -1  # the first bare expression statement's index: only the last may be one
    statements = 0
    node = -1
    pos, size = 0, len(text)
    while pos < size:
        if size - pos > _CHUNK and text.find("\n", pos, pos + _CHUNK) < 0:
            raise _Bail  # a line of 64 KB: one long statement, the exact parser's to read
        end = text.find("\n", pos + _CHUNK)
        end = size if end < 0 else end + 1
        chunk = text[pos:end]
        pos = end
        if "#" in chunk:
            chunk = _COMMENT.sub("", chunk)
        if _HOLE in chunk or ";" in chunk or "\\" in chunk:
            raise _Bail
        words, shapes = _cut(chunk, named, vector)
        todo = _plans_of(shapes, words, plans, exact)
        del shapes
        if len(plans) > _SHAPES and 4 * len(plans) > statements + len(todo):
            raise _Bail  # hardly two statements alike: plans cost more than they save
        if vector is not None:
            top = _all_at_once(c, words, todo, vector)
            if top is not None:
                statements += len(todo)
                node = top
                continue
        w = 0
        for plan in todo:
            if plan.assigns:
                name = words[w]
                # defined twice, used before, a function's name, or not a name at all
                if name in named or not name.isidentifier():
                    raise _Bail
                if plan.literal is not None:
                    word = words[w + 1]
                    if is_number_word(word):  # `x = 5`, not `x = y`
                        node = _declare(c, name, word, plan.literal)
                        w += 2
                        statements += 1
                        continue
            else:
                name = None
                if bare < 0:
                    bare = statements
            ops = words[w + plan.first:w + plan.holes]
            w += plan.holes
            nodes = list(map(find, ops if plan.pick is None else plan.pick(ops)))
            # None: a word not met yet; -2: a function's name where an operand should be
            if None in nodes or -2 in nodes or (plan.arg0 is None and plan.count):
                node = _replay(c, plan, [None] * plan.first + ops, name)
            elif plan.count:
                # every operand is on the tape: the gates are numbered n, n+1, ... already
                n = len(gates)
                alive = bytes(map(liveness, nodes))
                lives = plan.lives.get(alive) or plan.live(alive)
                nodes += range(n, n + plan.count)
                nodes.append(-1)
                gates += plan.gates
                if plan.single:
                    a0.append(nodes[plan.arg0])
                    a1.append(nodes[plan.arg1])
                else:
                    a0.extend(plan.arg0(nodes))
                    a1.extend(plan.arg1(nodes))
                live += lives
                if plan.kinks:
                    kinkable.extend(map(n.__add__, plan.kinks))
                node = n + plan.count - 1
            else:
                node = nodes[0]  # `q = x`: another name for node x
            statements += 1
            if name is not None:
                named[name] = node
    if not statements or 0 <= bare < statements - 1:
        raise _Bail  # empty, or a bare expression before the last statement
    for word in reserved:
        del named[word]
    for word in c.consts:
        del named[word]
    _finish(c, node)


def _cut(chunk: str, known: dict, np) -> tuple[list[str], list[str]]:
    """A chunk's words (names and numbers) and its statements' shapes (the text between
    the words, each word a hole).

    WORD's split is the reference. An ASCII chunk is cut faster by `str.translate`: a
    word is then a maximal run of word characters (letters, digits, `_`, `.`), which is
    WORD's word whenever each run is one name or one number; a run that is not (`1e-5`
    cut at its sign, `2x`, `1.2.3`) sends the chunk to WORD's split. Runs met before (in
    `known`) were checked then, so only a chunk's new runs are checked, in one match.
    The shapes come from one more translate, a hole per word character, and passes that
    halve the runs of holes (the chunk has no `@` of its own), or with numpy (`np`,
    imported for a big text anyway) from array operations.
    """
    if chunk.isascii():
        words = chunk.translate(_SPACED).split()
        fresh = set(words).difference(known)
        if fresh and not _WORDS.fullmatch("\n".join(fresh) + "\n"):
            pass  # a run that is not one word: WORD's split below
        elif np is None:
            shapes = chunk.translate(_HOLES_AT)  # a hole per word character
            while _HOLE + _HOLE in shapes:  # then one per word: runs halve each pass
                shapes = shapes.replace(_HOLE + _HOLE, _HOLE)
            return words, shapes.split("\n")
        else:
            codes = np.frombuffer(chunk.encode("ascii"), np.uint8)
            inside = _IN_WORD[codes]  # on a word character
            first = inside.copy()  # on a word's first character
            first[1:] &= ~inside[:-1]
            keep = ~inside
            keep |= first  # every character outside words, and one per word
            codes = codes[keep]
            codes[first[keep]] = ord(_HOLE)
            return words, codes.tobytes().decode("ascii").split("\n")
    parts = WORD.split(chunk)
    return parts[1::2], _HOLE.join(parts[0::2]).split("\n")


# the ASCII word characters, as maximal runs of which _cut reads an ASCII chunk's words
_WORD_CHARACTERS = "".join(chr(k) for k in range(128) if chr(k).isalnum() or chr(k) in "_.")
_SPACED = str.maketrans({k: " " for k in range(128) if chr(k) not in _WORD_CHARACTERS})
_HOLES_AT = str.maketrans(dict.fromkeys(map(ord, _WORD_CHARACTERS), _HOLE))
# runs that are each one name or one number, one a line
_WORDS = re.compile(rf"(?:(?:{NAME_TEXT}|{NUMBER_TEXT})\n)*")


class _ByteTable:
    """_IN_WORD[codes]: whether each byte is a word character (made with numpy, on use)."""

    table = None

    def __getitem__(self, codes):
        if self.table is None:
            self.table = np.zeros(256, bool)
            self.table[list(_WORD_CHARACTERS.encode("ascii"))] = True
        return self.table[codes]


_IN_WORD = _ByteTable()


def _plans_of(shapes: list[str], words: list[str], plans: dict, exact: Callable[[str], Circuit]
              ) -> list[_Plan]:
    """Each statement's plan, in order (blank lines dropped; new shapes compiled)."""
    todo = list(map(plans.get, shapes))
    if None in todo:
        for i, shape in enumerate(shapes):
            if todo[i] is None:
                plan = plans.get(shape)
                if plan is None:
                    # an empty line has TOKEN's spaces only: no other blank counts
                    blank = not shape.strip(" \t\r\f\v")
                    plan = plans[shape] = _BLANK if blank else _shape(shape, exact)
                todo[i] = plan
    if _BLANK in todo:
        todo = [plan for plan in todo if plan is not _BLANK]
    at = list(accumulate(map(_HOLES, todo), initial=0))
    if at[-1] != len(words):
        raise _Bail  # words where no shape has a hole for them
    for i in [i for i, plan in enumerate(todo) if plan.__class__ is _Calls]:
        calls = todo[i]
        names = calls.key(words[at[i]:at[i] + calls.calls[-1] + 1])
        todo[i] = calls.plans.get(names) or calls.plan(names, exact)
    return todo


_BLANK = object()  # the plan of an empty line
# texts this long append whole chunks at once with numpy (whose import then pays for itself)
VECTOR_FROM = 1 << 20
_HOLES, _COUNT, _GATES, _TOGETHER = (attrgetter(a) for a in ("holes", "count", "gates",
                                                              "together"))


def _all_at_once(c: Circuit, words: list[str], todo: list[_Plan], np) -> int | None:
    """Append a chunk of `name = expression` statements with array operations: their node
    numbers follow from their plans' gate counts, their names are entered first, then
    every word is looked up in one pass. The last statement's node, or None (and nothing
    changed) when a statement needs the one-at-a-time replay: a new input or constant, a
    name used before its definition, a constant subexpression, a declaration, an alias."""
    count = len(todo)
    if not count or not all(map(_TOGETHER, todo)):
        return None
    holes = np.fromiter(map(_HOLES, todo), np.int64, count)
    counts = np.fromiter(map(_COUNT, todo), np.int64, count)
    n0 = len(c.gates)
    at = np.zeros(count, np.int64)  # each statement's first word
    np.cumsum(holes[:-1], out=at[1:])
    starts = np.full(count, n0, np.int64)  # each statement's first node
    starts[1:] += np.cumsum(counts[:-1])
    tops = starts + counts - 1
    total = int(counts.sum())
    named = c.named
    names = list(map(words.__getitem__, at.tolist()))
    if not all(map(str.isidentifier, names)):
        return None
    size = len(named)
    named.update(zip(names, tops.tolist()))
    if len(named) - size != count:
        raise _Bail  # a name defined twice, or met before its definition, or a function's
    nodes = np.fromiter(map(named.get, words, repeat(-1)), np.int64, len(words))
    args0 = np.empty(total, np.int64)
    args1 = np.empty(total, np.int64)
    kinks = []
    kinds = {plan: k for k, plan in enumerate(dict.fromkeys(todo))}
    ids = np.fromiter(map(kinds.__getitem__, todo), np.int64, count)
    live = np.frombuffer(c.live, np.uint8) if n0 else np.zeros(0, np.uint8)
    try:
        for plan, k in kinds.items():
            which = np.flatnonzero(ids == k)
            first = starts[which]
            ops = nodes[at[which][:, None] + np.array(plan.operands, np.int64)]
            # every operand made before its statement (-1: new; -2: a function's name)
            if ((ops < 0) | (ops >= first[:, None])).any():
                raise _Bail
            alive = np.ones(ops.shape, np.uint8)  # this chunk's gates: live, checked below
            old = ops < n0
            alive[old] = live[ops[old]]
            if ops.shape[1] < 63:  # each row's liveness as the bits of one number
                rows = alive[np.unique(alive @ (1 << np.arange(ops.shape[1], dtype=np.int64)),
                                       return_index=True)[1]]
            else:
                rows = np.unique(alive, axis=0)
            for row in rows:
                key = row.tobytes()
                if 0 in (plan.lives.get(key) or plan.live(key)):
                    raise _Bail  # a gate of constants alone: the replay marks it
            n = len(plan.operands)
            for m, (s0, s1) in enumerate(plan.sources):
                place = first - n0 + m
                for column, source in ((args0, s0), (args1, s1)):
                    column[place] = (ops[:, source] if source < n else -1 if source
                                     == n + plan.count else first + (source - n))
            kinks += [first + m for m in plan.kinks]
    except _Bail:
        for name in names:
            del named[name]
        return None
    finally:
        del live  # the bytearray grows below: no view of it may be alive then
    c.gates += chain.from_iterable(map(_GATES, todo))
    c.a0.frombytes(args0.astype(np.intc).tobytes())
    c.a1.frombytes(args1.astype(np.intc).tobytes())
    c.live += b"\x01" * total
    if kinks:
        c.kinkable.frombytes(np.sort(np.concatenate(kinks)).astype(np.intc).tobytes())
    return int(tops[-1])


def _finish(c: Circuit, last: int) -> None:
    """The columns left for the end: names (the first name given to a node is its name, as
    the exact parser has it; `named` keeps the order names were given) and constants."""
    n = len(c.gates)
    names: list[str | None] = [None] * n
    for name, node in c.named.items():
        if names[node] is None:
            names[node] = name
    base = array("d", [0.0]) * n
    for word, node in c.consts.items():
        base[node] = float(word)
    c.names, c.base = names, base
    c._last = last


def _declare(c: Circuit, name: str, word: str, sign: str) -> int:
    """`name = 5`: an input with a default, as the exact parser makes it."""
    node = len(c.gates)
    c.gates.append(_INPUT)
    c.a0.append(-1)
    c.a1.append(-1)
    c.live.append(1)
    c.inputs[name] = c.named[name] = node
    value = float(word)
    c.defaults[name] = -value if sign == "-" else value
    return node


def _replay(c: Circuit, plan: _Plan, ops: list, name: str | None) -> int:
    """The general replay of a plan: operands may be new inputs or constants (made the
    moment they are read, as the exact parser makes them), gates may take many arguments."""
    gates, live = c.gates, c.live
    known = c.named  # names, and while building also numbers and functions (None)
    made: list[int] = []
    node = -1
    for step in plan.steps:
        if step.__class__ is int:
            word = ops[step]
            node = known.get(word, -1)
            if node < 0:  # not met yet, or a function's name (refused below)
                node = len(gates)
                if is_number_word(word):
                    c.consts[word] = known[word] = node
                    gates.append(_CONST)
                    live.append(0)
                else:
                    if word == name or is_function_name(word) or word in CONSTANTS:
                        raise _Bail  # a cycle, a function without a call, a named constant
                    gates.append(_INPUT)
                    live.append(1)
                    c.inputs[word] = known[word] = node
                c.a0.append(-1)
                c.a1.append(-1)
        else:
            gate = step[0]
            node = len(gates)
            args = (tuple(made[i] for i in step[1]) if len(step) == 2
                    else (made[step[1]],) if step[2] < 0 else (made[step[1]], made[step[2]]))
            c._put_args(node, args)
            gates.append(gate)
            live.append(any(live[x] for x in args))
            if gate.kink is not None:
                c.kinkable.append(node)
        made.append(node)
    return node
