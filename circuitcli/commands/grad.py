"""`circuit grad`: forward, one backward sweep, and the per-node table."""

from __future__ import annotations

import click

from ..core.evaluate import evaluate
from ..core.lazy import lazy
from .loading import load_target
from .options import (
    circuit_command,
    forward_options,
    once,
    pull_option,
    result_options,
    rows_options,
)
from .output import make_console, print_notes, print_view

# the table or the JSON, whichever is asked for (the table needs no json module, the JSON
# no rich.bar); forward mode and the Jacobian only with --forward or --of a,b
derivatives = lazy("circuitcli.methods.derivatives")
jacobians = lazy("circuitcli.render.hessian")
documents = lazy("circuitcli.render.json")
tables = lazy("circuitcli.render.table")


@circuit_command("grad")
@pull_option
@rows_options
@result_options
@click.option("--no-nodes", is_flag=True, help="With --json: leave out the per-node list.")
@forward_options("Forward mode too: every node's tangent along --wrt or --direction.")
def command(args: tuple[str, ...], output: str | None, pull: float, digits: int, max_rows: int,
            show_all: bool, as_json: bool, no_nodes: bool, forward: bool, wrt: str | None,
            direction: tuple[str, ...]) -> None:
    """Every node's value and gradient: how hard the output pulls on it.

    The circuit is an expression, a circuit file, or - for standard input;
    NAME=VALUE arguments set (or override) input values.

    \b
    Examples:
      circuit grad "(x+y)*z" x=-2 y=5 z=-4
      circuit grad "sigmoid(a*x + b*y + c)" a=1 b=2 c=-3 x=-1 y=3
      circuit grad neuron.circuit --json
      circuit grad "(x+y)*z" x=-2 y=5 z=-4 --forward --wrt x
      circuit grad "q = x+y; f = q*z" x=-2 y=5 z=-4 --of q,f
    """
    if (forward or wrt or direction) or (output and "," in output):
        return _derivatives(args, output, pull, digits, max_rows, show_all, as_json, no_nodes,
                            forward, wrt, direction)
    target = load_target(args, output)
    result = evaluate(target.circuit, target.values, pull=pull)
    if as_json:
        click.echo(documents.dumps(documents.grad_document(result, nodes=not no_nodes)))
        for warning in result.warnings:  # inf and nan are null in JSON: say where they came from
            click.echo(f"warning: {warning}", err=True)
        return
    print_view(tables.grad_table(result, target.title, digits,
                                 None if show_all else max_rows))
    print_notes(tables.grad_notes(result))


def _derivatives(args: tuple[str, ...], output: str | None, pull: float, digits: int,
                 max_rows: int, show_all: bool, as_json: bool, no_nodes: bool, forward: bool,
                 wrt: str | None, direction: tuple[str, ...]) -> None:
    """grad --forward (tangents along a direction) and grad --of a,b (the Jacobian)."""
    if (wrt or direction) and not forward:
        raise click.UsageError("--wrt and --direction go with --forward")
    if wrt and direction:
        raise click.UsageError("give --wrt NAME or --direction NAME=V ..., not both")
    if output and "," in output:
        if wrt or direction:
            raise click.UsageError("--of a,b gives the whole Jacobian, every column; for one "
                                   "direction leave out --of: the forward table shows every "
                                   "node's tangent along it")
        names = [n.strip() for n in output.split(",")]
        if not all(names):
            raise click.BadParameter(f"{output!r}: give node names separated by commas",
                                     param_hint="--of")
        once(names, hint="--of")
        target = load_target(args, None)
        jac = derivatives.jacobian(target.circuit, target.values, names,
                                   "forward" if forward else None)
        if as_json:
            c = target.circuit
            doc = jacobians.jacobian_document(jac, {"file": c.source} if c.source
                                              else {"expression": c.text})
            doc["warnings"] += jacobians.null_warnings(doc)
            click.echo(documents.dumps(doc))
            for warning in doc["warnings"]:
                click.echo(f"warning: {warning}", err=True)
            return
        make_console().print(jacobians.jacobian_table(jac, target.title, digits,
                                                      None if show_all else max_rows))
        for warning in jac.warnings:
            click.echo(f"warning: {warning}", err=True)
        return
    target = load_target(args, output)
    c = target.circuit
    if wrt:
        along = {wrt: 1.0}
    elif direction:
        along = derivatives.parse_direction(direction)
    else:
        first = next(iter(c.inputs), None)
        along = {first: 1.0} if first is not None else {}
        if first is not None:
            click.echo(f"note: forward mode along {first} (--wrt NAME or --direction NAME=V "
                       "to choose)", err=True)
    t = derivatives.forward_mode(c, target.values, along, pull)
    if as_json:
        click.echo(documents.dumps(jacobians.forward_document(t, nodes=not no_nodes)))
        for warning in t.result.warnings:
            click.echo(f"warning: {warning}", err=True)
        click.echo(f"note: {t.costs}", err=True)
        return
    make_console().print(jacobians.forward_table(t, target.title, digits,
                                                 None if show_all else max_rows))
    print_notes(tables.grad_notes(t.result))
    click.echo(f"note: {t.costs}", err=True)
