"""What every command shares: the circuit argument, the shared options and the one loader.

A command module imports from here and from the library, never from another command.
`load_target` is the one place that decides which circuit a command works on, with which
values, and whether it is remembered.
"""

from __future__ import annotations

import math
import os
import re
import sys
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import click

from ..core.circuit import Circuit, parse
from ..core.syntax import CircuitError
from ..render.safe import printable

if TYPE_CHECKING:
    from ..io.session import FileRef, Session

__all__ = [
    "FINITE", "CircuitCommand", "Drawable", "Target", "circuit_arguments", "circuit_command",
    "current_session", "digits_option", "interrupted", "json_option", "load_drawable",
    "load_target", "make_console", "moving", "moving_options", "output_file_option",
    "positive", "print_notes", "pull_option", "read_circuit", "read_circuit_source",
    "result_options", "rows_options",
    "saved_circuit", "session_lock", "session_options", "show_target", "split_args", "title",
    "tweak_option", "write_output",
]

_ASSIGNMENT = re.compile(r"([^\W\d]\w*)=(.*)", re.DOTALL)


class CircuitCommand(click.Command):
    """A command whose positional arguments may start with '-' (`circuit grad "-x*y" x=1`).

    click would read `-x*y` as an option; here an argument that is not one of the
    command's own options is kept as a positional, wherever it stands. Bad input
    of any kind ends in one error message and exit code 2 (cli.LazyGroup maps errors).
    """

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
                        raise click.UsageError(f"option {name} needs a value", ctx)
                    options.append(value)
            elif token.startswith("--") and re.fullmatch(r"--[A-Za-z][\w-]*(=.*)?", token,
                                                         re.DOTALL):
                options.append(token)  # an unknown option: let click say so, with a suggestion
            else:
                positionals.append(token)
        return super().parse_args(ctx, [*options, "--", *positionals])


class Target:
    """The circuit a command works on, the input values to use, and a title for it.

    `session` is where it is remembered (None with --no-session); `remember` makes new
    values the current ones, as `circuit step` does after each run. `file` is the large
    circuit file the text came from, which the session keeps by reference.
    (A plain class, not a dataclass: making one costs start-up time.)
    """

    __slots__ = ("circuit", "file", "output", "session", "title", "values")

    def __init__(self, circuit: Circuit, values: dict[str, float], title: str,
                 output: str | None = None, session: Session | None = None,
                 file: FileRef | None = None) -> None:
        self.circuit = circuit
        self.values = values
        self.title = title
        self.output = output  # the --output the circuit was loaded with
        self.session = session
        self.file = file

    def remember(self, values: dict[str, float] | None = None) -> None:
        """Make this circuit, at these values (default: its own), the current circuit."""
        if self.session is None:
            return
        from ..io.session import Saved

        values = self.values if values is None else values
        self.session.update(Saved(self.circuit.text, dict(values), self.circuit.source,
                                  self.output, file=self.file))


_SESSION_PATH = "circuitcli.session_path"
_NO_SESSION = "circuitcli.no_session"
_SESSION = "circuitcli.session"


def _session_option(ctx: click.Context, param: click.Parameter, value: Any) -> None:
    # given before the command name or after it, the choice lands in the shared ctx.meta
    if value is not None and value is not False:
        ctx.meta[_NO_SESSION if param.name == "no_session" else _SESSION_PATH] = value


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


def current_session() -> Session | None:
    """The session the running command uses, or None when it runs without one.

    One Session object per invocation, so that a lock taken around a read-modify-write
    (`session_lock`) is the one `load_target` and `Target.remember` re-enter.
    """
    ctx = click.get_current_context(silent=True)
    meta: dict[str, Any] = ctx.meta if ctx is not None else {}
    if _SESSION in meta:
        return meta[_SESSION]
    path, off = meta.get(_SESSION_PATH), meta.get(_NO_SESSION, False)
    if path is not None and off:
        raise click.UsageError("--session and --no-session contradict each other; give one")
    if path is None and (off or os.environ.get("CIRCUIT_SESSION", "").strip().lower() == "off"):
        session = None  # what locate() says, without importing the session module
    else:
        from ..io.session import locate

        session = locate(path, off)
    if session is not None:
        session.on_wait = lambda note: click.echo(note, err=True)
    if ctx is not None:
        meta[_SESSION] = session
    return session


def session_lock():
    """A context manager holding the session's lock (a no-op without a session)."""
    from contextlib import nullcontext

    session = current_session()
    return nullcontext() if session is None else session.locked()


def circuit_arguments(func: Callable) -> Callable:
    """`[EXPR|FILE] [NAME=VALUE ...]`, `--of NAME` and the session options, for every
    circuit command. The node reaches the command as its `output` parameter."""
    func = session_options(func)
    func = click.option("--of", "output", metavar="NAME",
                        help="The node to differentiate, as the output "
                             "(default: the last statement).")(func)
    return click.argument("args", nargs=-1, metavar="[EXPR|FILE] [NAME=VALUE]...")(func)


