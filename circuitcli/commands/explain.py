"""`circuit explain`: the forward pass, then the backward pass told one node at a time."""

from __future__ import annotations

import click

from ..core.evaluate import evaluate
from ..methods.explain import explain
from ..render.explain import explain_document, explain_story
from ..render.json import dumps
from .loading import load_target
from .options import (
    CircuitCommand,
    circuit_arguments,
    digits_option,
    json_option,
    pull_option,
    rows_options,
)
from .output import make_console


@click.command("explain", cls=CircuitCommand)
@circuit_arguments
@pull_option
@digits_option
@rows_options
@json_option
def command(args: tuple[str, ...], output: str | None, pull: float, digits: int, max_rows: int,
            show_all: bool, as_json: bool) -> None:
    """The chain rule, step by step: who pulls on each node, and how hard.

    First each gate's value from its arguments; then, from the output down, each
    node's uses: the local derivative of the gate that uses it, times that gate's
    gradient (the pull from above), and the sum when a node is used more than once.
    Only looks: the current circuit is not changed.

    \b
    Examples:
      circuit explain "(x+y)*z" x=-2 y=5 z=-4
      circuit explain "a*a" a=3
      circuit explain neuron.circuit --json
    """
    target = load_target(args, output, remember=False)
    ex = explain(evaluate(target.circuit, target.values, pull=pull))
    if as_json:
        doc = explain_document(ex)
        for warning in doc["warnings"]:
            click.echo(f"warning: {warning}", err=True)
        click.echo(dumps(doc))
        return
    make_console().print(explain_story(ex, target.title, digits,
                                       None if show_all else max_rows), soft_wrap=True)
