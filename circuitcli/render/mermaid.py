"""Circuit (and Result) -> a Mermaid flowchart, the diagram GitHub and most Markdown viewers draw.

Same picture as the DOT output: left to right, one box per node (name, value,
gradient, what it computes), one arrow per use. Every user string goes through
Mermaid's entity codes (#quot; #lt; ...), so no name can break the block.
"""

from __future__ import annotations

from ..core.circuit import Circuit
from ..core.evaluate import Result
from ..core.gates import format_number
from ..core.safe_text import printable
from .table import fmt
from .tree import computes

__all__ = ["MERMAID_EDGE_LIMIT", "mermaid_source"]

# Mermaid refuses to draw a flowchart with more edges than this unless configured
MERMAID_EDGE_LIMIT = 500

_ENTITIES = {"#": "#35;", '"': "#quot;", "<": "#lt;", ">": "#gt;", "&": "#amp;",
             "`": "#96;", "\n": " "}


def _text(text: str) -> str:
    """A label's text: control characters spelled out (a \\r or \\n could end the block or
    the fence), then Mermaid's entity codes for what its syntax would read."""
    return "".join(_ENTITIES.get(ch, ch) for ch in printable(text))


def mermaid_source(circuit: Circuit, result: Result | None = None, title: str = "",
                   digits: int = 6, fenced: bool = True,
                   contributions: dict[tuple[int, int, int], float] | None = None) -> str:
    """A `flowchart LR` block, inside ```mermaid fences when `fenced` (for Markdown).

    `contributions` ((argument, user, slot) -> local × pull) labels each arrow with what
    flows back along it.
    """
    c = circuit
    labels = c.labels()
    unused = set(c.unused())
    lines = []
    if fenced:
        lines.append("```mermaid")
    if title:
        lines += ["---", f"title: {_yaml(title)}", "---"]
    lines.append("flowchart LR")
    classes: dict[str, list[str]] = {"input": [], "output": [], "unused": [], "kink": []}
    for i, a in enumerate(c.args):
        if not a and not c.live[i]:  # a constant leaf: a small rounded box with its number
            lines.append(f'    n{i}(["{_text(format_number(c.base[i]))}"])')
            continue
        head = _text(labels[i])
        if result is not None:
            head += f" = {_text(fmt(result.values[i], digits))}"
        parts = [f"<b>{head}</b>"]
        if result is not None and result.grads is not None and c.live[i]:
            g = result.grads[i]
            parts.append(f"grad {_text(fmt(g, digits))}")
        if c.is_input(i):
            parts.append("input")
            classes["input"].append(f"n{i}")
        else:
            formula, gate = computes(c, i)
            parts.append(_text(f"{gate}: {formula}" if gate else formula))
        if result is not None and i in result.kinks:
            parts.append("kink")
            classes["kink"].append(f"n{i}")
        if i == c.output:
            classes["output"].append(f"n{i}")
        if i in unused:
            classes["unused"].append(f"n{i}")
        lines.append(f'    n{i}["{"<br/>".join(parts)}"]')
    for i, a in enumerate(c.args):
        for slot, j in enumerate(a):
            flow = None if contributions is None or not c.live[j] else contributions.get(
                (j, i, slot))
            label = "" if flow is None else f'|"{_text(fmt(flow, digits))}"|'
            lines.append(f"    n{j} -->{label} n{i}")
    styles = {
        "input": "fill:#dbeafe,stroke:#2563eb",
        "output": "fill:#fde68a,stroke:#b45309,stroke-width:3px",
        "kink": "stroke:#ca8a04,stroke-dasharray:4 2",
        "unused": "opacity:0.5",
    }
    for name, members in classes.items():
        if members:
            lines.append(f"    classDef {name} {styles[name]}")
            lines.append(f"    class {','.join(members)} {name}")
    if fenced:
        lines.append("```")
    return "\n".join(lines) + "\n"


def _yaml(text: str) -> str:
    """A title as a YAML double-quoted scalar (Mermaid's front matter is YAML)."""
    escaped = printable(text).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'