def circuit_command(name: str) -> Callable[[Callable], click.Command]:
    """`@circuit_command("grad")`: a CircuitCommand taking the circuit argument, --of and the
    session options."""

    def decorate(func: Callable) -> click.Command:
        return click.command(name, cls=CircuitCommand)(circuit_arguments(func))

    return decorate


# ---- shared options: declared once, used by every command that has them -----------------


class FiniteFloat(click.ParamType):
    """A number option that takes what NAME=VALUE takes: finite, no inf, nan or 1_000."""

    name = "number"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None
                ) -> float:
        from ..core.syntax import parse_number

        if isinstance(value, float) and math.isfinite(value):
            return value
        number = parse_number(str(value).strip())
        if number is None:
            self.fail(f"{value!r} is not a finite number", param, ctx)
        return number


FINITE = FiniteFloat()


def pull_option(func: Callable) -> Callable:
    """`--pull P`, the output's gradient (parameter `pull`)."""
    return click.option("--pull", type=FINITE, default=1.0, show_default=True,
                        help="The gradient of the output: the tug from above.")(func)



def json_option(func: Callable) -> Callable:
    """`--json`: JSON alone on stdout, full precision (parameter `as_json`)."""
    return click.option("--json", "as_json", is_flag=True,
                        help="Machine output on stdout, full precision.")(func)


def digits_option(func: Callable) -> Callable:
    """`--digits N` (parameter `digits`)."""
    return click.option("--digits", type=click.IntRange(1, 17), default=6, show_default=True,
                        help="Significant digits in the table (JSON keeps them all).")(func)


def result_options(func: Callable) -> Callable:
    """`--digits N` and `--json`: every command that prints a result has both."""
    return digits_option(json_option(func))


def rows_options(func: Callable) -> Callable:
    """`--max-rows N` and `--all` (parameters `max_rows`, `show_all`)."""
    func = click.option("--all", "show_all", is_flag=True,
                        help="Show every row, however many.")(func)
    return click.option("--max-rows", type=click.IntRange(1), default=40, show_default=True,
                        help="At most N rows: longer tables keep the output, the inputs and "
                             "the strongest pulls, and say how many rows were left out.")(func)


def positive(ctx: click.Context, param: click.Parameter, value: float | None) -> float | None:
    """A click callback: the option's value must be a finite number above 0."""
    if value is not None and not (math.isfinite(value) and value > 0):
        hint = " (--minimize goes down the gradient)" if value < 0 and param.name == "lr" else ""
        raise click.BadParameter(f"must be a positive number, not {value:g}{hint}", ctx, param)
    return value


def tweak_option(default: float | None, help: str) -> Callable[[Callable], Callable]:
    """`--tweak R`: random search's radius, named alike in `search` and `compare`."""
    return click.option("--tweak", type=FINITE, default=default, show_default=default is not None,
                        callback=positive, metavar="R", help=help)


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
    """The inputs --freeze and --only leave free to move."""
    from ..methods.strategies import moving_inputs

    if freeze and only:
        raise click.UsageError("--freeze and --only contradict each other; give one")
    return moving_inputs(circuit, _names(freeze), _names(only))


def interrupted(what: str) -> None:
    """After Ctrl-C: say in one line what was kept, on stderr, and exit 130."""
    click.echo(f"interrupted: {what}", err=True)
    raise SystemExit(130)


def output_file_option(what: str) -> Callable[[Callable], Callable]:
    """`-o/--output FILE`: where the command's artefact (`what`) goes (parameter `output_path`)."""

    def decorate(func: Callable) -> Callable:
        return click.option("-o", "--output", "output_path", metavar="FILE",
                            help=f"Write {what} to FILE (atomically), and say so on "
                                 "stderr.")(func)

    return decorate


def write_output(path: str, data: bytes | str, inputs: tuple[str, ...] = ()) -> None:
    """Write a command's artefact and say `wrote FILE (N bytes)` on stderr.

    `inputs` are the files the command read: writing over one of them is refused.
    """
    from ..io.files import write_file

    if isinstance(data, str):
        data = data.encode("utf-8")
    for used in inputs:
        if used and _same_file(path, used):
            raise CircuitError(f"-o {printable(path)}: that is the command's own input "
                               f"({printable(used)}); "
                               "give another file name")
    write_file(path, data)
    click.echo(f"wrote {printable(path)} ({len(data)} bytes)", err=True)


