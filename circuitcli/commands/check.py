"""`circuit check`: the analytic gradient against numerical and sympy's exact derivatives."""

from __future__ import annotations

import os
import sys

import click

from ..core.grammar import parse_number
from ..core.lazy import lazy
from ..core.safe_text import printable
from ..core.syntax import CircuitError
from ..io.files import read_stream, read_text
from ..io.sources import close_circuit_file
from ..methods import check as checks
from ..methods.numeric import METHODS
from ..render.check import check_document, check_table
from ..render.json import dumps
from .completion import backward_files
from .loading import load_target
from .options import (
    FINITE,
    CircuitCommand,
    at_least_zero,
    circuit_arguments,
    once,
    probe_option,
    result_options,
    rows_options,
    tol_option,
)
from .output import make_console, print_story, print_view

# what only one option's path uses: --sweep-h, --expect, --order 2, --backward
bundled = lazy("circuitcli.io.bundled")  # --backward NAME.backward, a shipped sample
grader = lazy("circuitcli.methods.grader")
practice = lazy("circuitcli.methods.practice")
practice_views = lazy("circuitcli.render.practice")
second = lazy("circuitcli.methods.check2")
second_views = lazy("circuitcli.render.check2")
steps = lazy("circuitcli.methods.steps")
steps_views = lazy("circuitcli.render.steps")

_METHODS = tuple(METHODS)


def _defaults(what: str) -> str:
    return ", ".join(f"{m.name} {getattr(m, what):g}" for m in METHODS.values())


class _CheckCommand(CircuitCommand):
    """`--expect x=-4 y=-4 z=3`: every NAME=VALUE after --expect, up to the next option,
    is an expected gradient (not an input value)."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        spread: list[str] = []
        taking = False
        for token in args:
            if token == "--expect":
                taking = True
                spread.append(token)
                continue
            if taking and "=" in token and not token.startswith("-"):
                if spread[-1] != "--expect":
                    spread.append("--expect")
                spread.append(token)
                continue
            taking = False
            spread.append(token)
        return super().parse_args(ctx, spread)


def _expected(ctx: click.Context, param: click.Parameter, value: tuple[str, ...]
              ) -> list[tuple[str, float]]:
    """`--expect x=-4,y=-4 --expect dq=3` -> [(x, -4.0), (y, -4.0), (dq, 3.0)]."""
    found = []
    for chunk in value:
        for item in chunk.split(","):
            name, eq, number = item.strip().partition("=")
            x = parse_number(number.strip()) if eq else None
            if not name.strip().isidentifier() or x is None:
                raise click.BadParameter(f"{item.strip()!r}: expected NAME=NUMBER, "
                                         "e.g. --expect x=-4 dq=3", ctx, param)
            found.append((name.strip(), x))
    once([name for name, _ in found], ctx, param)
    return found


def _check_command(func):
    return click.command("check", cls=_CheckCommand)(circuit_arguments(func))


@_check_command
@click.option("--method", type=click.Choice(_METHODS), default="central", show_default=True,
              help="Numerical reference: central or forward differences, complex-step, "
                   "or Richardson extrapolation.")
@probe_option(None, "The step (default: cbrt(eps)·max(1,|x|) for central, sqrt(eps)·max(1,|x|) "
                   "for forward, eps^(1/5)·max(1,|x|) for richardson, 1e-20 for complex).")
@click.option("--rtol", type=FINITE, callback=at_least_zero,
              help=f"Fixed rtol, not the error estimate ({_defaults('rtol')}; with --h, "
                   "at least 10·h^order).")
@click.option("--atol", type=FINITE, callback=at_least_zero,
              help=f"Fixed atol, not the error estimate ({_defaults('atol')}; with --h, "
                   "at least 10·h^order).")
@click.option("--nodes", is_flag=True, help="A row for every node, not only the inputs.")
@click.option("--no-sympy", is_flag=True, help="Skip sympy's exact derivatives (faster).")
@click.option("--no-formula", is_flag=True, help="Hide sympy's derivative formulas.")
@click.option("--sweep-h", is_flag=True,
              help="Plot each method's error against the step h (1e-20 to 1, log-log): the "
                   "V between truncation and rounding error, and where the default step sits.")
@click.option("--expect", "expect", metavar="NAME=VALUE", multiple=True, callback=_expected,
              help="Check gradients you derived by hand (any node; dNAME as the notebook "
                   "names them): right or wrong, and which common mistake explains a wrong "
                   "one. Takes every NAME=VALUE after it.")
@tol_option(1e-3, "With --expect: an answer is right within tol relative to the gradient's "
                 "size, |answer - gradient| <= tol·|gradient|.")
@click.option("--backward", "backward_file", metavar="FILE", shell_complete=backward_files,
              help="Grade your backward pass: one `dNAME = expression` a line (`+=` "
                   "accumulates), each line checked in order; the first wrong one is "
                   "shown with a caret, the diagnosis and the expected value.")
@click.option("--order", type=click.IntRange(1, 2), default=1, show_default=True,
              help="2: check the Hessian (second derivatives) against sympy's and a "
                   "numerical one, and name the gate whose second derivative is wrong.")
@rows_options
@result_options
def command(args: tuple[str, ...], output: str | None, method: str, h: float | None,
            rtol: float | None, atol: float | None, nodes: bool, no_sympy: bool,
            no_formula: bool, sweep_h: bool, expect: list[tuple[str, float]], tol: float,
            backward_file: str | None, order: int, digits: int,
            max_rows: int, show_all: bool, as_json: bool) -> None:
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
      circuit check "(x+y)*z" x=-2 y=5 z=-4 --expect x=-4 y=-4 z=3
      circuit check ex1_mul.circuit --backward ex1_mul.backward
      circuit check neuron.circuit --order 2

    With --expect the table is your answers against the true gradients, with
    --backward your backward pass line by line (circuit help practice); exit 1
    if any is wrong.
    """
    if expect and backward_file is not None:
        raise click.UsageError("--expect and --backward are two ways to check your work; "
                               "give one")
    target = load_target(args, output, remember=False)
    if order == 2:
        _check_second(target, output, h, no_sympy, digits, max_rows, show_all, as_json)
        return
    if backward_file is not None:
        _grade_backward(target, backward_file, tol, digits, as_json)
        return
    if expect:
        _check_answers(target, expect, tol, digits, as_json)
        return
    if sweep_h:
        _sweep_h(target, no_sympy, h, digits, as_json)
        return
    result = checks.check(target.circuit, target.values, method=method, h=h, rtol=rtol,
                          atol=atol, nodes=nodes, use_sympy=not no_sympy,
                          formulas=not no_formula)
    if as_json:
        click.echo(dumps(check_document(result)))
    else:
        print_view(check_table(result, target.title, digits,
                               None if show_all else max_rows,
                               show_formulas=not no_formula))
    for warning in result.result.warnings:  # inf or nan on the way: on stderr, in both forms
        click.echo(f"warning: {warning}", err=True)
    if not result.ok:
        raise SystemExit(1)


