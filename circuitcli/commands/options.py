"""The click side of every command: the circuit argument and each shared option, declared once.

An option two commands share (`--lr`, `--seed`, `--minimize`, `-o`, `--json`, ...) is made
here, with its one type and validator; a command passes only its own help text. So
`step --lr nan` and `train --lr nan` are refused in the same words.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click

from ..core.grammar import parse_number
from ..core.lazy import lazy
from ..core.safe_text import printable
from .completion import any_file, circuit_args, csv_files, input_names, node_names

if TYPE_CHECKING:
    from ..core.circuit import Circuit

__all__ = [
    "FINITE", "CircuitCommand", "HelpContext", "at_least_zero", "circuit_arguments",
    "circuit_command",
    "data_option", "digits_option", "forward_options", "json_option", "label_option", "lr_option",
    "minimize_option", "moving", "moving_options", "names", "output_file_option", "positive",
    "probe_option", "pull_option", "result_options", "rows_options", "seed_option",
    "session_options", "tol_option", "tries_option", "tweak_option",
]

shell_completion = lazy("click.shell_completion")  # only when a shell asks
strategies = lazy("circuitcli.methods.strategies")  # --freeze and --only
shutil = lazy("shutil")  # the terminal's width, for help only

# where --session and --no-session land, given before the command name or after it
SESSION_PATH = "circuitcli.session_path"
NO_SESSION = "circuitcli.no_session"


class HelpFormatter(click.HelpFormatter):
    """Where a two-column list would leave its text under 30 columns (a narrow terminal),
    each term stands on its own line with its text wrapped below it."""

    def write_dl(self, rows: Any, col_max: int = 30, col_spacing: int = 2) -> None:
        rows = list(rows)
        first = min(max((len(term) for term, _ in rows), default=0), col_max) + col_spacing
        if self.width - self.current_indent - first >= 30:
            super().write_dl(rows, col_max, col_spacing)
            return
        for term, text in rows:
            self.write(f"{'':>{self.current_indent}}{term}\n")
            if text:
                with self.indentation(), self.indentation():
                    self.write_text(text)


class HelpContext(click.Context):
    """click lays help out 50 columns wide at least, which a 40-column terminal folds in
    the middle of words; here help is as wide as the terminal (80 at most, 20 at least)."""

    formatter_class = HelpFormatter

    def make_formatter(self) -> click.HelpFormatter:
        width = self.terminal_width or max(
            min(shutil.get_terminal_size().columns, self.max_content_width or 80) - 2, 20)
        return self.formatter_class(width=width, max_width=self.max_content_width)


class CircuitCommand(click.Command):
    """A command whose positional arguments may start with '-' (`circuit grad "-x*y" x=1`).

    click would read `-x*y` as an option; here an argument that is not one of the
    command's own options is kept as a positional, wherever it stands. Bad input
    of any kind ends in one error message and exit code 2 (cli.LazyGroup maps errors).
    """

    context_class = HelpContext

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        takes_value: dict[str, bool] = {}
        for param in self.get_params(ctx):
            if isinstance(param, click.Option):
                for opt in (*param.opts, *param.secondary_opts):
                    takes_value[opt] = not (param.is_flag or param.count)
        for opt in self.get_help_option_names(ctx):
            takes_value[opt] = False  # `circuit grad -h` is help, not the expression "minus h"
        options: list[str] = []
        positionals: list[str] = []
        it = iter(args)
        for token in it:
            if token == "--":
                positionals.extend(it)
                break
            name = token.split("=", 1)[0]
            if name in takes_value:
                options.append(token)
                if takes_value[name] and "=" not in token:
                    value = next(it, None)
                    if value is None:  # else click would take the "--" added below as its value
                        if ctx.resilient_parsing:  # shell completion: the value is being typed
                            options.pop()
                            break
                        raise click.UsageError(f"option {name} needs a value", ctx)
                    options.append(value)
            elif token.startswith("--") and re.fullmatch(r"--[A-Za-z][\w-]*(=.*)?", token,
                                                         re.DOTALL):
                options.append(token)  # an unknown option: let click say so, with a suggestion
            else:
                positionals.append(token)
        return super().parse_args(ctx, [*options, "--", *positionals])


# ---- the circuit argument and the session -------------------------------------------------


def _session_option(ctx: click.Context, param: click.Parameter, value: Any) -> None:
    # given before the command name or after it, the choice lands in the shared ctx.meta
    if value is not None and value is not False:
        ctx.meta[NO_SESSION if param.name == "no_session" else SESSION_PATH] = value


def session_options(func: Callable) -> Callable:
    """`--session PATH` and `--no-session`, for commands that take no circuit argument."""
    func = click.option("--no-session", "no_session", is_flag=True, expose_value=False,
                        callback=_session_option,
                        help="Neither read nor remember a current circuit "
                             "(also CIRCUIT_SESSION=off).")(func)
    return click.option("--session", "session_path", metavar="PATH", expose_value=False,
                        callback=_session_option,
                        help="The file that keeps the current circuit "
                             "(default: $CIRCUIT_SESSION, else the state directory).")(func)


def circuit_arguments(func: Callable) -> Callable:
    """`[EXPR|FILE] [NAME=VALUE ...]`, `--of NAME` and the session options, for every
    circuit command. The node reaches the command as its `output` parameter."""
    func = session_options(func)
    func = click.option("--of", "output", metavar="NAME", shell_complete=node_names,
                        help="The node taken as the output (default: the last "
                             "statement).")(func)
    return click.argument("args", nargs=-1, metavar="[EXPR|FILE] [NAME=VALUE]...",
                          shell_complete=circuit_args)(func)


def circuit_command(name: str) -> Callable[[Callable], click.Command]:
    """`@circuit_command("grad")`: a CircuitCommand taking the circuit argument, --of and the
    session options."""

    def decorate(func: Callable) -> click.Command:
        return click.command(name, cls=CircuitCommand)(circuit_arguments(func))

    return decorate


# ---- numbers: one type, two validators ------------------------------------------------------


class FiniteFloat(click.ParamType):
    """A number option that takes what NAME=VALUE takes: finite, no inf, nan or 1_000."""

    name = "number"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None
                ) -> float:
        if isinstance(value, float) and math.isfinite(value):
            return value
        number = parse_number(str(value).strip())
        if number is None:
            self.fail(f"{value!r} is not a finite number", param, ctx)
        return number


FINITE = FiniteFloat()


def positive(ctx: click.Context, param: click.Parameter, value: float | None) -> float | None:
    """A click callback: the option's value must be a finite number above 0."""
    if value is not None and not (math.isfinite(value) and value > 0):
        minimizes = any(p.name == "minimize" for p in ctx.command.params)
        hint = " (--minimize goes down the gradient)" if value < 0 and minimizes else ""
        raise click.BadParameter(f"must be a positive number, not {value:g}{hint}", ctx, param)
    return value


