"""The paths only big circuits take: statement shapes (core/shapes.py) and the sweeps
compiled from the gate table (core/sweep.py). Each must give exactly what the exact
parser and the rule-by-rule loops give; the reference is those, run on the same text.
(test_one_pass.py also puts every random text of its fuzz through the shape path.)
"""

from __future__ import annotations

import random
import struct
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import circuitcli
from circuitcli.core import circuit as circuit_module
from circuitcli.core import evaluate as evaluate_module
from circuitcli.core.circuit import Circuit, _parse_exact
from circuitcli.core.evaluate import backward, forward
from circuitcli.core.shapes import build_by_shape
from circuitcli.core.syntax import CircuitError

sys.path.insert(0, str(Path(__file__).parent))
from reference import STRESS, random_expression

sys.path.insert(0, str(Path(__file__).parent / "bench"))
from bench_core import random_circuit

SAMPLES = sorted((Path(__file__).parents[1] / "samples").glob("*.circuit"))


def columns(c: Circuit) -> tuple:
    return ([g.name for g in c.gates], list(c.a0), list(c.a1), c.more, c.names,
            [repr(v) for v in c.base], bytes(c.live), c.inputs, c.defaults, c.named,
            c.kinkable, c.consts, c._last)


def by_shape(text: str) -> Circuit | None:
    c = Circuit(text)
    return c if build_by_shape(c, text, _parse_exact) else None


# ---- statement shapes ---------------------------------------------------------------------


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: p.name)
def test_every_sample_takes_the_shape_path_and_builds_the_exact_tape(path):
    text = path.read_text()
    fast = by_shape(text)
    assert fast is not None, "the shipped samples are one statement a line: no reason to bail"
    assert columns(fast) == columns(_parse_exact(text))


def test_the_benchmark_workload_takes_the_shape_path():
    text = random_circuit(3000, n_inputs=40, seed=3)
    fast = by_shape(text)
    assert fast is not None
    exact = _parse_exact(text)
    assert columns(fast) == columns(exact)
    assert fast._starts is None  # spans are not computed on the way
    assert list(fast.starts) == list(exact.starts) and list(fast.ends) == list(exact.ends)


LINES = st.lists(
    st.tuples(st.sampled_from(["x", "y", "q", "w", "out", None]),
              st.builds(lambda seed: random_expression(random.Random(seed), 3),
                        st.integers(0, 10**6)),
              st.sampled_from(["\n", "\r\n", "  # note\n", "\n\n", "\t\n"])),
    min_size=1, max_size=8).map(
    lambda sts: "".join(f"{n} = {e}{sep}" if n else f"{e}{sep}" for n, e, sep in sts))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(LINES)
def test_a_valid_file_of_one_statement_a_line_takes_the_shape_path(text):
    try:
        exact = _parse_exact(text)
    except CircuitError:
        assert by_shape(text) is None  # an error is for the exact parser to explain
        return
    fast = by_shape(text)
    assert fast is not None, text
    assert columns(fast) == columns(exact), text


@pytest.mark.parametrize("text", [
    "x = 1\ny = x; z = y", "q = (x +\n y)", "x = 1 \\\n + 2", "a@b", "5 = x", "relu = 2",
    "q = q + 1", "q = 1\nq = 2", "y = x\nx = 2", "x + 1\ny = 2", "q = relu + 1", "\u00a0x",
    "q = x y", "x = * 2",
])
def test_what_the_shape_path_cannot_vouch_for_goes_to_the_exact_parser(text):
    assert by_shape(text) is None


def test_a_big_file_reports_a_domain_error_at_its_column():
    text = random_circuit(3000, n_inputs=20, seed=5) + "bad = log(x0 - 50)\n"
    assert len(text) >= circuit_module._FAST_FROM  # parse takes the shape path
    c = circuitcli.parse(text, "big.circuit")
    assert c._starts is None
    with pytest.raises(CircuitError) as info:
        c.forward()
    err = info.value
    line = text.splitlines()[-1]
    assert err.text[err.start:err.end] == "log(x0 - 50)"
    assert err.render().splitlines()[1].strip() == line


# ---- compiled sweeps ----------------------------------------------------------------------


def bits(xs) -> list[bytes]:
    return [struct.pack("<d", x) for x in xs]  # nan, -0.0 and inf compared exactly


def by_rules_and_by_sweep(c: Circuit, point: dict[str, float], monkeypatch):
    monkeypatch.setattr(evaluate_module, "SWEEP_FROM", 10**12)
    try:
        v = forward(c, c.values_for(point))
        slow = (v, backward(c, v, 0.75))
    except CircuitError as err:
        slow = err.message
    monkeypatch.setattr(evaluate_module, "SWEEP_FROM", 0)
    try:
        v = forward(c, c.values_for(point))
        fast = (v, backward(c, v, 0.75))
    except CircuitError as err:
        fast = err.message
    return slow, fast


@pytest.mark.parametrize("seed", range(40))
def test_the_compiled_sweeps_give_the_rules_bit_for_bit(seed, monkeypatch):
    rnd = random.Random(seed)
    text = "\n".join(f"s{k} = {random_expression(rnd, 3)}" for k in range(6))
    text += "\nout = " + " + ".join(f"s{k}" for k in range(6))
    c = circuitcli.parse(text)
    for _ in range(5):
        point = {n: rnd.choice(STRESS) if rnd.random() < 0.5 else rnd.uniform(-3, 3)
                 for n in c.inputs}
        slow, fast = by_rules_and_by_sweep(c, point, monkeypatch)
        if isinstance(slow, str):
            assert fast == slow  # the same domain error, found by the rule loop
        else:
            assert bits(fast[0]) == bits(slow[0]), text
            assert bits(fast[1]) == bits(slow[1]), text


def test_the_sweeps_run_a_planted_rule(monkeypatch):
    """A gate whose backward rule is given as partials (as tests of `check` plant a wrong
    rule) is called, not inlined: the sweep gives what that rule gives."""
    import dataclasses

    from circuitcli.core.gates import GATES, OPERATORS

    wrong = dataclasses.replace(GATES["mul"], partials=lambda B, out, x, y: [2 * y, 2 * x])
    monkeypatch.setitem(OPERATORS, "*", wrong)
    c = circuitcli.parse("q = x * y + x")
    monkeypatch.setattr(evaluate_module, "SWEEP_FROM", 0)
    r = c.grad(x=3.0, y=5.0)
    assert r.input_grads == {"x": 2 * 5.0 + 1, "y": 2 * 3.0}
