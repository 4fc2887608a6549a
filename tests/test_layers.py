"""The layers of docs/architecture.md, enforced (issue 19, part 4).

Every module under circuitcli/ is read (never imported) and each of its imports is found:
top-level ones, ones inside functions, ones under `if TYPE_CHECKING:`, and the modules
named in `lazy("...")` declarations (core/lazy.py). An import is allowed only downwards or
sideways in the order

    core < methods < io < render < commands, repl < cli

and a command module (one in cli.COMMANDS) is imported by nobody: cli.py names them as
strings and imports the one asked for. The shared modules of the command layer (options,
loading, output, completion) are not commands.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

from circuitcli.cli import COMMANDS

PACKAGE = Path(__file__).resolve().parent.parent / "circuitcli"
RANK = {"core": 0, "methods": 1, "io": 2, "render": 3, "commands": 4, "repl": 4, "cli": 5}
COMMAND_MODULES = {module for module, _ in COMMANDS.values()}
DATA_PACKAGES = {"circuitcli.docs"}  # the user guide's Markdown, shipped as package data
# an import against the order that is being moved, and by whom: each entry is allowed until
# its move lands, then deleted here (none today: the sanitiser went down to core/safe_text)
PENDING: dict[tuple[str, str], str] = {}


def modules() -> dict[str, Path]:
    """dotted name -> file, for every module of the package."""
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


MODULES = modules()


def layer(module: str) -> str | None:
    """The layer a circuitcli module belongs to (None: the package itself, package data)."""
    parts = module.split(".")
    if len(parts) == 1:
        return None
    if parts[1] in ("cli", "__main__"):
        return "cli"
    return parts[1] if parts[1] in RANK else None


class Import:
    """One import of a circuitcli module: who, what, on which line, and how."""

    def __init__(self, source: str, target: str, line: int, how: str) -> None:
        self.source, self.target, self.line, self.how = source, target, line, how

    def __repr__(self) -> str:
        path = MODULES[self.source].relative_to(PACKAGE.parent)
        return f"{path}:{self.line}: {self.how} import of {self.target}"


def _absolute(module: str, node: ast.ImportFrom) -> str:
    """The absolute name of a relative `from ..x import y`."""
    is_package = MODULES[module].name == "__init__.py"
    base = module.split(".")
    if not is_package:
        base = base[:-1]
    if node.level > 1:
        base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _type_checking_nodes(tree: ast.Module) -> set[int]:
    inside: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            inside.update(id(n) for stmt in node.body for n in ast.walk(stmt))
    return inside


def imports(module: str, source: str | None = None) -> Iterator[Import]:
    """Every circuitcli module that `module` imports, whichever way (read from its file, or
    from `source`)."""
    tree = ast.parse(source if source is not None else
                     MODULES[module].read_text(encoding="utf-8"))
    top = {id(node) for node in tree.body}
    typing_only = _type_checking_nodes(tree)
    for node in ast.walk(tree):
        how = ("type-checking" if id(node) in typing_only
               else "top-level" if id(node) in top else "function-level")
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(module, node) if node.level else (node.module or "")
            # `from . import loading` imports the module circuitcli.commands.loading
            names = [f"{base}.{a.name}" if f"{base}.{a.name}" in MODULES else base
                     for a in node.names]
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
              and node.func.id == "lazy" and node.args
              and isinstance(node.args[0], ast.Constant)):
            names, how = [node.args[0].value], "lazy"
        for name in dict.fromkeys(names):
            if name == "circuitcli" or name.startswith("circuitcli."):
                yield Import(module, name, node.lineno, how)


def all_imports() -> list[Import]:
    return [imp for module in MODULES for imp in imports(module)]


def test_every_module_belongs_to_a_layer():
    strays = [m for m in MODULES if layer(m) is None and m != "circuitcli"
              and m not in DATA_PACKAGES]
    assert not strays, f"modules outside the layers of docs/architecture.md: {strays}"


def upward(found: list[Import]) -> list[str]:
    """The imports among `found` that point up the layer order."""
    wrong = []
    for imp in found:
        here, there = layer(imp.source), layer(imp.target)
        if here is None or there is None:
            continue
        if RANK[there] > RANK[here] and (here, imp.target) not in PENDING:
            wrong.append(f"{imp} ({here} may not import {there})")
    return wrong


# each kind of import one layer too high, as the helpers of issue 19 part 4 sat: io reading
# render's sanitiser, methods reading io's data and render's JSON, core a render module
PLANTED = {
    "io imports render": ("circuitcli.io.files", "from ..render.safe import printable\n"),
    "methods imports io": ("circuitcli.methods.check", "from ..io import data\n"),
    "methods imports render, in a function": (
        "circuitcli.methods.model", "def f():\n    from ..render.json import finite\n"),
    "core declares render lazy": (
        "circuitcli.core.circuit", "from .lazy import lazy\njs = lazy('circuitcli.render.json')\n"),
    "io imports a command's module": (
        "circuitcli.io.session", "import circuitcli.commands.output\n"),
}


@pytest.mark.parametrize("name", PLANTED)
def test_an_import_up_the_layers_is_caught(name):
    module, source = PLANTED[name]
    wrong = upward(list(imports(module, source)))
    assert len(wrong) == 1, wrong


def test_imports_point_down_the_layers_only():
    wrong = upward(all_imports())
    assert not wrong, ("imports against the layer order core < methods < io < render < "
                       "commands, repl < cli:\n" + "\n".join(wrong))


def test_no_module_imports_a_command():
    wrong = [repr(imp) for imp in all_imports()
             if imp.target in COMMAND_MODULES and imp.source != imp.target]
    assert not wrong, ("a command module is imported only by cli.py's lazy table (shared "
                       "code goes in commands/options, loading or output):\n" + "\n".join(wrong))


def test_every_command_in_the_table_is_a_module():
    assert set(MODULES) >= COMMAND_MODULES


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found = []
    counter = 0
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, edges = work[-1]
            for nxt in edges:
                if nxt not in index:
                    index[nxt] = low[nxt] = counter
                    counter += 1
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(sorted(graph.get(nxt, ())))))
                    break
                if nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        top = stack.pop()
                        on_stack.discard(top)
                        component.append(top)
                        if top == node:
                            break
                    if len(component) > 1:
                        found.append(sorted(component))
    return found


def import_graph(package: str) -> dict[str, set[str]]:
    """Who imports whom inside one layer, at run time (type-checking imports left out)."""
    graph: dict[str, set[str]] = {}
    for imp in all_imports():
        if (layer(imp.source) == package and layer(imp.target) == package
                and imp.how != "type-checking" and imp.target in MODULES
                and imp.target != imp.source):
            graph.setdefault(imp.source, set()).add(imp.target)
    return graph


# cycles known when this test was written, each with who may remove it; any other cycle fails
# (none today: core/rules no longer imports core/gates, the table hands its helpers over)
KNOWN_CYCLES: list[list[str]] = []


@pytest.mark.parametrize("package", sorted(set(RANK) - {"cli"}))
def test_no_import_cycle_inside_a_layer(package):
    cycles = [c for c in _cycles(import_graph(package)) if c not in KNOWN_CYCLES]
    assert not cycles, f"modules of {package}/ that import each other: {cycles}"


def test_the_core_loop_of_the_tape_is_broken():
    # issue 19: circuit, evaluate, shapes and sweep imported each other (through imports
    # inside functions); none of them, nor the parser, is in any cycle now
    in_cycles = {m for c in _cycles(import_graph("core")) for m in c}
    loop = {f"circuitcli.core.{m}" for m in ("circuit", "evaluate", "shapes", "sweep",
                                               "parser", "grammar")}
    assert not in_cycles & loop, in_cycles & loop


SAMPLE = """
from typing import TYPE_CHECKING
from ..core.circuit import Circuit
from ..core.lazy import lazy
if TYPE_CHECKING:
    from ..io.session import Session
