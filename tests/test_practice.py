"""`circuit check --expect`: a learner's gradients judged, wrong ones diagnosed.

Every mistake below is made by hand on a notebook circuit: the wrong number is worked out
here, in the comment beside it, not taken from the tool. The property tests plant each
kind of mistake on random circuits and check it is named (a correct answer never is).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from random_circuits import expressions

from circuitcli.core.evaluate import evaluate
from circuitcli.core.parser import parse
from circuitcli.methods.explain import explain
from circuitcli.methods.practice import KINDS, check_answers, diagnose

SAMPLES = Path(__file__).resolve().parent.parent / "samples"


def verdict(sample: str, name: str, answer: float, **values: float):
    c = parse((SAMPLES / sample).read_text())
    _, (v,) = check_answers(c, {**c.values_for(), **values}, [(name, answer)])
    return v


# ---- each kind, made by hand on a notebook circuit --------------------------------------

def test_sign_flipped():
    # (x+y)*z at -2, 5, -4: dx = z * dout = -4; the learner writes +4
    c = parse("(x+y)*z")
    _, (v,) = check_answers(c, {"x": -2, "y": 5, "z": -4}, [("dx", 4.0)])
    assert not v.right and v.truth == -4.0 and "sign" in v.kinds


def test_fan_out_path_missing_names_the_use():
    # Ex-6, x = a*a at a = 3: the learner takes one path, da = a * dx = 3 (truth 6)
    v = verdict("ex6_square.circuit", "da", 3.0)
    assert v.kinds == ["fan-out"] and v.truth == 6.0
    assert "x = a * a" in v.mistakes[0].text and "one of the 2 uses" in v.mistakes[0].text


def test_fan_out_names_which_use_was_left_out():
    # a*a + a*b at a = 3, b = 2: da = 2a + b = 8; leaving out the use by a*b gives 6
    c = parse("p = a * a\nr = a * b\nout = p + r")
    _, (v,) = check_answers(c, {"a": 3, "b": 2}, [("da", 6.0)])
    assert "fan-out" in v.kinds
    assert any("leaves out the use by r = a * b" in m.text for m in v.mistakes)


def test_chain_forgotten():
    # Ex-5 neuron: dx = a * dq; forgetting dq leaves a = 1 (truth 0.10499...)
    v = verdict("ex5_neuron.circuit", "dx", 1.0)
    assert "chain" in v.kinds
    # q = a*x + b*y + c = 1*-1 + 2*3 - 3 = 2; dx = a * s(1-s) with s = 1/(1+e^-2)
    s = 1 / (1 + math.exp(-2))
    assert v.truth == pytest.approx(s * (1 - s), rel=1e-12)
    chain = next(m for m in v.mistakes if m.kind == "chain")
    assert "1 is the local derivative" in chain.text and "0.104994" in chain.text


def test_value_in_place_of_local_and_sigmoid_s_are_both_named():
    # Ex-5: dq = f * df with f = sigmoid(2) = 0.8807970779778823 (the slope should be f(1-f))
    v = verdict("ex5_neuron.circuit", "dq", 0.8807970779778823)
    assert {"value-for-local", "sigmoid-s"} <= set(v.kinds)


def test_sigmoid_slope_as_one_minus_s():
    # Ex-5: dq = (1 - f) * df = 1 - 0.8807970779778823 = 0.1192029220221177
    v = verdict("ex5_neuron.circuit", "dq", 0.1192029220221177)
    assert "sigmoid-1-s" in v.kinds and "sigmoid-s" not in v.kinds


def test_notebook_ex4_slip():
    # Ex-4, x = a*b + c at a = 3, b = -2: the notebook's da = db * dx, with db = a * dx = 3
    v = verdict("ex4_mul_add.circuit", "da", 3.0)
    assert "ex4" in v.kinds and v.truth == -2.0


def test_notebook_division_slip():
    # division 2 at a = 3, b = 2 (x1 = 5), c = 5, d = 0.5 (x2 = 5.5): dx3 = x1 * dx = 5;
    # the notebook's slip drops the pull: dx2 = -1/(x2*x2) = -1/30.25 (truth -5/30.25)
    v = verdict("ex8_division.circuit", "dx2", -1 / 30.25, b=2)
    assert v.truth == pytest.approx(-5 / 30.25)
    assert "division" in v.kinds and "chain" in v.kinds


def test_max_routes_the_pull_to_the_wrong_argument():
    # max(a, b) at a = 3, b = -2: b lost, db = 0; routing the pull to it gives db = dx = 1
    v = verdict("ex8_max.circuit", "db", 1.0)
    assert "routing" in v.kinds


def test_relu_routes_the_pull_when_it_should_not():
    # relu(x) * y at x = -1, y = 2: relu is off, dx = 0; passing the pull gives y = 2
    c = parse("relu(x) * y")
    _, (v,) = check_answers(c, {"x": -1, "y": 2}, [("dx", 2.0)])
    assert "routing" in v.kinds and v.truth == 0.0


def test_derivative_with_respect_to_the_wrong_node():
    # (x+y)*z at -2, 5, -4: 3 = x + y is dz; written for dx (truth -4)
    c = parse("(x+y)*z")
    _, (v,) = check_answers(c, {"x": -2, "y": 5, "z": -4}, [("dx", 3.0)])
    assert "wrong-node" in v.kinds
    assert any("gradient of z" in m.text for m in v.mistakes)


def test_no_known_mistake_shows_explains_lines(run):
    # Ex-6: 7 is no mistake we know (truth 6)
    r = run("check", str(SAMPLES / "ex6_square.circuit"), "--expect", "da=7")
    assert r.exit_code == 1
    assert "no common mistake gives 7" in r.stdout
    assert "x = a * a pulls on a: local 3 × pull 1 = 3" in r.stdout
    assert "gradient of a: 3 + 3 = 6" in r.stdout


def test_right_answers_and_dname_naming(run):
    # Ex-3: q = a + b, x = q + c: every gradient is 1.0 * dx = 1
    r = run("check", str(SAMPLES / "ex3_add3.circuit"), "--expect", "da=1", "db=1", "dq=1",
            "c=1", "dx=1")
    assert r.exit_code == 0, r.output
    assert r.stdout.count("right") >= 5 and "5 of 5 right" in r.stdout


# ---- the command's contract -------------------------------------------------------------

def test_json_carries_expected_truth_verdict_diagnosis(run):
    r = run("check", "(x+y)*z", "x=-2", "y=5", "z=-4", "--expect", "x=4", "y=-4", "--json")
    assert r.exit_code == 1
    doc = json.loads(r.stdout)
    first, second = doc["answers"]
    assert first["name"] == "x" and first["expected"] == 4.0 and first["truth"] == -4.0
    assert first["right"] is False and "sign is flipped" in first["diagnosis"]
    assert any(m["kind"] == "sign" for m in first["mistakes"])
    assert second["right"] is True and second["diagnosis"] is None
    assert doc["ok"] is False


def test_expect_values_after_the_inputs_are_not_inputs(run):
    # y=4 after --expect is an expected gradient: the input y stays 5 (dx = z = -4)
    r = run("check", "(x+y)*z", "x=-2", "y=5", "z=-4", "--expect", "z=3", "y=-4", "--json")
    assert r.exit_code == 0, r.output
    assert [a["truth"] for a in json.loads(r.stdout)["answers"]] == [3.0, -4.0]


def test_tolerance_is_relative_to_the_gradient(run):
    # the neuron's da is -0.10499358540350662: -0.105 is 6.4e-6 off, 6.1e-5 relative
    args = ("check", str(SAMPLES / "ex5_neuron.circuit"), "--expect", "da=-0.105")
    assert run(*args).exit_code == 0
    assert run(*args, "--tol", "1e-4").exit_code == 0
    assert run(*args, "--tol", "5e-5").exit_code == 1


def test_bad_expectations_are_usage_errors(run):
    r = run("check", "x*y", "x=1", "y=2", "--expect", "q=1")
    assert r.exit_code == 2 and "no node of that name" in r.stderr
    r = run("check", "x*y", "x=1", "y=2", "--expect", "x=abc")
    assert r.exit_code == 2 and "NAME=NUMBER" in r.stderr
    assert "Traceback" not in r.output


@pytest.mark.parametrize("given", [["x=-4,x=2"], ["x=-4", "--expect", "x=2"]])
def test_one_answer_per_node(run, given):
    """Two answers for x were both graded, one right and one wrong: a slip, said in a line."""
    r = run("check", "(x+y)*z", "x=-2", "y=5", "z=-4", "--expect", *given)
    assert r.exit_code == 2 and "x is given twice" in r.stderr and "--expect" in r.stderr
    assert r.stdout == ""


def test_expect_does_not_change_the_session(run, session_file):
    run("grad", "x*y", "x=1", "y=2")
    before = session_file.read_bytes()
    run("check", "a+b", "a=1", "b=2", "--expect", "a=1")
    assert session_file.read_bytes() == before


# ---- properties on random circuits ------------------------------------------------------

def _close(a: float, b: float) -> bool:
    return abs(a - b) <= 1e-3 * max(abs(b), 1e-9)


def _cases(text: str, values: dict[str, float]):
    c = parse(text)
    try:
        result = evaluate(c, {k: values[k] for k in c.inputs})
    except Exception:
        return None
    if any(not math.isfinite(v) for v in result.values) or \
            any(not math.isfinite(g) for g in result.grads):
        return None
    if result.kinks:
        return None
    return explain(result)


POINT = st.fixed_dictionaries({v: st.sampled_from([-1.7, -1.3, -0.6, 0.4, 0.9, 1.6, 2.2])
                               for v in ("x", "y", "z")})
PROPERTY = settings(max_examples=60, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])


@PROPERTY
@given(expressions(max_leaves=7), POINT)
def test_a_right_answer_is_never_called_wrong(text, values):
    ex = _cases(text, values)
    assume(ex is not None)
    c = ex.result.circuit
    for i in range(len(c)):
        if c.used()[i]:
            v = diagnose(ex, i, ex.result.grads[i])
            assert v.right and not v.mistakes


@PROPERTY
@given(expressions(max_leaves=7), POINT, st.randoms(use_true_random=False))
def test_planted_mistakes_are_named(text, values, rng):
    _planted(text, values, rng)


@pytest.mark.slow
@settings(PROPERTY, max_examples=600)
@given(expressions(max_leaves=12), POINT, st.randoms(use_true_random=False))
def test_planted_mistakes_are_named_long(text, values, rng):
    _planted(text, values, rng)


@pytest.mark.slow
@settings(PROPERTY, max_examples=600)
@given(expressions(max_leaves=12), POINT)
def test_a_right_answer_is_never_called_wrong_long(text, values):
    test_a_right_answer_is_never_called_wrong.hypothesis.inner_test(text, values)


def _planted(text, values, rng):
    ex = _cases(text, values)
    assume(ex is not None)
    return _plant(ex, rng, text, values)


def _plant(ex, rng, text, values) -> set[str]:
    """Plant each kind of mistake at each node; return the kinds planted."""
    result = ex.result
    c = result.circuit
    vals, grads = result.values, result.grads
    tried: set[str] = set()
    for node in range(len(c)):
        if not c.used()[node] or node == c.output:
            continue
        truth = grads[node]
        uses = ex.uses[node]
        planted: list[tuple[str, float]] = [("sign", -truth)]
        planted.append(("chain", sum(u.local for u in uses)))
        for u in uses:
            rest = truth - u.contribution
            if len(uses) > 1:
                planted.append(("fan-out", rest))
            gate, args = c.gates[u.by], c.args[u.by]
            g, out = u.pull, vals[u.by]
            if gate.name not in ("add", "sub"):
                planted.append(("value-for-local", rest + out * g))
            if gate.name == "sigmoid":
                planted += [("sigmoid-s", rest + out * g), ("sigmoid-1-s", rest + (1 - out) * g)]
            if gate.name == "mul":
                planted.append(("ex4", rest + grads[args[1 - u.slot]] * g))
            if gate.name in ("max", "min"):
                planted.append(("routing", rest + (0.0 if vals[node] == out else g)))
            if gate.name == "relu":
                planted.append(("routing", rest + (0.0 if vals[node] > 0 else g)))
            if gate.name == "div" and u.slot == 1:
                planted.append(("division", rest - g / vals[args[1]]))
        pool = [j for j in range(len(c)) if c.used()[j] and c.live[j]
                and (c.args[j] or c.is_input(j)) and j != node]
        if pool:
            other = rng.choice(pool)
            planted.append(("wrong-node", grads[other]))
        for kind, answer in planted:
            if not math.isfinite(answer) or _close(answer, truth):
                continue
            tried.add(kind)
            v = diagnose(ex, node, answer)
            assert not v.right
            assert kind in v.kinds, (text, values, c.labels()[node], kind, answer, v)
            # a number several mistakes give names each of them
            assert len(v.mistakes) >= len(set(v.kinds))
    return tried


def test_the_planted_mistakes_cover_every_kind_the_issue_names():
    # the property above plants each kind where its gate occurs; on these circuits (every
    # gate of the issue's mistakes) all ten are planted, and each is named
    import random

    tried: set[str] = set()
    for text in ("sigmoid(x * y + max(x, z)) / (relu(y) + x * x)",
                 "max(x, y) * relu(z) + sigmoid(x) * (x + y) / z"):
        values = {"x": 0.9, "y": -0.6, "z": 1.6}
        ex = _cases(text, values)
        assert ex is not None
        tried |= _plant(ex, random.Random(1), text, values)
    assert tried == set(KINDS) - {"wrong-gate"}


def test_every_kind_has_words():
    assert set(KINDS) == {"sign", "fan-out", "chain", "value-for-local", "sigmoid-s",
                          "sigmoid-1-s", "ex4", "division", "routing", "wrong-node", "wrong-gate"}


# ---- the interface contract on the learner's options --------------------------------------

LEARNER_CALLS = [
    # (arguments, exit code with a right answer, exit code with a wrong one)
    (("check", "chain.circuit", "--expect", "dx=-4", "dy=-4", "dz=3"),
     ("check", "chain.circuit", "--expect", "dx=4")),
    (("check", "ex1_mul.circuit", "--backward", "ex1_mul.backward"),
     ("check", "ex1_mul.circuit", "--backward", "wrong.backward")),
    (("quiz", "--seed", "7", "--level", "2", "--answer", "-1"),
     ("quiz", "--seed", "7", "--level", "2", "--answer", "1")),
]


@pytest.mark.parametrize("right, wrong", LEARNER_CALLS)
def test_the_learners_options_keep_the_contract(right, wrong, run, session_file, tmp_path,
                                                monkeypatch):
    import shutil

    monkeypatch.chdir(tmp_path)
    shutil.copy(SAMPLES / "ex1_mul.backward", tmp_path / "ex1_mul.backward")
    (tmp_path / "wrong.backward").write_text("da = a * dx\ndb = a * dx\n")  # da is b * dx
    assert run("grad", "x*y", "x=1", "y=2").exit_code == 0
    before = session_file.read_bytes()
    for args, code in ((right, 0), (wrong, 1)):
        r = run(*args, "--json")
        assert r.exit_code == code, r.output
        json.loads(r.stdout)  # JSON alone on stdout, whatever the verdict
        plain = run(*args)
        assert plain.exit_code == code and "Traceback" not in plain.output
        assert "\x1b[" not in plain.stdout  # no colour off a terminal
    assert session_file.read_bytes() == before  # look-only: the session is untouched
    # a mistyped option gets "did you mean", exit 2, one line
    option = "--expect" if "--expect" in right else "--backward" if "--backward" in right \
        else "--answer"
    typo = run(*[a if a != option else option[:-1] for a in right])
    assert typo.exit_code == 2, typo.output
    assert "did you mean" in typo.stderr.lower() and f"'{option}'" in typo.stderr, typo.stderr
    assert len(typo.stderr.strip().splitlines()) == 1


def test_help_practice_prints_the_learners_page(run):
    r = run("help", "practice")
    assert r.exit_code == 0
    page = (Path(__file__).resolve().parent.parent / "circuitcli" / "docs" / "practice.md")
    assert r.stdout.rstrip("\n") == page.read_text(encoding="utf-8").rstrip("\n")
    for shown in ("--expect", "--backward", "circuit quiz", ":quiz", "Your turn on the live page"):
        assert shown in r.stdout, shown
