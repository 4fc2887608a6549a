"""Circuit (and Result) -> Graphviz DOT source, and DOT -> SVG or PNG through Graphviz's `dot`.

Left to right like micrograd's draw_dot: one box per node with its name, gate,
value and gradient, and one edge per use (so `a * a` has two edges from a).
Labels are Graphviz HTML labels: every user string is escaped there, so no
name or title can break the syntax, and gradients keep `circuit grad`'s colours.
"""

from __future__ import annotations

import shutil
import subprocess

from ..core.circuit import Circuit
from ..core.evaluate import Result
from ..core.gates import format_number
from ..core.syntax import CircuitError
from .table import fmt, grad_style
from .tree import computes

__all__ = ["GRAPHVIZ_FORMATS", "dot_source", "run_graphviz"]

GRAPHVIZ_FORMATS = ("svg", "png")

_GRAD_COLOURS = {"green": "#15803d", "red": "#b91c1c", "dim": "#6b7280"}
_INPUT_FILL = "#dbeafe"
_OUTPUT_FILL = "#fde68a"
_KINK_FILL = "#fef08a"


def _html(text: str) -> str:
    """Text for inside an HTML label: &, < and > escaped, nothing else needs it."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _quoted(text: str) -> str:
    """Text for inside a quoted DOT string, where backslash escapes (\\N, \\G) are live."""
    return text.replace("\\", "\\\\").replace('"', '\\"')


def dot_source(circuit: Circuit, result: Result | None = None, title: str = "",
               digits: int = 6,
               contributions: dict[tuple[int, int, int], float] | None = None) -> str:
    """The whole circuit as a `digraph`; nodes the output does not use are drawn grey.

    `contributions` ((argument, user, slot) -> local × pull) labels each edge with what
    flows back along it, coloured like a gradient.
    """
    c = circuit
    labels = c.labels()
    unused = set(c.unused())
    out = [
        "digraph circuit {",
        "  rankdir=LR;",
        '  graph [fontname="Helvetica", labelloc=t];',
        '  node [shape=plain, fontname="Helvetica", fontsize=11];',
        '  edge [color="#4b5563", arrowsize=0.7];',
    ]
    if title:
        out.append(f"  label=<<B>{_html(title)}</B>>;")
    for i, a in enumerate(c.args):
        if not a and not c.live[i]:  # a constant leaf: a small oval with its number
            out.append(f'  n{i} [shape=ellipse, label=<{_html(format_number(c.base[i]))}>, '
                       'fontsize=10, color="#9ca3af", height=0.3];')
            continue
        is_input = c.is_input(i)
        faded = i in unused
        fill = _OUTPUT_FILL if i == c.output else _INPUT_FILL if is_input else ""
        name = f"<B>{_html(labels[i])}</B>"
        cells = [f'<TD BGCOLOR="{fill}">{name}</TD>' if fill else f"<TD>{name}</TD>"]
        if is_input:
            cells.append("<TD>input</TD>")
        else:
            formula, gate = computes(c, i)
            cells.append(f"<TD>{_html(f'{gate}: {formula}' if gate else formula)}</TD>")
        if result is not None:
            cells.append(f"<TD>value {_html(fmt(result.values[i], digits))}</TD>")
            if result.grads is not None and c.live[i]:
                g = result.grads[i]
                colour = _GRAD_COLOURS[grad_style(g)]
                cells.append(f'<TD><FONT COLOR="{colour}">grad {_html(fmt(g, digits))}'
                             "</FONT></TD>")
            if i in result.kinks:
                cells.append(f'<TD BGCOLOR="{_KINK_FILL}">kink</TD>')
        colour = ' COLOR="#9ca3af"' if faded else ""
        table = ('<TABLE BORDER="0" CELLBORDER="1" CELLSPACING="0" CELLPADDING="4"'
                 f"{colour}><TR>{''.join(cells)}</TR></TABLE>")
        extra = ', fontcolor="#9ca3af"' if faded else ""
        tooltip = _quoted(" ".join(_source_start(c, i).split()))
        out.append(f'  n{i} [label=<{table}>, tooltip="{tooltip}"{extra}];')
    for i, a in enumerate(c.args):
        for slot, j in enumerate(a):
            flow = None if contributions is None or not c.live[j] else contributions.get(
                (j, i, slot))
            if flow is None:
                out.append(f"  n{j} -> n{i};")
                continue
            colour = _GRAD_COLOURS[grad_style(flow)]
            out.append(f'  n{j} -> n{i} [label=<<FONT COLOR="{colour}" POINT-SIZE="9">'
                       f'{_html(fmt(flow, digits))}</FONT>>, color="{colour}"];')
    out.append("}")
    return "\n".join(out) + "\n"


def _source_start(c: Circuit, i: int, width: int = 80) -> str:
    """The start of the text node i was parsed from (a deep node's span is the whole chain)."""
    start, end = c.starts[i], c.ends[i]
    return c.text[start:end] if end - start <= width else c.text[start:start + width - 1] + "…"


def run_graphviz(source: str, fmt_: str, dpi: int | None = None) -> bytes:
    """Graphviz's `dot -T<fmt>` over the source; a one-line error if it is not installed."""
    exe = shutil.which("dot")
    if exe is None:
        raise CircuitError(
            f"--format {fmt_} needs Graphviz's dot program, which is not installed: "
            "install it (apt-get install graphviz, brew install graphviz, or "
            "https://graphviz.org/download/), or use --format dot")
    command = [exe, f"-T{fmt_}", *([f"-Gdpi={dpi}"] if dpi else [])]
    done = subprocess.run(command, input=source.encode("utf-8"),
                          capture_output=True, check=False)
    if done.returncode != 0:
        message = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise RuntimeError(f"Graphviz rejected the DOT source: {message[0] if message else ''}")
    return done.stdout
