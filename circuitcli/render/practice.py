"""The learner's answers as a table and a JSON document: right or wrong, and why.

A wrong answer shows every mistake that gives its number (methods/practice.py); when
none does, the hint is `explain`'s own lines for that node: each use's local × pull and
their sum (render/explain.py), the way to rebuild the gradient by hand.
"""

from __future__ import annotations

from typing import Any

from rich.console import Group, RenderableType
from rich.text import Text

from ..core.syntax import CircuitError
from ..methods.explain import Explanation
from ..methods.grader import Graded
from ..methods.practice import Verdict
from ..methods.quiz import Answer, Exercise
from .explain import forward_line, sum_line, use_line
from .fit import Column, Fitted
from .json import finite
from .table import fmt

__all__ = ["answer_diagnosis", "answer_document", "answer_hint", "answer_lines", "diagnosis_text",
           "exercise_lines", "expect_document", "expect_table", "graded_document",
           "graded_report", "hint_lines"]


def hint_lines(ex: Explanation, node: int, digits: int = 6) -> list[str]:
    """How node's gradient is made, as `circuit explain` tells it."""
    result = ex.result
    c = result.circuit
    labels = c.labels()
    name = labels[node]
    if node == c.output:
        return [f"{name} is the output: its gradient is the pull from above, "
                f"{fmt(result.pull, digits)}"]
    uses = ex.uses[node]
    if not uses:
        return [f"nothing pulls on {name}: its gradient is 0"]
    lines = [use_line(labels[u.by], c.formula(u.by), name, fmt(u.local, digits),
                      fmt(u.pull, digits), fmt(u.contribution, digits)) for u in uses]
    lines.append(sum_line(name, [fmt(u.contribution, digits) for u in uses],
                          fmt(ex.total(node), digits)))
    return lines


def diagnosis_text(ex: Explanation, verdict: Verdict, digits: int = 6) -> str | None:
    """One paragraph: what explains a wrong answer (None for a right one)."""
    if verdict.right:
        return None
    answer, truth = fmt(verdict.answer, digits), fmt(verdict.truth, digits)
    head = f"{verdict.name} = {answer} is wrong: the gradient of {verdict.label} is {truth}."
    if not verdict.mistakes:
        hint = "; ".join(hint_lines(ex, verdict.node, digits))
        return f"{head} No common mistake gives {answer}. How it is made: {hint}"
    if len(verdict.mistakes) == 1:
        return f"{head} Likely {verdict.mistakes[0].text}."
    told = " ".join(f"({k}) {m.text}." for k, m in enumerate(verdict.mistakes, 1))
    return f"{head} {len(verdict.mistakes)} mistakes give {answer}: {told}"


def expect_table(ex: Explanation, verdicts: list[Verdict], title: str,
                 digits: int = 6) -> RenderableType:
    """A row per answer (right or wrong), then each wrong one's diagnosis."""
    # the width policy of every table (render/fit.py): numbers are never cut
    columns = [Column("node", "left"), Column("your answer"), Column("gradient"),
               Column("verdict", "left")]
    rows = [[Text(v.name), Text(fmt(v.answer, digits)), Text(fmt(v.truth, digits)),
             Text("right", style="green") if v.right else Text("wrong", style="bold red")]
            for v in verdicts]
    parts: list[RenderableType] = [Text(title, style="italic"), Fitted(columns, rows)]
    for v in verdicts:
        if v.right:
            continue
        parts.append(Text(""))
        head = Text()
        head.append(f"{v.name} = {fmt(v.answer, digits)}", style="bold")
        head.append(f": the gradient of {v.label} is {fmt(v.truth, digits)}")
        parts.append(head)
        if not v.mistakes:
            parts.append(Text(f"  no common mistake gives {fmt(v.answer, digits)}; "
                              "how the gradient is made:", style="yellow"))
            parts.extend(Text("    " + line) for line in hint_lines(ex, v.node, digits))
            continue
        if len(v.mistakes) > 1:
            parts.append(Text(f"  {len(v.mistakes)} mistakes give this number:",
                              style="yellow"))
        for m in v.mistakes:
            parts.append(Text(f"  - {m.text}", style="yellow"))
    right = sum(v.right for v in verdicts)
    parts.append(Text(""))
    parts.append(Text(f"{right} of {len(verdicts)} right",
                      style="bold green" if right == len(verdicts) else "bold red"))
    return Group(*parts)


