"""`circuit step`: nudge the inputs along the gradient and remember where they landed."""

from __future__ import annotations

import math
from collections.abc import Callable

import click

from ..core.circuit import Circuit
from .common import CircuitCommand, circuit_arguments, load_target, make_console, session_lock


def _positive(ctx: click.Context, param: click.Parameter, value: float) -> float:
    if not math.isfinite(value) or value <= 0:
        hint = " (--minimize goes down the gradient)" if value < 0 else ""
        raise click.BadParameter(f"must be a positive number, not {value:g}{hint}")
    return value


def _names(given: tuple[str, ...]) -> list[str]:
    """`--freeze a,b --freeze c` -> [a, b, c]."""
    names = []
    for chunk in given:
        for name in chunk.split(","):
            if not name.strip():
                raise click.BadParameter(f"{chunk!r}: expected input names separated by commas")
            names.append(name.strip())
    return names


def moving_options(func: Callable) -> Callable:
    """`--freeze NAMES` and `--only NAMES`: which inputs may move."""
    func = click.option("--only", metavar="NAMES", multiple=True,
                        help="Move only these inputs (comma-separated).")(func)
    return click.option("--freeze", metavar="NAMES", multiple=True,
                        help="Keep these inputs where they are (comma-separated).")(func)


def moving(circuit: Circuit, freeze: tuple[str, ...], only: tuple[str, ...]) -> list[str]:
    from ..methods.strategies import moving_inputs

    if freeze and only:
        raise click.UsageError("--freeze and --only contradict each other; give one")
    return moving_inputs(circuit, _names(freeze), _names(only))


def output_options(func: Callable) -> Callable:
    """`--digits N` and `--json`, as every result-printing command has them."""
    func = click.option("--json", "as_json", is_flag=True,
                        help="Machine output on stdout, full precision.")(func)
    return click.option("--digits", type=click.IntRange(1, 17), default=6, show_default=True,
                        help="Significant digits in the table (JSON keeps them all).")(func)


@click.command("step", cls=CircuitCommand)
@circuit_arguments
@click.option("--lr", type=float, default=0.01, show_default=True, callback=_positive,
              help="Step size: each input moves by lr times its gradient.")
@click.option("--steps", type=click.IntRange(1), default=1, show_default=True,
              help="How many steps to take, one forward and one backward pass each.")
@click.option("--minimize", is_flag=True, help="Go down the gradient: x = x - lr * df/dx.")
@moving_options
@click.option("--tol", type=click.FloatRange(0), default=0.0, show_default=True,
              help="Stop once every gradient is at most this in size.")
@click.option("--dry-run", is_flag=True, help="Show the step, but keep the current values.")
@output_options
def command(args: tuple[str, ...], output: str | None, lr: float, steps: int, minimize: bool,
            freeze: tuple[str, ...], only: tuple[str, ...], tol: float, dry_run: bool,
            digits: int, as_json: bool) -> None:
    """Nudge every input along its gradient: x = x + lr * df/dx, the output goes up.

    With no circuit given it steps the current circuit and remembers the new values,
    so running it again keeps walking uphill, as the notebook's cells do.

    \b
    Examples:
      circuit grad "(x+y)*z" x=-2 y=5 z=-4
      circuit step --lr 0.01
      circuit step --steps 100 --freeze x
      circuit step neuron.circuit --steps 1000 --json
    """
    from ..methods.strategies import step
    from ..render.step import progress, step_document, step_view

    console = make_console()
    with session_lock():
        target = load_target(args, output)
        free = moving(target.circuit, freeze, only)
        with progress(console, steps, "stepping", show=not as_json) as tick:
            run = step(target.circuit, target.values, lr, steps, minimize, free, tol, tick)
        if not dry_run:
            target.remember(run.after)
    if as_json:
        from ..render.json import dumps

        click.echo(dumps(step_document(run)))
        if run.stop:
            click.echo(f"note: stopped early: {run.stop}", err=True)
        return
    note = "--dry-run: the current values are unchanged" if dry_run and target.session else ""
    console.print(step_view(run, target.title, digits, note))
