"""`circuit repl`: an interactive session with its own circuit, undo and redo."""

from __future__ import annotations

import sys

import click
from rich.console import Console

from ..core.lazy import lazy
from ..io.files import read_lines
from ..io.sources import read_source
from ..repl.commands import Repl, read_script
from ..repl.piped import run_piped
from ..repl.session import History, build, state_from_text
from .loading import current_session, split_args
from .options import CircuitCommand, circuit_arguments, rows_options
from .output import no_color

terminals = lazy("circuitcli.repl.terminal")  # prompt_toolkit: only on a terminal


@click.command("repl", cls=CircuitCommand)
@circuit_arguments
@rows_options
@click.option("--echo", is_flag=True,
              help="Without a terminal: print each line before its result, as a transcript.")
def command(args: tuple[str, ...], output: str | None, max_rows: int, show_all: bool,
            echo: bool) -> None:
    """Type statements and see the table change: the calculator as a conversation.

    Lines are statements of the circuit language (x = -2, q = x + y, (x+y)*z);
    after each change the value/gradient table of the output is printed. Lines
    starting with ':' are commands (:step, :check, :undo, :save, :help ...).
    Without a terminal, lines are read from standard input as a script: the exit
    code is 2 if any line failed. A FILE ending in .repl is such a script (a
    lesson): it is replayed line by line, then the session goes on. The REPL's
    circuit is its own: the current circuit is read only by :load and written
    only by :save with no file.

    \b
    Examples:
      circuit repl
      circuit repl "(x+y)*z" x=-2 y=5 z=-4
      circuit repl notebook.repl
      circuit repl < lesson.txt
    """
    circuit_arg, values = split_args(args)
    terminal = sys.stdin.isatty() and sys.stdout.isatty()
    rows = None if show_all else max_rows  # the tables keep grad's --max-rows rule
    if terminal:
        plain = {"color_system": None} if no_color() else {}
        repl = Repl(Console(highlight=False, **plain),
                    Console(stderr=True, highlight=False, **plain),
                    session=current_session, max_rows=rows)
    else:
        repl = Repl(Console(highlight=False, color_system=None, soft_wrap=False),
                    Console(stderr=True, highlight=False, color_system=None),
                    session=current_session, source="<stdin>", max_rows=rows)
    script: tuple[str, str] | None = None
    if circuit_arg is not None and circuit_arg.endswith(".repl"):
        script = read_script(circuit_arg)
        if values:
            repl.history = History(state_from_text("", "", values))
    elif circuit_arg is not None:
        text, source, _ = read_source(circuit_arg)
        repl.history = History(state_from_text(text, source, values, output))
        repl.report(build(repl.state))
    elif values:
        repl.history = History(state_from_text("", "", values))
    code = 0
    if script is not None:  # a lesson: replayed as a transcript, then the session goes on
        repl.source, where = script[1], repl.source
        code = run_piped(repl, script[0].splitlines(), echo=True)
        repl.source = where
    if repl.done:
        pass
    elif terminal:
        code = terminals.run_terminal(repl)
    else:
        code = max(code, run_piped(repl, read_lines(sys.stdin), echo))
    if code:
        raise SystemExit(code)
