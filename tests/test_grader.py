"""`circuit check CIRCUIT --backward FILE`: a learner's backward pass graded line by line.

Each notebook exercise ships a learner-style file that passes; each gets a deliberately
wrong version here, written by hand, with the line that must be blamed and the kind of
mistake it makes. `circuit code`'s own program, renamed to the learner's style, passes too.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from circuitcli.core.parser import parse
from circuitcli.core.syntax import CircuitError
from circuitcli.methods.grader import grade

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"
EXERCISES = sorted(p.stem for p in SAMPLES.glob("ex*.circuit"))


def test_every_exercise_ships_a_backward_file():
    assert len(EXERCISES) == 12
    assert sorted(p.stem for p in SAMPLES.glob("ex*.backward")) == EXERCISES


@pytest.mark.parametrize("name", EXERCISES)
def test_the_shipped_backward_file_passes(run, name):
    r = run("check", f"{name}.circuit", "--backward", f"{name}.backward", "--json")
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert doc["ok"] and doc["wrong"] is None and doc["missing"] == []
    assert all(line["right"] for line in doc["lines"])


# (exercise, extra inputs, the wrong file, the line to blame, a kind the diagnosis names,
#  the expected value, worked by hand)
WRONG = [
    # x = a*b at 3, -2: da = b * dx = -2; a * dx = 3 is a's own value
    ("ex1_mul", [], "da = a * dx\ndb = a * dx\n", 1, "value-for-local", -2.0),
    # x = a + b: db = 1.0 * dx = 1; -1 flips the sign
    ("ex2_add", [], "da = 1.0 * dx\ndb = -1.0 * dx\n", 2, "sign", 1.0),
    # q = a + b, x = q + c: dq = 1.0 * dx = 1; x = q + c read as q - c flips it to -1
    ("ex3_add3", [], "dc = 1.0 * dx\ndq = -1.0 * dx\nda = 1.0 * dq\ndb = 1.0 * dq\n", 2,
     "sign", 1.0),
    # x = a*b + c at 3, -2, 5: dmul = dx; da = b * dx = -2; a * dx = 3 is the gradient of b
    ("ex4_mul_add", [], "dc = 1.0 * dx\nda = a * dx\ndb = a * dx\n", 2, "wrong-node", -2.0),
    # neuron: f = sigmoid(2) = 0.8807970779778823; f * df takes s for the slope s(1-s)
    ("ex5_neuron", [], "df = 1\ndq = f * df\nda = x * dq\n", 2, "sigmoid-s",
     0.8807970779778823 * (1 - 0.8807970779778823)),
    # x = a*a at 3: a * dx = 3 is one of the two uses; the gradient is 6
    ("ex6_square", [], "da = a * dx\n", 1, "fan-out", 6.0),
    # x = a*a + b*b + c*c at 3, -2, 5: db = 2b = -4; 2a = 6 is the gradient of a
    ("ex7_sum_squares", [], "da = 2*a*dx\ndb = 2*a*dx\ndc = 2*c*dx\n", 2, "wrong-node", -4.0),
    # x1 = 3*-2 + 5 = -1, x2 = -0.5, x = x2*x2: dx2 = 2*x2 = -1; x2 * dx = -0.5 is one use
    ("ex8_square_chain", [], "dx2 = x2 * dx\ndd = x1 * dx2\n", 1, "fan-out", -1.0),
    # x = 1/a at 4: da = -1/16; 1/(a*a) * dx = +1/16
    ("ex8_reciprocal", [], "da = 1.0/(a*a) * dx\n", 1, "sign", -1 / 16),
    # division 2 at b = 2: x1 = 5, x2 = 5.5, dx3 = 5; the notebook's slip drops dx3:
    # dx2 = -1/30.25 (truth -5/30.25)
    ("ex8_division", ["b=2"], "dx1 = x3 * dx\ndx3 = x1 * dx\ndx2 = (-(1.0)/(x2 * x2))\n", 3,
     "division", -5 / 30.25),
    # max(3, -2): b lost, db = 0; the pull routed to it gives 1
    ("ex8_max", [], "da = 1.0 * dx\ndb = 1.0 * dx\n", 2, "routing", 0.0),
    # max(a, 0) at a = 1.5: a wins, da = 1; routing the pull to the 0 gives 0
    ("ex8_relu", [], "da = 0.0 * dx\n", 1, "routing", 1.0),
]


@pytest.mark.parametrize("name, extra, text, line, kind, expected", WRONG,
                         ids=[w[0] for w in WRONG])
def test_a_wrong_backward_pass_blames_the_right_line(run, tmp_path, name, extra, text, line,
                                                     kind, expected):
    path = tmp_path / f"{name}.backward"
    path.write_text(text)
    r = run("check", f"{name}.circuit", *extra, "--backward", str(path), "--json")
    assert r.exit_code == 1, r.output
    wrong = json.loads(r.stdout)["wrong"]
    assert wrong["line"] == line
    assert kind in [m["kind"] for m in wrong["mistakes"]], wrong
    assert wrong["expected"] == pytest.approx(expected)
    # the table form: a caret under the blamed line's expression, and the expected value
    r = run("check", f"{name}.circuit", *extra, "--backward", str(path))
    blamed = text.splitlines()[line - 1]
    shown = r.stdout.splitlines()
    at = shown.index(f"  {blamed}")
    assert shown[at + 1].strip().startswith("^")
    assert "expected:" in r.stdout


def test_the_notebooks_ex4_reads_a_gradient_no_line_has_given(run, tmp_path):
    # the notebook's own Ex-4: da = db * dx comes before any line gives db
    path = tmp_path / "ex4.backward"
    path.write_text("da = db * dx\ndb = da * dx\ndc = 1.0 * dx\n")
    r = run("check", "ex4_mul_add.circuit", "--backward", str(path))
    assert r.exit_code == 1
    assert "db is read before any line gives it a value" in r.stdout
    assert "line 2 gives it one" in r.stdout
    assert "expected: -2" in r.stdout  # da = b * dx
    assert "  da = db * dx\n       ^^\n" in r.stdout


def test_reading_a_gradient_before_it_is_fully_accumulated(run, tmp_path):
    # r = q * q with q = x + y: dq collects two uses; dx = dq read between them is early
    path = tmp_path / "early.backward"
    path.write_text("dq = q * dr\ndx = 1.0 * dq\ndq += q * dr\ndy = 1.0 * dq\n")
    r = run("check", "q = x + y; r = q * q", "x=1", "y=2", "--backward", str(path))
    assert r.exit_code == 1
    assert "dq is read here before it is complete: line 3 still adds to it" in r.stdout
    assert "  dx = 1.0 * dq\n             ^^\n" in r.stdout
    # in the right order it passes: dq = 2q = 6 after line 2
    path.write_text("dq = q * dr\ndq += q * dr\ndx = 1.0 * dq\ndy = 1.0 * dq\n")
    r = run("check", "q = x + y; r = q * q", "x=1", "y=2", "--backward", str(path), "--json")
    assert r.exit_code == 0, r.output
    assert [ln["value"] for ln in json.loads(r.stdout)["lines"]] == [3.0, 6.0, 6.0, 6.0]


def test_overwriting_instead_of_accumulating_is_named(run, tmp_path):
    # x = a*a at 3: `=` twice keeps only the last use, 3 (truth 6)
    path = tmp_path / "over.backward"
    path.write_text("da = a * dx\nda = a * dx\n")
    r = run("check", "ex6_square.circuit", "--backward", str(path))
    assert r.exit_code == 1
    assert "replaces what line 1 gave da" in r.stdout


def test_a_partial_sum_that_is_no_sum_of_uses_is_wrong():
    # x = a*a at 3: each use passes back 3; 4 is neither 3 nor 6
    c = parse("x = a * a")
    graded = grade(c, {"a": 3.0}, "da = 4 * dx\nda += a * dx\n")
    assert graded.wrong is not None and graded.wrong.number == 1


def test_helpers_and_forward_lines_are_allowed():
    c = parse((SAMPLES / "ex5_neuron.circuit").read_text())
    text = "f = sigmoid(q)\nslope = f * (1 - f)\ndq = slope * df\ndx = a * dq\n"
    graded = grade(c, c.values_for(), text)
    assert graded.ok, graded.wrong
    assert graded.missing == ["a", "b", "c", "y"]


def test_syntax_errors_point_into_the_file(run, tmp_path):
    path = tmp_path / "bad.backward"
    path.write_text("da = b * dx\ndb = a * * dx\n")
    r = run("check", "ex1_mul.circuit", "--backward", str(path))
    assert r.exit_code == 2 and "Traceback" not in r.output
    assert ":2:" in r.stderr and "db = a * * dx" in r.stderr
    path.write_text("da = 1.0 * dx if a == x else 0.0\n")
    r = run("check", "ex8_max.circuit", "--backward", str(path))
    assert r.exit_code == 2 and ":1:" in r.stderr
    path.write_text("dz = b * dx\n")
    r = run("check", "ex1_mul.circuit", "--backward", str(path))
    assert r.exit_code == 2 and "no node 'z'" in r.stderr
    path.write_text("da = w * dx\n")
    r = run("check", "ex1_mul.circuit", "--backward", str(path))
    assert r.exit_code == 2 and "w: not a node" in r.stderr
    r = run("check", "ex1_mul.circuit", "--backward", str(tmp_path / "none.backward"))
    assert r.exit_code == 2 and "Traceback" not in r.output


def test_expect_and_backward_together_are_a_usage_error(run):
    r = run("check", "ex1_mul.circuit", "--backward", "ex1_mul.backward", "--expect", "a=-2")
    assert r.exit_code == 2 and "give one" in r.stderr


def test_nothing_is_evaluated_as_python(tmp_path):
    c = parse("x = a * b")
    with pytest.raises(CircuitError):
        grade(c, {"a": 1.0, "b": 2.0}, "da = __import__('os').getcwd()\n")


# ---- circuit code's program, renamed to the learner's style, passes ------------------------

def learner_style(code: str, values: dict[str, float]) -> str:
    """`circuit code` output as a learner writes it: no comments, and no Python `if`
    (each branch chosen at these values, as the learner would at the blackboard)."""
    out = []
    lines = code.splitlines()
    # the helpers' Python (import math, def sigmoid ...) comes before the forward pass
    for line in lines[lines.index("# forward pass"):]:
        text, _, comment = line.partition("#")
        text = text.strip()
        if not text:
            continue
        # the program's Python names: maximum(a, b) is max(a, b) in the expression language
        text = re.sub(r"\b(maximum|minimum)\(", lambda m: m[1][:3] + "(", text)
        # a zero pull passes back 0: `0.0 if dx == 0 else RULE` (the samples' pulls are not 0)
        # `dx += 0.0; dy += 0.0` at the end (-0.0 reads 0.0, as in grad): a learner writes none
        if re.fullmatch(r"\w+ \+= 0\.0(; \w+ \+= 0\.0)*", text):
            continue
        text = re.sub(r"^(\w+ \+?= )0\.0 if \w+ == 0 else ", r"\1", text)
        # the zero rule: `y * g if y != 0 else 0.0` (the samples have no zero factors)
        text = re.sub(r" if (\w+) != 0 else 0\.0$", "", text)
        # max: `dx / ties(x, a, b) if a == x else nan if x != x else 0.0`
        m = re.fullmatch(r"(\w+ \+?= )(\w+) / ties\([^)]*\) if (\w+) == (\w+) else .*", text)
        if m:
            text = m[1] + (m[2] if values[m[3]] == values[m[4]] else "0.0")
        # sigmoid: `dq = dsigmoid(q, df)` with `# sigmoid: f = sigmoid(q)`
        m = re.fullmatch(r"(\w+ \+?= )dsigmoid\((\w+), (\w+)\)", text)
        if m:
            s = re.search(r"sigmoid: (\w+) =", comment)[1]
            text = f"{m[1]}{s} * (1 - {s}) * {m[3]}"
        out.append(text)
    return "\n".join(out) + "\n"


@pytest.mark.parametrize("name", EXERCISES)
def test_circuit_code_renamed_passes_the_grader(run, tmp_path, name):
    doc = json.loads(run("grad", f"{name}.circuit", "--json").stdout)
    values = {node["name"]: node["value"] for node in doc["nodes"]}
    code = run("code", f"{name}.circuit").stdout
    path = tmp_path / "code.backward"
    path.write_text(learner_style(code, values))
    r = run("check", f"{name}.circuit", "--backward", str(path), "--json")
    assert r.exit_code == 0, (path.read_text(), r.output)
    assert json.loads(r.stdout)["missing"] == []


# ---- any text at all: a grading or a one-line error, never a traceback -----------------------

_PIECES = st.sampled_from(["da", "db", "dx", "a", "b", "x", "dq", "=", "+=", "*", "/", "-",
                           "(", ")", "1.0", "0", " ", "\n", ";", "#", "max(", ",", "d", "1e400",
                           "sigmoid(", "**", "\t", "é", "\x00", "dout"])


@settings(max_examples=300, deadline=None)
@given(st.lists(_PIECES, max_size=30).map("".join))
def test_any_backward_text_grades_or_says_what_is_wrong(text):
    c = parse("x = a * b")
    try:
        graded = grade(c, {"a": 3.0, "b": -2.0}, text)
    except CircuitError as err:
        assert err.render().startswith("error: ")
        return
    assert isinstance(graded.ok, bool)


# ---- the issue's own example: `dout` is the pull from above ----------------------------------

ISSUE_PASS = "dq = z * dout\ndx = 1.0 * dq\ndy = 1.0 * dq\ndz = q * dout\n"


@pytest.mark.parametrize("pull", ["dout", "df"])
def test_the_issues_example_with_dout_or_the_outputs_d_name(run, tmp_path, pull):
    # q = x + y = 3, f = q * z at -2, 5, -4: dq = z = -4, dx = dy = dq = -4, dz = q = 3
    path = tmp_path / "mine.backward"
    path.write_text(ISSUE_PASS.replace("dout", pull))
    r = run("check", "q = x + y; f = q * z", "x=-2", "y=5", "z=-4", "--backward", str(path),
            "--json")
    assert r.exit_code == 0, r.output
    assert [ln["value"] for ln in json.loads(r.stdout)["lines"]] == [-4.0, -4.0, -4.0, 3.0]
    # dz = z * dout: z's own value (-4) for its local derivative q (3)
    path.write_text(ISSUE_PASS.replace("dz = q", "dz = z").replace("dout", pull))
    r = run("check", "q = x + y; f = q * z", "x=-2", "y=5", "z=-4", "--backward", str(path),
            "--json")
    assert r.exit_code == 1
    wrong = json.loads(r.stdout)["wrong"]
    assert wrong["line"] == 4 and wrong["expected"] == 3.0
    assert wrong["mistakes"], wrong
