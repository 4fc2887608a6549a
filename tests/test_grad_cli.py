"""`circuit grad` through click: table, colours, JSON, argument shapes and errors."""

from __future__ import annotations

import json
import math

import pytest

ANSI_COLOUR = "\x1b[3"  # the start of a foreground colour code (31 red, 32 green, ...)


def test_table_rows_values_and_gradients(run):
    r = run("grad", "(x+y)*z", "x=-2", "y=5", "z=-4")
    assert r.exit_code == 0, r.output
    lines = r.output.splitlines()
    assert "(x+y)*z" in lines[0] and "out = -12" in lines[0]
    rows = {line.split()[1] if line.startswith("▸") else line.split()[0]: line
            for line in lines[3:]}
    assert set(rows) == {"x", "y", "add1", "z", "out"}
    assert rows["add1"].split("│")[2].strip() == "x + y"
    assert rows["out"].split("│")[2].strip() == "add1 * z"
    # value and gradient columns: hand-checked chain rule
    cells = {k: [c.strip() for c in v.split("│")] for k, v in rows.items()}
    assert [cells[k][3:5] for k in ("x", "y", "add1", "z", "out")] == [
        ["-2", "-4"], ["5", "-4"], ["3", "-4"], ["-4", "3"], ["-12", "1"]]
    assert ANSI_COLOUR not in r.output  # not a terminal: plain text


def test_inputs_are_marked(run):
    r = run("grad", "x*y", "x=2", "y=3")
    assert "▸ x" in r.output and "▸ y" in r.output
    assert "▸ out" not in r.output


def test_colours_by_sign_on_a_terminal(run):
    r = run("grad", "x - y", "x=1", "y=1", env={"FORCE_COLOR": "1", "TERM": "xterm-256color"})
    assert r.exit_code == 0
    assert "\x1b[32m" in r.output  # green: x pulls up
    assert "\x1b[31m" in r.output  # red: y pulls down


@pytest.mark.parametrize("env", [{"NO_COLOR": "1", "FORCE_COLOR": "1"},
                                 {"TERM": "dumb", "FORCE_COLOR": "1"}])
def test_no_colour_when_asked(run, env):
    r = run("grad", "x - y", "x=1", "y=1", env=env)
    assert r.exit_code == 0
    assert ANSI_COLOUR not in r.output


def test_digits_rounds_the_table_only(run):
    r = run("grad", "x / 3", "x=1", "--digits", "3")
    assert "0.333" in r.output and "0.3333" not in r.output
    doc = json.loads(run("grad", "x / 3", "x=1", "--json", "--digits", "3").stdout)
    assert doc["output"]["value"] == 1 / 3


def test_json_document_schema_and_full_precision(run):
    r = run("grad", "sigmoid(a*x + b*y + c)", "a=1", "b=2", "c=-3", "x=-1", "y=3", "--json")
    assert r.exit_code == 0
    doc = json.loads(r.stdout)
    assert set(doc) >= {"expression", "output", "inputs", "nodes", "warnings"}
    assert doc["expression"] == "sigmoid(a*x + b*y + c)"
    assert doc["output"] == {"name": "out", "value": 0.8807970779778823}
    # mpmath at 50 digits: 0.314980756210519552..., 0.209987170807013034...; the notebook's
    # s * (1 - s) gave ...51985 and ...01323, several ulps off; the stable rule is within 2
    assert doc["inputs"]["b"]["value"] == 2.0
    assert abs(doc["inputs"]["b"]["grad"] - 0.314980756210519552) <= 2 * 5.6e-17
    assert abs(doc["inputs"]["y"]["grad"] - 0.209987170807013034) <= 2 * 2.8e-17
    names = [n["name"] for n in doc["nodes"]]
    assert names[-1] == "out" and {"a", "b", "c", "x", "y"} <= set(names)
    for node in doc["nodes"]:
        assert set(node) >= {"name", "gate", "args", "value", "grad", "kink"}
    sig = doc["nodes"][-1]
    assert sig["gate"] == "sigmoid" and len(sig["args"]) == 1
    assert doc["warnings"] == []


def test_json_no_nodes(run):
    doc = json.loads(run("grad", "x*y", "x=2", "y=3", "--json", "--no-nodes").stdout)
    assert "nodes" not in doc
    assert doc["inputs"] == {"x": {"value": 2.0, "grad": 3.0}, "y": {"value": 3.0, "grad": 2.0}}


def test_json_inf_and_nan_are_null_with_warnings(run):
    r = run("grad", "exp(x) - exp(x)", "x=1000", "--json")
    doc = json.loads(r.stdout)
    assert doc["output"]["value"] is None  # inf - inf = nan
    assert doc["warnings"], doc
    assert all(f"warning: {w}" in r.stderr for w in doc["warnings"])  # said on stderr too
    assert not any(isinstance(v, float) and not math.isfinite(v)
                   for n in doc["nodes"] for v in (n["value"], n["grad"]))