def at_least_zero(ctx: click.Context, param: click.Parameter, value: float | None
                  ) -> float | None:
    """A click callback: the option's value must be a finite number >= 0."""
    if value is not None and not (math.isfinite(value) and value >= 0):
        raise click.BadParameter(f"must be a number >= 0, not {value:g}", ctx, param)
    return value


def names(given: tuple[str, ...]) -> list[str]:
    """`--freeze a,b --freeze c` -> [a, b, c]; an empty name is an error."""
    found = []
    for chunk in given:
        for name in chunk.split(","):
            if not name.strip():
                raise click.BadParameter(f"{chunk!r}: expected input names separated by commas")
            found.append(name.strip())
    return found


def once(found: list[str], ctx: click.Context | None = None,
         param: click.Parameter | None = None, hint: str | None = None) -> None:
    """A name given twice (`--of q,q`, `--expect x=1,x=2`) is a slip, not a request: one
    line saying so rather than a table with the row twice or two answers graded."""
    seen: set[str] = set()
    for name in found:
        if name in seen:
            raise click.BadParameter(f"{printable(name)} is given twice; give each name once",
                                     ctx, param, param_hint=hint)
        seen.add(name)


# ---- the shared options ---------------------------------------------------------------------


def pull_option(func: Callable) -> Callable:
    """`--pull P`, the output's gradient (parameter `pull`)."""
    return click.option("--pull", type=FINITE, default=1.0, show_default=True,
                        help="The gradient of the output: the tug from above.")(func)


