"""`circuit graph`: the circuit as a tree, DOT, SVG, PNG, Mermaid or a live page."""

from __future__ import annotations

import io
import os
import sys

import click
from rich.console import Console

from ..core.evaluate import evaluate
from ..core.lazy import lazy
from ..core.syntax import CircuitError
from ..methods.explain import edge_contributions, explain
from .loading import Drawable, load_drawable
from .options import (
    circuit_command,
    digits_option,
    output_file_option,
    pull_option,
    seed_option,
)
from .output import make_console, write_output

# each format's renderer, loaded only for that format
dot = lazy("circuitcli.render.dot")
html = lazy("circuitcli.render.html")
layouts = lazy("circuitcli.render.layout")
mermaid = lazy("circuitcli.render.mermaid")
models = lazy("circuitcli.methods.model")  # the page's random starts
trees = lazy("circuitcli.render.tree")

FORMATS = ("tree", "dot", "svg", "png", "mermaid", "html")
# the format a file's extension asks for when --format is not given
SUFFIXES = {".txt": "tree", ".dot": "dot", ".gv": "dot", ".svg": "svg", ".png": "png",
            ".mmd": "mermaid", ".mermaid": "mermaid", ".md": "mermaid", ".html": "html",
            ".htm": "html"}


def pick_format(form: str | None, path: str | None) -> str:
    """--format if given, else what the file's extension says, else tree."""
    if form is not None:
        return form
    if path is None:
        return "tree"
    suffix = os.path.splitext(path)[1].lower()
    if suffix not in SUFFIXES and os.path.exists(path) and not os.path.isfile(path):
        return "tree"  # a device or a FIFO (/dev/null, >(cmd)): what stdout would get
    if suffix not in SUFFIXES:
        known = ", ".join(SUFFIXES)
        raise CircuitError(f"cannot tell the format from {path!r}: give --format "
                           f"({'|'.join(FORMATS)}) or a file ending in one of {known}")
    return SUFFIXES[suffix]


@circuit_command("graph")
@click.option("--format", "form", type=click.Choice(FORMATS), default=None,
              help="tree (default), dot, svg, png (svg and png need Graphviz), mermaid, or html "
                   "(a live page: edit inputs, step, watch both passes).")
@output_file_option("the picture", "Without --format, the file's extension picks the format "
                    "(.txt .dot .gv .svg .png .mmd .md .html).")
@pull_option
@digits_option(where="in the labels", json=False)
@click.option("--dpi", type=click.IntRange(1, 2400), default=None,
              help="png: pixels per inch (Graphviz's default is 96); lower it for big circuits.")
@click.option("--depth", type=click.IntRange(1), default=None,
              help="tree: levels drawn before a deeper branch continues as a tree of its "
                   "own below (default 12).")
@click.option("--force", is_flag=True,
              help="svg/png: run Graphviz even on a circuit above its size limit.")
@seed_option(0, "html: the seed of the random starting values of inputs given no value "
                "(as circuit train draws them).")
def command(args: tuple[str, ...], output: str | None, form: str | None, output_path: str | None,
            pull: float, digits: int, dpi: int | None, depth: int | None, force: bool,
            seed: int) -> None:
    """Draw the circuit: each node with its gate, value and gradient.

    Without values for every input the structure alone is drawn. A node used
    twice is drawn once: the tree refers back to it, the diagrams give it one
    box with an arrow per use.

    \b
    Examples:
      circuit graph "(x+y)*z" x=-2 y=5 z=-4
      circuit graph neuron.circuit --format dot
      circuit graph neuron.circuit -o neuron.svg
      circuit graph "((a*b+c)*d)**2" --format mermaid
      circuit graph neuron.circuit -o neuron.html
    """
    path = None if output_path == "-" else output_path  # "-": the usual spelling of stdout
    fmt_ = pick_format(form, path)
    d = load_drawable(args, output)
    if fmt_ == "html":
        _write(path, _page(d, pull, seed), d)
        return
    result = evaluate(d.circuit, d.values, pull=pull) if d.values is not None else None
    flows = None
    if result is not None:
        flows = edge_contributions(explain(result))
    if fmt_ == "tree":
        tree = trees.CircuitTree(d.circuit, result, d.title, digits,
                                 depth or trees.DEFAULT_DEPTH, d.missing)
        if path is None:
            make_console().print(tree, soft_wrap=True)
            return
        buffer = io.StringIO()
        Console(file=buffer, color_system=None, width=100).print(tree, soft_wrap=True)
        write_output(path, buffer.getvalue(), (d.circuit.source,))
        return
    if fmt_ == "mermaid":
        fenced = path is None or not path.lower().endswith((".mmd", ".mermaid"))
        text = mermaid.mermaid_source(d.circuit, result, d.title, digits, fenced, flows)
        data = text.encode("utf-8")
        edges = sum(len(a) for a in d.circuit.args)
        limit = mermaid.MERMAID_EDGE_LIMIT
        if edges > limit:
            click.echo(f"note: {edges} edges; Mermaid draws at most {limit} unless its "
                       "maxEdges setting is raised", err=True)
    else:
        size = dot.layout_size(d.circuit) if fmt_ != "dot" and not force else 0
        if size > dot.GRAPHVIZ_LIMIT:
            raise CircuitError(
                f"too big for Graphviz: {len(d.circuit)} nodes, {size} points to lay out "
                f"counting long edges, above the limit of {dot.GRAPHVIZ_LIMIT} that dot draws "
                f"in reasonable time and memory; --format tree or --format dot scale to any "
                f"size, or --force runs Graphviz anyway")
        source = dot.dot_source(d.circuit, result, d.title, digits, flows)
        if fmt_ == "dot":
            data = source.encode("utf-8")
        else:
            if fmt_ == "png" and path is None and sys.stdout.isatty():
                raise CircuitError("a PNG is binary: write it to a file with -o FILE.png "
                                   "(or redirect standard output)")
            data = dot.run_graphviz(source, fmt_, dpi)
    _write(path, data, d)


def _write(path: str | None, data: bytes, d: Drawable) -> None:
    if path is not None:
        write_output(path, data, (d.circuit.source,))
    else:
        sys.stdout.flush()
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()


def _page(d: Drawable, pull: float, seed: int) -> bytes:
    """The live HTML page. Inputs without a value start as `circuit train` starts
    parameters: small random values from `seed`, which the page shows (at 0, a network's
    every ReLU would sit at its kink and every gradient would be 0)."""
    if len(d.circuit) > html.PAGE_LIMIT:
        raise CircuitError(f"too big for the live page: {len(d.circuit)} nodes, above the "
                           f"{html.PAGE_LIMIT} a page holds (bigger ones take many seconds to "
                           "write and to load); --format tree or --format dot draw a circuit "
                           "of any size")
    values, note = d.values, ""
    if values is None:
        values, note = models.start_values(d.circuit, d.missing, d.given, seed)
        click.echo(f"note: {note}", err=True)
    data = html.page_data(d.circuit, values, d.title, layouts.layout(d.circuit), pull,
                          note=note)
    return html.page_html(data).encode("utf-8")