def test_kink_flag_in_table_and_json(run):
    r = run("grad", "relu(x) * 3", "x=0")
    assert "kink" in r.output and "subgradient 0" in r.output
    doc = json.loads(run("grad", "relu(x) * 3", "x=0", "--json").stdout)
    assert [n["name"] for n in doc["nodes"] if n["kink"]] == ["relu1"]


def test_expression_starting_with_minus_needs_no_double_dash(run):
    r = run("grad", "-x*y", "x=1", "y=2", "--json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["inputs"]["x"]["grad"] == -2.0


def test_assignments_may_come_first(run):
    r = run("grad", "x=3", "x*x", "--json")
    assert json.loads(r.stdout)["inputs"]["x"]["grad"] == 6.0


def test_circuit_from_stdin(run):
    r = run("grad", "-", "--json", input="a = 2\nb = a * a\n")
    assert json.loads(r.stdout)["inputs"]["a"]["grad"] == 4.0


def test_circuit_from_file(run, tmp_path):
    path = tmp_path / "c.circuit"
    path.write_text("x = 2\nf = x ** 3\n")
    doc = json.loads(run("grad", str(path), "--json").stdout)
    assert doc["inputs"]["x"]["grad"] == 12.0
    r = run("grad", str(path), "x=1")
    assert str(path) in r.output.splitlines()[0]


def test_shipped_sample_by_name_from_anywhere(run, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    doc = json.loads(run("grad", "chain.circuit", "--json").stdout)
    assert doc["output"]["value"] == -12.0


def test_pull_option(run):
    doc = json.loads(run("grad", "x*y", "x=2", "y=3", "--pull", "-2", "--json").stdout)
    assert doc["inputs"]["x"]["grad"] == -6.0


def test_output_option(run):
    doc = json.loads(run("grad", "q = x*y; f = q + x", "x=2", "y=3", "--of", "q",
                         "--json").stdout)
    assert doc["output"] == {"name": "q", "value": 6.0}
    assert doc["inputs"]["x"]["grad"] == 3.0


def test_long_tables_are_cut_to_the_strongest_pulls(run):
    # out = sum of k * (xk * xk): the node xk * xk gets gradient k, every other node 1
    terms = " + ".join(f"{k}*(x{k}*x{k})" for k in range(1, 61))
    values = [f"x{k}=1" for k in range(1, 61)]
    r = run("grad", terms, *values, "--max-rows", "70")
    # 60 inputs and the output stay; 9 rows are left for the strongest pulls: k = 52..60
    assert "rows left out" in r.output
    assert all(f"x{k} * x{k} " in r.output for k in range(52, 61))
    assert not any(f"x{k} * x{k} " in r.output for k in range(1, 52))
    assert all(f"▸ x{k} " in r.output for k in range(1, 61))
    full = run("grad", terms, *values, "--all")
    assert "rows left out" not in full.output and "x1 * x1" in full.output


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["grad", "2x", "x=1"], "write 2*x"),
        (["grad", "x+", "x=1"], "ends early"),
        (["grad", "x*y", "x=1"], "no value for y"),
        (["grad", "x*y", "x=1", "y=2", "w=3"], "no input named w"),
        (["grad", "x", "x=abc"], "must be a finite number"),
        (["grad", "x", "x=1", "extra"], "unexpected argument"),
        (["grad", "missing.circuit"], "no such file"),
        (["grad"], "no circuit given"),
        (["grad", "log(x)", "x=-1"], "log needs a positive number"),
        (["grad", "x", "x=1", "--digits", "0"], "digits"),
        (["grad", "x", "x=1", "--dgits", "3"], "No such option"),
    ],
)
def test_errors_exit_2_with_one_message(run, args, fragment):
    r = run(*args)
    assert r.exit_code == 2, r.output
    assert fragment in r.output
    assert "Traceback" not in r.output
    assert not isinstance(r.exception, Exception) or isinstance(r.exception, SystemExit)


def test_expression_error_has_a_caret_under_the_column(run):
    r = run("grad", "(a+b)(c+d)", "a=1", "b=1", "c=1", "d=1")
    err = r.output.splitlines()
    assert err[0].startswith("error: 1:6:")
    assert err[1].strip() == "(a+b)(c+d)"
    assert err[2].index("^") - err[1].index("(") == 5


def test_version_and_help_show_examples(run):
    assert "0.1.0" in run("--version").output
    top = run("--help").output
    assert 'circuit grad "(x+y)*z" x=-2 y=5 z=-4' in top
    sub = run("grad", "--help").output
    assert "Examples:" in sub and "circuit grad" in sub