def json_option(func: Callable) -> Callable:
    """`--json`: JSON alone on stdout, full precision (parameter `as_json`)."""
    return click.option("--json", "as_json", is_flag=True,
                        help="Machine output on stdout, full precision.")(func)


class Digits(click.ParamType):
    """`--digits N` (1 to 17) or `--digits full`: None, the shortest text that reads back
    as the same float (the notebook's -5.950100000000001, digit for digit)."""

    name = "digits"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None
                ) -> int | None:
        if value is None or isinstance(value, int):
            return value
        text = str(value).strip().lower()
        if text == "full":
            return None
        if text.isascii() and text.isdigit() and 1 <= int(text) <= 17:  # not '²', '٣'
            return int(text)
        self.fail(f"{value!r} is not a number of digits from 1 to 17, nor 'full'", param, ctx)

    def get_metavar(self, param: click.Parameter, ctx: click.Context | None = None) -> str:
        return "N|full"

    def shell_complete(self, ctx: click.Context, param: click.Parameter, incomplete: str):
        return [shell_completion.CompletionItem(v) for v in ("full", "3", "6", "10", "17")
                if v.startswith(incomplete)]


def digits_option(func: Callable | None = None, *, where: str = "in the table",
                  json: bool = True) -> Callable:
    """`--digits N|full` (parameter `digits`: an int, or None for full). `where` the digits
    show; `json` whether the command has --json to mention."""

    def decorate(func: Callable) -> Callable:
        return click.option("--digits", type=Digits(), default=6, show_default=True,
                            help=f"At most N significant digits {where}, or 'full': the "
                                 "shortest form that reads back as the same number"
                                 + (" (JSON keeps every digit)." if json else "."))(func)

    return decorate if func is None else decorate(func)


def result_options(func: Callable) -> Callable:
    """`--digits N` and `--json`: every command that prints a result has both."""
    return digits_option(json_option(func))


_ROWS_HELP = ("At most N rows: longer tables keep the output, the inputs and the strongest "
              "pulls, and say how many rows were left out.")


def rows_options(func: Callable | None = None, *, default: int = 40, help: str = _ROWS_HELP,
                 every: str = "Show every row, however many.") -> Callable:
    """`--max-rows N` and `--all` (parameters `max_rows`, `show_all`): `@rows_options`, or
    `@rows_options(default=20, help=...)` for a table of another kind."""

    def decorate(func: Callable) -> Callable:
        func = click.option("--all", "show_all", is_flag=True, help=every)(func)
        return click.option("--max-rows", type=click.IntRange(1), default=default,
                            show_default=True, help=help)(func)

    return decorate if func is None else decorate(func)


def lr_option(default: float | None, help: str) -> Callable[[Callable], Callable]:
    """`--lr RATE`, a step size: a finite number above 0 (parameter `lr`)."""
    return click.option("--lr", type=FINITE, default=default, show_default=default is not None,
                        callback=positive, metavar="RATE", help=help)


