"""The `circuit` command: click arguments in, renderers out, errors to exit codes.

Each subcommand lives in its own module under `circuitcli.commands` and is
imported only when it runs, so `circuit grad` never pays for sympy or numpy.
Exit codes: 0 ok, 1 a check failed, 2 bad usage or bad input, 3 a bug in circuitcli,
130 interrupted (Ctrl-C).
"""

from __future__ import annotations

import atexit
import contextlib
import gc
import importlib
import os
import sys
from collections.abc import Callable
from typing import Any

import click

from . import __version__
from .commands.options import HelpContext, session_options
from .core.lazy import lazy
from .core.safe_text import printable
from .core.syntax import CircuitError

difflib = lazy("difflib")  # for "did you mean"
importlib_util = lazy("importlib.util")  # only to list the commands (help)

__all__ = ["COMMANDS", "main", "run"]

# name -> (module, one line for `circuit --help`); a command appears once its module exists
COMMANDS: dict[str, tuple[str, str]] = {
    "grad": ("circuitcli.commands.grad", "Every node's value and gradient, as a table or JSON."),
    "check": ("circuitcli.commands.check", "Compare analytic, numerical and sympy derivatives."),
    "step": ("circuitcli.commands.step", "Nudge the inputs along the gradient, like the notebook."),
    "search": ("circuitcli.commands.search", "Random local search: strategy 1 of the notebook."),
    "compare": ("circuitcli.commands.compare", "The three strategies side by side, with costs."),
    "show": ("circuitcli.commands.show", "Show the current circuit and its input values."),
    "set": ("circuitcli.commands.set", "Change input values of the current circuit."),
    "reset": ("circuitcli.commands.reset", "Forget the current circuit."),
    "train": ("circuitcli.commands.train", "Learn a circuit's parameters from a CSV file."),
    "predict": ("circuitcli.commands.predict", "Score CSV rows with learned parameters."),
    "graph": ("circuitcli.commands.graph",
              "Draw the circuit: tree, DOT, SVG, PNG, Mermaid or a live page."),
    "code": ("circuitcli.commands.code", "The circuit as backprop-ninja Python code."),
    "samples": ("circuitcli.commands.samples", "The notebook's sample circuits and CSV files."),
    "repl": ("circuitcli.commands.repl", "An interactive session: type statements, see the table."),
    "explain": ("circuitcli.commands.explain", "The chain rule, node by node: who pulls on what."),
    "quiz": ("circuitcli.commands.quiz", "Exercises: a value, a slope or a gradient to find."),
    "hessian": ("circuitcli.commands.hessian", "How the output curves: second derivatives, "
                "eigenvalues."),
    "help": ("circuitcli.commands.help", "Help on a command, or a topic of the user guide."),
}