def _sweep_h(target, no_sympy: bool, h: float | None, digits: int, as_json: bool) -> None:
    """`--sweep-h`: the error of every method against h, plotted (or as JSON)."""
    sweep = steps.sweep_steps(target.circuit, target.values, use_sympy=not no_sympy, h=h)
    if as_json:
        click.echo(dumps(steps_views.sweep_document(sweep)))
    else:
        make_console().print(steps_views.sweep_plot(sweep, target.title, digits))
    for warning in sweep.result.warnings:
        click.echo(f"warning: {warning}", err=True)


def _check_answers(target, expect: list[tuple[str, float]], tol: float, digits: int,
                   as_json: bool) -> None:
    """`--expect`: the learner's gradients against the truth, wrong ones diagnosed."""
    ex, verdicts = practice.check_answers(target.circuit, target.values, expect, tol)
    if as_json:
        click.echo(dumps(practice_views.expect_document(ex, verdicts, tol)))
    else:
        print_story(practice_views.expect_table(ex, verdicts, target.title, digits))
    for warning in ex.result.warnings:
        click.echo(f"warning: {warning}", err=True)
    if not all(v.right for v in verdicts):
        raise SystemExit(1)


def _check_second(target, output: str | None, h: float | None, no_sympy: bool, digits: int,
                  max_rows: int, show_all: bool, as_json: bool) -> None:
    """`--order 2`: the Hessian against sympy's and a numerical one (circuit help
    derivatives); exit 1 if an entry differs or a gate's rule is to blame."""
    found = second.check_second(target.circuit, target.values, output, h, use_sympy=not no_sympy)
    if as_json:
        click.echo(dumps(second_views.check2_document(found)))
    else:
        make_console().print(second_views.check2_table(found, target.title, digits,
                                                       None if show_all else max_rows))
    for note in found.notes:
        click.echo(f"note: {note}", err=True)
    for warning in found.result.warnings:
        click.echo(f"warning: {warning}", err=True)
    if not found.ok:
        raise SystemExit(1)


def _grade_backward(target, path: str, tol: float, digits: int, as_json: bool) -> None:
    """`--backward FILE`: the learner's backward pass, line by line."""
    text, source = _read_backward(path)
    graded = grader.grade(target.circuit, target.values, text, source, tol)
    if as_json:
        click.echo(dumps(practice_views.graded_document(graded)))
    else:
        print_story(practice_views.graded_report(graded, digits))
    if not graded.ok:
        raise SystemExit(1)


def _read_backward(path: str) -> tuple[str, str]:
    """A backward file's text: a path, or a shipped sample's name (ex1_mul.backward)."""
    if path == "-":
        return read_stream(sys.stdin, "backward file"), "<stdin>"
    if not os.path.exists(path) and os.sep not in path and path.endswith(".backward"):
        found = bundled.shipped(path)
        if found is not None:
            return read_text(str(found), "backward file"), path
    if not os.path.exists(path):  # a mistyped name: did you mean a sample's?
        close = close_circuit_file(path, ".backward")
        if close:
            raise CircuitError(f"{printable(path)}: no such file; did you mean "
                               f"{printable(close)}?")
    return read_text(path, "backward file"), path
