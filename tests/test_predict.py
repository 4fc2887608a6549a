"""`circuit predict`: learned parameters score new rows; the scores are the circuit's formula."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from click.testing import CliRunner

from circuitcli.cli import main

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"


def run(*args: str, code: int = 0):
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    return result


def write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def saved_svm(tmp_path: Path) -> tuple[str, dict]:
    path = str(tmp_path / "svm.json")
    run("train", "svm.circuit", "--data", str(SAMPLES / "svm.csv"), "--iters", "400",
        "--lr", "0.01", "--seed", "0", "--save", path)
    return path, json.loads(Path(path).read_text())["params"]


def test_scores_are_the_svm_formula_and_labels_their_sign(tmp_path):
    params, p = saved_svm(tmp_path)
    data = write(tmp_path, "new.csv", "id,x,y\nfirst,0.5,0.25\nsecond,-2,1\nthird,4,-1\n")
    result = run("predict", "svm.circuit", "--params", params, "--data", data)
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [r["id"] for r in rows] == ["first", "second", "third"]  # other columns pass through
    for row in rows:
        x, y = float(row["x"]), float(row["y"])
        want = p["a"] * x + p["b"] * y + p["c"]
        assert abs(float(row["score"]) - want) <= 1e-12
        assert row["predicted"] == ("+1" if want > 0 else "-1")
    assert result.stderr == ""  # no label column, no accuracy


def test_accuracy_goes_to_stderr_when_rows_have_labels(tmp_path):
    params, p = saved_svm(tmp_path)
    result = run("predict", "svm.circuit", "--params", params, "--data",
                 str(SAMPLES / "svm.csv"))
    rows = [(1.2, 0.7, 1), (-0.3, -0.5, -1), (3.0, 0.1, 1), (-0.1, -1.0, -1), (-1.0, 1.1, -1),
            (2.1, -3.0, 1)]
    right = sum((p["a"] * x + p["b"] * y + p["c"] > 0) == (label > 0) for x, y, label in rows)
    assert f"({right} of 6 rows, column label)" in result.stderr
    assert result.stdout.splitlines()[0] == "x,y,label,score,predicted"


def test_name_value_overrides_a_learned_parameter(tmp_path):
    params, p = saved_svm(tmp_path)
    data = write(tmp_path, "one.csv", "x,y\n2,3\n")
    result = run("predict", "svm.circuit", "--params", params, "--data", data, "c=10")
    score = float(result.stdout.splitlines()[1].split(",")[2])
    assert abs(score - (p["a"] * 2 + p["b"] * 3 + 10)) <= 1e-12


def test_the_moons_network_predicts_its_training_rows(tmp_path):
    params = str(tmp_path / "mlp.json")
    run("train", "mlp.circuit", "--data", "moons.csv", "--epochs", "100", "--lr", "1.0",
        "--lr-end", "0.1", "--seed", "1", "--save", params)
    result = run("predict", "mlp.circuit", "--params", params, "--data", "moons.csv")
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert len(rows) == 100
    assert all(r["predicted"] == r["label"] for r in rows)
    assert "accuracy 100.0% (100 of 100 rows" in result.stderr


HEAD = '{"format": "circuitcli params", "version": 1, '


def test_bad_parameter_files(tmp_path):
    data = str(SAMPLES / "svm.csv")
    err = run("predict", "svm.circuit", "--params", str(tmp_path / "no.json"), "--data", data,
              code=2).stderr
    assert "no.json: no such parameter file" in err
    broken = write(tmp_path, "broken.json", HEAD + '"params": {"a": 1,}}')
    err = run("predict", "svm.circuit", "--params", broken, "--data", data, code=2).stderr
    assert "broken.json, line 1: not a JSON parameter file" in err
    text = write(tmp_path, "text.json", HEAD + '"params": {"a": "one"}}')
    err = run("predict", "svm.circuit", "--params", text, "--data", data, code=2).stderr
    assert 'params.a is "one", not a finite number' in err
    other = write(tmp_path, "other.json", HEAD + '"params": {"w": 1}}')
    err = run("predict", "svm.circuit", "--params", other, "--data", data, code=2).stderr
    assert "w is not an input of svm.circuit" in err
    partial = write(tmp_path, "partial.json", HEAD + '"params": {"a": 1}}')
    err = run("predict", "svm.circuit", "--params", partial, "--data", data, code=2).stderr
    assert "no value for b, c" in err


def test_bad_rows_name_file_row_and_column(tmp_path):
    params, _ = saved_svm(tmp_path)
    data = write(tmp_path, "bad.csv", "x,y,note\n1,2,fine\n3,,fine\n")
    err = run("predict", "svm.circuit", "--params", params, "--data", data, code=2).stderr
    assert "bad.csv, row 2 (line 3), column y: an empty cell is not a number" in err
    assert len(err.strip().splitlines()) == 1
    data = write(tmp_path, "nofeat.csv", "u,v\n1,2\n")
    err = run("predict", "svm.circuit", "--params", params, "--data", data, code=2).stderr
    assert "none of the circuit's inputs is a column" in err


def test_without_params_the_current_circuit_has_the_learned_values(tmp_path, monkeypatch):
    monkeypatch.setenv("CIRCUIT_SESSION", str(tmp_path / "session.json"))
    _, p = saved_svm(tmp_path)  # training leaves the learned values in the session
    data = write(tmp_path, "one.csv", "x,y\n2,3\n")
    result = run("predict", "--data", data)
    score = float(result.stdout.splitlines()[1].split(",")[2])
    assert abs(score - (p["a"] * 2 + p["b"] * 3 + p["c"])) <= 1e-12
    # a circuit given without --params: its own values, and a clear error for missing ones
    err = run("predict", "score = w*x + c", "--data", data, "c=1", code=2).stderr
    assert "no value for w: not a column of" in err and "--params" in err
    out = run("predict", "score = w*x + c", "--data", data, "c=1", "w=2").stdout
    assert out.splitlines()[1] == "2,3,5.0,+1"


def test_hostile_json_parameter_files_are_one_line_errors(tmp_path):
    data = str(SAMPLES / "svm.csv")
    cases = {
        "long.json": HEAD + '"params": {"a": 1' + "0" * 400 + ', "b": 1, "c": 1}}',
        "digits.json": HEAD + '"params": {"a": ' + "1" * 5001 + "}}",
        "deep.json": "[" * 100_000 + "]" * 100_000,
        "huge.json": HEAD + '"params": {"a": 1e400, "b": 1, "c": 1}}',
        "noformat.json": '{"params": {"a": 1, "b": 1, "c": 1}}',
        "version.json": '{"format": "circuitcli params", "version": 2, "params": {}}',
    }
    why = {"long.json": "params.a is 1000", "digits.json": "not a JSON parameter file",
           "deep.json": "nested too deeply", "huge.json": "params.a is",
           "noformat.json": '"format" is missing', "version.json": "version 2"}
    for name, text in cases.items():
        path = write(tmp_path, name, text)
        err = run("predict", "svm.circuit", "--params", path, "--data", data, code=2).stderr
        assert why[name] in err, (name, err)
        assert len(err.strip().splitlines()) == 1 and len(err) < 300, (name, err)
        assert Path(path).read_text() == text  # left untouched


def test_dash_o_writes_the_csv_and_json_gives_the_scores(tmp_path):
    params, p = saved_svm(tmp_path)
    out = tmp_path / "scored.csv"
    data = str(SAMPLES / "svm.csv")
    result = run("predict", "svm.circuit", "--params", params, "--data", data, "-o", str(out))
    assert result.stdout == ""
    assert f"wrote {out} ({out.stat().st_size} bytes)" in result.stderr
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    want = [p["a"] * float(r["x"]) + p["b"] * float(r["y"]) + p["c"] for r in rows]
    assert [float(r["score"]) for r in rows] == want
    doc = json.loads(run("predict", "svm.circuit", "--params", params, "--data", data,
                         "--json").stdout)
    assert doc["scores"] == want
    assert doc["predicted"] == [1 if s > 0 else -1 for s in want]
    labels = [int(r["label"]) for r in rows]
    right = sum(a == b for a, b in zip(doc["predicted"], labels))
    assert (doc["correct"], doc["accuracy"]) == (right, right / len(rows))
    err = run("predict", "svm.circuit", "--params", params, "--data", data, "-o", data,
              code=2).stderr
    assert "own input" in err


def test_predict_leaves_the_current_circuit_alone(tmp_path, monkeypatch):
    session = tmp_path / "session.json"
    monkeypatch.setenv("CIRCUIT_SESSION", str(session))
    run("grad", "q*w", "q=2", "w=3")
    before = session.read_bytes()
    params, _ = saved_svm(tmp_path)  # train changes it ...
    after_train = session.read_bytes()
    assert after_train != before
    run("predict", "svm.circuit", "--params", params, "--data", str(SAMPLES / "svm.csv"))
    run("predict", "svm.circuit", "--params", params, "--data", str(SAMPLES / "svm.csv"),
        "--json")
    assert session.read_bytes() == after_train  # ... predict does not
