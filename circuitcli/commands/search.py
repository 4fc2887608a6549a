"""`circuit search`: strategy 1 of the notebook, random nudges, keep the best."""

from __future__ import annotations

import click

from ..methods.strategies import search
from ..render.json import dumps
from ..render.step import progress, search_document, search_notes, search_view
from . import loading, options
from .output import interrupted, make_console, print_notes


@options.circuit_command("search")
@options.tweak_option(0.01, "The radius: each try moves every input by a random amount within ±R.")
@options.tries_option("How many random tries, one forward pass each.")
@options.seed_option(None, "Seed the random numbers, for a reproducible search.")
@options.minimize_option("Keep the try with the lowest output.")
@options.moving_options
@click.option("--apply", is_flag=True,
              help="Make the best try's inputs the current values (as step does).")
@options.result_options
def command(args: tuple[str, ...], output: str | None, tweak: float, tries: int,
            seed: int | None, minimize: bool, freeze: tuple[str, ...], only: tuple[str, ...],
            apply: bool, digits: int, as_json: bool) -> None:
    """Try random nudges within ±tweak of every input and keep the best: the notebook's
    strategy 1, which works but needs many forward passes for a small gain.

    The current circuit changes only with --apply. Ctrl-C keeps the best try so far
    (applied with --apply; exit 130).

    \b
    Examples:
      circuit search "x*y" x=-2 y=3 --tweak 0.01 --tries 100 --seed 1
      circuit search --tries 1000 --apply
    """
    with loading.session_lock():
        target = loading.load_target(args, output, remember=apply)
        free = options.moving(target.circuit, freeze, only)
        stderr = make_console(stderr=True)
        with progress(stderr, tries, "searching", show=not as_json) as tick:
            run = search(target.circuit, target.values, tweak, tries, seed, minimize, free, tick)
        if apply:
            target.remember(run.best)
    note = ""
    if apply and target.session:
        note = "--apply: the best try's inputs are now the current values"
    elif target.session:
        note = "the current values are unchanged (--apply keeps the best try)"
    if as_json:
        click.echo(dumps(search_document(run)))
    else:
        make_console().print(search_view(run, target.title, digits))
    print_notes(search_notes(run, note))
    if run.interrupted:
        interrupted(f"after {run.done} of {tries} tries; the best so far is shown"
                           + (" and applied" if apply else ""))
