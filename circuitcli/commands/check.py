"""`circuit check`: the analytic gradient against numerical and sympy's exact derivatives."""

from __future__ import annotations

import math

import click

from ..methods.numeric import METHODS
from .common import (
    FINITE,
    circuit_command,
    load_target,
    make_console,
    positive,
    result_options,
    rows_options,
)

_METHODS = tuple(METHODS)


def _defaults(what: str) -> str:
    return ", ".join(f"{m.name} {getattr(m, what):g}" for m in METHODS.values())


def _tolerance(ctx: click.Context, param: click.Parameter, value: float | None) -> float | None:
    if value is not None and not (math.isfinite(value) and value >= 0):
        raise click.BadParameter("must be a number >= 0", ctx, param)
    return value


@circuit_command("check")
@click.option("--method", type=click.Choice(_METHODS), default="central", show_default=True,
              help="Numerical reference: central or forward differences, complex-step, "
                   "or Richardson extrapolation.")
@click.option("--h", "h", type=FINITE, callback=positive, metavar="H",
              help="The step (default: cbrt(eps)·max(1,|x|) for central, sqrt(eps)·max(1,|x|) "
                   "for forward, eps^(1/5)·max(1,|x|) for richardson, 1e-20 for complex).")
@click.option("--rtol", type=FINITE, callback=_tolerance,
              help=f"Fixed rtol, not the error estimate ({_defaults('rtol')}; with --h, "
                   "at least 10·h^order).")
@click.option("--atol", type=FINITE, callback=_tolerance,
              help=f"Fixed atol, not the error estimate ({_defaults('atol')}; with --h, "
                   "at least 10·h^order).")
@click.option("--nodes", is_flag=True, help="A row for every node, not only the inputs.")
@click.option("--no-sympy", is_flag=True, help="Skip sympy's exact derivatives (faster).")
@click.option("--no-formula", is_flag=True, help="Hide sympy's derivative formulas.")
@click.option("--sweep-h", is_flag=True,
              help="Plot each method's error against the step h (1e-20 to 1, log-log): the "
                   "V between truncation and rounding error, and where the default step sits.")
@rows_options
@result_options
def command(args: tuple[str, ...], output: str | None, method: str, h: float | None,
            rtol: float | None, atol: float | None, nodes: bool, no_sympy: bool,
            no_formula: bool, sweep_h: bool, digits: int, max_rows: int, show_all: bool,
            as_json: bool) -> None:
    """Check the gradient: analytic against numerical and sympy's exact derivative.

    One row per input (every node with --nodes): the analytic gradient, the
    numerical one, sympy's exact value and formula, their relative errors and a
    verdict. A gate whose own local derivative is wrong is named. A value at a
    kink (relu or abs at 0, a max tie) is judged against its one-sided
    derivatives instead. Agreement means |analytic - reference| <= atol + rtol·|reference|.

    Exit codes: 0 all agree, 1 something disagrees, 2 bad input.

    \b
    Examples:
      circuit check "(x+y)*z" x=-2 y=5 z=-4
      circuit check neuron.circuit --method forward --h 0.0001
      circuit check "relu(x) * y" x=0 y=2 --nodes
      circuit check "exp(x)" x=1 --sweep-h
    """
    from ..methods.check import check

    target = load_target(args, output, remember=False)
    if sweep_h:
        _sweep_h(target, no_sympy, h, digits, as_json)
        return
    result = check(target.circuit, target.values, method=method, h=h, rtol=rtol, atol=atol,
                   nodes=nodes, use_sympy=not no_sympy, formulas=not no_formula)
    if as_json:
        from ..render.check import check_document
        from ..render.json import dumps

        click.echo(dumps(check_document(result)))
    else:
        from ..render.check import check_table

        make_console().print(check_table(result, target.title, digits,
                                         None if show_all else max_rows,
                                         show_formulas=not no_formula))
    for warning in result.result.warnings:  # inf or nan on the way: on stderr, in both forms
        click.echo(f"warning: {warning}", err=True)
    if not result.ok:
        raise SystemExit(1)


def _sweep_h(target, no_sympy: bool, h: float | None, digits: int, as_json: bool) -> None:
    """`--sweep-h`: the error of every method against h, plotted (or as JSON)."""
    from ..methods.steps import sweep_steps

    sweep = sweep_steps(target.circuit, target.values, use_sympy=not no_sympy, h=h)
    if as_json:
        from ..render.json import dumps
        from ..render.steps import sweep_document

        click.echo(dumps(sweep_document(sweep)))
    else:
        from ..render.steps import sweep_plot

        make_console().print(sweep_plot(sweep, target.title, digits))
    for warning in sweep.result.warnings:
        click.echo(f"warning: {warning}", err=True)
