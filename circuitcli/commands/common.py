"""The names commands used to import from one 568-line module, now split by what they do.

`options` (the circuit argument and each shared option, declared once), `loading` (the one
loader: which circuit, with which values, remembered or not), `output` (console, notes,
the one -o writer) and io.sources (where a circuit's text comes from). New code imports
from those; this module only keeps the old names importable.
"""

from __future__ import annotations

from collections.abc import Mapping

from ..io.sources import read_source as read_circuit_source
from ..io.sources import title
from .loading import (
    Drawable,
    Target,
    current_session,
    load_drawable,
    load_model,
    load_target,
    saved_circuit,
    session_lock,
    split_args,
)
from .options import (
    FINITE,
    CircuitCommand,
    circuit_arguments,
    circuit_command,
    digits_option,
    json_option,
    moving,
    moving_options,
    output_file_option,
    positive,
    pull_option,
    result_options,
    rows_options,
    session_options,
    tweak_option,
)
from .output import interrupted, make_console, print_notes, show_target, write_output

__all__ = [
    "FINITE", "CircuitCommand", "Drawable", "Target", "circuit_arguments", "circuit_command",
    "current_session", "digits_option", "interrupted", "json_option", "load_drawable",
    "load_model", "load_target", "make_console", "moving", "moving_options",
    "output_file_option", "positive", "print_notes", "pull_option", "read_circuit",
    "read_circuit_source", "result_options", "rows_options", "saved_circuit", "session_lock",
    "session_options", "show_target", "split_args", "title", "tweak_option", "write_output",
]


def read_circuit(arg: str, given: Mapping[str, float] | None = None) -> tuple[str, str]:
    """(text, source name) from an expression, a file, a sample's name or '-' (stdin)."""
    text, source, _ = read_circuit_source(arg, given)
    return text, source
