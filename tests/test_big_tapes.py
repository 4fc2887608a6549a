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
from circuitcli.core import shapes as shapes_module
from circuitcli.core.circuit import Circuit, _parse_exact
from circuitcli.core.evaluate import evaluate
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


def by_shape(text: str, whole_chunks: bool = False) -> Circuit | None:
    """The shape path alone: statement by statement, or with whole chunks appended at once
    (what texts of VECTOR_FROM characters and more do)."""
    saved = shapes_module.VECTOR_FROM
    shapes_module.VECTOR_FROM = 0 if whole_chunks else 10**12
    try:
        c = Circuit(text)
        return c if build_by_shape(c, text, _parse_exact) else None
    finally:
        shapes_module.VECTOR_FROM = saved


# ---- statement shapes ---------------------------------------------------------------------


@pytest.mark.parametrize("whole", [False, True], ids=["by-statement", "by-chunk"])
@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: p.name)
def test_every_sample_takes_the_shape_path_and_builds_the_exact_tape(path, whole):
    text = path.read_text()
    fast = by_shape(text, whole)
    assert fast is not None, "the shipped samples are one statement a line: no reason to bail"
    assert columns(fast) == columns(_parse_exact(text))


@pytest.mark.parametrize("whole", [False, True], ids=["by-statement", "by-chunk"])
def test_the_benchmark_workload_takes_the_shape_path(whole, monkeypatch):
    text = random_circuit(3000, n_inputs=40, seed=3)
    appended = []
    original = shapes_module._all_at_once
    monkeypatch.setattr(shapes_module, "_all_at_once",
                        lambda *a: appended.append(original(*a)) or appended[-1])
    monkeypatch.setattr(shapes_module, "_CHUNK", 4096)  # a few dozen chunks
    fast = by_shape(text, whole)
    assert fast is not None
    if whole:  # all chunks but the first (which declares the inputs) at once
        assert len(appended) > 20 and appended.count(None) == 1
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
@given(LINES, st.booleans())
def test_a_valid_file_of_one_statement_a_line_takes_the_shape_path(text, whole):
    try:
        exact = _parse_exact(text)
    except CircuitError:
        assert by_shape(text, whole) is None  # an error is for the exact parser to explain
        return
    fast = by_shape(text, whole)
    assert fast is not None, text
    assert columns(fast) == columns(exact), text


@pytest.mark.parametrize("text", [
    "x = 1\ny = x; z = y", "q = (x +\n y)", "x = 1 \\\n + 2", "a@b", "5 = x", "relu = 2",
    "q = q + 1", "q = 1\nq = 2", "y = x\nx = 2", "x + 1\ny = 2", "q = relu + 1", "\u00a0x",
    "q = x y", "x = * 2",
])
def test_what_the_shape_path_cannot_vouch_for_goes_to_the_exact_parser(text):
    assert by_shape(text) is None
    assert by_shape(text, whole_chunks=True) is None


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
    """evaluate() at a point with the rule-by-rule loops, then with the compiled sweeps."""
    results = []
    for sweep_from in (10**12, 0):
        monkeypatch.setattr(evaluate_module, "SWEEP_FROM", sweep_from)
        fresh = circuitcli.parse(c.text)  # nothing cached from the other run
        try:
            r = evaluate(fresh, fresh.values_for(point), pull=0.75)
            results.append((bits(r.values), bits(r.grads), r.kinks, r.warnings,
                            bytes(fresh.used())))
        except CircuitError as err:
            results.append(err.message)
    return results


@pytest.mark.parametrize("seed", range(40))
def test_the_compiled_sweeps_give_the_rules_bit_for_bit(seed, monkeypatch):
    """Values, gradients (nan, -0.0 and inf included), kinks, warnings and the nodes the
    output depends on, at ordinary points and at the stress points (0, 1, 700, 1e300)."""
    rnd = random.Random(seed)
    text = "\n".join(f"s{k} = {random_expression(rnd, 3)}" for k in range(6))
    text += "\nout = " + " + ".join(f"s{k}" for k in range(6))
    c = circuitcli.parse(text)
    for _ in range(5):
        point = {n: rnd.choice(STRESS) if rnd.random() < 0.5 else rnd.uniform(-3, 3)
                 for n in c.inputs}
        slow, fast = by_rules_and_by_sweep(c, point, monkeypatch)
        assert fast == slow, text


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