def forward_options(help: str) -> Callable[[Callable], Callable]:
    """`--forward` (`help`: what the command shows in forward mode), `--wrt NAME` and
    `--direction NAME=V` (parameters `forward`, `wrt`, `direction`), as grad and explain
    take them."""

    def decorate(func: Callable) -> Callable:
        func = click.option("--direction", metavar="NAME=V", multiple=True,
                            help="With --forward: push the inputs along this direction "
                                 "(repeat per input).")(func)
        func = click.option("--wrt", metavar="NAME", shell_complete=input_names,
                            help="With --forward: the input to push (tangent = d node / "
                                 "d NAME).")(func)
        return click.option("--forward", is_flag=True, help=help)(func)

    return decorate


def probe_option(default: float | None, help: str) -> Callable[[Callable], Callable]:
    """`--h H`, a numerical derivative's step: a finite number above 0 (parameter `h`)."""
    return click.option("--h", "h", type=FINITE, default=default,
                        show_default=default is not None, callback=positive, metavar="H",
                        help=help)


def tweak_option(default: float | None, help: str) -> Callable[[Callable], Callable]:
    """`--tweak R`: random search's radius, named alike in `search` and `compare`."""
    return click.option("--tweak", type=FINITE, default=default, show_default=default is not None,
                        callback=positive, metavar="R", help=help)


def tries_option(help: str) -> Callable[[Callable], Callable]:
    """`--tries N`: random search's tries (parameter `tries`)."""
    return click.option("--tries", type=click.IntRange(1), default=100, show_default=True,
                        help=help)


# Python's random.Random(-1) is random.Random(1): a negative seed would silently repeat
# another seed's run, so seeds are whole numbers from 0 (to what the quiz's texts carry)
SEED = click.IntRange(0, 2**63 - 1)


def seed_option(default: int | None, help: str) -> Callable[[Callable], Callable]:
    """`--seed N`: the seed of the random numbers, a whole number >= 0 (parameter `seed`)."""
    return click.option("--seed", type=SEED, default=default, show_default=default is not None,
                        metavar="N", help=help)


def tol_option(default: float, help: str) -> Callable[[Callable], Callable]:
    """`--tol T`: a tolerance, a finite number >= 0 (parameter `tol`)."""
    return click.option("--tol", type=FINITE, default=default, show_default=True,
                        callback=at_least_zero, metavar="T", help=help)


def minimize_option(help: str) -> Callable[[Callable], Callable]:
    """`--minimize`: go for a lower output instead of a higher one (parameter `minimize`)."""
    return click.option("--minimize", is_flag=True, help=help)


def moving_options(func: Callable) -> Callable:
    """`--freeze NAMES` and `--only NAMES`: which inputs may move."""
    func = click.option("--only", metavar="NAMES", multiple=True,
                        help="Move only these inputs (comma-separated).")(func)
    return click.option("--freeze", metavar="NAMES", multiple=True,
                        help="Keep these inputs where they are (comma-separated).")(func)


def moving(circuit: Circuit, freeze: tuple[str, ...], only: tuple[str, ...]) -> list[str]:
    """The inputs --freeze and --only leave free to move."""
    if freeze and only:
        raise click.UsageError("--freeze and --only contradict each other; give one")
    return strategies.moving_inputs(circuit, names(freeze), names(only))


def data_option(help: str) -> Callable[[Callable], Callable]:
    """`--data FILE.csv`, required (parameter `data_path`)."""
    return click.option("--data", "data_path", required=True, metavar="FILE.csv", help=help,
                        shell_complete=csv_files)


def label_option(help: str) -> Callable[[Callable], Callable]:
    """`--label NAME`: the label column (parameter `label`)."""
    return click.option("--label", metavar="NAME", help=help)


def output_file_option(what: str, more: str = "") -> Callable[[Callable], Callable]:
    """`-o/--output FILE`: where the command's artefact (`what`) goes (parameter `output_path`);
    written with output.write_output. `more` is a sentence after the first."""

    def decorate(func: Callable) -> Callable:
        return click.option("-o", "--output", "output_path", metavar="FILE",
                            shell_complete=any_file,
                            help=f"Write {what} to FILE (atomically), and say so on "
                                 f"stderr.{' ' + more if more else ''}")(func)

    return decorate
