"""What Tab offers (click's shell completion, for bash, zsh and fish).

Each function is a click `shell_complete` callback: it gets the context parsed so far
(resiliently: a half-typed line never raises) and the word being typed, and answers with
candidates only. Nothing here may print or fail: a circuit on the line that does not parse
simply completes no node names.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

import click

from ..core.lazy import lazy
from ..io.sources import split_args

bundled = lazy("circuitcli.io.bundled")  # on Tab only

if TYPE_CHECKING:  # imported on Tab only: a command's start-up does not pay for it
    from click.shell_completion import CompletionItem

__all__ = ["any_file", "backward_files", "circuit_args", "csv_files", "input_names", "json_files",
           "node_names", "sample_names", "topics_and_commands"]


def _item(value: str, **kwargs: Any) -> CompletionItem:
    from click.shell_completion import CompletionItem

    return CompletionItem(value, **kwargs)


def _files(incomplete: str, suffixes: tuple[str, ...]) -> list[CompletionItem]:
    """Files ending in `suffixes` in the folder `incomplete` points into. The shells are
    also told to offer folders (the "dir" item; bash does when no file matches)."""
    folder, start = os.path.split(incomplete)
    found = [_item(incomplete, type="dir")]
    try:
        entries = sorted(os.scandir(os.path.expanduser(folder) or "."), key=lambda e: e.name)
    except OSError:
        return found
    for entry in entries:
        if not entry.name.startswith(start) or (entry.name.startswith(".") and not start):
            continue
        try:
            if entry.name.endswith(suffixes) and not entry.is_dir():
                found.append(_item(os.path.join(folder, entry.name)))
        except OSError:
            continue
    return found


def _shipped(incomplete: str, pattern: str) -> list[CompletionItem]:
    """The samples' names matching `pattern` (they run by name from any folder)."""
    if os.sep in incomplete:
        return []
    from ..io.bundled import sample_dir

    return [_item(p.name, help="sample") for p in sorted(sample_dir().glob(pattern))
            if p.name.startswith(incomplete)]


def _unique(items: list[CompletionItem]) -> list[CompletionItem]:
    seen: set[str] = set()
    return [i for i in items if not (i.value in seen or seen.add(i.value))]  # type: ignore[func-returns-value]


def sample_names(ctx: click.Context, param: click.Parameter, incomplete: str
                 ) -> list[CompletionItem]:
    """`circuit samples NAME`: the circuits, CSV files, backward passes and lessons that
    ship."""
    return [item for pattern in ("*.circuit", "*.csv", "*.backward", "*.repl")
            for item in _shipped(incomplete, pattern)]


def csv_files(ctx: click.Context, param: click.Parameter, incomplete: str
              ) -> list[CompletionItem]:
    """`--data`: CSV files here, and the shipped ones."""
    return _unique(_files(incomplete, (".csv",)) + _shipped(incomplete, "*.csv"))


def backward_files(ctx: click.Context, param: click.Parameter, incomplete: str
                   ) -> list[CompletionItem]:
    """`check --backward`: backward passes here, and the ninja exercises' shipped ones."""
    return _unique(_files(incomplete, (".backward",)) + _shipped(incomplete, "*.backward"))


def json_files(ctx: click.Context, param: click.Parameter, incomplete: str
               ) -> list[CompletionItem]:
    """`predict --params`: the JSON files here (what `train -o` wrote)."""
    return _files(incomplete, (".json",))


def any_file(ctx: click.Context, param: click.Parameter, incomplete: str
             ) -> list[CompletionItem]:
    """`-o FILE`: a new file's name; the shell offers its own file names."""
    return [_item(incomplete, type="file")]


def _circuit_on_line(ctx: click.Context) -> Any:
    """The circuit the line names so far, parsed, or None (no circuit, or a bad one)."""
    args = ctx.params.get("args") or ()
    try:
        arg, values = split_args(tuple(args))
        if arg is None:
            return None
        from ..core.parser import parse
        from ..io.sources import read_source

        text, source, _ = read_source(arg, values)
        return parse(text, source)
    except Exception:  # a half-typed line: nothing to offer, never an error
        return None


def circuit_args(ctx: click.Context, param: click.Parameter, incomplete: str
                 ) -> list[CompletionItem]:
    """The circuit argument: circuit files here and the samples' names, until a circuit is
    on the line (then NAME=VALUE follows, which Tab cannot guess)."""
    try:
        given, _ = split_args(tuple(ctx.params.get("args") or ()))
    except Exception:
        return []
    if given is not None or "=" in incomplete:
        return []
    if ctx.command.name == "repl":  # a lesson replays too: circuit repl notebook.repl
        return _unique(_files(incomplete, (".circuit", ".repl")) + _shipped(incomplete, "*.repl")
                       + _shipped(incomplete, "*.circuit"))
    return _unique(_files(incomplete, (".circuit",)) + _shipped(incomplete, "*.circuit"))


def node_names(ctx: click.Context, param: click.Parameter, incomplete: str
               ) -> list[CompletionItem]:
    """`--of`: the named nodes of the circuit already on the line."""
    circuit = _circuit_on_line(ctx)
    if circuit is None:
        return []
    return [_item(name) for name in circuit.named if name.startswith(incomplete)]


def input_names(ctx: click.Context, param: click.Parameter, incomplete: str
                ) -> list[CompletionItem]:
    """`--wrt`: the inputs of the circuit already on the line."""
    circuit = _circuit_on_line(ctx)
    if circuit is None:
        return []
    return [_item(name) for name in circuit.inputs if name.startswith(incomplete)]


def topics_and_commands(ctx: click.Context, param: click.Parameter, incomplete: str
                        ) -> list[CompletionItem]:
    """`circuit help NAME`: the commands and the guide's topics."""
    root = ctx.find_root()
    group = root.command
    names = group.list_commands(root) if isinstance(group, click.Group) else []
    found = [*names, *bundled.guide_topics()]
    return _unique([_item(n) for n in found if n.startswith(incomplete)])