sessions = lazy("circuitcli.io.session")
def f():
    from . import json
    import circuitcli.methods.check
"""


def test_the_reader_finds_every_kind_of_import():
    """The test's own reader, on a module written for it and on a real one: a check that
    finds nothing would pass every layer test."""
    found = {(imp.target, imp.how) for imp in imports("circuitcli.render.table", SAMPLE)}
    assert found == {("circuitcli.core.circuit", "top-level"),
                     ("circuitcli.core.lazy", "top-level"),
                     ("circuitcli.io.session", "type-checking"),
                     ("circuitcli.io.session", "lazy"),
                     ("circuitcli.render.json", "function-level"),
                     ("circuitcli.methods.check", "function-level")}
    found = {(imp.target, imp.how) for imp in imports("circuitcli.commands.loading")}
    assert ("circuitcli.core.circuit", "top-level") in found
    assert ("circuitcli.io.session", "lazy") in found
    # and a violation is seen: render importing a command's shared module
    fake = Import("circuitcli.render.table", "circuitcli.commands.output", 1, "top-level")
    assert RANK[layer(fake.target)] > RANK[layer(fake.source)]


# -- lazy imports: one visible mechanism ---------------------------------------------------------

# The imports that stay inside a function, each with its reason; any other import inside a
# function fails below: import at the top, or declare `name = lazy("module")` there
# (core/lazy.py). Imports under `if TYPE_CHECKING:` and probes for an optional module inside
# `try: ... except ImportError:` (fcntl, the json accelerator) are not deferrals.
FUNCTION_LEVEL: dict[tuple[str, str], str] = {}  # none today


def _optional(tree: ast.Module) -> set[int]:
    """Imports inside `try: ... except ImportError:`: a probe for an optional module (fcntl,
    the json accelerator), not a deferral."""
    inside: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Try) and any(
                "ImportError" in ast.unparse(h.type or ast.Name("BaseException"))
                for h in node.handlers):
            inside.update(id(n) for stmt in node.body for n in ast.walk(stmt))
    return inside


def deferred(module: str, source: str | None = None) -> list[tuple[int, str, str]]:
    """(line, imported module, statement) of every import inside a function of `module`."""
    tree = ast.parse(source if source is not None else
                     MODULES[module].read_text(encoding="utf-8"))
    top = {id(node) for node in tree.body}
    allowed = _type_checking_nodes(tree) | _optional(tree)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)) and id(node) not in top | allowed:
            if isinstance(node, ast.ImportFrom):
                target = _absolute(module, node) if node.level else (node.module or "")
                # `from . import dual` imports the module circuitcli.core.dual
                first = f"{target}.{node.names[0].name}"
                target = first if first in MODULES else target
            else:
                target = node.names[0].name
            found.append((node.lineno, target, ast.unparse(node)))
    return sorted(found)


def test_deferred_imports_are_lazy_declarations():
    hidden = [f"{MODULES[module].relative_to(PACKAGE.parent)}:{line}: {text}"
              for module in MODULES
              for line, target, text in deferred(module)
              if (module, target) not in FUNCTION_LEVEL]
    assert not hidden, ("imports inside a function: import at the top, or declare "
                        "`name = lazy(\"module\")` there (core/lazy.py); an import that must "
                        "stay inside a function is listed in FUNCTION_LEVEL with its reason:\n"
                        + "\n".join(hidden))


def test_every_listed_function_level_import_is_still_there():
    """An entry whose import has gone (moved up, or its cycle broken) is deleted, so the
    list says what is true."""
    present = {(module, target) for module in MODULES for _, target, _ in deferred(module)}
    assert set(FUNCTION_LEVEL) <= present, set(FUNCTION_LEVEL) - present


def test_the_deferral_check_sees_an_import_inside_a_function():
    source = ("import os\ntry:\n    import fcntl\nexcept ImportError:\n    fcntl = None\n"
              "def f():\n    import numpy as np\n    from .fit import Column\n"
              "    from . import json\n")
    assert [(line, target) for line, target, _ in deferred("circuitcli.render.table", source)
            ] == [(7, "numpy"), (8, "circuitcli.render.fit"), (9, "circuitcli.render.json")]


def test_lazy_loads_on_first_use_and_follows_the_real_module(monkeypatch):
    import sys

    from circuitcli.core.lazy import lazy

    monkeypatch.delitem(sys.modules, "colorsys", raising=False)
    colors = lazy("colorsys")
    assert "colorsys" not in sys.modules
    assert colors.rgb_to_hsv(1.0, 0.0, 0.0) == (0.0, 1.0, 1.0)  # by hand: pure red
    assert "colorsys" in sys.modules
    monkeypatch.setattr(sys.modules["colorsys"], "ONE_THIRD", 0.5)
    assert colors.ONE_THIRD == 0.5  # a patch of the real module is seen
