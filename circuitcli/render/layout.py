"""Where each node of the live page sits: Graphviz's layout when `dot` is installed, ours else.

Both give the same shape of answer, in pixels, left to right (inputs on the left, the
output on the right): a box per node (centre and size) and a path per edge (one per
use, so `a*a` has two). Ours is a small layered layout: a node's column is one more
than its deepest argument's, rows are ordered by their arguments' mean row (a few
sweeps), and edges are cubic curves from the right side of a box to the left of the next.
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
from typing import Any

from ..core.circuit import Circuit
from .dot import layout_size

__all__ = ["NODE_H", "NODE_W", "graphviz_layout", "layout", "own_layout"]

NODE_W, NODE_H = 176, 78  # a gate's box, in pixels
CONST_W, CONST_H = 48, 28  # a constant's small oval
GAP_X, GAP_Y = 84, 26
MARGIN = 20


def _size(c: Circuit, i: int) -> tuple[int, int]:
    return (CONST_W, CONST_H) if not c.args[i] and not c.live[i] else (NODE_W, NODE_H)


# dot lays out a page's circuit only up to this size (render.dot.layout_size: nodes, the
# ranks long edges cross, edges), and for at most GRAPHVIZ_SECONDS; past either, our own
# layout, which is linear and takes a second for 10,000 gates
PAGE_GRAPHVIZ_LIMIT = 2000
GRAPHVIZ_SECONDS = 10.0


def layout(circuit: Circuit) -> dict[str, Any]:
    """Graphviz's layout if `dot` is installed, the circuit is small enough for it, and it
    works in time; else our own. Every edge carries the point its label sits at."""
    found = None
    if shutil.which("dot") is not None and layout_size(circuit) <= PAGE_GRAPHVIZ_LIMIT:
        with contextlib.suppress(OSError, ValueError, subprocess.SubprocessError):
            found = graphviz_layout(circuit, GRAPHVIZ_SECONDS)
    if found is None:
        found = own_layout(circuit)
    _label_points(found["edges"])
    return found


def _label_points(edges: list[dict[str, Any]]) -> None:
    """Where each edge's gradient label sits: half way along the curve (0.7 of the way for
    the second of two edges between the same nodes, so a*a's labels do not overlap).

    Computed here, once, from the path's Bezier points, and not by the page asking the
    browser for each path's length: that took Chromium minutes on 10,000 edges.
    """
    seen: dict[tuple[int, int], int] = {}
    for e in edges:
        key = (e["from"], e["to"])
        nth = seen[key] = seen.get(key, 0) + 1
        numbers = [float(v) for v in e["path"].replace("M", " ").replace("C", " ")
                   .replace(",", " ").split()]
        points = list(zip(numbers[0::2], numbers[1::2]))
        segments = max(1, (len(points) - 1) // 3)
        at = (0.5 if nth % 2 else 0.7) * segments
        k = min(int(at), segments - 1)
        t = at - k
        p0, p1, p2, p3 = (points[min(3 * k + m, len(points) - 1)] for m in range(4))
        u = 1 - t
        x, y = (u**3 * p0[d] + 3 * u * u * t * p1[d] + 3 * u * t * t * p2[d] + t**3 * p3[d]
                for d in (0, 1))
        e["label"] = [round(x, 1), round(y, 1)]


def own_layout(circuit: Circuit) -> dict[str, Any]:
    """Columns by depth, leaves next to their first user, rows by the mean row of the
    arguments."""
    c = circuit
    n = len(c)
    column = [0] * n
    for i, a in enumerate(c.args):
        if a:
            column[i] = 1 + max(column[j] for j in a)
    # an input or constant sits just left of its nearest user, not far away in column 0
    nearest: dict[int, int] = {}
    for i, a in enumerate(c.args):
        for j in a:
            if not c.args[j]:
                nearest[j] = min(nearest.get(j, column[i]), column[i])
    for j, col in nearest.items():
        column[j] = col - 1
    columns: list[list[int]] = [[] for _ in range(max(column, default=0) + 1)]
    for i in range(n):
        columns[column[i]].append(i)
    row = [0.0] * n
    for col in columns:
        for r, i in enumerate(col):
            row[i] = r
    users: list[list[int]] = [[] for _ in range(n)]
    for i, a in enumerate(c.args):
        for j in a:
            users[j].append(i)
    for _ in range(4):  # sweep right by arguments, then left by users
        for col in columns[1:]:
            col.sort(key=lambda i: sum(row[j] for j in c.args[i]) / len(c.args[i])
                     if c.args[i] else row[i])
            for r, i in enumerate(col):
                row[i] = r
        for col in reversed(columns[:-1]):
            col.sort(key=lambda i: sum(row[k] for k in users[i]) / len(users[i])
                     if users[i] else row[i])
            for r, i in enumerate(col):
                row[i] = r
    tallest = max((sum(_size(c, i)[1] + GAP_Y for i in col) for col in columns), default=0)
    boxes: dict[int, dict[str, float]] = {}
    for k, col in enumerate(columns):
        height = sum(_size(c, i)[1] + GAP_Y for i in col)
        y = MARGIN + (tallest - height) / 2
        for i in col:
            w, h = _size(c, i)
            boxes[i] = {"x": MARGIN + k * (NODE_W + GAP_X) + NODE_W / 2, "y": y + h / 2,
                        "w": w, "h": h}
            y += h + GAP_Y
    edges = []
    for i, a in enumerate(c.args):
        for slot, j in enumerate(a):
            s, t = boxes[j], boxes[i]
            x0, y0 = s["x"] + s["w"] / 2, s["y"]
            x1 = t["x"] - t["w"] / 2
            y1 = t["y"] + (slot - (len(a) - 1) / 2) * min(14, t["h"] / (len(a) + 1))
            bend = max(30.0, (x1 - x0) / 2)
            edges.append({"from": j, "to": i, "slot": slot,
                          "path": f"M{x0:.1f},{y0:.1f} C{x0 + bend:.1f},{y0:.1f} "
                                  f"{x1 - bend:.1f},{y1:.1f} {x1:.1f},{y1:.1f}"})
    width = MARGIN * 2 + len(columns) * (NODE_W + GAP_X) - GAP_X
    return {"engine": "circuitcli", "width": width, "height": tallest + 2 * MARGIN,
            "nodes": {str(i): b for i, b in boxes.items()}, "edges": edges}


def graphviz_layout(circuit: Circuit, timeout: float = 60.0) -> dict[str, Any]:
    """Positions from `dot -Tplain` over boxes of the page's sizes (inches = px / 72)."""
    c = circuit
    lines = ["digraph circuit {", "  rankdir=LR; nodesep=0.35; ranksep=1.1;",
             '  node [shape=box, fixedsize=true, label=""];']
    for i in range(len(c)):
        w, h = _size(c, i)
        lines.append(f"  n{i} [width={w / 72:.4f}, height={h / 72:.4f}];")
    for i, a in enumerate(c.args):
        for j in a:
            lines.append(f"  n{j} -> n{i};")
    lines.append("}")
    exe = shutil.which("dot")
    if exe is None:
        raise OSError("Graphviz's dot is not installed")
    done = subprocess.run([exe, "-Tplain"], input="\n".join(lines).encode(), capture_output=True,
                          timeout=timeout, check=False)
    if done.returncode != 0:
        raise ValueError(done.stderr.decode("utf-8", "replace"))
    return _parse_plain(c, done.stdout.decode("utf-8"))