def _same_file(a: str, b: str) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def split_args(args: tuple[str, ...]) -> tuple[str | None, dict[str, float]]:
    """The circuit argument and the NAME=VALUE assignments, in any order.

    A value must be a finite number: `x=inf`, `x=nan` and `x=1e400` all get the same error.
    """
    from ..core.syntax import parse_number

    circuit_arg: str | None = None
    values: dict[str, float] = {}
    for arg in args:
        m = _ASSIGNMENT.fullmatch(arg)
        number = parse_number(m.group(2)) if m else None
        if m and number is not None:
            if m.group(1) in values:
                raise CircuitError(f"{m.group(1)} is given twice ({m.group(1)}="
                                   f"{values[m.group(1)]:g} and {arg}): give it once")
            values[m.group(1)] = number
        elif m and (_looks_numeric(m.group(2))
                    or (circuit_arg is not None and "=" not in m.group(2))):
            name = m.group(1)
            raise CircuitError(f"{arg}: the value of {name} must be a finite number (such as "
                               f"{name}=-2 or {name}=1.5e-3)", arg, len(name) + 1, len(arg))
        elif circuit_arg is None:
            circuit_arg = arg
        else:
            raise CircuitError(f"unexpected argument {arg!r}: the circuit is already given "
                               f"({circuit_arg!r}); give input values as NAME=VALUE")
    return circuit_arg, values


def _looks_numeric(text: str) -> bool:
    """What Python's float() takes (inf, nan, 1e400, 1_000) but a circuit value may not be."""
    try:
        float(text)
    except ValueError:
        return False
    return True


def read_circuit(arg: str, given: Mapping[str, float] | None = None) -> tuple[str, str]:
    """(text, source name) from an expression, a file path, a sample's name or '-' (stdin).

    A bare name that is not a file is an expression, except that a name given no value
    which is also a circuit file's or a sample's name without `.circuit` is taken for a
    mistyped file name ("did you mean neuron.circuit?"): the expression `neuron` alone
    would have no value anyway. Give it a value (`neuron=1`) to mean the expression.
    """
    text, source, _ = read_circuit_source(arg, given)
    return text, source


def read_circuit_source(arg: str, given: Mapping[str, float] | None = None,
                        reference: bool = True) -> tuple[str, str, FileRef | None]:
    """read_circuit, and with `reference` (the circuit may be remembered), for a circuit
    file large enough to be kept by reference in the session (io.session.BY_REFERENCE),
    that reference (path, size, mtime, hash)."""
    if arg == "-":
        return sys.stdin.read(), "<stdin>", None
    if os.path.isdir(arg) and (not arg.isidentifier() or arg not in (given or {})):
        raise CircuitError(f"{printable(arg)}: is a directory, not a circuit file")
    if os.path.exists(arg) and not os.path.isdir(arg):
        from ..io.files import decode_text, read_file
        from ..io.session import BY_REFERENCE, FileRef

        data, st = read_file(arg, "circuit file")
        text = decode_text(data, arg)
        large = reference and len(data) > BY_REFERENCE
        return text, arg, FileRef.of(arg, data, st.st_mtime_ns) if large else None
    if arg.endswith(".circuit") and os.sep not in arg:
        from ..io.bundled import sample_dir

        shipped = sample_dir() / arg
        if shipped.is_file():
            from ..io.files import read_text

            return read_text(str(shipped), "circuit file"), arg, None
    if arg.endswith((".circuit", ".txt")):
        raise CircuitError(f"no such file: {printable(arg)} (circuit samples lists the "
                           "shipped ones)")
    if arg.isidentifier() and arg not in (given or {}):
        file = _circuit_file_named(arg)
        if file:
            raise CircuitError(f"{arg}: did you mean {file}? (a name alone is read as the "
                               f"expression {arg} only with a value, {arg}=...)")
    return arg, "", None


def _circuit_file_named(stem: str) -> str | None:
    """`stem.circuit` if it is a file here or a bundled sample, else None."""
    from ..io.bundled import sample_dir

    name = f"{stem}.circuit"
    if os.path.isfile(name) or (sample_dir() / name).is_file():
        return name
    return None


