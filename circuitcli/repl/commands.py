"""One REPL line at a time: a statement changes the circuit, a `:` command asks about it.

`Repl.run` takes a line and prints its result (tables on stdout, notes and errors on
stderr); it returns False when the line failed, and the state is then unchanged.
The `:` commands are one table, `COMMANDS`, that `:help`, completion and "did you
mean" all read. Everything is computed by the library (evaluate, step, check, the
renderers); this module only decides what to call and what to print.
"""

from __future__ import annotations

import os
import shlex
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rich.console import Console, RenderableType
from rich.table import Table
from rich.text import Text

from ..core.grammar import parse_number
from ..core.lazy import lazy
from ..core.safe_text import printable
from ..core.syntax import CircuitError, suggest
from ..io.files import read_text, write_file
from ..render.fit import hanging
from ..render.table import fmt, grad_table
from .session import Built, History, State, apply_line, build, state_from_text

# what one `:` command needs, loaded when it is first typed: the REPL starts with the
# statements' path only
bundled = lazy("circuitcli.io.bundled")  # :load NAME, a shipped sample
checks = lazy("circuitcli.methods.check")
check_views = lazy("circuitcli.render.check")
codes = lazy("circuitcli.render.code")
derivatives = lazy("circuitcli.methods.derivatives")
drawing = lazy("circuitcli.repl.drawing")
explains = lazy("circuitcli.methods.explain")
explain_views = lazy("circuitcli.render.explain")
hessian_views = lazy("circuitcli.render.hessian")
quizzes = lazy("circuitcli.repl.quiz")
sessions = lazy("circuitcli.io.session")
step_views = lazy("circuitcli.render.step")
strategies = lazy("circuitcli.methods.strategies")

if TYPE_CHECKING:
    from ..io.session import Session

__all__ = ["COMMANDS", "Quit", "Repl", "StepInterrupted", "read_script"]

DIGITS = 6


class Quit(Exception):  # a signal, not an error
    """`:quit`: the front end ends the session."""


@dataclass(frozen=True)
class Command:
    """A `:` command: its handler's method name, its arguments and one line of help."""

    method: str
    usage: str
    help: str
    takes_file: bool = False


COMMANDS: dict[str, Command] = {
    "step": Command("do_step", "[LR] [N]", "one step up the gradient, x = x + LR*dx "
                    "(LR 0.01); N steps with N"),
    "check": Command("do_check", "", "compare the gradient with numerical and sympy's "
                     "exact derivatives, as circuit check does"),
    "explain": Command("do_explain", "", "the backward pass told step by step"),
    "hessian": Command("do_hessian", "[NAME=V ...]", "how the output curves: the second "
                       "derivatives, their eigenvalues and what they mean; with NAME=V only "
                       "the Hessian-vector product along that direction"),
    "graph": Command("do_graph", "[FILE]", "draw the circuit as a tree; FILE: .html (the live "
                     "page) .dot .svg .png .mmd .txt", takes_file=True),
    "code": Command("do_code", "", "the circuit as backprop-ninja Python code"),
    "show": Command("do_show", "", "the circuit as text, with its values (what :save writes)"),
    "undo": Command("do_undo", "", "take back the last change (statements, values, :step, "
                    ":load, :reset)"),
    "redo": Command("do_redo", "", "put back what :undo took back"),
    "save": Command("do_save", "[FILE]", "write the circuit to FILE (values as defaults: "
                    "circuit grad FILE reads it); no FILE: make it the CLI's current circuit",
                    takes_file=True),
    "load": Command("do_load", "[FILE]", "start from a circuit file or sample; no FILE: the "
                    "CLI's current circuit (the one circuit step and show use)", takes_file=True),
    "reset": Command("do_reset", "", "start again from an empty circuit (:undo brings it back)"),
    "quiz": Command("do_quiz", "[LEVEL]", "an exercise: type the number it asks for (? shows "
                    "how it is made, skip moves on); circuit help practice"),
    "help": Command("do_help", "", "this list"),
    "quit": Command("do_quit", "", "leave (Ctrl-D does too)"),
}
ALIASES = {"q": "quit", "exit": "quit", "h": "help", "?": "help"}

