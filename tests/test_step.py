"""`circuit step`: the notebook's update rule, walked one run at a time or many steps at once.

Expected numbers come from the notebook's printed cells or from the update rule
re-implemented here by hand, never from circuitcli's own output.
"""

from __future__ import annotations

import io
import json
import math
import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console

from circuitcli.core.parser import parse
from circuitcli.methods.strategies import step
from circuitcli.render.step import progress, sparkline

NEURON = "sigmoid(a*x + b*y + c)"
NEURON_AT = ["a=1", "b=2", "c=-3", "x=-1", "y=3"]


def stored_inputs() -> dict:
    return json.loads(Path(os.environ["CIRCUIT_SESSION"]).read_text())["inputs"]


def neuron_by_hand(a, b, c, x, y, lr=0.01, steps=1):
    """The notebook's neuron: forward, the backprop rules of its gate objects, the update."""
    for _ in range(steps):
        s = 1 / (1 + math.exp(-(a * x + b * y + c)))
        ds = s * (1 - s)
        da, db, dc, dx, dy = x * ds, y * ds, ds, a * ds, b * ds
        a, b, c, x, y = a + lr * da, b + lr * db, c + lr * dc, x + lr * dx, y + lr * dy
    s = 1 / (1 + math.exp(-(a * x + b * y + c)))
    return (a, b, c, x, y), s


# -- the notebook's numbers -----------------------------------------------------------------
def test_chain_rule_step_gives_the_notebooks_numbers(doc):
    # In [7]: x = -2.04, y = 4.96, z = -3.97; f = -11.5924
    d = doc("step", "(x+y)*z", "x=-2", "y=5", "z=-4", "--lr", "0.01")
    after = {n: v["after"] for n, v in d["inputs"].items()}
    for name, want in {"x": -2.04, "y": 4.96, "z": -3.97}.items():
        assert after[name] == pytest.approx(want, abs=1e-12)
    assert d["output"]["after"] == pytest.approx(-11.5924, abs=1e-12)
    assert d["output"]["before"] == -12.0
    assert {n: v["grad"] for n, v in d["inputs"].items()} == {"x": -4.0, "y": -4.0, "z": 3.0}
    assert {n: v["before"] for n, v in d["inputs"].items()} == {"x": -2.0, "y": 5.0, "z": -4.0}
    assert d["history"] == [-12.0, d["output"]["after"]]


def test_neuron_step_gives_the_notebooks_output(doc):
    d = doc("step", NEURON, *NEURON_AT, "--lr", "0.01")
    assert d["output"]["after"] == pytest.approx(0.8825501816218984, rel=1e-12)
    _, s = neuron_by_hand(1, 2, -3, -1, 3)
    assert d["output"]["after"] == pytest.approx(s, rel=1e-13)


def test_neuron_sample_file_steps_the_same(doc):
    d = doc("step", "neuron.circuit")
    assert d["output"]["after"] == pytest.approx(0.8825501816218984, rel=1e-12)


def test_the_json_document_has_exactly_the_documented_keys(doc):
    d = doc("step", "(x+y)*z", "x=-2", "y=5", "z=-4")
    assert set(d) == {"inputs", "output", "history"}
    assert all(set(v) == {"before", "grad", "after"} for v in d["inputs"].values())
    assert set(d["output"]) == {"before", "after"}


# -- the loop: repeated runs walk uphill ----------------------------------------------------
def test_three_single_steps_equal_one_run_of_three_to_the_last_bit(doc, run):
    run("grad", NEURON, *NEURON_AT)
    singles = [doc("step") for _ in range(3)]
    walked = stored_inputs()
    run("grad", NEURON, *NEURON_AT)
    many = doc("step", "--steps", "3")
    assert stored_inputs() == walked  # == on floats: every bit
    assert {n: v["after"] for n, v in many["inputs"].items()} == walked
    assert many["history"] == [singles[0]["output"]["before"]] + [
        s["output"]["after"] for s in singles]


