"""`circuit grad`: forward, one backward sweep, and the per-node table."""

from __future__ import annotations

import click

from .loading import load_target
from .options import circuit_command, pull_option, result_options, rows_options
from .output import make_console, print_notes


@circuit_command("grad")
@pull_option
@rows_options
@result_options
@click.option("--no-nodes", is_flag=True, help="With --json: leave out the per-node list.")
def command(args: tuple[str, ...], output: str | None, pull: float, digits: int, max_rows: int,
            show_all: bool, as_json: bool, no_nodes: bool) -> None:
    """Every node's value and gradient: how hard the output pulls on it.

    The circuit is an expression, a circuit file, or - for standard input;
    NAME=VALUE arguments set (or override) input values.

    \b
    Examples:
      circuit grad "(x+y)*z" x=-2 y=5 z=-4
      circuit grad "sigmoid(a*x + b*y + c)" a=1 b=2 c=-3 x=-1 y=3
      circuit grad neuron.circuit --json
    """
    from ..core.evaluate import evaluate

    target = load_target(args, output)
    result = evaluate(target.circuit, target.values, pull=pull)
    if as_json:
        from ..render.json import dumps, grad_document

        click.echo(dumps(grad_document(result, nodes=not no_nodes)))
        for warning in result.warnings:  # inf and nan are null in JSON: say where they came from
            click.echo(f"warning: {warning}", err=True)
        return
    from ..render.table import grad_notes, grad_table

    make_console().print(grad_table(result, target.title, digits,
                                    None if show_all else max_rows))
    print_notes(grad_notes(result))