class LazyGroup(click.Group):
    """Imports a subcommand's module only when that subcommand is asked for."""

    context_class = HelpContext

    def list_commands(self, ctx: click.Context) -> list[str]:
        return [name for name, (module, _) in COMMANDS.items() if _exists(module)]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        entry = COMMANDS.get(cmd_name)
        if entry is None:
            return None
        try:
            module = importlib.import_module(entry[0])
        except ModuleNotFoundError as err:
            if err.name != entry[0]:
                raise  # the command exists but something it imports is missing
            return None
        if module.command.context_class is click.Context:  # help as wide as the terminal
            module.command.context_class = HelpContext
        return module.command

    def resolve_command(self, ctx: click.Context, args: list[str]
                        ) -> tuple[str | None, click.Command | None, list[str]]:
        """A mistyped command gets "did you mean grad?"."""
        name = click.utils.make_str(args[0]) if args else ""
        if args and self.get_command(ctx, name) is None and not name.startswith("-"):
            close = difflib.get_close_matches(name, self.list_commands(ctx), n=1, cutoff=0.6)
            hint = f" Did you mean {close[0]}?" if close else ""
            ctx.fail(f"No such command {name!r}.{hint} (circuit help lists them)")
        return super().resolve_command(ctx, args)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, COMMANDS[name][1]) for name in self.list_commands(ctx)]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """The program itself (the `circuit` script, python -m circuitcli): as click runs it,
        and then, on the way out, the objects of this short-lived process are frozen
        (gc.freeze) so that the interpreter's last collections skip them: the process ends
        some 20-30 ms sooner, its output already written. (CliRunner calls main, not this.)"""
        try:
            return self.main(*args, **kwargs)
        finally:
            if kwargs.get("standalone_mode", args[3] if len(args) > 3 else True):
                gc.freeze()

    def main(self, args: Any = None, prog_name: str | None = None,
             complete_var: str | None = None, standalone_mode: bool = True, **extra: Any) -> Any:
        """click's main, with click's own usage errors in one line too: `error: ...`, exit 2."""
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, False, **extra)
        try:
            code = super().main(args, prog_name, complete_var, False, **extra)
        except click.exceptions.NoArgsIsHelpError as err:
            _say(err.show)
            sys.exit(err.exit_code)
        except click.ClickException as err:
            message = printable(err.format_message())  # it may quote what the user typed
            where = getattr(err, "ctx", None)
            if where is not None and "(circuit " not in message:
                message += f" ({where.command_path} -h for help)"
            _say(click.echo, f"error: {message}", err=True)
            sys.exit(err.exit_code)
        except click.Abort:  # Ctrl-C before the command ran
            _say(click.echo, "interrupted", err=True)
            sys.exit(130)
        sys.exit(code if isinstance(code, int) else 0)

    def invoke(self, ctx: click.Context) -> Any:
        """Runs the subcommand; bad input and our own bugs end in one line and an exit code."""
        try:
            return super().invoke(ctx)
        except CircuitError as err:
            _say(click.echo, err.render(), err=True)
            ctx.exit(2)
        except KeyboardInterrupt:  # Ctrl-C: commands that keep partial results say so first
            _say(click.echo, "interrupted", err=True)
            ctx.exit(130)
        except BrokenPipeError:
            # the reader went away (`circuit grad ... | head`): nothing left to say
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            ctx.exit(0)
        except OSError as err:
            where = f": {err.filename}" if getattr(err, "filename", None) else ""
            _say(click.echo, f"error: {printable(str(err.strerror or err))}"
                 f"{printable(where)}", err=True)
            ctx.exit(2)
        except (click.ClickException, click.Abort, click.exceptions.Exit):
            raise
        except Exception as err:  # a bug of ours: say so in one line, not a traceback
            if os.environ.get("CIRCUIT_DEBUG"):
                raise
            _say(click.echo, f"internal error: {type(err).__name__}: {printable(str(err))} "
                 "(a bug in circuitcli; CIRCUIT_DEBUG=1 shows the traceback)", err=True)
            ctx.exit(3)




def _say(show: Callable[..., None], *args: Any, **kwargs: Any) -> None:
    """Print an error on the way out; if stderr cannot take it (a full disk, /dev/full), the
    exit code still says what happened (2 for bad usage, not 1 from a failed print)."""
    with contextlib.suppress(OSError):
        show(*args, **kwargs)


def _exists(module: str) -> bool:
    try:
        return importlib_util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="circuit")
@session_options
def main() -> None:
    """A calculator for real-valued circuits: every gate's value and gradient.

    \b
    Examples:
      circuit grad "(x+y)*z" x=-2 y=5 z=-4
      circuit grad neuron.circuit --json
      circuit samples

    The current circuit: a command given a circuit remembers it, with its
    input values; a command given none works on it (see circuit show).

    \b
      circuit grad "(x+y)*z" x=-2 y=5 z=-4
      circuit step --lr 0.01

    circuit help lists the commands and the guide's topics; circuit help TOPIC
    shows one. Exit codes: 0 ok, 1 a check failed, 2 bad usage or bad input,
    130 interrupted.
    """


def run() -> None:
    """The program (the `circuit` script, python -m circuitcli): `main`, then straight out.

    A process that has printed its result has nothing left to do but free its objects one
    by one: on a 100,000-gate circuit that is some 40 ms, a tenth of the run. So once the
    output is flushed, the process ends at once (os._exit), unless the normal way out has
    work to do: an atexit callback (sympy's, a coverage run's), a thread still running, a
    flush that fails (stdout on a full disk), or an exit that is not a number.
    """
    try:
        main()
    except SystemExit as done:
        code = 0 if done.code is None else done.code
        if isinstance(code, int) and _nothing_left_to_do():
            try:
                sys.stdout.flush()
                sys.stderr.flush()
            except (OSError, ValueError):
                raise done from None  # the normal way out reports it as Python does
            os._exit(code)
        raise


def _nothing_left_to_do() -> bool:
    """No atexit callback and no other thread: ending the process now loses nothing."""
    count = getattr(atexit, "_ncallbacks", None)  # CPython's; elsewhere: the normal way
    if count is None or count():
        return False
    threads = sys.modules.get("threading")
    return threads is None or threads.active_count() == 1
