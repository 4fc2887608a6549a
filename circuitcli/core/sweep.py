"""Forward and backward sweeps over a big tape, compiled from the gate table's texts.

evaluate.py runs a tape by calling each gate's float rule: one Python call per gate,
and for the backward rule a tuple per gate too. On a million gates that call is most
of the time. Here the same rule texts are written into the body of one loop, a branch
per kind of gate the tape has (the most frequent first), so a `mul` costs a few array
reads, one product and one store. The expressions are the rule compiler's float trees
(core/rules.py: the same trees, after the same rewrites, the float rules are compiled
from), so every value and gradient is the one the float rules give, bit for bit; a test
holds the two to that.

Variadic gates (max, min) are called as evaluate.py calls them. The generated source
holds only the gate table's rule texts and names of our own, never a user's text, and is
registered with linecache, so a traceback shows its lines.
"""

from __future__ import annotations

import ast
from collections import Counter
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from . import rules
from .gates import GATES, Gate

if TYPE_CHECKING:
    from .circuit import Circuit

__all__ = ["sweeps"]

_LEAVES = (GATES["input"], GATES["const"])
_CACHE: dict[frozenset[Gate], tuple[Callable, Callable, Callable]] = {}


def sweeps(circuit: Circuit) -> tuple[Callable, Callable, Callable]:
    """(forward, backward, kinks) for this tape's kinds of gate, compiled once per set.

    forward(vals, gates, a0, a1, more) fills vals (an array of the leaves' values) in
    place; backward(vals, grads, gates, a0, a1, more, reached, out) adds into grads and
    marks in `reached` (1 at out, else 0 to begin with) every node the output depends on:
    the nodes it runs, so that Circuit.used() costs no sweep of its own; kinks(vals, gates,
    a0, a1, more, nodes) gives the nodes among `nodes` whose kink condition holds.
    """
    found = circuit._sweeps
    if found is None:
        counts = Counter(circuit.gates)
        kinds = tuple(sorted((g for g in counts if g not in _LEAVES), key=lambda g: -counts[g]))
        key = frozenset(kinds)  # one compiled set per set of gates (the first tape's order)
        found = _CACHE.get(key)
        if found is None:
            for gate in kinds:
                gate.ready()
            found = _CACHE[key] = _compile(kinds)
        circuit._sweeps = found
    return found


def _inline(gate: Gate) -> bool:
    """Whether the gate's texts can go into the loop (else it is called)."""
    return gate.arity in (1, 2)


def _bind(trees: Sequence[ast.AST], loads: dict[str, str]) -> tuple[list[str], list[str]]:
    """The expressions with each name of `loads` they use once replaced by its load
    (`x` by `_vals[_j]`), and an assignment line for each name they use more than once.
    The loads only read, so where they are read does not change a result."""
    uses = Counter(n.id for tree in trees for n in ast.walk(tree) if isinstance(n, ast.Name))
    lines = [f"{name} = {load}" for name, load in loads.items() if uses[name] > 1]
    once = {name: ast.parse(load, mode="eval").body for name, load in loads.items()
            if uses[name] == 1}
    return lines, [ast.unparse(rules.substitute(tree, once)) for tree in trees]


