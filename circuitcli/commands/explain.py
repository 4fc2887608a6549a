"""`circuit explain`: the forward pass, then the backward pass told one node at a time."""

from __future__ import annotations

import click

from ..core.evaluate import evaluate
from ..core.lazy import lazy
from ..methods.explain import explain
from ..render.explain import explain_document, explain_story
from ..render.json import dumps
from .completion import input_names
from .loading import load_target
from .options import (
    CircuitCommand,
    circuit_arguments,
    digits_option,
    json_option,
    pull_option,
    rows_options,
)
from .output import print_story

# explain --forward only
derivatives = lazy("circuitcli.methods.derivatives")
hessians = lazy("circuitcli.render.hessian")


@click.command("explain", cls=CircuitCommand)
@circuit_arguments
@pull_option
@digits_option
@rows_options
@json_option
@click.option("--forward", is_flag=True,
              help="The forward-mode story instead: tangent in, local derivative, tangent "
                   "out, gate by gate along --wrt or --direction.")
@click.option("--wrt", metavar="NAME", shell_complete=input_names,
              help="With --forward: the input to push.")
@click.option("--direction", metavar="NAME=V", multiple=True,
              help="With --forward: push the inputs along this direction (repeat per input).")
def command(args: tuple[str, ...], output: str | None, pull: float, digits: int, max_rows: int,
            show_all: bool, as_json: bool, forward: bool, wrt: str | None,
            direction: tuple[str, ...]) -> None:
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
      circuit explain "(x+y)*z" x=-2 y=5 z=-4 --forward --wrt x
    """
    target = load_target(args, output, remember=False)
    if forward or wrt or direction:
        _forward_story(target, forward, wrt, direction, digits, max_rows, show_all, as_json)
        return
    ex = explain(evaluate(target.circuit, target.values, pull=pull))
    if as_json:
        doc = explain_document(ex)
        for warning in doc["warnings"]:
            click.echo(f"warning: {warning}", err=True)
        click.echo(dumps(doc))
        return
    print_story(explain_story(ex, target.title, digits, None if show_all else max_rows))


def _forward_story(target, forward: bool, wrt: str | None, direction: tuple[str, ...],
                   digits: int, max_rows: int, show_all: bool, as_json: bool) -> None:
    """`explain --forward`: forward mode told node by node (circuit help derivatives)."""
    if not forward:
        raise click.UsageError("--wrt and --direction go with --forward")
    if wrt and direction:
        raise click.UsageError("give --wrt NAME or --direction NAME=V ..., not both")
    c = target.circuit
    along = ({wrt: 1.0} if wrt else derivatives.parse_direction(direction) if direction
             else {next(iter(c.inputs)): 1.0} if c.inputs else {})
    t, steps = derivatives.forward_story(c, target.values, along)
    if as_json:
        click.echo(dumps(hessians.forward_story_document(t, steps)))
    else:
        view = hessians.forward_story_view(t, steps, target.title, digits,
                                           None if show_all else max_rows)
        print_story(view)
    for warning in t.result.warnings:
        click.echo(f"warning: {warning}", err=True)
