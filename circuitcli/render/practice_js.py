"""The diagnosis tables as JavaScript, for the live page's "your turn" (page/practice.js).

The page diagnoses a typed gradient with the same mistakes as `check --expect`: each gate
slip of methods/practice.py (SLIPS) is the gate's entry with one wrong pull rule, parsed
and checked by the rule compiler (core/rules.py) and lowered to JavaScript by render/js.py
from the compiler's trees, and the messages are the same templates (WORDS), filled in by
name. The walk over a node's uses (which alternatives to compute) is written in Python and
in practice.js, because the page computes it again at every value the learner types in;
the browser tests compare the two answer by answer.
"""

from __future__ import annotations

import json

from ..core import rules
from ..methods.practice import DEFAULT_TOL, KINDS, SLIPS, WORDS, slip_gate
from .js import to_js

__all__ = ["practice_js"]


def _slip(gate: str, index: int) -> str:
    """The slip's pull as `(g, out, x, y) => ...` (for max and min, x is the use's own
    argument), from the compiler's checked tree."""
    slip = SLIPS[gate][index]
    pulls = rules.parsed(slip_gate(gate, index)).pulls
    tree = pulls[0 if len(pulls) == 1 or slip.slot == "*" else int(slip.slot)]
    return f"(g, out, x, y) => {to_js(tree)}"


def practice_js() -> str:
    """`const PRACTICE = {tol, kinds, words, slips}`: slips[gate] = [[kind, slot, f, words,
    swapped]], in SLIPS' order."""
    gates = []
    for gate, slips in SLIPS.items():
        items = [f"[{json.dumps(slip.kind)}, {json.dumps(slip.slot)}, {_slip(gate, index)}, "
                 f"{json.dumps(slip.words)}, {'true' if slip.swapped else 'false'}]"
                 for index, slip in enumerate(slips)]
        gates.append(f"  {json.dumps(gate)}: [{', '.join(items)}]")
    return ("// the learner's mistakes, generated from methods/practice.py "
            "(render/practice_js.py)\n"
            "const PRACTICE = {\n"
            f"  tol: {DEFAULT_TOL!r},\n"
            f"  kinds: {json.dumps(KINDS)},\n"
            f"  words: {json.dumps(WORDS)},\n"
            "  slips: {\n" + ",\n".join(gates) + "\n  },\n};\n")