def _compile(kinds: Sequence[Gate]) -> tuple[Callable, Callable, Callable]:
    fwd = ["def forward(_vals, _gates, _a0, _a1, _more):",
           "    for _i, _gate, _j, _k in zip(range(len(_gates)), _gates, _a0, _a1):"]
    back = ["def backward(_vals, _grads, _gates, _a0, _a1, _more, _used, _top):",
            "    for _i, _gate, _j, _k in zip(range(len(_gates) - 1, -1, -1), reversed(_gates),",
            "                                 reversed(_a0), reversed(_a1)):",
            "        if not _used[_i]:",
            "            continue  # nothing reaches this node from the output"]
    pad = " " * 12
    for n, gate in enumerate(kinds):
        word = "if" if n == 0 else "elif"
        fwd.append(f"        {word} _gate is _K{n}:")
        back.append(f"        {word} _gate is _K{n}:")
        if not _inline(gate):
            fwd.append(f"            _vals[_i] = _F{n}(*[_vals[_t] for _t in _args(_i, _j, _k,"
                       " _more)])")
            back += ["            _a = _args(_i, _j, _k, _more)",
                     f"            for _t, _c in zip(_a, _B{n}(_grads[_i], _vals[_i],"
                     " *[_vals[_t] for _t in _a])):",
                     "                _grads[_t] += _c",
                     "                _used[_t] = 1"]
            continue
        loads = {"x": "_vals[_j]", "y": "_vals[_k]"} if gate.arity == 2 else {"x": "_vals[_j]"}
        value, pull_trees = rules.real_trees(gate)
        lines, (rule,) = _bind([value], loads)
        fwd += [pad + line for line in lines] + [f"{pad}_vals[_i] = {rule}"]
        lines, pulls = _bind(pull_trees, {**loads, "g": "_grads[_i]", "out": "_vals[_i]"})
        back += [pad + line for line in lines]
        if gate.arity == 2:  # a pull reads g and values, never _grads[_j]: x * x is safe
            back += [f"{pad}_grads[_j] += {pulls[0]}", f"{pad}_grads[_k] += {pulls[1]}",
                     f"{pad}_used[_j] = 1", f"{pad}_used[_k] = 1"]
        else:
            back += [f"{pad}_grads[_j] += {pulls[0]}", f"{pad}_used[_j] = 1"]
    if not kinds:  # a tape of leaves alone
        fwd.append("        pass")
        back.append("        pass")
    namespace = dict(rules.real_namespace())
    namespace["_args"] = _args
    for n, gate in enumerate(kinds):
        namespace[f"_K{n}"] = gate
        namespace[f"_F{n}"] = gate.real_forward
        namespace[f"_B{n}"] = gate.real_backward
    source = "\n".join([*fwd, "", *back, "", *_kink_scan(kinds)]) + "\n"
    filename = f"<sweeps {' '.join(gate.name for gate in kinds)}>"
    rules.register_source(filename, source)
    exec(compile(source, filename, "exec"), namespace)  # safe: the gate table's texts
    return namespace["forward"], namespace["backward"], namespace["kinks"]


def _kink_scan(kinds: Sequence[Gate]) -> list[str]:
    """kinks(vals, gates, a0, a1, more, nodes): the nodes whose gate's kink condition holds
    (a condition that cannot be computed counts: the gate's own note then decides)."""
    lines = ["def kinks(_vals, _gates, _a0, _a1, _more, _nodes):",
             "    _hits = []",
             "    for _i in _nodes:",
             "        _gate = _gates[_i]"]
    word = "if"
    for n, gate in enumerate(kinds):
        if gate.kink_rule is None:
            continue
        lines.append(f"        {word} _gate is _K{n}:")
        word = "elif"
        if not _inline(gate):
            lines += [f"            if _K{n}.kink(_vals[_i], *[_vals[_t] for _t in"
                      " _args(_i, _a0[_i], _a1[_i], _more)]) is not None:",
                      "                _hits.append(_i)"]
            continue
        lines += ["            try:", "                out = _vals[_i]",
                  "                x = _vals[_a0[_i]]"]
        if gate.arity == 2:
            lines.append("                y = _vals[_a1[_i]]")
        lines += [f"                if {ast.unparse(rules.parsed(gate).kink[0])}:",
                  "                    _hits.append(_i)",
                  "            except (ArithmeticError, ValueError, TypeError):",
                  "                _hits.append(_i)"]
    return [*lines, "    return _hits"]


def _args(i: int, j: int, k: int, more: dict[int, tuple[int, ...]]) -> tuple[int, ...]:
    return (j, k) if k >= 0 else (j,) if k == -1 else more[i]
