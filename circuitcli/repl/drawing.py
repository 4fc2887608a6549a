"""`:graph [FILE]`: the tree on screen, or a file whose extension picks the format (.html:
the live page).

A thin adapter over render.tree, render.dot and render.mermaid, so the REPL draws
exactly what `circuit graph` draws without importing a command module.
"""

from __future__ import annotations

import io
import os

from rich.console import Console

from ..core.circuit import Circuit
from ..core.evaluate import Result
from ..core.syntax import CircuitError
from ..io.files import write_file
from ..methods.model import start_values
from ..render import dot, html  # their limits read at each call: a test may lower them
from ..render.dot import dot_source, layout_size, run_graphviz
from ..render.html import page_data, page_html
from ..render.layout import layout
from ..render.mermaid import mermaid_source
from ..render.tree import DEFAULT_DEPTH, CircuitTree

__all__ = ["FORMATS", "draw"]

FORMATS = {".txt": "tree", ".dot": "dot", ".gv": "dot", ".svg": "svg", ".png": "png",
           ".mmd": "mermaid", ".mermaid": "mermaid", ".md": "mermaid", ".html": "html",
           ".htm": "html"}


def draw(console: Console, circuit: Circuit, result: Result | None, title: str,
         missing: tuple[str, ...], path: str | None) -> str | None:
    """Print the tree, or write FILE and return the note saying so."""
    tree = CircuitTree(circuit, result, title, 6, DEFAULT_DEPTH, missing)
    if path is None:
        console.print(tree, soft_wrap=True)
        return None
    suffix = os.path.splitext(path)[1].lower()
    form = FORMATS.get(suffix)
    if form is None:
        raise CircuitError(f"cannot tell the format from {path!r}: end the name in one of "
                           + " ".join(FORMATS))
    note = ""
    if form == "html":  # the live page, as circuit graph -o page.html writes it
        if len(circuit) > html.PAGE_LIMIT:  # the CLI's limit, in the same words
            raise CircuitError(f"too big for the live page: {len(circuit)} nodes, above the "
                               f"{html.PAGE_LIMIT} a page holds; :graph FILE.dot or FILE.txt draws "
                               "a circuit of any size")
        if result is not None:
            values = {name: result.values[i] for name, i in circuit.inputs.items()}
        else:
            values, note = start_values(circuit, missing, circuit.defaults, 0)
        data = page_html(page_data(circuit, values, title, layout(circuit), note=note)
                         ).encode("utf-8")
    elif form == "tree":
        buffer = io.StringIO()
        Console(file=buffer, color_system=None, width=100).print(tree, soft_wrap=True)
        data = buffer.getvalue().encode("utf-8")
    elif form == "mermaid":
        fenced = suffix == ".md"
        data = mermaid_source(circuit, result, title, 6, fenced).encode("utf-8")
    else:
        size = layout_size(circuit) if form != "dot" else 0
        if size > dot.GRAPHVIZ_LIMIT:  # the CLI's guard (graph --force has no REPL twin)
            raise CircuitError(
                f"too big for Graphviz: {len(circuit)} nodes, {size} points to lay out "
                f"counting edges, above the limit of {dot.GRAPHVIZ_LIMIT} that dot draws in "
                f"reasonable time; :graph FILE.dot or :graph (a tree) draw any size")
        source = dot_source(circuit, result, title, 6)
        data = source.encode("utf-8") if form == "dot" else run_graphviz(source, form)
    if os.path.isdir(path):
        raise CircuitError(f"{path} is a directory: give a file name")
    write_file(os.path.expanduser(path), data)
    return f"wrote {path} ({len(data)} bytes)" + (f"; {note}" if note else "")