STATEMENT_HELP = [
    ("x = -2", "give input x a value (or declare it)"),
    ("q = x + y", "define node q, or redefine it (in place)"),
    ("(x+y)*z", "a bare expression: the output; a node's name alone makes that node the output"),
]


class Repl:
    """The session's circuit and history, and where its results are printed."""

    def __init__(self, out: Console, err: Console, history: History | None = None,
                 session: Callable[[], Session | None] | None = None,
                 source: str = "", max_rows: int | None = 40) -> None:
        self.out = out
        self.max_rows = max_rows  # the CLI's --max-rows rule: None shows every row (--all)
        self.err = err
        self.history = history or History()
        self.session = session or (lambda: None)
        self.source = source  # "<stdin>" or a script's name: errors then say which line
        self.done = False  # :quit was given
        self.quiz = None  # a :quiz exercise waiting for its answer (repl/quiz.py)

    @property
    def state(self) -> State:
        return self.history.state

    def title(self) -> str:
        """The tables' header: the output's expression on one short line, safe to print (a
        100k-term sum is not printed again above its own table)."""
        return short_title(self.state.title())

    # -- one line -------------------------------------------------------------------------
    def run(self, line: str, lineno: int | None = None) -> bool:
        """Run one line; False if it failed (the state is then as it was)."""
        text = line.strip()
        if not text or text.startswith("#"):
            return True
        if self.quiz is not None and self.quiz.current is not None and not text.startswith(":"):
            if self.quiz.reply(text):  # the line answers the :quiz exercise
                self.quiz.current = None
            return True
        try:
            if text.startswith(":"):
                self.command(text)
            else:
                self.statement(text)
        except CircuitError as err:
            self.error(err, text, lineno)
            return False
        except OSError as err:
            where = f": {err.filename}" if getattr(err, "filename", None) else ""
            self.error(CircuitError(f"{err.strerror or err}{where}"), text, lineno)
            return False
        return True

    def statement(self, line: str) -> None:
        word = "quit" if line == "exit" else line
        if word in COMMANDS and line not in self.state.names():
            raise CircuitError(f"{line} is not a name in the circuit; did you mean :{word}? "
                               "(commands start with ':')", line, 0, len(line))
        new, built = apply_line(self.state, line)
        self.history.commit(new, line)
        self.report(built)

    def command(self, line: str) -> None:
        try:
            words = shlex.split(line[1:])
        except ValueError as err:
            raise CircuitError(f"{err}: put a file name with spaces in quotes") from None
        if not words:
            raise CircuitError("a command name is missing after ':'; :help lists them")
        name, args = words[0], words[1:]
        name = ALIASES.get(name, name)
        entry = COMMANDS.get(name)
        if entry is None:
            hint = suggest(name, COMMANDS).replace("did you mean ", "did you mean :")
            raise CircuitError(f"unknown command :{name}{hint} (:help lists them)", line, 0,
                               len(words[0]) + 1)
        getattr(self, entry.method)(args)

    # -- printing ---------------------------------------------------------------------------
    def print(self, renderable: RenderableType, **kwargs) -> None:
        self.out.print(renderable, **kwargs)

    def note(self, message: str) -> None:
        self.err.print(Text(message, style="dim"))

    def report(self, built: Built) -> None:
        """After a change: the value/gradient table, or what is still missing."""
        state = built.state
        if built.circuit is None:
            if state.values:
                given = ", ".join(f"{n} = {_num(v)}" for n, v in state.values)
                self.print(Text(f"{given}   (no expression yet: type one, such as (x+y)*z)"))
            else:
                self.print(Text("the circuit is empty: type an expression, such as (x+y)*z"))
            return
        if built.missing:
            names = _names(built.missing)
            example = "; ".join(f"{n} = 1" for n in built.missing[:3])
            self.print(Text(f"{self.title()}: no value yet for {names} (give one: "
                            f"{example})"))
            return
        assert built.result is not None
        self.print(grad_table(built.result, self.title(), DIGITS, self.max_rows))

    def error(self, err: CircuitError, line: str, lineno: int | None) -> None:
        """The CLI's one-line error with its caret, pointing into the line when it is there."""
        where = (f"{printable(self.source)}:{lineno}" if self.source and lineno is not None
                 else "")
        rendered = err.render().split("\n")  # the line and caret, already made printable
        located = err.located()
        message = printable(err.message)
        if located is not None and err.text == line:
            head = f"{where}:{located[1]}: " if where else ""
            lines = [f"error: {head}{message}", *rendered[1:]]
        elif (located is not None and line.lstrip().startswith(":") and err.text
              and err.text in line):  # in a `:` command's argument (:hessian x=nan)
            head = f"{where}: " if where else ""
            lines = [f"error: {head}{message}", *rendered[1:]]
        elif located is not None:  # in the circuit, at one of the lines :show prints
            head = f"{where}: " if where else ""
            lines = [f"error: {head}{message} (line {located[0]} of :show)",
                     *rendered[1:]]
        else:
            lines = [f"error: {where + ': ' if where else ''}{message}"]
        self.err.print(Text(lines[0], style="bold red"), soft_wrap=True)
        for rest in lines[1:]:
            self.err.print(Text(rest), soft_wrap=True)

    # -- what the commands need -------------------------------------------------------------
    def ready(self) -> Built:
        """The circuit with every value given, or the error that says what is missing."""
        state = self.state
        if not state.has_expression:
            raise CircuitError("there is no circuit yet: type an expression, such as (x+y)*z")
        built = build(state)
        if built.missing:
            names = _names(built.missing)
            raise CircuitError(f"no value yet for {names}: give one first "
                               f"({built.missing[0]} = 1.5)")
        return built

    def _no_args(self, name: str, args: list[str]) -> None:
        if args:
            raise CircuitError(f":{name} takes no arguments (:help lists what each takes)")

    # -- the commands -----------------------------------------------------------------------
    def do_step(self, args: list[str]) -> None:
        if len(args) > 2:
            raise CircuitError(":step takes at most two arguments: :step [LR] [N]")
        lr = _positive(args[0], "LR") if args else 0.01
        steps = _count(args[1]) if len(args) > 1 else 1
        built = self.ready()
        assert built.circuit is not None and built.values is not None
        with step_views.progress(self.out, steps, "stepping", show=True) as tick:
            run = strategies.step(built.circuit, built.values, lr, steps, progress=tick)
        self.print(step_views.step_view(run, self.title(), DIGITS))
        what = f":step {' '.join(args)}".strip()
        self.history.commit(self.state.with_values(run.after), what)
        if run.interrupted:  # Ctrl-C: the steps taken are kept, and the script stops
            raise StepInterrupted(f"interrupted after {run.taken} of {steps} steps: the "
                                  "values reached are kept (:undo takes them back)")

    def do_check(self, args: list[str]) -> None:
        self._no_args("check", args)
        built = self.ready()
        assert built.circuit is not None and built.values is not None
        result = checks.check(built.circuit, built.values)
        self.print(check_views.check_table(result, self.title(), DIGITS, self.max_rows))

    def do_explain(self, args: list[str]) -> None:
        self._no_args("explain", args)
        built = self.ready()
        assert built.result is not None
        story = explain_views.explain_story(explains.explain(built.result), self.title(),
                                            DIGITS, self.max_rows)
        self.print(hanging(story) if self.out.is_terminal else story)

    def do_hessian(self, args: list[str]) -> None:
        direction = derivatives.parse_direction(args, ":hessian") if args else None
        built = self.ready()
        assert built.circuit is not None and built.values is not None
        h = derivatives.hessian(built.circuit, built.values, None, direction)
        self.print(hessian_views.hessian_view(h, self.title(), DIGITS, self.max_rows))
        for warning in h.warnings:
            self.err.print(Text(f"warning: {warning}", style="yellow"))

    def do_graph(self, args: list[str]) -> None:
        if len(args) > 1:
            raise CircuitError(":graph takes at most one argument, the file to write")
        state = self.state
        if not state.has_expression:
            raise CircuitError("there is no circuit yet: type an expression, such as (x+y)*z")
        built = build(state)
        assert built.circuit is not None
        if args:
            self._not_the_session(os.path.expanduser(args[0]))
        wrote = drawing.draw(self.out, built.circuit, built.result, self.title(),
                             tuple(built.missing), args[0] if args else None)
        if wrote is not None:
            self.note(wrote)

    def do_code(self, args: list[str]) -> None:
        self._no_args("code", args)
        if not self.state.has_expression:
            raise CircuitError("there is no circuit yet: type an expression, such as (x+y)*z")
        built = build(self.state)
        assert built.circuit is not None
        code = codes.ninja_code(built.circuit, built.values, 1.0, self.state.title())
        self.print(Text(code.rstrip("\n")))

    def do_show(self, args: list[str]) -> None:
        self._no_args("show", args)
        state = self.state
        if state.empty:
            self.print(Text("the circuit is empty: type an expression, such as (x+y)*z"))
            return
        lines = state.lines()
        if not state.output_is_last():
            lines.append(f"# the output is {state.output_node}")
        self.print(Text("\n".join(lines)))

    def do_undo(self, args: list[str]) -> None:
        self._no_args("undo", args)
        what = self.history.undo()
        if what is None:
            raise CircuitError("nothing to undo")
        self.note(f"undid: {what}")
        self.report(build(self.state))

    def do_redo(self, args: list[str]) -> None:
        self._no_args("redo", args)
        what = self.history.redo()
        if what is None:
            raise CircuitError("nothing to redo")
        self.note(f"redid: {what}")
        self.report(build(self.state))

    def do_save(self, args: list[str]) -> None:
        if len(args) > 1:
            raise CircuitError(":save takes at most one argument, the file to write")
        state = self.state
        if not state.has_expression:
            raise CircuitError("there is no circuit to save yet: type an expression first")
        if args:
            path = os.path.expanduser(args[0])
            if os.path.isdir(path):
                raise CircuitError(f"{args[0]} is a directory: give a file name")
            self._not_the_session(path)
            data = ("# saved by circuit repl: circuit grad FILE reads it\n"
                    + state.file_text()).encode("utf-8")
            write_file(path, data)
            self.note(f"wrote {args[0]} ({len(data)} bytes)")
            return
        session = self._session()
        built = build(state)
        values = {n: v for n, v in state.values if built.circuit and n in built.circuit.inputs}
        session.update(sessions.Saved(state.text(), values, "", state.output_node))
        self.note("this is now the current circuit: circuit grad, step and show work on it")

    def do_load(self, args: list[str]) -> None:
        if len(args) > 1:
            raise CircuitError(":load takes at most one argument, the file to read")
        if args:
            text, source = _read(args[0])
            state = state_from_text(text, source)
            what = f":load {args[0]}"
        else:
            saved = self._session().load()
            if saved is None:
                raise CircuitError("there is no current circuit yet (circuit grad EXPR makes "
                                   "one; :save with no file makes this one current)")
            state = state_from_text(saved.text, saved.source or "current circuit",
                                    saved.values, saved.output)
            what = ":load (the current circuit)"
        self.history.commit(state, what)
        self.report(build(state))

    def do_reset(self, args: list[str]) -> None:
        self._no_args("reset", args)
        self.history.commit(State(), ":reset")
        self.note("the circuit is empty now (:undo brings it back)")

    def do_help(self, args: list[str]) -> None:
        table = Table(show_edge=False, show_header=False, pad_edge=False, box=None)
        table.add_column(no_wrap=True, style="bold")
        table.add_column()
        for example, what in STATEMENT_HELP:
            table.add_row(Text(example), Text(what))
        for name, entry in COMMANDS.items():
            usage = f":{name} {entry.usage}".rstrip()
            table.add_row(Text(usage), Text(entry.help))
        self.print(table)
        self.print(Text("The REPL's circuit is its own: circuit grad, step and show never see "
                        "it unless you :save with no file, and it starts from the CLI's current "
                        "circuit only with :load and no file. Ctrl-C cancels a line, Ctrl-D "
                        "leaves.", style="dim"))

    def do_quiz(self, args: list[str]) -> None:
        """One exercise of the quiz (repl/quiz.py); the next line typed answers it."""
        if len(args) > 1 or (args and not (args[0].isascii() and args[0].isdigit()
                                           and 1 <= int(args[0]) <= 40)):  # not '²'
            raise CircuitError(":quiz takes at most one argument, a level from 1 to 40")
        self.quiz = quizzes.start_quiz(self.out, self.err, int(args[0]) if args else None,
                                       self.quiz)
        self.quiz.pose()

    def do_quit(self, args: list[str]) -> None:
        self.done = True
        raise Quit

    def _not_the_session(self, path: str) -> None:
        """:save FILE and :graph FILE never write the CLI's session file or its lock."""
        session = self.session()
        if session is not None and session.owns(path):
            raise CircuitError(f"{path} is the session file or its lock: give another "
                               "file name (:save with no file makes this the current circuit)")

    def _session(self) -> Session:
        session = self.session()
        if session is None:
            raise CircuitError("the session is off (--no-session or CIRCUIT_SESSION=off), so "
                               "there is no current circuit to load or save")
        return session


