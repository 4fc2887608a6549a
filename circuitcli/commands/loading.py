"""The one loader: which circuit a command works on, with which values, remembered or not.

Every command that takes a circuit comes here, through one of three doors that share one
path (`_resolve`): `load_target` (every input has a value: grad, check, step, ...),
`load_drawable` (a picture may lack values: graph, code) and `load_model` (features come
from data: train, predict). So a damaged session gets the same one-line message whichever
command reads it, and only grad, set, step, search --apply, train and reset change it.
"""

from __future__ import annotations

import os
from contextlib import nullcontext
from typing import TYPE_CHECKING, Any

import click

from ..core.circuit import Circuit
from ..core.lazy import lazy
from ..core.parser import parse
from ..core.safe_text import printable
from ..core.syntax import CircuitError
from ..io.sources import read_source, split_args, title
from .options import NO_SESSION, SESSION_PATH

if TYPE_CHECKING:
    from ..io.session import FileRef, Saved, Session

sessions = lazy("circuitcli.io.session")  # not imported when the session is off

__all__ = ["Drawable", "Target", "current_session", "load_drawable", "load_model",
           "load_target", "saved_circuit", "session_lock", "split_args"]

_SESSION = "circuitcli.session"


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
        values = self.values if values is None else values
        self.session.update(sessions.Saved(self.circuit.text, dict(values), self.circuit.source,
                                  self.output, file=self.file))


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


# ---- the session the command uses -----------------------------------------------------------


def current_session() -> Session | None:
    """The session the running command uses, or None when it runs without one.

    One Session object per invocation, so that a lock taken around a read-modify-write
    (`session_lock`) is the one `load_target` and `Target.remember` re-enter.
    """
    ctx = click.get_current_context(silent=True)
    meta: dict[str, Any] = ctx.meta if ctx is not None else {}
    if _SESSION in meta:
        return meta[_SESSION]
    path, off = meta.get(SESSION_PATH), meta.get(NO_SESSION, False)
    if path is not None and off:
        raise click.UsageError("--session and --no-session contradict each other; give one")
    if path is None and (off or os.environ.get("CIRCUIT_SESSION", "").strip().lower() == "off"):
        session = None  # what locate() says, without importing the session module
    else:
        session = sessions.locate(path, off)
    if session is not None:
        session.on_wait = lambda note: click.echo(note, err=True)
    if ctx is not None:
        meta[_SESSION] = session
    return session


def session_lock():
    """A context manager holding the session's lock (a no-op without a session)."""
    session = current_session()
    return nullcontext() if session is None else session.locked()


def saved_circuit(session: Session | None) -> Saved:
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


# ---- the one path ---------------------------------------------------------------------------


class _Found:
    """What `_resolve` found: the circuit, the NAME=VALUE values given, the values the
    session knows for its inputs, and where it came from (`saved` is None for a circuit
    given on the command line)."""

    __slots__ = ("circuit", "file", "given", "known", "output", "saved", "session", "title")

    def __init__(self, circuit: Circuit, given: dict[str, float], known: dict[str, float],
                 title: str, output: str | None, session: Session | None,
                 file: FileRef | None, saved: Saved | None) -> None:
        self.circuit = circuit
        self.given = given
        self.known = known
        self.title = title
        self.output = output
        self.session = session
        self.file = file
        self.saved = saved

    def target(self, values: dict[str, float]) -> Target:
        return Target(self.circuit, values, self.title, self.output, self.session, self.file)


def _resolve(args: tuple[str, ...], output: str | None, keep: bool) -> _Found:
    """The circuit of the arguments, or else the current one: the one path of every loader.

    `keep`: the circuit may be remembered, so a large circuit file is hashed for the
    session's reference to it (with no session, or a look-only command, it costs nothing).
    """
    circuit_arg, given = split_args(args)
    session = current_session()
    if circuit_arg is not None:
        text, source, file = read_source(circuit_arg, given, keep and session is not None)
        circuit = parse(text, source, output)
        return _Found(circuit, given, {}, title(source, text), output, session, file, None)
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
        raise CircuitError(f"the session file {printable(str(session.path))} holds a circuit "
                           f"that does not parse ({err.message}{at}); {session.reset_hint()}"
                           ) from None
    known = {name: v for name, v in saved.values.items() if name in circuit.inputs}
    return _Found(circuit, given, known, title(saved.source, text), output, session,
                  saved.file if saved.by_reference else None, saved)


def load_target(args: tuple[str, ...], output: str | None = None,
                remember: bool = True) -> Target:
    """The circuit to work on, with a value for every input (an error names a missing one).

    With `remember` (grad, set, step) a circuit given on the command line becomes the
    current circuit, values included, and NAME=VALUE or --of given with none update the
    current one. Without it (every look-only command) the session is only read.
    """
    found = _resolve(args, output, remember)
    target = found.target(found.circuit.values_for({**found.known, **found.given}))
    if remember and (found.saved is None or found.given or found.output != found.saved.output):
        target.remember()
    return target


def load_drawable(args: tuple[str, ...], output: str | None) -> Drawable:
    """Like load_target, but a circuit given here whose inputs lack values is still drawable.

    For graph and code, which only read the current circuit. Names given on the command
    line are checked all the same (a typo is an error).
    """
    found = _resolve(args, output, keep=False)
    c, given = found.circuit, found.given
    if found.saved is not None:  # the current circuit has its values
        return Drawable(c, c.values_for({**found.known, **given}), found.title, (), given)
    missing = tuple(n for n in c.inputs if n not in given and n not in c.defaults)
    values = c.values_for({**dict.fromkeys(missing, 0.0), **given})
    return Drawable(c, None if missing else values, found.title, missing, given)


def load_model(args: tuple[str, ...], output: str | None, remember: bool = False
               ) -> tuple[Target, dict[str, float]]:
    """The circuit to train or score, and the NAME=VALUE values given on the command line.

    The target's values are the ones the session knows (none for a circuit given here),
    starting values for a second `circuit train` that continues the first one. Unlike
    `load_target`, inputs may lack values (features come from the data, parameters without
    one start at random), and nothing is remembered here: with `remember`, `circuit train`
    remembers the learned values once it has them (Target.remember); `predict` never does.
    """
    found = _resolve(args, output, remember)
    return found.target(found.known), found.given

