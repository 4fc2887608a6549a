"""Imports deferred to first use, declared at the top of the module that needs them.

`circuit grad` must start in about the time Python takes to import click and rich, so
sympy, numpy, json, the session module and most renderers are loaded only by the runs that
use them. Written as `import` lines inside functions, those dependencies would be hidden
in the bodies; written here, they stay in a module's header where a reader (and
tests/test_layers.py) sees them:

    from ..core.lazy import lazy

    np = lazy("numpy")
    session = lazy("circuitcli.io.session")

    def later():
        return np.zeros(3), session.locate()

The module is imported on the first attribute read, and every read after that goes to the
real module, so a test's monkeypatch of it is seen. A read costs one Python call more than
a plain module's: in a loop that counts, bind the attribute to a local name first.
"""

from __future__ import annotations

import sys
from types import ModuleType
from typing import Any

__all__ = ["lazy"]


class LazyModule:
    """A stand-in for the module `name`, imported when one of its attributes is read."""

    __slots__ = ("__name",)

    def __init__(self, name: str) -> None:
        self.__name = name

    def __getattr__(self, attribute: str) -> Any:
        return getattr(self.module(), attribute)

    def module(self) -> ModuleType:
        """The real module (imported now, if no one has yet)."""
        name = self.__name
        module = sys.modules.get(name)
        if module is None:
            __import__(name)
            module = sys.modules[name]
        return module

    def __repr__(self) -> str:
        state = "loaded" if self.__name in sys.modules else "not loaded yet"
        return f"<lazy module {self.__name!r}, {state}>"


def lazy(name: str) -> Any:
    """The module called `name` (absolute: "numpy", "circuitcli.render.json"), imported on
    first use."""
    return LazyModule(name)