def short_title(text: str, width: int = 60) -> str:
    """`text` on one line of at most `width` characters, made printable."""
    flat = " ".join(text.split())
    return printable(flat if len(flat) <= width else flat[: width - 1] + "…")


def _names(names: list[str], most: int = 8) -> str:
    """The first few names and how many more: a 100k-input circuit is not listed whole."""
    more = len(names) - most
    return ", ".join(names[:most]) + (f" and {more} more" if more > 0 else "")


def _num(value: float) -> str:
    return fmt(value, DIGITS)


class StepInterrupted(KeyboardInterrupt):
    """Ctrl-C during :step N, after the steps taken were kept; says how many."""


def _positive(text: str, what: str) -> float:
    value = parse_number(text)
    if value is None or value <= 0:
        raise CircuitError(f"{what} must be a positive number, not {printable(repr(text))} "
                           "(:step 0.01)")
    return value


def _count(text: str) -> int:
    # ASCII digits only: str.isdigit() is true for '²' and other scripts' digits too,
    # which int() refuses
    if not (text.isascii() and text.isdigit()) or len(text) > 9 or int(text) < 1:
        raise CircuitError(f"N must be a whole number of steps, 1 to 999999999, not "
                           f"{printable(repr(text))}")
    return int(text)


def _read(name: str) -> tuple[str, str]:
    """A circuit file's text: a path, else a shipped sample by name (neuron, neuron.circuit)."""
    path = os.path.expanduser(name)
    if os.path.exists(path) and not os.path.isdir(path):  # a FIFO or device: read_text says so
        return read_text(path), name
    stem = name if name.endswith(".circuit") else f"{name}.circuit"
    found = bundled.shipped(stem)
    if found is not None:
        return read_text(str(found)), stem
    if os.path.isdir(path):
        raise CircuitError(f"{name} is a directory, not a circuit file")
    known = [p.stem for p in bundled.sample_dir().glob("*.circuit")]
    hint = suggest(name.removesuffix(".circuit"), known) or " (circuit samples lists them)"
    raise CircuitError(f"no such file or sample: {name}{hint}")


def read_script(name: str) -> tuple[str, str]:
    """A lesson's lines (a .repl file): a path, else a shipped one by name (notebook.repl)."""
    path = os.path.expanduser(name)
    if os.path.exists(path) and not os.path.isdir(path):  # a FIFO or device: read_text says so
        return read_text(path, "REPL script"), name
    found = bundled.shipped(name)
    if found is not None:
        return read_text(str(found), "REPL script"), name
    raise CircuitError(f"no such file: {name} (notebook.repl is the shipped lesson)")