def test_repeated_steps_match_the_update_rule_by_hand(run):
    run("grad", NEURON, *NEURON_AT)
    for _ in range(5):
        assert run("step").exit_code == 0
    values, _ = neuron_by_hand(1, 2, -3, -1, 3, steps=5)
    got = stored_inputs()
    for name, want in zip("abcxy", values):
        assert got[name] == pytest.approx(want, rel=1e-13)


def test_many_steps_match_the_update_rule_by_hand(doc):
    d = doc("step", NEURON, *NEURON_AT, "--steps", "200", "--lr", "0.05")
    _values, s = neuron_by_hand(1, 2, -3, -1, 3, lr=0.05, steps=200)
    assert d["output"]["after"] == pytest.approx(s, rel=1e-12)
    assert len(d["history"]) == 201
    assert d["history"] == sorted(d["history"])  # uphill all the way


def test_minimize_goes_down_the_gradient(doc):
    d = doc("step", "(x+y)*z", "x=-2", "y=5", "z=-4", "--minimize")
    assert {n: v["after"] for n, v in d["inputs"].items()} == {
        "x": -2 - 0.01 * -4.0, "y": 5 - 0.01 * -4.0, "z": -4 - 0.01 * 3.0}
    assert d["output"]["after"] < d["output"]["before"]


@given(x=st.floats(-10, 10), y=st.floats(-10, 10), lr=st.floats(1e-4, 0.5))
@settings(max_examples=60, deadline=None)
def test_one_step_is_the_update_rule(x, y, lr):
    c = parse("x*y + 3*x")
    r = step(c, {"x": x, "y": y}, lr=lr)
    if r.stop is None:
        assert r.after == {"x": x + lr * (y + 3), "y": y + lr * x}
        assert r.history[-1] == r.after["x"] * r.after["y"] + 3 * r.after["x"]


def test_constants_never_move_and_frozen_inputs_stay(doc):
    d = doc("step", "2*x*y + 3", "x=1", "y=1", "--freeze", "y")
    assert d["inputs"]["y"]["after"] == 1.0
    assert d["inputs"]["x"]["after"] == 1 + 0.01 * 2.0
    assert set(d["inputs"]) == {"x", "y"}  # 2 and 3 are constants, not inputs


def test_only_moves_just_the_named_inputs(doc):
    d = doc("step", NEURON, *NEURON_AT, "--only", "a,b", "--only", "c")
    assert [n for n, v in d["inputs"].items() if v["after"] != v["before"]] == ["a", "b", "c"]


@pytest.mark.parametrize("args, message", [
    (["--freeze", "w"], "not an input"),
    (["--only", "q"], "computed by the circuit"),
    (["--freeze", "x", "--only", "y"], "contradict"),
    (["--lr", "0"], "positive"),
    (["--lr", "-0.01"], "--minimize"),
    (["--lr", "nan"], "not a finite number"),
    (["--steps", "0"], "--steps"),
    (["--freeze", "x,,y"], "comma"),
])
def test_bad_options_are_one_line_errors(run, args, message):
    r = run("step", "q = x + y\nf = q * z", "x=-2", "y=5", "z=-4", *args)
    assert r.exit_code == 2
    assert message in r.output and "Traceback" not in r.output


def test_dry_run_keeps_the_current_values(run):
    run("grad", "(x+y)*z", "x=-2", "y=5", "z=-4")
    r = run("step", "--dry-run")
    assert r.exit_code == 0 and "-2.04" in r.output
    assert stored_inputs() == {"x": -2.0, "y": 5.0, "z": -4.0}


def test_table_shows_before_gradient_after_change_and_the_output(run):
    r = run("step", "(x+y)*z", "x=-2", "y=5", "z=-4")
    assert r.exit_code == 0
    lines = r.output.splitlines()
    assert "before" in lines[1] and "gradient" in lines[1] and "change" in lines[1]
    x_row = [cell for cell in next(line for line in lines if "▸ x" in line).split()
             if cell != "│"]
    assert x_row[-4:] == ["-2", "-4", "-2.04", "-0.04"]
    assert any("-12 → -11.5924" in line and "+0.4076" in line for line in lines)


