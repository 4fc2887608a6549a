"""Modules imported on first use, declared at the top of the module that uses them.

`circuit grad "x*y"` must start in about the time Python needs to import click and rich,
so what a small run never touches (numpy, the compiled sweeps, the shape path, difflib)
is imported when first used. Declaring it here, `np = lazy("numpy")` at the top of a
module, keeps every dependency of a module visible in one place (and readable by the
test of the import layers), instead of `import` lines scattered inside functions.
"""

from __future__ import annotations

import sys
from importlib import import_module
from types import ModuleType

__all__ = ["imported", "lazy"]


class _Lazy:
    """A stand-in for a module: the first attribute read imports it (later reads go to
    the module as it is then, so a test that patches the module is seen)."""

    __slots__ = ("_name",)

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attr: str):
        module = sys.modules.get(self._name) or import_module(self._name)
        return getattr(module, attr)

    def __repr__(self) -> str:
        return f"<module {self._name!r}, imported on first use>"


def lazy(name: str) -> ModuleType:
    """The module `name` (absolute), imported the first time an attribute is read."""
    return _Lazy(name)  # type: ignore[return-value]


def imported(module: ModuleType) -> ModuleType:
    """The real module behind a `lazy()` stand-in, imported now: for a namespace that
    generated code reads on every call, where the stand-in's lookup would cost each time."""
    if isinstance(module, _Lazy):
        return sys.modules.get(module._name) or import_module(module._name)
    return module
