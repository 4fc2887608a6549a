"""`circuit show`: the current circuit, its input values and its output."""

from __future__ import annotations

import click

from .common import CircuitCommand, Target, circuit_arguments, load_target, make_console
from .step import output_options


def display(target: Target, digits: int, as_json: bool,
            changed: dict[str, float] | None = None) -> None:
    """Print a circuit at its values (shared with `circuit set`)."""
    from ..core.evaluate import forward
    from ..core.syntax import CircuitError

    c = target.circuit
    problem = ""
    try:
        value: float | None = forward(c, target.values)[c.output]
    except CircuitError as err:  # show the state anyway; the problem is the output's value
        value, problem = None, err.message
    text = c.text
    if not as_json:  # a comment may hold an escape sequence: never send it to the terminal raw
        from ..render.safe import printable

        text = printable(text, keep="\n\t")
    if as_json:
        from ..render.json import dumps
        from ..render.step import show_document

        click.echo(dumps(show_document(text, target.values, c.output_name, value)))
        return
    from ..render.step import show_view

    where = (f"current circuit, kept in {target.session.path}" if target.session is not None
             else "no session (nothing is remembered)")
    make_console().print(show_view(text, target.title, target.values, c.output_name, value,
                                   digits, changed, where, problem))


@click.command("show", cls=CircuitCommand)
@circuit_arguments
@output_options
def command(args: tuple[str, ...], output: str | None, digits: int, as_json: bool) -> None:
    """The current circuit: its text, its input values and the output at those values.

    \b
    Examples:
      circuit show
      circuit show --json
    """
    display(load_target(args, output), digits, as_json)
