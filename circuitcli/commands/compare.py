"""`circuit compare`: the notebook's three strategies side by side, with their costs."""

from __future__ import annotations

import click

from ..methods import strategies
from ..methods.newton import newton_strategy
from ..render.json import dumps
from ..render.step import compare_document, compare_notes, compare_view
from . import loading, options
from .output import interrupted, print_notes, print_view


@options.circuit_command("compare")
@options.lr_option(0.01, "The gradient steps' size: each input moves by lr times its gradient.")
@options.tweak_option(None, "Random search's radius: tries within ±R of every input "
                      "(default: --lr).")
@options.tries_option("Random search's tries.")
@options.probe_option(1e-5, "The numerical gradient's probe: (f(x+h) - f(x)) / h.")
@options.seed_option(None, "Seed random search, for reproducible numbers.")
@options.minimize_option("Compare at making the output lower.")
@options.moving_options
@options.result_options
def command(args: tuple[str, ...], output: str | None, lr: float, tweak: float | None,
            tries: int, h: float, seed: int | None, minimize: bool, freeze: tuple[str, ...],
            only: tuple[str, ...], digits: int, as_json: bool) -> None:
    """Random search, a numerical-gradient step, an analytic-gradient step and a
    Newton step (the fourth, with curvature) from the same point: the output each
    reaches, how far each moved the inputs and the gain per unit moved (the fair
    measure, since the steps differ in length), the forward and backward passes each
    needs, and the time it takes. The current values stay as they are.

    \b
    Examples:
      circuit compare "(x+y)*z" x=-2 y=5 z=-4 --seed 1
      circuit compare neuron.circuit --tries 1000
    """
    target = loading.load_target(args, output, remember=False)
    free = options.moving(target.circuit, freeze, only)
    try:
        result = strategies.compare(target.circuit, target.values, lr, tries, h, seed,
                                    minimize, free, tweak)
    except strategies.Interrupted as err:
        interrupted(err.reached)
    # the fourth strategy, with curvature (issue 20)
    result.strategies.append(newton_strategy(target.circuit, target.values, minimize, free))
    if as_json:
        click.echo(dumps(compare_document(result)))
    else:
        print_view(compare_view(result, target.title, digits))
    print_notes(compare_notes(result))
