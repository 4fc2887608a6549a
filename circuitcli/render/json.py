"""Result -> JSON: full precision (repr round-trips), inf and nan as null plus a warning."""

from __future__ import annotations

import json
import math
from typing import Any

from ..core.evaluate import Result

__all__ = ["dumps", "finite", "grad_document"]


def finite(value: float | None) -> float | None:
    """JSON has no inf or nan: they become null (the warnings list says where)."""
    if value is None or not math.isfinite(value):
        return None
    return value


def grad_document(result: Result, nodes: bool = True) -> dict[str, Any]:
    """The `circuit grad --json` document (schema in the README).

    A circuit from a file is named by its path, not echoed (a million-gate file is tens of
    megabytes); an expression is given as written. Without nodes, nothing here goes over
    every node: only the output, the inputs and the kinks are labelled.
    """
    c = result.circuit
    grads = result.grads
    doc: dict[str, Any] = {"file": c.source} if c.source else {"expression": c.text}
    doc["output"] = {"name": c.output_name, "value": finite(result.output)}
    doc["inputs"] = {
        name: {"value": finite(result.values[i]),
               "grad": finite(grads[i]) if grads is not None else None}
        for name, i in c.inputs.items()
    }
    if nodes:
        labels = c.labels()
        doc["nodes"] = [
            {
                "name": labels[i],
                "gate": c.gates[i].name,
                "args": [labels[j] for j in c.args[i]],
                "value": finite(result.values[i]),
                "grad": (finite(grads[i]) if grads is not None and (c.live[i] or i == c.output)
                         else None),
                "kink": i in result.kinks,
            }
            for i, a in enumerate(c.args)
            if a or c.is_input(i) or i == c.output
        ]
    doc["warnings"] = list(result.warnings)
    labels = c.labels_of(list(result.kinks))  # one pass, however many kinks
    doc["kinks"] = [{"name": labels[i], "note": note} for i, note in result.kinks.items()]
    return doc


def dumps(doc: Any) -> str:
    return json.dumps(doc, indent=2, allow_nan=False, ensure_ascii=False)
