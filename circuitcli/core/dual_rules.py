"""The gate rules over (value, tangent) pairs: a lowering of the rule compiler (rules.dual).

Kept as the name methods/derivatives.py imports; the lowering itself lives with the others
in core/rules.py, on the same checked trees (the zero-pull rule included).
"""

from __future__ import annotations

from .rules import dual as lowered

__all__ = ["lowered"]
