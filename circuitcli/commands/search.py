"""`circuit search`: strategy 1 of the notebook, random nudges, keep the best."""

from __future__ import annotations

import click

from .common import CircuitCommand, circuit_arguments, load_target, make_console, session_lock
from .step import _positive, moving, moving_options, output_options


@click.command("search", cls=CircuitCommand)
@circuit_arguments
@click.option("--tweak", type=float, default=0.01, show_default=True, callback=_positive,
              help="Each try moves every input by a random amount within ±tweak.")
@click.option("--tries", type=click.IntRange(1), default=100, show_default=True,
              help="How many random tries, one forward pass each.")
@click.option("--seed", type=int, help="Seed the random numbers, for a reproducible search.")
@click.option("--minimize", is_flag=True, help="Keep the try with the lowest output.")
@moving_options
@click.option("--apply", is_flag=True,
              help="Make the best try's inputs the current values (as step does).")
@output_options
def command(args: tuple[str, ...], output: str | None, tweak: float, tries: int,
            seed: int | None, minimize: bool, freeze: tuple[str, ...], only: tuple[str, ...],
            apply: bool, digits: int, as_json: bool) -> None:
    """Try random nudges within ±tweak of every input and keep the best: the notebook's
    strategy 1, which works but needs many forward passes for a small gain.

    \b
    Examples:
      circuit search "x*y" x=-2 y=3 --tweak 0.01 --tries 100 --seed 1
      circuit search --tries 1000 --apply
    """
    from ..methods.strategies import search
    from ..render.step import progress, search_document, search_view

    console = make_console()
    with session_lock():
        target = load_target(args, output)
        free = moving(target.circuit, freeze, only)
        with progress(console, tries, "searching", show=not as_json) as tick:
            run = search(target.circuit, target.values, tweak, tries, seed, minimize, free, tick)
        if apply:
            target.remember(run.best)
    if as_json:
        from ..render.json import dumps

        click.echo(dumps(search_document(run)))
        return
    note = ""
    if apply and target.session:
        note = "--apply: the best try's inputs are now the current values"
    elif target.session:
        note = "the current values are unchanged (--apply keeps the best try)"
    console.print(search_view(run, target.title, digits, note))
