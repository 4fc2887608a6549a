"""`circuit quiz`: exercises by level and seed, the stateless JSON contract, the piped
transcript, the progress file, and the quiz on a real pseudo-terminal (pexpect).

Right answers are worked out here from the exercise's own numbers by hand formulas
(f = x * y: value x*y, df/dx = y, df/dy = x), not taken from the tool.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest
from conftest import entry_point

from circuitcli.core.parser import parse
from circuitcli.methods.quiz import exercise, grade_answer


def mul_truth(doc: dict) -> float:
    """The right answer to a level-1 exercise (f = x * y), by hand."""
    x, y = doc["values"]["x"], doc["values"]["y"]
    ask = doc["ask"]
    if ask["kind"] == "value":
        return x * y
    return y if ask["node"] == "x" else x  # df/dx = y, df/dy = x (local = gradient here)


# ---- the exercises ------------------------------------------------------------------------

def test_levels_follow_the_notebook_then_grow():
    assert exercise(1, 0).text == "f = x * y"
    assert exercise(2, 0).text == "q = x + y\nf = q * z"
    assert "sigmoid" in exercise(3, 0).text
    ninja = {exercise(4, s).text for s in range(60)}
    assert any("max(" in t for t in ninja) and any("relu(" in t for t in ninja)
    assert any("/" in t for t in ninja) and "x = a * a" in ninja
    for level in range(5, 13):
        for seed in range(10):
            c = parse(exercise(level, seed).text)
            statements = exercise(level, seed).text.count("\n") + 1
            assert statements == level - 3
            assert all(c.used()[i] for i in range(len(c)) if c.names[i])  # nothing dead


def test_fan_out_grows_with_the_level():
    def extra_uses(level: int) -> float:  # uses beyond the first, per circuit, on average
        total = 0
        for seed in range(40):
            c = parse(exercise(level, seed).text)
            uses = [0] * len(c)
            for a in c.args:
                for j in a:
                    uses[j] += 1
            total += sum(u - 1 for u in uses if u > 1)
        return total / 40

    assert extra_uses(5) < extra_uses(9) < extra_uses(12) < extra_uses(15)


def test_same_seed_same_exercise_in_another_process():
    code = ("import json; from circuitcli.methods.quiz import exercise; "
            "print(json.dumps([exercise(l, s).document() for l in (1, 4, 9) for s in (0, 5)]))")
    runs = [subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           env={**os.environ, "PYTHONHASHSEED": seed}, check=True).stdout
            for seed in ("1", "2")]
    assert runs[0] == runs[1]
    assert json.loads(runs[0]) == [exercise(lv, s).document() for lv in (1, 4, 9) for s in (0, 5)]


@pytest.mark.parametrize("level", range(1, 11))
def test_gradient_truth_agrees_with_central_differences(level):
    for seed in range(6):
        ex = exercise(level, seed)
        c = parse(ex.text)
        if ex.kind != "gradient" or not c.is_input(c.named[ex.node]):
            continue
        truth = grade_answer(ex, 0.0).truth
        h = 1e-6
        up = dict(ex.values, **{ex.node: ex.values[ex.node] + h})
        down = dict(ex.values, **{ex.node: ex.values[ex.node] - h})
        numeric = (c.forward(**up).output - c.forward(**down).output) / (2 * h)
        assert truth == pytest.approx(numeric, rel=1e-5, abs=1e-7)


# ---- the stateless JSON form --------------------------------------------------------------

def test_json_exercise_has_exactly_the_contract_keys(run):
    r = run("quiz", "--seed", "7", "--level", "2", "--json")
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert set(doc) == {"circuit", "values", "ask"}
    assert set(doc["ask"]) == {"kind", "node", "of"}
    assert doc["ask"]["kind"] in ("value", "local", "gradient")
    assert all(isinstance(v, float) for v in doc["values"].values())
    c = parse(doc["circuit"])
    assert set(doc["values"]) == set(c.inputs) and doc["ask"]["node"] in c.named


@pytest.mark.parametrize("seed", range(8))
def test_json_answers_graded_against_hand_truth(run, seed):
    doc = json.loads(run("quiz", "--seed", str(seed), "--level", "1", "--json").stdout)
    truth = mul_truth(doc)
    r = run("quiz", "--seed", str(seed), "--level", "1", "--json", "--answer", repr(truth))
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout) == {"right": True, "truth": truth, "diagnosis": None}
    r = run("quiz", "--seed", str(seed), "--level", "1", "--json", "--answer",
            repr(-truth + 0.5))
    assert r.exit_code == 1
    graded = json.loads(r.stdout)
    assert set(graded) == {"right", "truth", "diagnosis"}
    assert graded["right"] is False and graded["truth"] == truth
    assert isinstance(graded["diagnosis"], str) and graded["diagnosis"]


def test_json_diagnoses_a_flipped_sign(run):
    for seed in range(40):
        doc = json.loads(run("quiz", "--seed", str(seed), "--level", "1", "--json").stdout)
        truth = mul_truth(doc)
        if doc["ask"]["kind"] == "gradient" and truth != 0:
            r = run("quiz", "--seed", str(seed), "--level", "1", "--json", "--answer",
                    repr(-truth))
            assert "sign is flipped" in json.loads(r.stdout)["diagnosis"]
            return
    pytest.fail("no gradient exercise in 40 seeds")


def test_json_is_stateless(run, tmp_path):
    run("quiz", "--seed", "1", "--level", "1", "--json", "--answer", "3")
    assert not (tmp_path / "state" / "circuitcli" / "quiz.json").exists()


def test_usage_errors(run):
    r = run("quiz", "--json")
    assert r.exit_code == 2 and "--seed" in r.stderr
    r = run("quiz", "--level", "0", "--seed", "1", "--json")
    assert r.exit_code == 2
    r = run("quiz", "--seed", "1", "--json", "--answer", "nan")
    assert r.exit_code == 2
    r = run("quiz", "--levle", "2")
    assert r.exit_code == 2 and "--level" in r.stderr
    assert "Traceback" not in r.output


# ---- piped: a transcript, and the progress kept ------------------------------------------

def piped_answers(level: int, seed: int, count: int) -> list[float]:
    answers = []
    for k in range(count):
        doc = exercise(level, seed + k).document()
        answers.append(mul_truth(doc))
    return answers


def test_piped_transcript_and_progress(run, tmp_path):
    answers = piped_answers(1, 10, 3)
    r = run("quiz", "--level", "1", "--seed", "10", input="".join(f"{a!r}\n" for a in answers))
    assert r.exit_code == 0, r.output
    assert r.stdout.count("right: ") == 3
    assert f"> {answers[0]!r}" in r.stdout  # the answers are echoed: a transcript
    assert "level 1 passed" in r.stdout and "3 of 3 right" in r.stdout
    saved = json.loads((tmp_path / "state" / "circuitcli" / "quiz.json").read_text())
    assert saved["passed"] == [1] and saved["answered"] == 3 and saved["right"] == 3
    # next time the quiz starts at level 2; --reset-progress forgets
    r = run("quiz", "--seed", "1", "--count", "1", input="skip\n")
    assert "level 2" in r.stdout
    r = run("quiz", "--reset-progress")
    assert r.exit_code == 0 and "forgotten" in r.stderr
    assert not (tmp_path / "state" / "circuitcli" / "quiz.json").exists()


def test_a_wrong_answer_breaks_the_streak(run, tmp_path):
    # right, right, wrong, right: three in a row were never reached, so level 1 is not
    # passed; the streak is 1 (the last answer), the best 2
    answers = piped_answers(1, 10, 4)
    answers[2] += 100
    r = run("quiz", "--level", "1", "--seed", "10", "--count", "4",
            input="".join(f"{a!r}\n" for a in answers))
    assert r.exit_code == 0, r.output
    assert "3 of 4 right" in r.stdout and "best streak 2" in r.stdout
    saved = json.loads((tmp_path / "state" / "circuitcli" / "quiz.json").read_text())
    assert saved == {"passed": [], "streak": 1, "best": 2, "answered": 4, "right": 3}


def test_piped_wrong_answer_is_diagnosed_and_explained(run):
    doc = exercise(1, 3).document()
    truth = mul_truth(doc)
    r = run("quiz", "--level", "1", "--seed", "3", "--count", "1", input=f"{-truth + 100!r}\n")
    assert "wrong: " in r.stdout and "how it is made:" in r.stdout
    assert "0 of 1 right" in r.stdout


def test_piped_hints_skips_and_bad_lines(run):
    r = run("quiz", "--level", "2", "--seed", "1", "--count", "2",
            input="?\nhello\nskip\nquit\n")
    assert r.exit_code == 0
    assert "'hello' is not a number" in r.stdout and "skipped: the answer is" in r.stdout


def test_a_damaged_progress_file_is_not_trusted(run, tmp_path):
    path = tmp_path / "state" / "circuitcli" / "quiz.json"
    path.parent.mkdir(parents=True)
    path.write_text("{not json")
    answers = piped_answers(1, 0, 1)
    r = run("quiz", "--level", "1", "--seed", "0", "--count", "1", input=f"{answers[0]!r}\n")
    assert r.exit_code == 0 and "starting afresh" in r.stderr
    assert json.loads(path.read_text())["right"] == 1


def test_repl_quiz(run):
    r = run("repl", input=":quiz 1\nskip\n:quiz x\n")
    assert "exercise 1, level 1" in r.stdout and "skipped: the answer is" in r.stdout
    assert ":quiz takes at most one argument" in r.output


# ---- on a pseudo-terminal --------------------------------------------------------------------

pexpect = pytest.importorskip("pexpect")


def _spawn(tmp_path, *args):
    env = {**os.environ, "TERM": "xterm", "XDG_STATE_HOME": str(tmp_path / "state"),
           "CIRCUIT_SESSION": "off", "NO_COLOR": "1", "PROMPT_TOOLKIT_NO_CPR": "1",
           "COLUMNS": "100", "LINES": "40"}
    return pexpect.spawn(entry_point(), ["quiz", *args], env=env, encoding="utf-8", timeout=30,
                         dimensions=(40, 100))


def _read_exercise(child) -> dict:
    child.expect(r"at x = (\S+), y = (\S+)\r?\n(What is the (\w+ ?\w*)[^\r\n]*)")
    x, y = float(child.match.group(1)), float(child.match.group(2).rstrip(","))
    question = child.match.group(3)
    if "value" in question:
        return {"values": {"x": x, "y": y}, "ask": {"kind": "value", "node": "f"}}
    node = re.search(r"df/d(\w)", question).group(1)
    return {"values": {"x": x, "y": y}, "ask": {"kind": "gradient", "node": node}}


def test_terminal_quiz_answers_and_ctrl_d(tmp_path):
    child = _spawn(tmp_path, "--level", "1", "--seed", "4")
    try:
        doc = _read_exercise(child)
        child.expect("answer>")
        child.sendline(repr(mul_truth(doc)))
        child.expect("right: ")
        _read_exercise(child)
        child.expect("answer>")
        child.sendline("12345")
        child.expect("wrong: ")
        child.expect("answer>")
        child.sendcontrol("d")
        child.expect("1 of 2 right")
        child.expect(pexpect.EOF)
    finally:
        child.close()
    assert child.exitstatus == 0
    assert "Traceback" not in (child.before or "")
    assert (tmp_path / "state" / "circuitcli" / "quiz_history").read_text().count("12345") == 1


def test_terminal_quiz_ctrl_c_leaves_cleanly(tmp_path):
    child = _spawn(tmp_path, "--level", "2", "--seed", "1")
    try:
        child.expect("answer>")
        child.sendintr()
        child.expect("interrupted")
        child.expect(pexpect.EOF)
    finally:
        child.close()
    assert child.exitstatus == 130
    assert "Traceback" not in (child.before or "")


def test_every_level_has_exercises():
    for level in range(1, 41):
        for seed in (0, 1, 2):
            ex = exercise(level, seed)
            assert ex.kind in ("value", "local", "gradient")
            assert set(ex.values) == set(parse(ex.text).inputs)


# ---- value and local questions get their own full set of mistakes ------------------------
# each wrong number below is worked out by hand from the slip it names, not by the tool

HAND_MADE = [
    # (circuit, values, kind, node, of, the learner's number, the kind that explains it)
    ("x = max(a, b)", {"a": 3.0, "b": -2.0}, "value", "x", None, -2.0, "routing"),  # min taken
    ("r = relu(a)\nx = r * b", {"a": -2.0, "b": 3.0}, "value", "r", None, -2.0, "routing"),
    ("q = a / b", {"a": 6.0, "b": 2.0}, "value", "q", None, 2 / 6, "division"),  # b / a
    ("q = a / b", {"a": 6.0, "b": 2.0}, "value", "q", None, 12.0, "division"),  # a * b
    ("s = sigmoid(a)", {"a": 1.0}, "value", "s", None, 1 / (1 + 2.718281828459045),
     "sigmoid-1-s"),  # 1/(1 + e), which is also 1 - s
    ("s = sigmoid(a)", {"a": 1.0}, "value", "s", None, 1 / (1 + 2.718281828459045), "sign"),
    ("q = x + y\nf = q * z", {"x": -2.0, "y": 5.0, "z": -4.0}, "value", "q", None, 7.0,
     "sign"),  # 2 + 5: x's sign dropped on the way in
    ("q = x + y\nf = q * z", {"x": -2.0, "y": 5.0, "z": -4.0}, "value", "f", None, -1.0,
     "wrong-gate"),  # 3 + (-4): a sum for the product
    ("q = x + y\nf = q * z", {"x": -2.0, "y": 5.0, "z": -4.0}, "value", "f", None, 5.0,
     "wrong-node"),  # y's value
    ("q = x + y\nf = q * z", {"x": -2.0, "y": 5.0, "z": -4.0}, "local", "x", "q", -4.0,
     "chain"),  # dx = 1 * dq = -4, where dq/dx = 1 was asked
    ("x = a * a", {"a": 3.0}, "local", "a", "x", 3.0, "fan-out"),  # a, not a + a
    ("q = a * b\nr = q * c\nx = r + a", {"a": 2.0, "b": 3.0, "c": 4.0}, "local", "a", "q",
     12.0, "chain"),  # b * dq = 3 * 4
    ("q = a * b\nr = q * c\nx = r + a", {"a": 2.0, "b": 3.0, "c": 4.0}, "local", "a", "q",
     1.0, "wrong-node"),  # dx/da, the other gate's slope
    ("s = sigmoid(a)", {"a": 1.0}, "local", "a", "s", 1 / (1 + 1 / 2.718281828459045),
     "sigmoid-s"),  # s itself
    ("s = sigmoid(a)", {"a": 1.0}, "local", "a", "s", 1 / (1 + 1 / 2.718281828459045),
     "value-for-local"),
    ("x = max(a, b)", {"a": 3.0, "b": -2.0}, "local", "b", "x", 1.0, "routing"),
    ("x = a / b", {"a": 6.0, "b": 2.0}, "local", "b", "x", -0.5, "division"),  # -1/b
    ("x = a / b", {"a": 6.0, "b": 2.0}, "local", "a", "x", 2.0, "division"),  # b, not 1/b
    ("f = x * y", {"x": -2.0, "y": 3.0}, "local", "x", "f", -6.0, "value-for-local"),  # f
    ("f = x * y", {"x": -2.0, "y": 3.0}, "local", "x", "f", -3.0, "sign"),
]


@pytest.mark.parametrize("text, values, kind, node, of, answer, mistake", HAND_MADE)
def test_value_and_local_mistakes_from_hand_made_slips(text, values, kind, node, of, answer,
                                                       mistake):
    from circuitcli.methods.quiz import Exercise, grade_answer

    graded = grade_answer(Exercise(4, 0, text, values, kind, node, of), answer)
    assert not graded.right
    assert mistake in [m.kind for m in graded.mistakes], graded.mistakes


@pytest.mark.parametrize("level", [1, 2, 3, 4, 5, 7])
def test_value_and_local_right_answers_are_never_called_wrong(level):
    from circuitcli.methods.quiz import exercise, grade_answer

    for seed in range(40):
        ex = exercise(level, seed)
        graded = grade_answer(ex, 0.0)
        right = grade_answer(ex, graded.truth)
        assert right.right and not right.mistakes


def _planted_value_and_local(text: str, values: dict[str, float]):
    """Each mistake planted by a formula written here (not the tool's), on every named
    node: (kind of question, node, of, the planted number, the kind that must be named)."""
    from circuitcli.core.evaluate import evaluate
    from circuitcli.core.parser import parse
    from circuitcli.methods.explain import explain

    c = parse(text)
    ex = explain(evaluate(c, values))
    vals, grads = ex.result.values, ex.result.grads
    used = c.used()
    for i in range(len(c)):
        if c.names[i] is None or not used[i]:
            continue
        gate, args = c.gates[i], c.args[i]
        xs = [vals[j] for j in args]
        if args:
            yield "value", i, None, -vals[i], "sign"
            others = [j for j in range(len(c)) if j != i and c.names[j] is not None and used[j]]
            if others:
                yield "value", i, None, vals[others[0]], "wrong-node"
            planted = {"max": ("routing", min), "min": ("routing", max)}
            if gate.name in planted:
                yield "value", i, None, planted[gate.name][1](xs), "routing"
            if gate.name == "relu":
                yield "value", i, None, xs[0], "routing"
            if gate.name == "sigmoid":
                yield "value", i, None, 1 - vals[i], "sigmoid-1-s"
            if gate.name == "mul":
                yield "value", i, None, xs[0] + xs[1], "wrong-gate"
            if gate.name == "add":
                yield "value", i, None, xs[0] * xs[1], "wrong-gate"
            if gate.name == "div":
                yield "value", i, None, xs[1] / xs[0], "division"
        for u in ex.uses[i]:
            by = u.by
            if c.names[by] is None:
                continue
            slots = [k for k, j in enumerate(c.args[by]) if j == i]
            local = sum(ex.uses[i][n].local for n in range(len(ex.uses[i]))
                        if ex.uses[i][n].by == by)
            yield "local", i, by, -local, "sign"
            yield "local", i, by, grads[i], "chain"
            yield "local", i, by, local * u.pull, "chain"
            if len(slots) > 1:
                yield "local", i, by, local - u.local, "fan-out"
            if c.gates[by].name not in ("add", "sub"):
                yield "local", i, by, (local - u.local) + vals[by], "value-for-local"
            for w in ex.uses[i]:
                if w.by != by:
                    yield "local", i, by, sum(v.local for v in ex.uses[i] if v.by == w.by), \
                        "wrong-node"


@pytest.mark.parametrize("level", [2, 3, 4, 6, 8, 10])
def test_planted_value_and_local_mistakes_are_named(level):
    import math

    from circuitcli.methods.quiz import Exercise, exercise, grade_answer

    planted = 0
    for seed in range(12):
        base = exercise(level, seed)
        c = base.circuit()
        labels = c.labels()
        for kind, node, by, answer, mistake in _planted_value_and_local(base.text, base.values):
            of = labels[by] if by is not None else None
            ex = Exercise(level, seed, base.text, base.values, kind, labels[node], of)
            graded = grade_answer(ex, answer)
            if not math.isfinite(answer) or abs(answer - graded.truth) <= 1e-3 * max(
                    abs(graded.truth), 1e-9):
                continue  # the slip gives the right number here: no mistake to name
            assert not graded.right
            assert mistake in [m.kind for m in graded.mistakes], (base.text, base.values, kind,
                                                                  labels[node], of, answer)
            planted += 1
    assert planted > 20
