"""`circuit hessian`: how the output curves, the matrix of second derivatives."""

from __future__ import annotations

import click

from ..methods.derivatives import hessian, parse_direction
from ..render.hessian import hessian_csv, hessian_document, hessian_view
from ..render.json import dumps
from ..render.table import grad_notes
from .loading import load_target
from .options import circuit_command, output_file_option, result_options, rows_options
from .output import print_notes, print_view, write_output


@circuit_command("hessian")
@click.option("--hvp", "hvp", metavar="NAME=V", multiple=True,
              help="Only the Hessian-vector product along this direction (repeat for each "
                   "input that moves): no matrix is formed, for big circuits.")
@rows_options
@result_options
@output_file_option("the matrix (or the product) as CSV")
def command(args: tuple[str, ...], output: str | None, hvp: tuple[str, ...], max_rows: int,
            show_all: bool, digits: int, as_json: bool, output_path: str | None) -> None:
    """The second derivatives of the output with respect to the inputs.

    A symmetric table with the input names on both sides, its eigenvalues, and
    what they mean here: curving down in every direction (a maximum where the
    gradient is 0), up (a minimum), both (a saddle), or flat along a direction.
    Each column is one Hessian-vector product: the backward rules run over dual
    numbers (forward-over-reverse). Only looks: the current circuit is not changed.

    \b
    Examples:
      circuit hessian "x*y" x=3 y=-2
      circuit hessian "(x+y)*z" x=-2 y=5 z=-4 --json
      circuit hessian neuron.circuit --hvp x=1 --hvp y=-1
    """
    direction = parse_direction(hvp, "--hvp") if hvp else None
    target = load_target(args, output, remember=False)
    h = hessian(target.circuit, target.values, output, direction)
    if output_path is not None and output_path != "-":
        write_output(output_path, hessian_csv(h), (target.circuit.source,))
    if as_json:
        doc = hessian_document(h)
        click.echo(dumps(doc))
        for warning in doc["warnings"]:
            click.echo(f"warning: {warning}", err=True)
        return
    if output_path == "-":
        click.echo(hessian_csv(h), nl=False)
        return
    print_view(hessian_view(h, target.title, digits, None if show_all else max_rows))
    h.result.warnings[:] = h.warnings
    print_notes(grad_notes(h.result))