# -- stopping early ---------------------------------------------------------------------
def test_stops_before_the_output_overflows_and_keeps_the_last_finite_point(doc, run):
    # f = exp(x) at 700: one step of lr 1 moves x by e^700, and exp of that is inf
    r = run("step", "exp(x)", "x=700", "--lr", "1", "--steps", "5")
    assert r.exit_code == 0, r.output
    assert "stopped early" in r.output and "step 1" in r.output
    assert stored_inputs() == {"x": 700.0}
    d = doc("step", "--lr", "1", "--steps", "5")
    assert d["history"] == [math.exp(700)]


def test_stops_where_a_step_leaves_the_domain(run):
    # minimize log(x) from 0.5 with lr 1: x -> 0.5 - 1/0.5 = -1.5, outside log's domain
    r = run("step", "log(x)", "x=0.5", "--lr", "1", "--minimize", "--steps", "3")
    assert r.exit_code == 0, r.output
    assert "stopped early" in r.output and "domain" in r.output
    assert stored_inputs() == {"x": 0.5}


def test_stops_when_every_gradient_is_within_tol(doc):
    # minimize (x-3)^2 with lr 0.25: the distance to 3 halves each step (x - 0.5*(x-3))
    d = doc("step", "(x-3)**2", "x=0", "--lr", "0.25", "--minimize", "--steps", "1000",
            "--tol", "1e-3")
    x, taken = 0.0, 0
    while abs(2 * (x - 3)) > 1e-3:
        x, taken = x - 0.25 * 2 * (x - 3), taken + 1
    assert len(d["history"]) == taken + 1
    assert d["inputs"]["x"]["after"] == x


def test_a_zero_gradient_stops_at_once_with_a_note(run):
    r = run("step", "(x-3)**2", "x=3", "--steps", "10")
    assert r.exit_code == 0 and "every gradient is 0" in r.output


# -- progress bar and sparkline -----------------------------------------------------------
def test_no_progress_bar_when_stdout_is_not_a_terminal(run):
    r = run("step", NEURON, *NEURON_AT, "--steps", "500")
    assert r.exit_code == 0
    assert "stepping" not in r.output
    assert "over 500 steps" in r.output


def test_progress_bar_on_a_terminal_only_and_never_with_json():
    out = io.StringIO()
    terminal = Console(file=out, force_terminal=True, width=80)
    with progress(terminal, 10, "stepping", show=True) as tick:
        assert tick is not None
        tick(5)
    assert "stepping" in out.getvalue()
    with progress(terminal, 10, "stepping", show=False) as tick:  # --json
        assert tick is None
    pipe = Console(file=io.StringIO(), force_terminal=False)
    with progress(pipe, 10, "stepping", show=True) as tick:
        assert tick is None


def test_sparkline_rises_with_the_series_and_is_sampled_to_its_width():
    line = sparkline([float(i) for i in range(8)]).plain
    assert line == "▁▂▃▄▅▆▇█"
    assert len(sparkline([float(i) for i in range(1000)], width=20).plain) == 20
    assert sparkline([2.0, 2.0, 2.0]).plain == "▄▄▄"
    assert sparkline([0.0, 10.0, 5.0]).plain[1] == "█"


def test_ctrl_c_keeps_the_steps_taken_so_far():
    c = parse(NEURON)
    start = c.values_for(dict(a=1, b=2, c=-3, x=-1, y=3))

    pressed = []

    def interrupt_at_7(done: int) -> None:
        if done == 7 and not pressed:
            pressed.append(done)
            raise KeyboardInterrupt

    cut = step(c, start, steps=150, progress=interrupt_at_7)  # progress after every step
    whole = step(c, start, steps=7)
    assert cut.stop is not None and "interrupted after 7 steps" in cut.stop
    assert (cut.after, cut.history) == (whole.after, whole.history)


