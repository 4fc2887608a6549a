"""TAB completion: `:` commands, input and node names, and gate functions (`sig` -> `sigmoid(`).

Function names come from the gate table (core.gates.FUNCTIONS), command names from the
REPL's own table, so a new gate or command completes without a change here.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

from prompt_toolkit.completion import CompleteEvent, Completer, Completion, PathCompleter
from prompt_toolkit.document import Document

from ..core.gates import FUNCTIONS
from .commands import ALIASES, COMMANDS

__all__ = ["ReplCompleter"]

_WORD = re.compile(r"[^\W\d]\w*$")


class ReplCompleter(Completer):
    """Completes the word before the cursor; `names` gives the circuit's current names."""

    def __init__(self, names: Callable[[], list[str]]) -> None:
        self.names = names
        self.paths = PathCompleter(expanduser=True)

    def get_completions(self, document: Document, complete_event: CompleteEvent
                        ) -> Iterator[Completion]:
        before = document.text_before_cursor
        stripped = before.lstrip()
        if stripped.startswith(":"):
            head, space, rest = stripped[1:].partition(" ")
            if not space:
                for name, entry in COMMANDS.items():
                    if name.startswith(head):
                        yield Completion(f":{name}", -len(stripped), display_meta=entry.help)
                return
            entry = COMMANDS.get(ALIASES.get(head, head))
            if entry is not None and entry.takes_file:
                yield from self.paths.get_completions(Document(rest.lstrip()), complete_event)
            return
        m = _WORD.search(before)
        if m is None:
            return
        word = m.group()
        seen = set()
        for name in self.names():
            if name.startswith(word) and name not in seen:
                seen.add(name)
                yield Completion(name, -len(word), display_meta="name")
        for name, gate in FUNCTIONS.items():
            if name.startswith(word):
                yield Completion(f"{name}(", -len(word), display=f"{name}()",
                                 display_meta=gate.display.replace("{*}", "a, b, ...")
                                 .format(*"abc"))
