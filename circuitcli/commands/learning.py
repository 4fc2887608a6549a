"""What train and predict share: the loader that lets inputs lack values, and remembering.

Not a command: both commands import it, so neither imports the other.
"""

from __future__ import annotations

from ..core.syntax import CircuitError

__all__ = ["listing", "load_model", "remember"]


def load_model(args: tuple[str, ...], output: str | None):
    """The circuit to train or score, and the NAME=VALUE values given on the command line.

    With none given, the current circuit is used, its saved values as starting values
    (so a second `circuit train` continues from the first one's parameters). Unlike
    `load_target`, inputs may lack values (features come from the data, parameters
    without one start at random) and nothing is remembered here: `circuit train`
    remembers the learned values once it has them, `circuit predict` nothing.
    """
    from ..core.parser import parse
    from .common import (
        Target,
        current_session,
        read_circuit_source,
        saved_circuit,
        split_args,
        title,
    )

    circuit_arg, given = split_args(args)
    session = current_session()
    if circuit_arg is not None:
        text, source, file = read_circuit_source(circuit_arg, given, session is not None)
        circuit = parse(text, source, output)
        return Target(circuit, dict(given), title(source, text), output, session, file), given
    saved = saved_circuit(session)
    output = output if output is not None else saved.output
    text = saved.text  # a large file kept by reference: read now, an error if it changed
    try:
        circuit = parse(text, saved.source, output)
    except CircuitError as err:
        err.message = f"the current circuit ({session.path}): {err.message}"
        raise
    known = {name: v for name, v in saved.values.items() if name in circuit.inputs}
    file = saved.file if saved.by_reference else None
    return Target(circuit, known, title(saved.source, text), output, session, file), given


def remember(target, values, data) -> None:
    """Make the trained circuit current: learned parameters, features at the first row."""
    if target.session is None:
        return
    circuit = target.circuit
    point = {name: float(data.values[name][0]) if name in data.values else
             circuit.defaults.get(name, 0.0) for name in circuit.inputs}
    point.update(values)
    target.remember(point)


def listing(names, most: int = 8) -> str:
    """`a, b, c`, or the first `most` names and how many there are in all."""
    shown = ", ".join(names[:most])
    return shown + (f", ... ({len(names)} in all)" if len(names) > most else "")
