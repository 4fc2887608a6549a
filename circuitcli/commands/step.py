"""`circuit step`: nudge the inputs along the gradient and remember where they landed."""

from __future__ import annotations

import click

from ..core.lazy import lazy
from ..methods.strategies import step
from ..render.json import dumps
from ..render.step import progress, step_document, step_notes, step_view
from . import loading, options
from .output import interrupted, make_console, print_notes

models = lazy("circuitcli.methods.model")  # a '# train:' line's features
newtons = lazy("circuitcli.methods.newton")  # --newton
newton_views = lazy("circuitcli.render.newton")


@options.circuit_command("step")
@options.lr_option(0.01, "Step size: each input moves by lr times its gradient.")
@click.option("--steps", type=click.IntRange(1), default=1, show_default=True,
              help="How many steps to take, one forward and one backward pass each.")
@options.minimize_option("Go down the gradient: x = x - lr * df/dx.")
@click.option("--numerical", is_flag=True,
              help="Use the numerical gradient (strategy 2): (f(x+h) - f(x)) / h per input.")
@options.probe_option(None, "With --numerical: the probe h (default 1e-05, the notebook's).")
@options.moving_options
@options.tol_option(0.0, "Stop once every gradient is at most this in size.")
@click.option("--dry-run", is_flag=True, help="Show the step, but keep the current values.")
@click.option("--all", "move_all", is_flag=True,
              help="Move the data features too: a circuit whose '# train:' line names its "
                   "features keeps them fixed otherwise, as training does.")
@click.option("--newton", is_flag=True,
              help="A Newton step instead: solve H δ = -gradient (H the Hessian), halved until "
                   "the output improves; refused where the output curves the wrong way or H "
                   "is singular (exit 1).")
@click.option("--damping", type=options.FINITE, default=0.0, show_default=True,
              callback=options.at_least_zero,
              metavar="L", help="With --newton: H - L·I uphill (H + L·I with --minimize).")
@options.result_options
def command(args: tuple[str, ...], output: str | None, lr: float, steps: int, minimize: bool,
            numerical: bool, h: float | None, freeze: tuple[str, ...], only: tuple[str, ...],
            tol: float, dry_run: bool, move_all: bool, newton: bool, damping: float,
            digits: int, as_json: bool) -> None:
    """Nudge every input along its gradient: x = x + lr * df/dx, the output goes up.

    With no circuit given it steps the current circuit and remembers the new values,
    so running it again keeps walking uphill, as the notebook's cells do. Ctrl-C
    during --steps keeps the values reached (exit 130). A circuit made for training
    (its '# train:' line names the features x and y) moves only its parameters: the data
    features stay where they are unless --all is given.

    \b
    Examples:
      circuit grad "(x+y)*z" x=-2 y=5 z=-4
      circuit step --lr 0.01
      circuit step --steps 100 --freeze x
      circuit step "x*y" x=-2 y=3 --numerical --h 0.00001
      circuit step neuron.circuit --steps 1000 --json
      circuit step "-(x-1)*(x-1) - y*y" x=3 y=2 --newton
    """
    if newton:
        _newton(args, output, steps, minimize, numerical, freeze, only, dry_run, damping,
                digits, as_json, move_all)
        return
    if damping:
        raise click.UsageError("--damping goes with --newton")
    if h is not None and not numerical:
        raise click.UsageError("--h is the numerical gradient's probe: give it with --numerical")
    console = make_console()
    with loading.session_lock():
        target = loading.load_target(args, output, remember=not dry_run)
        fixed = [] if move_all or only else _features(target.circuit, freeze)
        free = options.moving(target.circuit, (*freeze, *fixed), only)
        stderr = make_console(stderr=True)
        with progress(stderr, steps, "stepping", show=not as_json) as tick:
            run = step(target.circuit, target.values, lr, steps, minimize, free, tol, tick,
                       (1e-5 if h is None else h) if numerical else None)
        if not dry_run:
            target.remember(run.after)
    note = "--dry-run: the current values are unchanged" if dry_run and target.session else ""
    if fixed:
        note = "; ".join(filter(None, [note, f"{', '.join(fixed)}: data features (the "
                                              "'# train:' line), kept fixed; --all moves them"]))
    if as_json:
        click.echo(dumps(step_document(run)))
    else:
        console.print(step_view(run, target.title, digits))
    print_notes(step_notes(run, note))
    if run.interrupted:
        kept = "the current values are unchanged" if dry_run else "the values reached are current"
        interrupted(f"after {run.taken} of {steps} steps; {kept}")


def _features(circuit, freeze: tuple[str, ...]) -> list[str]:
    """The inputs a '# train: --features' line names, not already frozen."""
    if "train:" not in circuit.text:
        return []
    named = models.directive(circuit).features or []
    frozen = {n.strip() for chunk in freeze for n in chunk.split(",")}
    return [n for n in named if n in circuit.inputs and n not in frozen]


def _newton(args: tuple[str, ...], output: str | None, steps: int, minimize: bool,
            numerical: bool, freeze: tuple[str, ...], only: tuple[str, ...], dry_run: bool,
            damping: float, digits: int, as_json: bool, move_all: bool = False) -> None:
    """`step --newton`: the notebook's step with curvature (circuit help derivatives)."""
    if numerical:
        raise click.UsageError("--newton uses the exact Hessian: leave out --numerical")
    with loading.session_lock():
        target = loading.load_target(args, output, remember=not dry_run)
        fixed = [] if move_all or only else _features(target.circuit, freeze)
        free = options.moving(target.circuit, (*freeze, *fixed), only)
        run = newtons.newton(target.circuit, target.values, steps, minimize, damping, free)
        if not dry_run and run.taken:
            target.remember(run.after)
    if as_json:
        click.echo(dumps(newton_views.newton_document(run)))
    else:
        make_console().print(newton_views.newton_view(run, target.title, digits))
    for kink in run.kinks:
        click.echo(f"kink at {kink}", err=True)
    if dry_run and target.session:
        click.echo("note: --dry-run: the current values are unchanged", err=True)
    if run.refused:
        kept = (f"; the {run.taken} step{'s' * (run.taken != 1)} taken are kept"
                if run.taken else "; the values are unchanged")
        click.echo(f"refused: {run.refused}{kept}", err=True)
        if not run.taken:
            raise SystemExit(1)
