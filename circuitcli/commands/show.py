"""`circuit show`: a circuit (the current one by default), its input values and its output."""

from __future__ import annotations

from .loading import load_target, split_args
from .options import circuit_command, result_options
from .output import show_target


@circuit_command("show")
@result_options
def command(args: tuple[str, ...], output: str | None, digits: int, as_json: bool) -> None:
    """The current circuit: its text, its input values and the output at those values.

    Given a circuit of its own (and NAME=VALUE), it shows that one at the values it
    would use, and leaves the current circuit alone.

    \b
    Examples:
      circuit show
      circuit show --json
      circuit show neuron.circuit a=2
    """
    own = split_args(args)[0] is not None
    show_target(load_target(args, output, remember=False), digits, as_json, current=not own)