# -- the contract: values, files, rows, stderr ----------------------------------------------
@pytest.mark.parametrize("value", ["inf", "-inf", "nan", "1e400", "-1e400", "Infinity"])
def test_values_must_be_finite_numbers_one_answer(run, value):
    r = run("grad", "x*2", f"x={value}")
    assert r.exit_code == 2
    assert r.stderr.splitlines()[0] == (f"error: 1:3: x={value}: the value of x must be a "
                                        "finite number (such as x=-2 or x=1.5e-3)")


def test_a_directory_is_a_file_error(run, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "lesson.circuit").mkdir()
    r = run("grad", "lesson.circuit")
    assert r.exit_code == 2 and "is a directory" in r.stderr and "internal" not in r.output


def test_a_file_that_is_not_utf8_names_the_byte(run, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "bad.circuit").write_bytes(b"x = 1\ny = \xff2\nx*y\n")
    r = run("grad", "bad.circuit")
    assert r.exit_code == 2
    assert "not UTF-8" in r.stderr and "byte 10" in r.stderr  # b"x = 1\ny = " is 10 bytes


def test_a_bare_sample_name_asks_for_the_extension(run):
    r = run("grad", "neuron")
    assert r.exit_code == 2 and "did you mean neuron.circuit?" in r.stderr


def test_a_bare_name_is_still_an_expression_when_it_has_a_value(run, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "lesson.circuit").write_text("a = 2\na*a\n")
    assert "did you mean lesson.circuit?" in run("grad", "lesson").stderr
    r = run("grad", "lesson", "lesson=3", "--json", "--no-nodes")
    assert r.exit_code == 0 and json.loads(r.stdout)["output"]["value"] == 3.0
    # a name that is no file's stem stays an expression, as always
    r = run("grad", "x", "x=1", "--json", "--no-nodes")
    assert r.exit_code == 0 and json.loads(r.stdout)["inputs"]["x"]["grad"] == 1.0


def test_max_rows_bounds_the_table_even_when_inputs_are_many(run):
    # the trained MLP: 337 parameters, two features (341 rows for --max-rows 8 once)
    trained = run("train", "mlp.circuit", "--data", "moons.csv", "--epochs", "1", "--lr", "0.1")
    assert trained.exit_code == 0, trained.output
    every = run("grad", "--all")
    bounded = run("grad", "--max-rows", "8")
    assert every.exit_code == bounded.exit_code == 0

    def rows(text: str) -> int:
        return sum("│" in line for line in text.splitlines())

    total = rows(every.stdout)
    assert total > 339  # 337 parameters and 2 features are inputs, and more nodes
    assert rows(bounded.stdout) == 8
    assert f"{total - 8} rows left out" in bounded.stdout


def test_kink_notes_go_to_stderr_the_table_to_stdout(run):
    r = run("grad", "relu(x) * y", "x=0", "y=2")
    assert r.exit_code == 0
    assert "kink at" in r.stderr and "kink at" not in r.stdout
    assert "▸ x" in r.stdout


def test_a_missing_value_names_its_input_and_a_value_given_twice_is_an_error(run):
    r = run("grad", "x*y", "x=-2", "--no-session")
    assert r.exit_code == 2 and "no value for y" in r.stderr and "(y = 1.5)" in r.stderr
    r = run("grad", "x*y", "x=1", "y=2", "x=3", "--no-session")
    assert r.exit_code == 2 and "x is given twice" in r.stderr


@pytest.mark.parametrize("value", ["inf", "nan", "1e400", "1_000"])
def test_number_options_take_finite_numbers_as_values_do(run, value):
    r = run("grad", "x", "x=1", "--pull", value, "--no-session")
    assert r.exit_code == 2 and "is not a finite number" in r.stderr


def test_json_nulls_for_inf_come_with_a_warning_on_stderr(run):
    # exp(1000) overflows (e^1000 > 1.8e308): the JSON holds null, stderr says where
    r = run("grad", "exp(x)*y", "x=1000", "y=0", "--json", "--no-session")
    assert r.exit_code == 0
    doc = json.loads(r.stdout)
    assert doc["output"]["value"] is None
    assert "warning: value of exp1 = exp(x) is inf" in r.stderr


def test_kink_notes_are_counted_past_the_first_eight(run):
    """20 relu gates at 0 are 20 kinks: stderr names 8 of them and counts 12 more, as it
    does for warnings (a big circuit had 7,508 kink lines); --json lists all 20."""
    text = " + ".join(f"relu(x * {k})" for k in range(1, 21))
    r = run("--no-session", "grad", text, "x=0")
    assert r.exit_code == 0, r.output
    assert r.stderr.count("kink at relu") == 8
    assert "... and 12 more kinks (--json lists them all)" in r.stderr
    r = run("--no-session", "grad", text, "x=0", "--json")
    assert len(json.loads(r.stdout)["kinks"]) == 20
