"""`circuit compare`: the notebook's three strategies side by side, with their costs."""

from __future__ import annotations

import click

from .common import CircuitCommand, circuit_arguments, load_target, make_console
from .step import _positive, moving, moving_options, output_options


@click.command("compare", cls=CircuitCommand)
@circuit_arguments
@click.option("--lr", type=float, default=0.01, show_default=True, callback=_positive,
              help="The step size for all three (random search tries within ±lr).")
@click.option("--tries", type=click.IntRange(1), default=100, show_default=True,
              help="Random search's tries.")
@click.option("--h", "h", type=float, default=1e-5, show_default=True, callback=_positive,
              help="The numerical gradient's probe: (f(x+h) - f(x)) / h.")
@click.option("--seed", type=int, help="Seed random search, for reproducible numbers.")
@click.option("--minimize", is_flag=True, help="Compare at making the output lower.")
@moving_options
@output_options
def command(args: tuple[str, ...], output: str | None, lr: float, tries: int, h: float,
            seed: int | None, minimize: bool, freeze: tuple[str, ...], only: tuple[str, ...],
            digits: int, as_json: bool) -> None:
    """Random search, a numerical-gradient step and an analytic-gradient step from the
    same point with the same step size: the output each reaches, the forward and
    backward passes each needs, and the time it takes. The current values stay as
    they are.

    \b
    Examples:
      circuit compare "(x+y)*z" x=-2 y=5 z=-4 --seed 1
      circuit compare neuron.circuit --tries 1000
    """
    from ..methods.strategies import compare
    from ..render.step import compare_document, compare_view

    target = load_target(args, output)
    free = moving(target.circuit, freeze, only)
    result = compare(target.circuit, target.values, lr, tries, h, seed, minimize, free)
    if as_json:
        from ..render.json import dumps

        click.echo(dumps(compare_document(result)))
        return
    make_console().print(compare_view(result, target.title, digits))
