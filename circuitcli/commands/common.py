"""What every command shares: the circuit argument, the shared options and the one loader.

A command module imports from here and from the library, never from another command.
`load_target` is the one place that decides which circuit a command works on, with which
values, and whether it is remembered.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import click

from ..core.circuit import Circuit, parse
from ..core.syntax import CircuitError

if TYPE_CHECKING:
    from ..io.session import Session

__all__ = ["CircuitCommand", "Target", "circuit_arguments", "current_session", "load_target",
           "make_console", "read_circuit", "session_lock", "session_options", "split_args"]

_ASSIGNMENT = re.compile(r"([^\W\d]\w*)=(.*)", re.DOTALL)
_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")


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
                    if value is not None:
                        options.append(value)
            elif re.fullmatch(r"--[A-Za-z][\w-]*(=.*)?", token, re.DOTALL):
                options.append(token)  # an unknown option: let click say so, with a suggestion
            else:
                positionals.append(token)
        return super().parse_args(ctx, [*options, "--", *positionals])


@dataclass
class Target:
    """The circuit a command works on, the input values to use, and a title for it.

    `session` is where it is remembered (None with --no-session); `remember` makes new
    values the current ones, as `circuit step` does after each run.
    """

    circuit: Circuit
    values: dict[str, float]
    title: str
    output: str | None = None  # the --output the circuit was loaded with
    session: Session | None = None

    def remember(self, values: dict[str, float] | None = None) -> None:
        """Make this circuit, at these values (default: its own), the current circuit."""
        if self.session is None:
            return
        from ..io.session import Saved

        values = self.values if values is None else values
        self.session.update(Saved(self.circuit.text, dict(values), self.circuit.source,
                                  self.output))


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


# ---- shared options: declared once, used by every command that has them -----------------


def json_option(func: Callable) -> Callable:
    """`--json`: JSON alone on stdout, full precision (parameter `as_json`)."""
    return click.option("--json", "as_json", is_flag=True,
                        help="Machine output on stdout, full precision.")(func)


def digits_option(func: Callable) -> Callable:
    """`--digits N` (parameter `digits`)."""
    return click.option("--digits", type=click.IntRange(1, 17), default=6, show_default=True,
                        help="Significant digits in the table (JSON keeps them all).")(func)


def rows_options(func: Callable) -> Callable:
    """`--max-rows N` and `--all` (parameters `max_rows`, `show_all`)."""
    func = click.option("--all", "show_all", is_flag=True,
                        help="Show every row, however many.")(func)
    return click.option("--max-rows", type=click.IntRange(1), default=40, show_default=True,
                        help="Longer tables keep the inputs, the output and the strongest "
                             "pulls, and say how many rows were left out.")(func)


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
            raise CircuitError(f"-o {path}: that is the command's own input ({used}); "
                               "give another file name")
    write_file(path, data)
    click.echo(f"wrote {path} ({len(data)} bytes)", err=True)


def _same_file(a: str, b: str) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def split_args(args: tuple[str, ...]) -> tuple[str | None, dict[str, float]]:
    """The circuit argument and the NAME=VALUE assignments, in any order."""
    circuit_arg: str | None = None
    values: dict[str, float] = {}
    for arg in args:
        m = _ASSIGNMENT.fullmatch(arg)
        if m and _NUMBER.fullmatch(m.group(2)):
            values[m.group(1)] = float(m.group(2))
        elif m and circuit_arg is not None and "=" not in m.group(2):
            raise CircuitError(f"{arg}: the value of {m.group(1)} must be a number "
                               f"(such as {m.group(1)}=-2 or {m.group(1)}=1.5e-3)", arg,
                               len(m.group(1)) + 1, len(arg))
        elif circuit_arg is None:
            circuit_arg = arg
        else:
            raise CircuitError(f"unexpected argument {arg!r}: the circuit is already given "
                               f"({circuit_arg!r}); give input values as NAME=VALUE")
    return circuit_arg, values


def read_circuit(arg: str) -> tuple[str, str]:
    """(text, source name) from an expression, a file path or '-' for standard input."""
    if arg == "-":
        return sys.stdin.read(), "<stdin>"
    if os.path.isfile(arg):
        with open(arg, encoding="utf-8") as f:
            return f.read(), arg
    if arg.endswith(".circuit") and os.sep not in arg:
        from ..io.bundled import sample_dir

        shipped = sample_dir() / arg
        if shipped.is_file():
            return shipped.read_text(encoding="utf-8"), arg
    if arg.endswith((".circuit", ".txt")):
        raise CircuitError(f"no such file: {arg} (circuit samples lists the shipped ones)")
    return arg, ""


def load_target(args: tuple[str, ...], output: str | None = None,
                remember: bool = True) -> Target:
    """The circuit to work on, with its values checked against its inputs.

    A circuit given on the command line becomes the current circuit, values included;
    with none given, the current circuit is used, and NAME=VALUE or --output update it.
    `remember=False` (look-only commands) leaves the session as it was.
    """
    circuit_arg, values = split_args(args)
    session = current_session()
    if circuit_arg is not None:
        text, source = read_circuit(circuit_arg)
        circuit = parse(text, source, output)
        target = Target(circuit, circuit.values_for(values), source or _one_line(text), output,
                        session)
        if remember:
            target.remember()
        return target
    if session is None:
        raise CircuitError("no circuit given, and the session is off (--no-session or "
                           "CIRCUIT_SESSION=off), so there is no current circuit: pass an "
                           "expression, a circuit file or '-'")
    saved = session.load()
    if saved is None:
        raise CircuitError("no circuit given and no current circuit yet: pass an expression, "
                           "a circuit file or '-' (e.g. circuit grad \"(x+y)*z\" x=-2 y=5 z=-4)")
    if output is None:
        output = saved.output
    try:
        circuit = parse(saved.text, saved.source, output)
    except CircuitError as err:
        if output is not None and output != saved.output:
            raise  # a bad --output given now, not a damaged session
        where = err.located()
        at = f" at line {where[0]}, column {where[1]}" if where else ""
        raise CircuitError(f"the session file {session.path} holds a circuit that does not "
                           f"parse ({err.message}{at}); circuit reset starts afresh") from None
    from ..io.session import values_from

    known = values_from(saved, circuit.inputs)
    target = Target(circuit, circuit.values_for({**known, **values}),
                    saved.source or _one_line(saved.text), output, session)
    if remember and (values or output != saved.output):
        target.remember()
    return target


def _one_line(text: str, width: int = 60) -> str:
    parts = (line.split("#")[0].strip() for line in text.splitlines())
    flat = "; ".join(part for part in parts if part)
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def make_console(stderr: bool = False):
    """A rich console: colour only on a terminal, never with NO_COLOR or TERM=dumb."""
    from rich.console import Console

    return Console(stderr=stderr, highlight=False)