def _parse_plain(c: Circuit, text: str) -> dict[str, Any]:
    scale, width, height = 1.0, 0.0, 0.0
    boxes: dict[str, dict[str, float]] = {}
    edges = []
    seen: dict[tuple[int, int], int] = {}

    def px(x: str) -> float:
        return float(x) * 72 * scale + MARGIN

    def py(y: str) -> float:
        return (height - float(y)) * 72 * scale + MARGIN

    for line in text.splitlines():
        parts = line.split()
        if not parts:
            continue
        if parts[0] == "graph":
            scale, width, height = float(parts[1]), float(parts[2]), float(parts[3])
        elif parts[0] == "node":
            i = int(parts[1][1:])
            w, h = _size(c, i)
            boxes[str(i)] = {"x": px(parts[2]), "y": py(parts[3]), "w": w, "h": h}
        elif parts[0] == "edge":
            j, i, count = int(parts[1][1:]), int(parts[2][1:]), int(parts[3])
            pts = [(px(parts[4 + 2 * k]), py(parts[5 + 2 * k])) for k in range(count)]
            # several uses of one node by one gate (a*a): their slots in order
            slots = [s for s, a in enumerate(c.args[i]) if a == j]
            nth = seen.get((j, i), 0)
            seen[(j, i)] = nth + 1
            path = f"M{pts[0][0]:.1f},{pts[0][1]:.1f} C" + " ".join(
                f"{x:.1f},{y:.1f}" for x, y in pts[1:])
            edges.append({"from": j, "to": i, "slot": slots[min(nth, len(slots) - 1)],
                          "path": path})
    return {"engine": "graphviz", "width": width * 72 * scale + 2 * MARGIN,
            "height": height * 72 * scale + 2 * MARGIN, "nodes": boxes, "edges": edges}
