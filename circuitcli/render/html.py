"""Circuit -> one self-contained HTML page that recomputes the circuit as you edit it.

Everything the page needs is inlined: the circuit (as JSON), its layout, the gate rules
in JavaScript (`render.js.gates_js`, generated from the gate table), the page's own
script and style (package data in render/page/). It loads nothing from anywhere, so it
works opened from disk, offline. The page's contract (used by its tests and by anyone
scripting it): `<input data-input="NAME">` per input, an element per node with
`data-node="NAME"`, `data-value` and `data-grad` (JavaScript's String(x): the shortest
decimal that round-trips, "Infinity", "-Infinity" or "NaN"; `data-grad` is empty for a
node that depends on no input), `[data-action="step"]` and `<input data-lr>`.
"""

from __future__ import annotations

import json
from html import escape
from importlib import resources
from typing import Any

from ..core.circuit import Circuit
from ..core.gates import format_number
from .js import gates_js
from .practice_js import practice_js

__all__ = ["PAGE_LIMIT", "page_data", "page_html"]

# the most nodes a live page holds. The page draws only what is in view (page.js, LAZY_FROM),
# so at 10,000 it is written in about 2 s and answers an edit in about 0.25 s; at 30,000 the
# write takes 8 s and an edit near 1 s (tests/bench/bench_page.py, issue 24): past it, one line
PAGE_LIMIT = 10_000


def page_data(circuit: Circuit, values: dict[str, float], title: str, layout: dict[str, Any],
              pull: float = 1.0, lr: float = 0.01, note: str = "") -> dict[str, Any]:
    """What the page's script reads: nodes in tape order, inputs, starting values, layout."""
    c = circuit
    labels = c.labels()
    used = c.used()
    nodes = []
    for i, gate in enumerate(c.gates):
        is_input = c.is_input(i)
        const = not c.args[i] and not is_input
        nodes.append({
            "name": labels[i],
            "gate": "input" if is_input else "const" if const else gate.name,
            "args": list(c.args[i]),
            "formula": format_number(c.base[i]) if const else "input" if is_input
            else c.formula(i),
            "display": gate.display,
            "value": _js_number(c.base[i]) if const else None,
            "live": bool(c.live[i]),
            "used": bool(used[i]),
            "listed": bool(c.args[i]) or is_input or i == c.output,
        })
    return {
        "title": title,
        "output": c.output,
        "pull": pull,
        "lr": lr,
        "inputs": dict(c.inputs),
        "values": {name: values[name] for name in c.inputs},
        "nodes": nodes,
        "layout": layout,
        "note": note,  # where the starting values came from, when the user gave none
    }


def _js_number(x: float) -> float | str:
    """A number for the page's JSON: JSON has no inf or nan, so those are the strings
    JavaScript's Number() reads back ("Infinity", "-Infinity", "NaN")."""
    if x - x == 0:
        return x
    return "NaN" if x != x else "Infinity" if x > 0 else "-Infinity"


def _asset(name: str) -> str:
    return resources.files("circuitcli.render.page").joinpath(name).read_text(encoding="utf-8")


def _script_safe(text: str) -> str:
    """Text that cannot close the <script> element it sits in."""
    return text.replace("</", "<\\/")


def page_html(data: dict[str, Any]) -> str:
    """The whole page as one string."""
    # no "<" at all in the JSON (a name or title cannot open or close an element there)
    blob = json.dumps(data, allow_nan=False, ensure_ascii=False).replace("<", "\\u003c")
    return (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
        "script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:; "
        "form-action 'none'; base-uri 'none'\">\n"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        f"<title>{escape(data['title'] or 'circuit')} — circuitcli</title>\n"
        f"<style>\n{_asset('page.css')}</style>\n</head>\n<body>\n"
        f"{_asset('page.html')}"
        f"<script type=\"application/json\" id=\"circuit-data\">{blob}</script>\n"
        f"<script>\n{_script_safe(gates_js())}\n{_script_safe(_asset('page.js'))}\n"
        f"{_script_safe(practice_js())}\n{_script_safe(_asset('practice.js'))}</script>\n"
        "</body>\n</html>\n"
    )
