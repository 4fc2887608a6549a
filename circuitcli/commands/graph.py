"""`circuit graph`: the circuit drawn as a terminal tree, DOT, SVG, PNG or a Mermaid block."""

from __future__ import annotations

import io
import os
import sys
from dataclasses import dataclass

import click

from ..core.circuit import Circuit, parse
from ..core.syntax import CircuitError
from .common import (
    CircuitCommand,
    Target,
    circuit_arguments,
    current_session,
    load_target,
    make_console,
    output_file_option,
    read_circuit,
    split_args,
    write_output,
)

FORMATS = ("tree", "dot", "svg", "png", "mermaid", "html")
# the format a file's extension asks for when --format is not given
SUFFIXES = {".txt": "tree", ".dot": "dot", ".gv": "dot", ".svg": "svg", ".png": "png",
            ".mmd": "mermaid", ".mermaid": "mermaid", ".md": "mermaid", ".html": "html",
            ".htm": "html"}


@dataclass
class Drawable:
    """A circuit, its input values when every input has one (else None), and a title."""

    circuit: Circuit
    values: dict[str, float] | None
    title: str
    # the inputs with no value, and the NAME=VALUE arguments as given
    missing: tuple[str, ...]
    given: dict[str, float]


def load_drawable(args: tuple[str, ...], output: str | None) -> Drawable:
    """Like cli.load_target, but a circuit whose inputs lack values is still drawable.

    With no circuit argument the current circuit is used, as every command does; a
    circuit given with a value for every input becomes the current circuit. Names
    given on the command line are checked all the same (a typo is an error).
    """
    circuit_arg, given = split_args(args)
    if circuit_arg is None:
        target = load_target(args, output)
        return Drawable(target.circuit, target.values, target.title, (), given)
    text, source = read_circuit(circuit_arg)
    circuit = parse(text, source, output)
    missing = tuple(n for n in circuit.inputs if n not in given and n not in circuit.defaults)
    values = circuit.values_for({**dict.fromkeys(missing, 0.0), **given})
    title = source or _one_line(text)
    if missing:
        return Drawable(circuit, None, title, missing, given)
    Target(circuit, values, title, output, current_session()).remember()
    return Drawable(circuit, values, title, (), given)


def _one_line(text: str, width: int = 60) -> str:
    parts = (line.split("#")[0].strip() for line in text.splitlines())
    flat = "; ".join(part for part in parts if part)
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def pick_format(form: str | None, path: str | None) -> str:
    """--format if given, else what the file's extension says, else tree."""
    if form is not None:
        return form
    if path is None:
        return "tree"
    suffix = os.path.splitext(path)[1].lower()
    if suffix not in SUFFIXES:
        known = ", ".join(SUFFIXES)
        raise CircuitError(f"cannot tell the format from {path!r}: give --format "
                           f"({'|'.join(FORMATS)}) or a file ending in one of {known}")
    return SUFFIXES[suffix]


@click.command("graph", cls=CircuitCommand)
@circuit_arguments
@click.option("--format", "form", type=click.Choice(FORMATS), default=None,
              help="tree (default), dot, svg, png (svg and png need Graphviz), mermaid, or html "
                   "(a live page: edit inputs, step, watch both passes).")
@output_file_option("the picture instead of standard output; without --format the "
                    "extension picks the format (.txt .dot .gv .svg .png .mmd .md .html)")
@click.option("--pull", type=float, default=1.0, show_default=True,
              help="The gradient of the output: the tug from above.")
@click.option("--digits", type=click.IntRange(1, 17), default=6, show_default=True,
              help="Significant digits of values and gradients.")
@click.option("--dpi", type=click.IntRange(1, 2400), default=None,
              help="png: pixels per inch (Graphviz's default is 96); lower it for big circuits.")
@click.option("--depth", type=click.IntRange(1), default=None,
              help="tree: levels drawn before a deeper branch continues as a tree of its "
                   "own below (default 12).")
def command(args: tuple[str, ...], output: str | None, form: str | None, output_path: str | None,
            pull: float, digits: int, dpi: int | None, depth: int | None) -> None:
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
    from ..core.evaluate import evaluate

    path = None if output_path == "-" else output_path  # "-": the usual spelling of stdout
    fmt_ = pick_format(form, path)
    d = load_drawable(args, output)
    if fmt_ == "html":
        _write(path, _page(d, pull), d)
        return
    result = evaluate(d.circuit, d.values, pull=pull) if d.values is not None else None
    flows = None
    if result is not None:
        from ..methods.explain import edge_contributions, explain

        flows = edge_contributions(explain(result))
    if fmt_ == "tree":
        from ..render.tree import DEFAULT_DEPTH, CircuitTree

        tree = CircuitTree(d.circuit, result, d.title, digits, depth or DEFAULT_DEPTH, d.missing)
        if path is None:
            make_console().print(tree, soft_wrap=True)
            return
        from rich.console import Console

        buffer = io.StringIO()
        Console(file=buffer, color_system=None, width=100).print(tree, soft_wrap=True)
        write_output(path, buffer.getvalue(), (d.circuit.source,))
        return
    if fmt_ == "mermaid":
        from ..render.mermaid import MERMAID_EDGE_LIMIT, mermaid_source

        fenced = path is None or not path.lower().endswith((".mmd", ".mermaid"))
        data = mermaid_source(d.circuit, result, d.title, digits, fenced, flows).encode("utf-8")
        edges = sum(len(a) for a in d.circuit.args)
        if edges > MERMAID_EDGE_LIMIT:
            click.echo(f"note: {edges} edges; Mermaid draws at most {MERMAID_EDGE_LIMIT} unless "
                       "its maxEdges setting is raised", err=True)
    else:
        from ..render.dot import dot_source, run_graphviz

        source = dot_source(d.circuit, result, d.title, digits, flows)
        if fmt_ == "dot":
            data = source.encode("utf-8")
        else:
            if fmt_ == "png" and path is None and sys.stdout.isatty():
                raise CircuitError("a PNG is binary: write it to a file with -o FILE.png "
                                   "(or redirect standard output)")
            data = run_graphviz(source, fmt_, dpi)
    _write(path, data, d)


def _write(path: str | None, data: bytes, d: Drawable) -> None:
    if path is not None:
        write_output(path, data, (d.circuit.source,))
    else:
        sys.stdout.flush()
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()


def _page(d: Drawable, pull: float) -> bytes:
    """The live HTML page; inputs without a value start at 0 (edit them in the page)."""
    from ..render.html import page_data, page_html
    from ..render.layout import layout

    values = d.values
    if values is None:
        values = d.circuit.values_for({**dict.fromkeys(d.missing, 0.0), **d.given})
        click.echo(f"note: no value for {', '.join(d.missing)}: the page starts them at 0",
                   err=True)
    data = page_data(d.circuit, values, d.title, layout(d.circuit), pull)
    return page_html(data).encode("utf-8")
