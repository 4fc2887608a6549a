"""`circuit code`: the circuit as the notebook's "backprop ninja" Python, forward then backward."""

from __future__ import annotations

import click

from ..core.evaluate import forward
from ..core.syntax import CircuitError
from ..render.code import ninja_code
from .loading import load_drawable
from .options import circuit_command, output_file_option, pull_option
from .output import write_output


@circuit_command("code")
@click.option("--values", "with_values", is_flag=True,
              help="Start with the input assignments and end by printing the gradients, so "
                   "the program runs as it is.")
@pull_option
@output_file_option("the program instead of standard output")
def command(args: tuple[str, ...], output: str | None, with_values: bool, pull: float,
            output_path: str | None) -> None:
    """The circuit as straight-line Python, in the notebook's backprop ninja style.

    Forward lines first, then the backward lines in reverse: the gradient of
    node n is dn, and a node used twice collects its gradient with +=. Each
    line's comment names its gate.

    \b
    Examples:
      circuit code "(x+y)*z"
      circuit code neuron.circuit --values
      circuit code "((a*b+c)*d)**2" a=3 b=-2 c=5 d=0.5 --values | python3
      circuit code neuron.circuit --values -o neuron.py
    """
    d = load_drawable(args, output)
    values = None
    if with_values:  # with an input left without a value, values_for says which
        values = d.values if d.values is not None else d.circuit.values_for(d.given)
        try:  # a program that stops at its first line helps nobody: say where, as grad does
            forward(d.circuit, values)
        except CircuitError as err:
            raise CircuitError(f"{err.message}, so the program would stop there (circuit code "
                               "without --values prints it for other values)", err.text,
                               err.start, err.end, err.source) from None
    program = ninja_code(d.circuit, values, pull, d.title)
    if output_path is None or output_path == "-":
        click.echo(program, nl=False)
    else:
        write_output(output_path, program, (d.circuit.source,))
