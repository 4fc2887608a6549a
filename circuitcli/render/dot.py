"""Circuit (and Result) -> Graphviz DOT source, and DOT -> SVG or PNG through Graphviz's `dot`.

Left to right like micrograd's draw_dot: one box per node with its name, gate,
value and gradient, and one edge per use (so `a * a` has two edges from a).
Labels are Graphviz HTML labels: every user string is escaped there, so no
name or title can break the syntax, and gradients keep `circuit grad`'s colours.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys

from ..core.circuit import Circuit
from ..core.evaluate import Result
from ..core.gates import format_number
from ..core.safe_text import printable
from ..core.syntax import CircuitError
from .table import fmt, grad_style
from .tree import computes

__all__ = ["GRAPHVIZ_FORMATS", "GRAPHVIZ_LIMIT", "dot_source", "layout_size",
           "run_graphviz"]

GRAPHVIZ_FORMATS = ("svg", "png")
# Above this layout size (see layout_size) `circuit graph` refuses svg/png unless --force:
# dot's time and memory grow much faster than the circuit, worst where one node feeds many
# (tests/bench/bench_graphviz.py measures it; a 20,000-gate chain drove dot to 24 GB).
GRAPHVIZ_LIMIT = 5000
GRAPHVIZ_SECONDS = 120.0  # dot is stopped after this: a layout past the limit can run for hours

_GRAD_COLOURS = {"green": "#15803d", "red": "#b91c1c", "dim": "#6b7280"}
_INPUT_FILL = "#dbeafe"
_OUTPUT_FILL = "#fde68a"
_KINK_FILL = "#fef08a"


def _html(text: str) -> str:
    """Text for inside an HTML label: control characters spelled out (Graphviz's XML parser
    rejects them), then &, < and > escaped."""
    return printable(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _quoted(text: str) -> str:
    """Text for inside a quoted DOT string, where backslash escapes (\\N, \\G) are live."""
    return printable(text).replace("\\", "\\\\").replace('"', '\\"')


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


def layout_size(circuit: Circuit) -> int:
    """About how many points dot must place: the nodes, plus one virtual node for every
    rank an edge crosses (dot breaks a long edge into a chain of them), plus the edges
    (whose crossings dot minimises).

    Ranks as dot's left-to-right layout gives them: a gate one past its deepest argument,
    a leaf (input or constant) just before its first use. A chain of n gates costs n; a
    weight shared by n gates in a row costs about n*n/2, which is what exhausts dot.
    """
    args = circuit.args
    rank = [0] * len(args)
    for i, a in enumerate(args):
        if a:
            rank[i] = max(rank[j] for j in a) + 1
    first_use: dict[int, int] = {}
    for i, a in enumerate(args):
        for j in a:
            if not args[j]:
                first_use[j] = min(first_use.get(j, rank[i]), rank[i])
    for j, r in first_use.items():
        rank[j] = r - 1
    # and every edge: 140 max gates over the same 140 inputs are only 281 nodes, but
    # 19,740 edges whose crossings dot minimises for minutes
    edges = sum(len(a) for a in args)
    return len(args) + edges + sum(rank[i] - rank[j] - 1 for i, a in enumerate(args)
                                   for j in a)


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
    try:
        done = subprocess.run(command, input=source.encode("utf-8"),
                              capture_output=True, check=False, timeout=GRAPHVIZ_SECONDS)
    except subprocess.TimeoutExpired:
        raise CircuitError(f"Graphviz's dot took over {GRAPHVIZ_SECONDS:g} s and was "
                           "stopped; --format tree or --format dot draw a circuit of any "
                           "size") from None
    if done.returncode != 0:
        raise CircuitError(f"Graphviz's dot could not draw the circuit: "
                           f"{_failure(done.returncode, done.stderr)}")
    _warn(done.stderr)
    return done.stdout


def _warn(stderr: bytes) -> None:
    """dot's warnings, such as the one that it scaled a 3,000-gate chain down to a 32767 x 1
    picture, as notes on stderr: dropped, the user gets an unreadable file and no word."""
    for line in stderr.decode("utf-8", "replace").splitlines():
        if line.strip():
            sys.stderr.write(f"note: Graphviz: {printable(line.strip())}\n")


def _failure(returncode: int, stderr: bytes) -> str:
    """Why dot failed, in one line: its error line, else its last words, else its exit."""
    lines = [printable(line.strip()) for line in stderr.decode("utf-8", "replace").splitlines()
             if line.strip()]
    errors = [line for line in lines if line.lower().startswith("error")]
    if errors:
        return errors[0]
    if lines:
        return lines[-1]
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = f"signal {-returncode}"
        hint = " (out of memory?)" if -returncode == signal.SIGKILL else ""
        return f"killed by {name}{hint}"
    return f"exit status {returncode}, nothing on stderr"