def test_sigint_during_a_long_run_still_saves_the_walk(tmp_path):
    import signal
    import subprocess
    import sys
    import time

    session = tmp_path / "s.json"
    env = {**os.environ, "CIRCUIT_SESSION": str(session),
           "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    subprocess.run([sys.executable, "-m", "circuitcli", "grad", NEURON, *NEURON_AT], env=env,
                   check=True, stdout=subprocess.DEVNULL)
    proc = subprocess.Popen([sys.executable, "-m", "circuitcli", "step", "--steps", "100000000",
                             "--lr", "1e-9", "--json"], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    _wait_until_locked(Path(str(session) + ".lock"))
    time.sleep(0.5)  # inside the stepping loop by now
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err  # interrupted, and says what it kept
    assert "interrupted: after" in err and "the values reached are current" in err
    d = json.loads(out)
    assert len(d["history"]) > 1
    saved = json.loads(session.read_text())["inputs"]
    assert saved == {n: v["after"] for n, v in d["inputs"].items()}


def _wait_until_locked(lock: Path, timeout: float = 60.0) -> None:
    """Until another process holds the session's lock (the step has started its work)."""
    import fcntl
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with open(lock, "a") as f:
            try:
                fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return
            fcntl.flock(f, fcntl.LOCK_UN)
        time.sleep(0.01)
    raise AssertionError("the step never took the session's lock")


# -- strategy 2 from the command line, and Ctrl-C ------------------------------------------
def test_numerical_step_gives_the_notebooks_number(doc):
    # In [7] and [67]: h = 0.00001, step_size = 0.01 -> forMulGate(x, y) = -5.870599999997832
    d = doc("step", "x*y", "x=-2", "y=3", "--numerical", "--h", "0.00001")
    assert d["output"]["after"] == -5.870599999997832
    assert d["inputs"]["x"]["grad"] == 3.000000000064062  # the notebook's printed derivatives
    assert d["inputs"]["y"]["grad"] == -2.0000000000131024


def test_h_without_numerical_is_a_usage_error(run):
    r = run("step", "x*y", "x=-2", "y=3", "--h", "0.001")
    assert r.exit_code == 2 and "--numerical" in r.stderr


def _interrupt_forward_after(monkeypatch, calls: int) -> None:
    """Make the evaluator raise KeyboardInterrupt (Ctrl-C) on forward pass number calls+1."""
    import circuitcli.methods.strategies as strategies

    real = strategies.forward
    count = {"n": 0}

    def forward(*args, **kwargs):
        count["n"] += 1
        if count["n"] > calls:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(strategies, "forward", forward)


def test_ctrl_c_keeps_the_steps_taken_and_exits_130(run, monkeypatch, session_file):
    _interrupt_forward_after(monkeypatch, 3)  # each step is one forward pass: 3 steps, then ^C
    r = run("step", "(x+y)*z", "x=-2", "y=5", "z=-4", "--steps", "10", "--lr", "0.01")
    assert r.exit_code == 130, r.output
    assert r.stderr.splitlines()[-1] == ("interrupted: after 3 of 10 steps; the values reached "
                                         "are current")
    x, y, z = -2.0, 5.0, -4.0  # the notebook's rule, three times, by hand
    for _ in range(3):
        x, y, z = x + 0.01 * z, y + 0.01 * z, z + 0.01 * (x + y)
    assert json.loads(session_file.read_text())["inputs"] == {"x": x, "y": y, "z": z}


def test_ctrl_c_with_dry_run_keeps_the_current_values(run, monkeypatch, session_file):
    assert run("grad", "(x+y)*z", "x=-2", "y=5", "z=-4").exit_code == 0
    before = session_file.read_bytes()
    _interrupt_forward_after(monkeypatch, 2)
    r = run("step", "--steps", "10", "--dry-run")
    assert r.exit_code == 130
    assert "the current values are unchanged" in r.stderr.splitlines()[-1]
    assert session_file.read_bytes() == before


def test_notes_go_to_stderr(run):
    r = run("step", "relu(x)", "x=0")
    assert r.exit_code == 0
    assert "kink at" in r.stderr and "kink at" not in r.stdout