def load_target(args: tuple[str, ...], output: str | None = None,
                remember: bool = True) -> Target:
    """The circuit to work on, with its values checked against its inputs.

    With `remember` (grad, set, step) a circuit given on the command line becomes the
    current circuit, values included, and NAME=VALUE or --of given with none update the
    current one. Without it (every look-only command) the session is only read.
    """
    circuit_arg, values = split_args(args)
    session = current_session()
    if circuit_arg is not None:
        # hashed only if it may be remembered: with no session a big file costs no more
        text, source, file = read_circuit_source(circuit_arg, values,
                                                 remember and session is not None)
        circuit = parse(text, source, output)
        target = Target(circuit, circuit.values_for(values), title(source, text), output,
                        session, file)
        if remember:
            target.remember()
        return target
    saved = saved_circuit(session)
    if output is None:
        output = saved.output
    text = saved.text  # a large file kept by reference: read now, an error if it changed
    try:
        circuit = parse(text, saved.source, output)
    except CircuitError as err:
        if output is not None and output != saved.output:
            raise  # a bad --of given now, not a damaged session
        where = err.located()
        at = f" at line {where[0]}, column {where[1]}" if where else ""
        raise CircuitError(f"the session file {session.path} holds a circuit that does not "
                           f"parse ({err.message}{at}); {session.reset_hint()}") from None
    from ..io.session import values_from

    known = values_from(saved, circuit.inputs)
    target = Target(circuit, circuit.values_for({**known, **values}),
                    title(saved.source, text), output, session,
                    saved.file if saved.by_reference else None)
    if remember and (values or output != saved.output):
        target.remember()
    return target


def saved_circuit(session: Session | None):
    """The current circuit as the session keeps it; an error when there is none."""
    if session is None:
        raise CircuitError("no circuit given, and the session is off (--no-session or "
                           "CIRCUIT_SESSION=off), so there is no current circuit: pass an "
                           "expression, a circuit file or '-'")
    saved = session.load()
    if saved is None:
        raise CircuitError("no circuit given and no current circuit yet: pass an expression, "
                           "a circuit file or '-' (e.g. circuit grad \"(x+y)*z\" x=-2 y=5 z=-4)")
    return saved


class Drawable:
    """A circuit, its input values when every input has one (else None), and a title."""

    __slots__ = ("circuit", "given", "missing", "title", "values")

    def __init__(self, circuit: Circuit, values: dict[str, float] | None, title: str,
                 missing: tuple[str, ...], given: dict[str, float]) -> None:
        self.circuit = circuit
        self.values = values
        self.title = title
        self.missing = missing  # the inputs with no value
        self.given = given  # the NAME=VALUE arguments as given


def load_drawable(args: tuple[str, ...], output: str | None) -> Drawable:
    """Like load_target, but a circuit whose inputs lack values is still drawable.

    For graph and code, which only read the current circuit. Names given on the command
    line are checked all the same (a typo is an error).
    """
    circuit_arg, given = split_args(args)
    if circuit_arg is None:
        target = load_target(args, output, remember=False)
        return Drawable(target.circuit, target.values, target.title, (), given)
    text, source = read_circuit(circuit_arg, given)
    circuit = parse(text, source, output)
    missing = tuple(n for n in circuit.inputs if n not in given and n not in circuit.defaults)
    values = circuit.values_for({**dict.fromkeys(missing, 0.0), **given})
    return Drawable(circuit, None if missing else values, title(source, text), missing, given)


def title(source: str, text: str, width: int = 60) -> str:
    """A circuit's title: its file name, or its text on one line; safe to print."""
    if source:
        return printable(source)
    parts = (line.split("#")[0].strip() for line in text.splitlines())
    flat = "; ".join(part for part in parts if part)
    return printable(flat if len(flat) <= width else flat[: width - 1] + "…")


def show_target(target: Target, digits: int, as_json: bool,
                changed: dict[str, float] | None = None, current: bool = True) -> None:
    """Print a circuit at the values it will use (`show`; `set` after a change)."""
    from ..core.evaluate import forward

    c = target.circuit
    problem = ""
    try:
        value: float | None = forward(c, target.values)[c.output]
    except CircuitError as err:  # show the state anyway; the problem is the output's value
        value, problem = None, err.message
    if as_json:
        from ..render.json import dumps
        from ..render.step import show_document

        click.echo(dumps(show_document(c.text, target.values, c.output_name, value)))
        return
    from ..render.step import show_view

    text = printable(c.text, keep="\n\t")  # a comment may hold an escape sequence
    where = (f"current circuit, kept in {printable(str(target.session.path))}"
             if target.session is not None else "no session (nothing is remembered)")
    if not current:
        where = "not the current circuit (that one is unchanged)"
    make_console().print(show_view(text, target.title, target.values, c.output_name, value,
                                   digits, changed, where, problem, c.defaults))


def print_notes(notes) -> None:
    """Warnings and notes (rich Text lines) on stderr, so stdout holds only the result."""
    if notes:
        console = make_console(stderr=True)
        for note in notes:
            console.print(note)


def make_console(stderr: bool = False):
    """A rich console: colour only on a terminal, never with NO_COLOR or TERM=dumb.

    Written to a pipe or a file, a table is as wide as it needs (up to 200 columns, or
    $COLUMNS): cut to rich's default of 80, its numbers would end in "…".
    """
    from rich.console import Console

    console = Console(stderr=stderr, highlight=False)
    if not console.is_terminal and "COLUMNS" not in os.environ:
        console.width = 200
    return console
