"""TAB completion: `:` commands, input and node names, and gate functions (`sig` -> `sigmoid(`).

Function names come from the gate table (core.gates.FUNCTIONS), command names from the
REPL's own table, so a new gate or command completes without a change here.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator

from prompt_toolkit.completion import CompleteEvent, Completer, Completion, PathCompleter
from prompt_toolkit.document import Document

from ..core.gates import FUNCTIONS
from ..io.bundled import samples
from .commands import ALIASES, COMMANDS

__all__ = ["ReplCompleter"]

_WORD = re.compile(r"[^\W\d]\w*$")
LOADABLE = (".circuit", ".txt")  # :load reads circuit text; a picture or a page it refuses
DRAWABLE = (".html", ".htm", ".txt", ".dot", ".gv", ".svg", ".png", ".mmd", ".mermaid", ".md")


def _suffix_filter(suffixes: tuple[str, ...]) -> Callable[[str], bool]:
    return lambda path: os.path.isdir(path) or path.lower().endswith(suffixes)


def _samples(word: str) -> Iterator[Completion]:
    """The shipped samples by the name :load takes (neuron for neuron.circuit)."""
    if "/" in word:
        return
    for stem, (_, about) in samples().items():
        if stem.startswith(word):
            yield Completion(stem, -len(word), display_meta=about[:40] or "sample")


class ReplCompleter(Completer):
    """Completes the word before the cursor; `names` gives the circuit's current names."""

    def __init__(self, names: Callable[[], list[str]]) -> None:
        self.names = names
        self.paths = PathCompleter(expanduser=True)
        # what each command reads or writes: :load only what it can load, :graph what it draws
        self.loadable = PathCompleter(expanduser=True, file_filter=_suffix_filter(LOADABLE))
        self.drawable = PathCompleter(expanduser=True, file_filter=_suffix_filter(DRAWABLE))

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
            name = ALIASES.get(head, head)
            entry = COMMANDS.get(name)
            if entry is not None and entry.takes_file:
                word = Document(rest.lstrip())
                if name == "load":
                    yield from self.loadable.get_completions(word, complete_event)
                    yield from _samples(word.text)
                elif name == "graph":
                    yield from self.drawable.get_completions(word, complete_event)
                else:
                    yield from self.paths.get_completions(word, complete_event)
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
