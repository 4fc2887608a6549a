"""`circuit set`: change input values of the current circuit."""

from __future__ import annotations

import re

import click

from ..core.syntax import CircuitError
from ..io.session import Saved
from .loading import current_session, load_target, session_lock, split_args
from .options import circuit_command, result_options
from .output import show_target

_ASSIGNMENT = re.compile(r"([^\W\d]\w*)=(.*)", re.DOTALL)


@circuit_command("set")
@result_options
def command(args: tuple[str, ...], output: str | None, digits: int, as_json: bool) -> None:
    """Change input values of the current circuit (or make a circuit the current one
    without computing anything), then show it.

    \b
    Examples:
      circuit set x=3
      circuit set x=-2 y=5 z=-4
      circuit set neuron.circuit a=2
    """
    circuit_arg, values = split_args(args)
    if circuit_arg is None and not values and output is None:
        raise click.UsageError("nothing to set: give NAME=VALUE (circuit set x=3)")
    session = current_session()
    if session is None:
        raise click.UsageError("set changes the current circuit, and the session is off "
                               "(--no-session or CIRCUIT_SESSION=off)")
    with session_lock():
        old = session.load()
        _check_not_a_value(circuit_arg, old)
        target = load_target(args, output)
    changed = None
    if old is not None and circuit_arg is None:
        changed = {name: old.values[name] for name in values
                   if name in old.values and old.values[name] != target.values[name]}
    show_target(target, digits, as_json, changed)


def _check_not_a_value(arg: str | None, old: Saved | None) -> None:
    """`circuit set x=abc` means a bad value for the input x, not a new circuit `x = abc`."""
    m = _ASSIGNMENT.fullmatch(arg or "")
    if m and old is not None and re.search(rf"\b{re.escape(m.group(1))}\b", old.text):
        name = m.group(1)
        raise CircuitError(f"{arg}: the value of {name} must be a finite number (such as {name}=-2 "
                           f"or {name}=1.5e-3)", arg, len(name) + 1, len(arg))