def expect_document(ex: Explanation, verdicts: list[Verdict], tol: float) -> dict[str, Any]:
    """`check --expect --json`: per answer the expected value, the truth, verdict, diagnosis."""
    return {
        "tol": tol,
        "ok": all(v.right for v in verdicts),
        "answers": [{
            "name": v.name,
            "node": v.label,
            "expected": finite(v.answer),
            "truth": finite(v.truth),
            "right": v.right,
            "diagnosis": diagnosis_text(ex, v, 17),
            "mistakes": [{"kind": m.kind, "value": finite(m.value), "text": m.text}
                         for m in v.mistakes],
            "hint": None if v.right or v.mistakes else hint_lines(ex, v.node, 17),
        } for v in verdicts],
    }


def _caret(graded: Graded, start: int, end: int) -> list[str]:
    """The file's line with a caret under [start, end), as errors show one."""
    where = CircuitError("", graded.text, start, end).located()
    if where is None:
        return []
    _, col, line = where
    width = max(1, min(end - start, len(line) - col + 1))
    return [f"  {line}", "  " + " " * (col - 1) + "^" * width]


def graded_report(graded: Graded, digits: int = 6) -> RenderableType:
    """Each line that ran with its number and verdict; the first wrong one explained."""
    columns = [Column("line"), Column("statement", "left", wrap=True, least=12),
               Column("gives"), Column("gradient"), Column("", "left")]
    rows: list[list[RenderableType]] = []
    for r in graded.lines:
        mark = Text("✓", style="green") if r.right else Text("✗", style="bold red")
        truth = "partial" if r.truth is None and r.target.startswith("d") else fmt(r.truth,
                                                                                 digits)
        rows.append([Text(str(r.number)), Text(r.text), Text(fmt(r.value, digits)),
                     Text(truth), mark])
    parts: list[RenderableType] = [Text(graded.source or "backward pass", style="italic"),
                                   Fitted(columns, rows)]
    w = graded.wrong
    if w is not None:
        parts.append(Text(""))
        place = f"{graded.source}:" if graded.source else ""
        head = Text(f"{place}{w.number}: ", style="bold")
        head.append(w.message, style="bold red")
        parts.append(head)
        parts.extend(Text(line, style="red" if "^" in line else "") for line in
                     _caret(graded, w.start, w.end))
        if w.mistakes:
            if len(w.mistakes) > 1:
                parts.append(Text(f"  {len(w.mistakes)} mistakes give this number:",
                                  style="yellow"))
            parts.extend(Text(f"  - {m.text}", style="yellow") for m in w.mistakes)
        elif w.hint is not None:
            parts.append(Text("  no common mistake gives this number; how the gradient is "
                              "made:", style="yellow"))
            node = graded.explanation.result.circuit.labels().index(w.hint)
            parts.extend(Text("    " + line) for line in
                         hint_lines(graded.explanation, node, digits))
        if w.expected is not None:
            parts.append(Text(f"  expected: {fmt(w.expected, digits)}", style="bold"))
    else:
        parts.append(Text(""))
        parts.append(Text(f"all {len(graded.lines)} lines right", style="bold green"))
    if graded.missing:
        parts.append(Text("no line gives the gradient of " + ", ".join(graded.missing),
                          style="yellow"))
    return Group(*parts)


