"""What a command sends out: the console, notes on stderr, and the one `-o FILE` writer.

stdout holds only the result; warnings, notes and `wrote FILE (N bytes)` go to stderr;
colour only on a terminal. Every file name shown is escaped (core.safe_text.printable).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import click
from rich.console import Console

from ..core.evaluate import forward
from ..core.lazy import lazy
from ..core.safe_text import printable
from ..core.syntax import CircuitError

if TYPE_CHECKING:
    from .loading import Target

fit = lazy("circuitcli.render.fit")  # only for a story on a terminal
files = lazy("circuitcli.io.files")  # only when -o writes a file
json_out = lazy("circuitcli.render.json")  # only with --json
steps = lazy("circuitcli.render.step")  # show and set
loading = lazy("circuitcli.commands.loading")  # the session, for -o's check

__all__ = ["check_output", "interrupted", "make_console", "no_color", "print_notes",
           "print_view",
           "show_target", "write_output"]


def no_color() -> bool:
    """NO_COLOR (set and not empty, as no-color.org says) asks for plain text: no colour,
    and no bold or dim either."""
    return bool(os.environ.get("NO_COLOR"))


def make_console(stderr: bool = False):
    """A rich console: styled only on a terminal; plain text with NO_COLOR or TERM=dumb.

    Written to a pipe or a file, a table is as wide as it needs (up to 200 columns, or
    $COLUMNS); on a terminal the tables fit its width (render/fit.py).
    """
    console = Console(stderr=stderr, highlight=False,
                      **({"color_system": None} if no_color() else {}))
    if not console.is_terminal and "COLUMNS" not in os.environ:
        console.width = 200
    return console


def print_story(renderable) -> None:
    """Lines of prose with numbers in them (explain, the learner's reports): on a terminal
    wrapped between words, where the terminal's own folding would cut a number in two, a
    wrapped line going on two columns further in than it began (so its end does not read
    as a new line); piped or in a file, each line whole."""
    console = make_console()
    if console.is_terminal:
        console.print(fit.hanging(renderable))
    else:
        console.print(renderable, soft_wrap=True)


def print_view(renderable) -> None:
    """A table with its title and notes: on a terminal a wrapped note goes on two columns
    further in than it began (render.fit.hanging); tables lay themselves out."""
    console = make_console()
    console.print(fit.hanging(renderable) if console.is_terminal else renderable)


def print_notes(notes) -> None:
    """Warnings and notes (rich Text lines) on stderr, so stdout holds only the result."""
    if notes:
        console = make_console(stderr=True)
        for note in notes:
            console.print(fit.hanging(note) if console.is_terminal else note)


def interrupted(what: str) -> None:
    """After Ctrl-C: say in one line what was kept, on stderr, and exit 130."""
    click.echo(f"interrupted: {what}", err=True)
    raise SystemExit(130)


# ---- -o FILE ---------------------------------------------------------------------------------


def _not_an_input(path: str, inputs: tuple[str, ...]) -> None:
    """A command never writes over a file it read: the files it was given, and the session
    file and its lock (read by every command, and written only under that lock)."""
    for used in inputs:
        if used and _same_file(path, used):
            raise CircuitError(f"-o {printable(path)}: that is the command's own input "
                               f"({printable(used)}); give another file name")
    try:
        session = loading.current_session()
    except (CircuitError, click.UsageError):
        session = None  # the command has already said what is wrong with it
    if session is not None and session.owns(path):
        raise CircuitError(f"-o {printable(path)}: that is the session file or its lock "
                           f"({printable(session.path)}); give another file name")


def _same_file(a: str, b: str) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def check_output(path: str, inputs: tuple[str, ...] = ()) -> None:
    """Fail now, not after a long run, when `-o path` names an input or cannot be written:
    its folder is missing or read-only, or it is a directory."""
    _not_an_input(path, inputs)
    shown = printable(path)
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise CircuitError(f"-o {shown}: no such folder {printable(folder)}")
    if os.path.isdir(path):
        raise CircuitError(f"-o {shown}: is a directory; give a file name")
    if not os.access(folder, os.W_OK) and not os.path.exists(path):
        raise CircuitError(f"-o {shown}: cannot write to the folder {printable(folder)}")


def write_output(path: str, data: bytes | str, inputs: tuple[str, ...] = ()) -> None:
    """Write a command's artefact (io.files: atomically for a regular file) and say
    `wrote FILE (N bytes)` on stderr.

    `inputs` are the files the command read: writing over one of them is refused.
    """
    if isinstance(data, str):
        data = data.encode("utf-8")
    _not_an_input(path, inputs)
    files.write_file(path, data)
    click.echo(f"wrote {printable(path)} ({len(data)} bytes)", err=True)


# ---- a circuit at its values ------------------------------------------------------------------


def show_target(target: Target, digits: int, as_json: bool,
                changed: dict[str, float] | None = None, current: bool = True) -> None:
    """Print a circuit at the values it will use (`show`; `set` after a change)."""
    c = target.circuit
    problem = ""
    try:
        value: float | None = forward(c, target.values)[c.output]
    except CircuitError as err:  # show the state anyway; the problem is the output's value
        value, problem = None, err.message
    if as_json:
        click.echo(json_out.dumps(steps.show_document(c.text, target.values, c.output_name, value)))
        return
    text = printable(c.text, keep="\n\t")  # a comment may hold an escape sequence
    where = (f"current circuit, kept in {printable(str(target.session.path))}"
             if target.session is not None else "no session (nothing is remembered)")
    if not current:
        where = "not the current circuit (that one is unchanged)"
    make_console().print(steps.show_view(text, target.title, target.values, c.output_name, value,
                                   digits, changed, where, problem, c.defaults))
