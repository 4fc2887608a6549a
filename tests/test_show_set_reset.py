"""`circuit show`, `circuit set` and `circuit reset`: look at, change and forget the current
circuit."""

from __future__ import annotations

import json
import math

import pytest


def test_show_json_is_the_documented_document(doc, run):
    run("grad", "(x+y)*z", "x=-2", "y=5", "z=-4")
    assert doc("show") == {"circuit": "(x+y)*z", "inputs": {"x": -2.0, "y": 5.0, "z": -4.0},
                           "output": {"name": "out", "value": -12.0}}


def test_show_after_a_step_shows_the_new_values(doc, run):
    run("grad", "(x+y)*z", "x=-2", "y=5", "z=-4")
    run("step", "--lr", "0.01")
    d = doc("show")
    assert d["inputs"] == {"x": -2 + 0.01 * -4, "y": 5 + 0.01 * -4, "z": -4 + 0.01 * 3}
    assert d["output"]["value"] == (d["inputs"]["x"] + d["inputs"]["y"]) * d["inputs"]["z"]


def test_show_table_has_text_values_and_output(run, session_file):
    run("grad", "neuron.circuit")
    r = run("show")
    assert r.exit_code == 0
    assert "neuron.circuit" in r.output and "s = sigmoid(axpbypc)" in r.output
    assert "s = 0.880797" in r.output
    assert str(session_file) in r.output


def test_show_names_the_output_chosen_with_output(doc, run):
    run("grad", "q = x + y\nf = q * z", "x=-2", "y=5", "z=-4", "--of", "q")
    assert doc("show")["output"] == {"name": "q", "value": 3.0}


def test_show_with_nothing_current_is_an_error(run):
    r = run("show")
    assert r.exit_code == 2 and "no current circuit" in r.output


def test_show_at_a_point_outside_the_domain_still_shows_the_state(doc, run):
    run("grad", "log(x)", "x=2")
    r = run("set", "x=-1")
    assert r.exit_code == 0, r.output
    assert "argument is -1" in r.output
    assert doc("show")["output"] == {"name": "out", "value": None}


def test_set_changes_values_and_shows_what_they_were(doc, run):
    run("grad", "(x+y)*z", "x=-2", "y=5", "z=-4")
    r = run("set", "x=3", "z=0.5")
    assert r.exit_code == 0, r.output
    assert "was" in r.output
    d = doc("show")
    assert d["inputs"] == {"x": 3.0, "y": 5.0, "z": 0.5}
    assert d["output"]["value"] == (3 + 5) * 0.5


def test_set_then_step_walks_from_the_new_values(run):
    run("grad", "x*y", "x=-2", "y=3")
    run("set", "x=1")
    d = json.loads(run("step", "--json").stdout)
    assert d["inputs"]["x"]["before"] == 1.0
    assert d["inputs"]["x"]["after"] == 1 + 0.01 * 3


def test_set_can_make_a_circuit_current_without_computing_a_gradient(doc, run):
    assert run("set", "x*y + 1", "x=2", "y=3").exit_code == 0
    assert doc("show")["output"]["value"] == 7.0


@pytest.mark.parametrize("args, message", [
    (["w=1"], "no input named w"),
    (["q=1"], "computed by the circuit"),
    ([], "nothing to set"),
    (["x=abc"], "must be a finite number"),
])
def test_set_bad_input_is_a_one_line_error(run, session_file, args, message):
    run("grad", "q = x + y\nf = q * z", "x=-2", "y=5", "z=-4")
    before = session_file.read_bytes()
    r = run("set", *args)
    assert r.exit_code == 2 and message in r.output and "Traceback" not in r.output
    assert session_file.read_bytes() == before


def test_set_with_the_session_off_is_an_error(run):
    r = run("set", "x=1", "--no-session")
    assert r.exit_code == 2 and "session is off" in r.output


def test_reset_forgets_the_current_circuit(run, session_file):
    run("grad", "x*y", "x=-2", "y=3")
    r = run("reset")
    assert r.exit_code == 0 and "forgot" in r.output
    assert not session_file.exists()
    assert run("show").exit_code == 2


def test_reset_with_nothing_to_forget_says_so(run):
    r = run("reset")
    assert r.exit_code == 0 and "no current circuit" in r.output


def test_reset_with_the_session_off_touches_nothing(run, session_file):
    run("grad", "x*y", "x=-2", "y=3")
    r = run("reset", "--no-session")
    assert r.exit_code == 0 and "off" in r.output
    assert session_file.exists()


def test_reset_honours_session_path(run, session_file, tmp_path):
    other = tmp_path / "other.json"
    run("grad", "x*y", "x=-2", "y=3", "--session", str(other))
    run("grad", "x*y", "x=-2", "y=3")
    assert run("reset", "--session", str(other)).exit_code == 0
    assert not other.exists() and session_file.exists()


def test_show_a_file_circuit_at_the_values_it_will_use(run, doc, session_file):
    assert run("grad", "x*y", "x=1", "y=2").exit_code == 0
    before = session_file.read_bytes()
    d = doc("show", "neuron.circuit", "a=2")
    # neuron.circuit declares a = 1, b = 2, c = -3, x = -1, y = 3; a=2 overrides a
    assert d["inputs"] == {"a": 2.0, "b": 2.0, "c": -3.0, "x": -1.0, "y": 3.0}
    assert d["output"]["value"] == 1 / (1 + math.exp(-(2 * -1 + 2 * 3 - 3)))
    r = run("show", "neuron.circuit", "a=2")
    assert r.exit_code == 0
    assert "a = 1" not in r.stdout  # no stale default beside the table
    row = next(line for line in r.stdout.splitlines() if line.startswith("▸ a"))
    assert [c.strip() for c in row.split("│")] == ["▸ a", "2", "1"]  # value, what the file says
    assert "not the current circuit" in r.stdout
    assert session_file.read_bytes() == before  # show only looks


def test_show_lists_the_first_lines_of_a_long_circuit(run, doc, tmp_path):
    """A generated circuit of 250 statements: show lists 200 of them and counts the other
    50 (rich lays out every line it prints: a 300,000-line listing took minutes); --json
    still gives the whole text."""
    lines = ["q0 = x * 2"] + [f"q{k} = q{k - 1} + 1" for k in range(1, 250)]
    path = tmp_path / "long.circuit"
    path.write_text("\n".join(lines) + "\n")
    r = run("show", str(path), "x=1")
    assert r.exit_code == 0, r.output
    assert "q199 = q198 + 1" in r.stdout and "q200 = q199 + 1" not in r.stdout
    assert "... and 50 more lines (--json gives the whole text)" in r.stdout
    assert doc("show", str(path), "x=1")["circuit"] == path.read_text()