def graded_document(graded: Graded) -> dict[str, Any]:
    """`check --backward --json`: the lines, the first wrong one, the gradients not given."""
    w = graded.wrong
    wrong = None
    if w is not None:
        where = CircuitError("", graded.text, w.start, w.end).located()
        wrong = {
            "line": w.number,
            "column": where[1] if where else None,
            "message": w.message,
            "expected": finite(w.expected),
            "diagnosis": [m.text for m in w.mistakes] or None,
            "mistakes": [{"kind": m.kind, "value": finite(m.value), "text": m.text}
                         for m in w.mistakes],
        }
    return {
        "file": graded.source,
        "ok": graded.ok,
        "lines": [{"line": r.number, "statement": r.text,
                   "name": r.target, "value": finite(r.value), "truth": finite(r.truth),
                   "right": r.right} for r in graded.lines],
        "wrong": wrong,
        "missing": graded.missing,
    }


# ---- the quiz ---------------------------------------------------------------------------

def exercise_lines(ex: Exercise, number: int | None = None) -> list[str]:
    """An exercise as the learner reads it: the circuit, the inputs, the question."""
    head = f"exercise {number}, level {ex.level}" if number is not None else \
        f"level {ex.level}, seed {ex.seed}"
    lines = [head]
    lines += [f"  {line}" for line in ex.text.splitlines()]
    lines.append("  at " + ", ".join(f"{k} = {fmt(v, 17)}" for k, v in ex.values.items()))
    lines.append(ex.question())
    return lines


def answer_hint(ans: Answer, digits: int) -> list[str]:
    """explain's story for the node asked about: its forward line for a value, its uses
    for a slope or a gradient."""
    ex = ans.explanation
    if ex is None:
        return []
    c = ex.result.circuit
    i = ans.node
    if ans.exercise.kind == "value":
        labels = c.labels()
        gate = c.gates[i]
        call = "({" in gate.display
        worked = gate.describe([_bracketed(ex.result.values[j], digits, call)
                                for j in c.args[i]])
        return [forward_line(labels[i], c.formula(i), worked, fmt(ex.result.values[i],
                                                                     digits))]
    lines = hint_lines(ex, i, digits)
    if ans.exercise.kind == "local":
        by = ans.exercise.of
        lines = [line for line in lines if line.startswith(f"{by} = ")] or lines
    return lines


def _bracketed(value: float, digits: int, call: bool) -> str:
    """A negative argument in brackets, 3 * (-4), except inside a call's own: relu(-2)."""
    text = fmt(value, digits)
    return f"({text})" if text.startswith("-") and not call else text


def answer_diagnosis(ans: Answer, digits: int = 6) -> str | None:
    """The quiz's one-paragraph diagnosis of a wrong answer (None when right)."""
    if ans.right:
        return None
    shown = fmt(ans.answer, digits)
    if not ans.mistakes:
        return f"No common mistake gives {shown}. " + "; ".join(answer_hint(ans, digits))
    if len(ans.mistakes) == 1:
        return f"Likely {ans.mistakes[0].text}."
    return f"{len(ans.mistakes)} mistakes give {shown}: " + " ".join(
        f"({k}) {m.text}." for k, m in enumerate(ans.mistakes, 1))


def answer_lines(ans: Answer, digits: int = 6) -> list[tuple[str, str]]:
    """(text, style) lines: the verdict, then for a wrong answer the mistakes, the truth and
    explain's story for that node."""
    if ans.right:
        return [(f"right: {fmt(ans.truth, digits)}", "bold green")]
    out = [(f"wrong: {fmt(ans.answer, digits)} is not {fmt(ans.truth, digits)}", "bold red")]
    if ans.mistakes:
        if len(ans.mistakes) > 1:
            out.append((f"  {len(ans.mistakes)} mistakes give this number:", "yellow"))
        out += [(f"  - {m.text}", "yellow") for m in ans.mistakes]
    else:
        out.append((f"  no common mistake gives {fmt(ans.answer, digits)}", "yellow"))
    out.append(("  how it is made:", ""))
    out += [(f"    {line}", "") for line in answer_hint(ans, digits)]
    return out


def answer_document(ans: Answer) -> dict[str, Any]:
    """The stateless `quiz --answer V --json` document, exactly as the contract says."""
    return {"right": ans.right, "truth": finite(ans.truth),
            "diagnosis": answer_diagnosis(ans, 17)}
