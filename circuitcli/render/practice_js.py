"""The diagnosis tables as JavaScript, for the live page's "your turn" (page/practice.js).

The page diagnoses a typed gradient with the same mistakes as `check --expect`: the slips
of each gate are the very rule texts of methods/practice.py's SLIPS, lowered to JavaScript
by render/js.py's translator, and the messages are the same templates (WORDS), filled in
by name. Only the walk over the uses is written twice, in Python and in practice.js, and
the browser tests compare the two answer by answer.
"""

from __future__ import annotations

import ast
import json

from ..methods.practice import DEFAULT_TOL, KINDS, SLIPS, WORDS
from .js import to_js

__all__ = ["practice_js"]


def _slip(rule: str) -> str:
    return f"(g, out, x, y, gx, gy) => {to_js(ast.parse(rule, mode='eval'))}"


def practice_js() -> str:
    """`const PRACTICE = {tol, kinds, words, slips}`: slips[gate][slot] = [[kind, f, words]]."""
    gates = []
    for gate, slots in SLIPS.items():
        entries = []
        for slot, rules in slots.items():
            items = ", ".join(f"[{json.dumps(kind)}, {_slip(rule)}, {json.dumps(words)}]"
                              for kind, rule, words in rules)
            entries.append(f"{json.dumps(slot)}: [{items}]")
        gates.append(f"  {json.dumps(gate)}: {{{', '.join(entries)}}}")
    return ("// the learner's mistakes, generated from methods/practice.py "
            "(render/practice_js.py)\n"
            "const PRACTICE = {\n"
            f"  tol: {DEFAULT_TOL!r},\n"
            f"  kinds: {json.dumps(KINDS)},\n"
            f"  words: {json.dumps(WORDS)},\n"
            "  slips: {\n" + ",\n".join(gates) + "\n  },\n};\n")
