"""`circuit train`: the notebook's SVM replayed exactly, the guide's network and micrograd's
moons MLP learning, gradients checked against plain-Python objectives, and bad data."""

from __future__ import annotations

import json
import math
import random
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from circuitcli.cli import main
from circuitcli.core.parser import parse
from circuitcli.io.data import read_csv
from circuitcli.methods.model import prepare
from circuitcli.methods.train import Schedule, train

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"
SVM_ROWS = [(1.2, 0.7, 1), (-0.3, -0.5, -1), (3.0, 0.1, 1), (-0.1, -1.0, -1), (-1.0, 1.1, -1),
            (2.1, -3.0, 1)]


def run(*args: str, ok: bool = True):
    result = CliRunner().invoke(main, list(args))
    if ok:
        assert result.exit_code == 0, result.output
    return result


def run_json(*args: str) -> dict:
    return json.loads(run(*args, "--json").stdout)


def write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


# ---- the notebook's SVM, exactly ------------------------------------------------------------


def notebook_svm(seed: int, iters: int = 400, step_size: float = 0.01) -> tuple[float, ...]:
    """The notebook's SVM loop in plain Python: its Unit/gate arithmetic, pull and update.

    Row choice: random.Random(seed).randrange(rows) per iteration, as docs/train.md says.
    """
    a, b, c = 1.0, -2.0, -1.0
    rng = random.Random(seed)
    for _ in range(iters):
        x, y, label = SVM_ROWS[rng.randrange(len(SVM_ROWS))]
        score = a * x + b * y + c  # mulg0, mulg1, addg0, addg1
        pull = 0.0
        if label == 1 and score < 1:
            pull = 1.0
        if label == -1 and score > -1:
            pull = -1.0
        a_grad = 0.0 + x * pull  # mulg0.backward: a.grad += x.value * ax.grad
        b_grad = 0.0 + y * pull
        c_grad = 0.0 + pull
        a_grad += -a  # regularization: pull a and b towards zero, not c
        b_grad += -b
        a += step_size * a_grad
        b += step_size * b_grad
        c += step_size * c_grad
    return a, b, c


@pytest.mark.parametrize("seed", [0, 1, 7, 12345])
def test_svm_runs_the_notebooks_update_rule(seed):
    doc = run_json("train", "svm.circuit", "--data", str(SAMPLES / "svm.csv"), "--iters", "400",
                   "--lr", "0.01", "--seed", str(seed))
    a, b, c = notebook_svm(seed)
    assert abs(doc["params"]["a"] - a) <= 1e-12
    assert abs(doc["params"]["b"] - b) <= 1e-12
    assert abs(doc["params"]["c"] - c) <= 1e-12
    # the notebook's starting values, and a, b regularized but not c (the file says so)
    assert doc["start"] == {"a": 1.0, "b": -2.0, "c": -1.0}
    assert doc["reg_on"] == ["a", "b"] and doc["reg"] == 1.0


def test_svm_accuracy_is_what_the_learned_line_gives():
    doc = run_json("train", "svm.circuit", "--data", str(SAMPLES / "svm.csv"), "--iters", "400",
                   "--lr", "0.01", "--seed", "3")
    p = doc["params"]
    right = sum((p["a"] * x + p["b"] * y + p["c"] > 0) == (label > 0) for x, y, label in SVM_ROWS)
    assert doc["accuracy"] == right / 6
    assert doc["history"][-1] == {"step": 400, "loss": doc["loss"], "accuracy": doc["accuracy"]}


def full_batch_hinge(params, rows, reg, reg_on, lr, lr_end, steps, stop=None):
    """Full-batch gradient descent on mean hinge + reg/2 * sum p**2, in plain Python
    (`stop`: only the first `stop` of the `steps` steps, as an interrupted run)."""
    a, b, c = params
    for t in range(steps if stop is None else stop):
        ga = gb = gc = 0.0
        for x, y, label in rows:
            if label * (a * x + b * y + c) < 1:
                ga -= label * x
                gb -= label * y
                gc -= label
        n = len(rows)
        ga, gb, gc = ga / n + reg * a, gb / n + reg * b, gc / n
        rate = lr + (lr_end - lr) * t / steps
        a, b, c = a - rate * ga, b - rate * gb, c - rate * gc
    return a, b, c


def test_full_batch_with_linear_decay_matches_a_plain_replay():
    doc = run_json("train", "svm.circuit", "--data", str(SAMPLES / "svm.csv"), "--epochs", "50",
                   "--lr", "0.5", "--lr-end", "0.05", "--reg", "0.1")
    want = full_batch_hinge((1.0, -2.0, -1.0), SVM_ROWS, 0.1, "ab", 0.5, 0.05, 50)
    got = (doc["params"]["a"], doc["params"]["b"], doc["params"]["c"])
    assert got == pytest.approx(want, abs=1e-12)
    assert doc["steps"] == 50


def test_minibatches_follow_the_documented_shuffle():
    doc = run_json("train", "svm.circuit", "--data", str(SAMPLES / "svm.csv"), "--epochs", "3",
                   "--batch", "4", "--lr", "0.1", "--reg", "0", "--seed", "5")
    a, b, c = 1.0, -2.0, -1.0
    rng = random.Random(5)
    order = list(range(6))
    for _ in range(3):
        rng.shuffle(order)
        for batch in (order[:4], order[4:]):
            ga = gb = gc = 0.0
            for i in batch:
                x, y, label = SVM_ROWS[i]
                if label * (a * x + b * y + c) < 1:
                    ga, gb, gc = ga - label * x, gb - label * y, gc - label
            a, b, c = (a - 0.1 * ga / len(batch), b - 0.1 * gb / len(batch),
                       c - 0.1 * gc / len(batch))
    assert (doc["params"]["a"], doc["params"]["b"], doc["params"]["c"]) == pytest.approx(
        (a, b, c), abs=1e-12)
    assert doc["steps"] == 6


# ---- networks that learn --------------------------------------------------------------------


def test_moons_mlp_reaches_full_training_accuracy():
    doc = run_json("train", str(SAMPLES / "mlp.circuit"), "--data", str(SAMPLES / "moons.csv"),
                   "--loss", "hinge", "--reg", "1e-4", "--epochs", "100", "--lr", "1.0",
                   "--lr-end", "0.1", "--seed", "1")
    assert len(doc["params"]) == 337
    assert doc["accuracy"] == 1.0
    assert doc["history"][0]["loss"] > doc["loss"]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_two_layer_network_separates_the_six_points(seed):
    doc = run_json("train", "nn.circuit", "--data", str(SAMPLES / "svm.csv"), "--epochs", "300",
                   "--lr", "0.1", "--seed", str(seed))
    assert len(doc["params"]) == 13
    p = doc["params"]

    def score(x, y):
        hidden = [max(0.0, p[f"a{k}"] * x + p[f"b{k}"] * y + p[f"c{k}"]) for k in (1, 2, 3)]
        return p["a4"] * hidden[0] + p["b4"] * hidden[1] + p["c4"] * hidden[2] + p["d4"]

    assert all((score(x, y) > 0) == (label > 0) for x, y, label in SVM_ROWS)
    assert doc["accuracy"] == 1.0


def test_random_starts_come_from_the_documented_generator():
    doc = run_json("train", "nn.circuit", "--data", str(SAMPLES / "svm.csv"), "--epochs", "1",
                   "--seed", "42")
    rng = random.Random(42)
    names = ["a1", "b1", "c1", "a2", "b2", "c2", "a3", "b3", "c3", "a4", "b4", "c4", "d4"]
    assert doc["start"] == {name: rng.uniform(-0.5, 0.5) for name in names}


def test_same_seed_same_run_bit_for_bit_and_another_seed_differs():
    args = ("train", "nn.circuit", "--data", str(SAMPLES / "svm.csv"), "--epochs", "30",
            "--batch", "2", "--seed", "9")
    first, second = run_json(*args), run_json(*args)
    assert first == second
    other = run_json(*args[:-1], "10")
    assert other["params"] != first["params"]


# ---- gradients on batches: array gradients summed over rows --------------------------------


SMOOTH = """
h = tanh(a*x + b*y + c)
k = sigmoid(p*x*y - q)
score = w*h + v*k*k + a*b + u
"""


def objective(params, rows, loss, reg, reg_on):
    """J in plain Python: mean loss of the circuit above plus reg/2 * sum of squares."""
    total = 0.0
    for x, y, label in rows:
        h = math.tanh(params["a"] * x + params["b"] * y + params["c"])
        k = 1 / (1 + math.exp(-(params["p"] * x * y - params["q"])))
        s = params["w"] * h + params["v"] * k * k + params["a"] * params["b"] + params["u"]
        if loss == "logistic":
            total += math.log1p(math.exp(-label * s))
        else:
            total += 0.5 * (s - label) ** 2
    return total / len(rows) + 0.5 * reg * sum(params[n] ** 2 for n in reg_on)


coords = st.floats(-2, 2, allow_nan=False)


@settings(max_examples=40, deadline=None)
@given(rows=st.lists(st.tuples(coords, coords, st.sampled_from([-1.0, 1.0])), min_size=1,
                     max_size=12),
       start=st.lists(st.floats(-1, 1), min_size=8, max_size=8),
       loss=st.sampled_from(["logistic", "square"]), reg=st.sampled_from([0.0, 0.3]))
def test_batch_gradient_is_the_gradient_of_the_objective(rows, start, loss, reg):
    circuit = parse(SMOOTH)
    import numpy as np

    from circuitcli.io.data import Data

    data = Data("rows.csv", ["x", "y", "label"],
                {"x": np.array([r[0] for r in rows]), "y": np.array([r[1] for r in rows]),
                 "label": np.array([r[2] for r in rows])}, list(range(2, len(rows) + 2)))
    names = ["a", "b", "c", "p", "q", "w", "v", "u"]
    given_values = dict(zip(names, start))
    model = prepare(circuit, data, given_values, loss=loss, reg=reg, reg_on=["a", "w"])
    result = train(model, Schedule(iters=0))  # no step: loss and gradient at the start
    assert result.loss == pytest.approx(objective(given_values, rows, loss, reg, "aw"),
                                        rel=1e-12, abs=1e-12)
    h = 1e-6
    for name in names:
        up = {**given_values, name: given_values[name] + h}
        down = {**given_values, name: given_values[name] - h}
        numeric = (objective(up, rows, loss, reg, "aw")
                   - objective(down, rows, loss, reg, "aw")) / (2 * h)
        assert result.grads[name] == pytest.approx(numeric, rel=1e-5, abs=1e-6), name


def test_parameter_reaching_the_output_only_through_other_parameters():
    # `a*b` holds no feature: its gradient reaches a and b through an array pull all the same
    circuit = parse("unused = 3*z\nscore = (a*b)*x + c")
    data = read_csv(str(SAMPLES / "svm.csv"))
    model = prepare(circuit, data, {"a": 2.0, "b": 3.0, "c": 0.0, "z": 1.0}, loss="square")
    result = train(model, Schedule(iters=0))
    xs = [r[0] for r in SVM_ROWS]
    ys = [r[2] for r in SVM_ROWS]
    slopes = [(6.0 * x - y) / 6 for x, y in zip(xs, ys)]  # d mean(0.5*(s-y)^2) / ds per row
    assert result.grads["a"] == pytest.approx(sum(s * 3.0 * x for s, x in zip(slopes, xs)))
    assert result.grads["b"] == pytest.approx(sum(s * 2.0 * x for s, x in zip(slopes, xs)))
    assert result.grads["c"] == pytest.approx(sum(slopes))
    assert result.grads["z"] == 0.0
    assert all(isinstance(g, float) for g in result.grads.values())


# ---- the command's output -------------------------------------------------------------------


def test_table_plots_and_no_progress_bar_when_not_a_terminal():
    out = run("train", "svm.circuit", "--data", str(SAMPLES / "svm.csv"), "--iters", "400",
              "--lr", "0.01", "--seed", "3").stdout
    assert "accuracy 100.0% (6 of 6 rows)" in out
    assert "loss over the run" in out and "decision regions" in out
    # no progress bar: it would start a line with "training" and hide the cursor
    assert not any(line.startswith("training") for line in out.splitlines())
    assert "\x1b" not in out
    for name in ("a", "b", "c"):
        assert any(line.split()[0] == name for line in out.splitlines() if line.strip())


def test_json_is_pure_json_with_the_documented_keys():
    doc = run_json("train", "svm.circuit", "--data", str(SAMPLES / "svm.csv"), "--iters", "10")
    assert {"params", "loss", "accuracy", "history"} <= set(doc)
    assert all(set(p) == {"step", "loss", "accuracy"} for p in doc["history"])
    assert [p["step"] for p in doc["history"]] == list(range(11))


def test_decision_grid_is_the_score_at_cell_centres():
    from circuitcli.render.train import boundary_plot

    circuit = parse(SAMPLES.joinpath("svm.circuit").read_text(), "svm.circuit")
    model = prepare(circuit, read_csv(str(SAMPLES / "svm.csv")), {"a": 1.0, "b": 0.0, "c": -1.0})
    from circuitcli.methods.model import decision_grid

    scores, (x0, x1), (y0, y1) = decision_grid(model, model.start, 40, 10)
    for r, c in [(0, 0), (3, 17), (9, 39)]:
        x = x0 + (c + 0.5) * (x1 - x0) / 40
        assert scores[r, c] == pytest.approx(x - 1.0)
    result = train(model, Schedule(iters=0))
    text = boundary_plot(result, (scores, (x0, x1), (y0, y1))).plain.splitlines()
    # score = x - 1: blank left of x = 1, dots right of it, on every line of the plot
    split = int((1.0 - x0) / (x1 - x0) * 40)
    for line in text[:10]:
        cells = line[1:]
        assert set(cells[: split - 1]) <= {" ", "o", "+"}
        assert set(cells[split + 1:]) <= {"·", "+", "o"}


def test_loss_plot_falls_from_top_left_to_bottom_right():
    from circuitcli.methods.train import Point
    from circuitcli.render.train import loss_plot

    history = [Point(k, 10.0 - k, None) for k in range(11)]
    lines = loss_plot(history, width=20, height=5).plain.splitlines()
    body = [line.split("┤", 1)[-1].split("│", 1)[-1] for line in lines[:5]]
    assert body[0][0] != "\u2800" and body[-1][-1] != "\u2800"
    assert body[0][-1] == "\u2800" and body[-1][0] == "\u2800"
    assert lines[0].lstrip().startswith("10")


def test_save_writes_the_learned_parameters(tmp_path):
    folder = tmp_path / "out"
    folder.mkdir()
    target = folder / "params.json"
    doc = run_json("train", "svm.circuit", "--data", str(SAMPLES / "svm.csv"), "--iters", "50",
                   "--save", str(target))
    saved = json.loads(target.read_text())
    assert saved["params"] == doc["params"]
    assert saved["features"] == ["x", "y"] and saved["label"] == "label"
    assert [p.name for p in folder.iterdir()] == ["params.json"]  # no temporary file left
    err = bad("train", "svm.circuit", "--data", str(SAMPLES / "svm.csv"), "--save",
              str(tmp_path / "missing" / "p.json"))
    assert "missing" in err and len(err.strip().splitlines()) == 1


def test_trained_values_become_the_current_circuit(tmp_path, monkeypatch):
    session = tmp_path / "session.json"
    monkeypatch.setenv("CIRCUIT_SESSION", str(session))
    doc = run_json("train", "svm.circuit", "--data", str(SAMPLES / "svm.csv"), "--iters", "20")
    saved = json.loads(session.read_text())
    values = saved["inputs"]
    assert {k: values[k] for k in "abc"} == doc["params"]
    assert (values["x"], values["y"]) == (1.2, 0.7)  # the first row's features
    # no circuit given: train the current one, starting where the last run stopped
    again = run_json("train", "--data", str(SAMPLES / "svm.csv"), "--iters", "1", "--seed", "4")
    assert again["start"] == doc["params"]


# ---- bad input: one line naming the file, row and column, exit 2 ----------------------------


def bad(*args: str) -> str:
    result = run(*args, ok=False)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    return result.stderr


def test_non_numeric_cell(tmp_path):
    path = write(tmp_path, "d.csv", "x,y,label\n1,2,+1\n3,oops,-1\n")
    err = bad("train", "svm.circuit", "--data", path)
    assert "d.csv, row 2 (line 3), column y: 'oops' is not a number" in err
    assert len(err.strip().splitlines()) == 1


def test_empty_file_and_header_only(tmp_path):
    err = bad("train", "svm.circuit", "--data", write(tmp_path, "e.csv", ""))
    assert "e.csv: the file is empty" in err
    err = bad("train", "svm.circuit", "--data", write(tmp_path, "h.csv", "x,y,label\n"))
    assert "h.csv: no data rows" in err


def test_missing_label_column_and_ragged_row(tmp_path):
    err = bad("train", "svm.circuit", "--data", write(tmp_path, "m.csv", "x,y,lab\n1,2,1\n"))
    assert "m.csv, line 1 (the header): no label column label; did you mean lab?" in err
    err = bad("train", "svm.circuit", "--data",
              write(tmp_path, "r.csv", "x,y,label\n1,2,1\n1,2\n"))
    assert "r.csv, row 2 (line 3): 2 cells, but the header has 3 columns" in err


def test_label_that_is_not_a_class(tmp_path):
    path = write(tmp_path, "l.csv", "x,y,label\n1,2,1\n1,2,0\n")
    err = bad("train", "svm.circuit", "--data", path, "--loss", "logistic")
    assert "l.csv, row 2 (line 3), column label: 0 is not a class label" in err
    # the square loss takes any number
    run("train", "svm.circuit", "--data", path, "--loss", "square", "--iters", "3")


def test_feature_given_a_value_on_the_command_line():
    err = bad("train", "svm.circuit", "--data", str(SAMPLES / "svm.csv"), "x=2")
    assert "svm.csv, line 1 (the header), column 1: x is a data column" in err


def test_missing_file_unknown_names_and_clashing_schedules(tmp_path):
    assert "nope.csv: no such CSV file" in bad("train", "svm.circuit", "--data", "nope.csv")
    err = bad("train", "svm.circuit", "--data", str(SAMPLES / "svm.csv"), "--reg-on", "a,bb")
    assert "--reg-on: bb is not a parameter; did you mean b?" in err
    err = bad("train", "svm.circuit", "--data", str(SAMPLES / "svm.csv"), "--reg-on", "x")
    assert "x is a data column (a feature)" in err
    err = bad("train", "svm.circuit", "--data", str(SAMPLES / "svm.csv"), "--iters", "3",
              "--epochs", "2")
    assert "give one of them" in err
    err = bad("train", "svm.circuit", "--data", str(SAMPLES / "svm.csv"), "q=1")
    assert "no input named q" in err


def test_domain_error_names_the_row_and_points_at_the_node(tmp_path):
    path = write(tmp_path, "d.csv", "x,label\n1,1\n-2,-1\n")
    err = bad("train", "score = log(a*x) + c", "--data", path, "a=1", "c=0")
    assert "d.csv, row 2 (line 3), step 0: log(mul1): argument is -2" in err
    assert "^" in err


def test_divergence_is_reported_not_a_traceback(tmp_path):
    err = bad("train", "score = a*x*x*x", "--data", str(SAMPLES / "svm.csv"), "--loss", "square",
              "--lr", "1e6", "--epochs", "50", "a=1")
    assert "training diverged at step" in err and "smaller --lr" in err


def test_bad_train_directive_points_at_it(tmp_path):
    path = write(tmp_path, "m.circuit", "# train: --reg lots\nscore = a*x + b*y + c\n")
    err = bad("train", path, "--data", str(SAMPLES / "svm.csv"))
    assert "--reg needs a number >= 0, not lots" in err
    assert "^^^^" in err


def test_moons_sample_is_what_its_generator_writes(tmp_path):
    import subprocess
    import sys

    out = tmp_path / "moons.csv"
    subprocess.run([sys.executable, str(SAMPLES / "make_moons.py"), str(out)], check=True)
    assert out.read_text() == (SAMPLES / "moons.csv").read_text()
    rows = out.read_text().splitlines()[1:]
    assert len(rows) == 100 and sum(r.endswith(",+1") for r in rows) == 50
    mlp = tmp_path / "mlp.circuit"
    subprocess.run([sys.executable, str(SAMPLES / "make_mlp.py"), str(mlp)], check=True)
    assert mlp.read_text() == (SAMPLES / "mlp.circuit").read_text()


def test_square_loss_fits_the_least_squares_line(tmp_path):
    xs = [0.0, 0.5, 1.0, 1.5, 2.0, 3.0]
    ys = [1.1, 1.9, 3.2, 3.9, 5.1, 7.0]
    path = write(tmp_path, "line.csv", "x,label\n" + "".join(
        f"{x},{y}\n" for x, y in zip(xs, ys)))
    doc = run_json("train", "score = a*x + c", "--data", path, "--loss", "square",
                   "--epochs", "4000", "--lr", "0.1", "a=0", "c=0")
    n = len(xs)
    mx, my = sum(xs) / n, sum(ys) / n
    slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sum((x - mx) ** 2 for x in xs)
    assert doc["params"]["a"] == pytest.approx(slope, abs=1e-9)
    assert doc["params"]["c"] == pytest.approx(my - slope * mx, abs=1e-9)
    assert doc["accuracy"] is None  # labels are not classes: no accuracy
    params = str(tmp_path / "line.json")
    run("train", "score = a*x + c", "--data", path, "--loss", "square", "--epochs", "10",
        "--save", params)
    out = run("predict", "score = a*x + c", "--params", params, "--data", path).stdout
    assert out.splitlines()[0] == "x,label,score"  # a regression: no predicted-class column


def test_progress_bar_on_a_terminal_but_never_with_json(monkeypatch):
    import io

    from rich.console import Console

    import circuitcli.commands.train as command_module

    screen = io.StringIO()
    report = io.StringIO()
    monkeypatch.setattr(command_module, "make_console",  # stderr is the terminal here
                        lambda stderr=False: Console(file=screen if stderr else report,
                                                     force_terminal=stderr, width=100))
    args = ("train", "svm.circuit", "--data", str(SAMPLES / "svm.csv"), "--iters", "400",
            "--lr", "0.01", "--seed", "3")
    doc = run_json(*args)  # pure JSON on stdout, and nothing drawn on the terminal
    assert doc["accuracy"] == 1.0 and screen.getvalue() == ""
    run(*args)
    drawn = screen.getvalue()
    assert "\x1b[?25l" in drawn  # the progress bar hides the cursor while it runs
    assert "400/400" in drawn and "accuracy 100%" in drawn
    assert "loss over the run" in report.getvalue()  # the report goes to stdout
    assert "loss over the run" not in drawn


def test_directive_options_and_command_line_precedence(tmp_path):
    path = write(tmp_path, "m.circuit",
                 "# train: --loss=square --reg 0.5 --reg-on b --label y2 --lr 0.2\n"
                 "score = a*x + b*y + c\n")
    data = write(tmp_path, "d.csv", "x,y,y2\n1,2,3\n2,1,1\n")
    doc = run_json("train", path, "--data", data, "--iters", "1", "a=0", "b=0", "c=0")
    assert (doc["loss_function"], doc["reg"], doc["reg_on"], doc["label"]) == (
        "square", 0.5, ["b"], "y2")
    # one step from zero at lr 0.2 on one row: p -= 0.2 * (score - label) * feature
    x, y, label = [(1, 2, 3), (2, 1, 1)][random.Random(0).randrange(2)]
    assert doc["params"] == pytest.approx({"a": 0.2 * label * x, "b": 0.2 * label * y,
                                           "c": 0.2 * label}, abs=1e-15)
    err = bad("train", path, "--data", data, "--label", "x")
    assert "x is the label column; the circuit cannot also use it as an input" in err
    bad_key = write(tmp_path, "k.circuit", "# train: --epochs 3\nscore = a*x\n")
    err = bad("train", bad_key, "--data", data)
    assert "unknown option --epochs" in err and "^^^^^^^^" in err


# ---- the compiled batch path against the gate-by-gate interpreter ---------------------------


def interpreted_full_batch(model, lr: float, steps: int) -> dict[str, float]:
    """Full-batch hinge descent through evaluate.forward/backward, gate by gate (the old path)."""
    import numpy as np

    from circuitcli.core.backend import numpy_backend
    from circuitcli.core.evaluate import backward, forward

    B = numpy_backend()
    circuit = model.circuit
    X = {name: model.data.values[name] for name in model.features}
    y = model.data.values[model.label]
    params = dict(model.start)
    for _ in range(steps):
        with np.errstate(all="ignore"):
            vals = forward(circuit, {**params, **X}, backend=B)
            s = vals[circuit.output]
            slope = np.where(y * s < 1.0, -y, 0.0)  # d max(0, 1 - y*s) / ds
            grads = backward(circuit, vals, pull=slope / len(y), backend=B)
        for name in model.params:
            g = float(np.sum(grads[circuit.inputs[name]]))
            if name in model.reg_on:
                g += model.reg * params[name]
            params[name] -= lr * g
    return params


def test_compiled_training_equals_the_gate_by_gate_interpreter():
    circuit = parse((SAMPLES / "mlp.circuit").read_text(), "mlp.circuit")
    model = prepare(circuit, read_csv(str(SAMPLES / "moons.csv")), {}, seed=1)
    want = interpreted_full_batch(model, 0.5, 20)
    got = train(model, Schedule(lr=0.5, epochs=20)).params
    assert max(abs(got[name] - want[name]) for name in want) <= 1e-12
    assert any(abs(got[name] - model.start[name]) > 1e-3 for name in want)  # it did move


def test_compiled_forward_and_backward_on_every_kind_of_gate():
    """Variadic gates, an argument used twice in one gate and one level, constants, unused nodes."""
    import numpy as np

    from circuitcli.core.backend import numpy_backend
    from circuitcli.core.evaluate import backward, forward
    from circuitcli.methods.batch import Compiled

    text = ("p = x*x + x*y + y*y\nq = max(x, y, p) - min(y, 2, x)\nr = sigmoid(q)/(1 + p**2)\n"
            "dead = log(x) + z\n"
            "u = tanh(r) * exp(-x) + sqrt(abs(y) + 1) + relu(x - y) - sin(x)*cos(y)\n"
            "a = sigmoid(sigmoid(s))\nb = sigmoid(sigmoid(t))\n"
            "l0 = 0.5*a + 1.5*b\nl1 = 2*a + 0.25*b\nl2 = 3*a + 4*b\n"  # a layer: a, b tiled
            "out = u * u + 3*x + relu(l0)*l1 + l2*l2\n")
    circuit = parse(text)
    tiled = Compiled(circuit).groups
    assert any(g.tile is not None for g in tiled)  # the layer runs as one k x block group
    rng = np.random.default_rng(7)
    values = {name: rng.normal(size=50) for name in "xyzst"}
    values["y"][:5] = values["x"][:5]  # ties for max/min
    B = numpy_backend()
    pull = rng.normal(size=50)
    with np.errstate(all="ignore"):
        vals = forward(circuit, values, backend=B)
        grads = backward(circuit, vals, pull=pull, backend=B)
    for wrt in (None, ["x"], ["y"], ["z", "y"], ["t"]):
        compiled = Compiled(circuit, wrt=wrt)
        V = compiled.values(50)
        for name in "xyzst":
            V[compiled.rows([name])[0]] = values[name]
        for _ in range(2):  # the buffers are reused: a second pass gives the same answer
            compiled.forward(V)
            assert np.array_equal(V[compiled.output], vals[circuit.output])
            G = compiled.backward(V, pull)
            for name in wrt or "xyzst":
                want = grads[circuit.inputs[name]]  # 0.0 for z: the output does not use it
                got = G[compiled.rows([name])[0]]
                assert np.allclose(got, want, rtol=1e-13, atol=1e-15), (wrt, name)


def test_ctrl_c_keeps_the_parameters_reached(tmp_path, monkeypatch):
    """Interrupted at step 7: the parameters after 7 steps are current, -o has them, exit 130."""
    import circuitcli.methods.train as training

    calls = {"n": 0}
    real = training._Stepper.run

    def interrupt_at_7(self, p, rows, y, step):
        if rows is None and step == 7 and calls["n"] == 0:
            calls["n"] += 1
            raise KeyboardInterrupt
        return real(self, p, rows, y, step)

    monkeypatch.setattr(training._Stepper, "run", interrupt_at_7)
    monkeypatch.setenv("CIRCUIT_SESSION", str(tmp_path / "session.json"))
    out = tmp_path / "p.json"
    result = run("train", "svm.circuit", "--data", str(SAMPLES / "svm.csv"), "--epochs", "50",
                 "--lr", "0.5", "--lr-end", "0.05", "--reg", "0.1", "-o", str(out), ok=False)
    assert result.exit_code == 130, result.output
    assert "interrupted after 7 of 50 steps" in result.stderr
    want = full_batch_hinge((1.0, -2.0, -1.0), SVM_ROWS, 0.1, "ab", 0.5, 0.05, 50, stop=7)
    saved = json.loads(out.read_text())["params"]
    assert (saved["a"], saved["b"], saved["c"]) == pytest.approx(want, abs=1e-12)
    doc = json.loads(run("grad", "--json").stdout)
    assert doc["inputs"]["a"]["value"] == pytest.approx(want[0], abs=1e-12)
    calls["n"] = 0
    result = run("train", "svm.circuit", "--data", str(SAMPLES / "svm.csv"), "--epochs", "50",
                 "--lr", "0.5", "--lr-end", "0.05", "--reg", "0.1", "--json", ok=False)
    assert result.exit_code == 130
    doc = json.loads(result.stdout)  # stdout still holds the JSON alone
    assert doc["interrupted"] is True and doc["steps"] == 7
    assert (doc["params"]["a"], doc["params"]["b"]) == pytest.approx(want[:2], abs=1e-12)


# ---- the interface contract: -o, --save, stderr notes ---------------------------------------


def test_dash_o_writes_the_parameters_and_says_so(tmp_path):
    out = tmp_path / "p.json"
    result = run("train", "svm.circuit", "--data", str(SAMPLES / "svm.csv"), "--iters", "30",
                 "-o", str(out), "--json")
    doc = json.loads(result.stdout)  # stdout is the JSON alone
    saved = json.loads(out.read_bytes())
    assert saved["params"] == doc["params"]
    assert (saved["format"], saved["version"]) == ("circuitcli params", 1)
    assert f"wrote {out} ({out.stat().st_size} bytes)" in result.stderr
    # the parameters are the inputs that are not columns, and stderr says which
    assert "learning 3 parameters (inputs that are not columns of" in result.stderr
    assert ": a, b, c" in result.stderr
    # --save still works, hidden from --help
    alias = tmp_path / "q.json"
    run("train", "svm.circuit", "--data", str(SAMPLES / "svm.csv"), "--iters", "30",
        "--save", str(alias))
    assert json.loads(alias.read_text())["params"] == doc["params"]
    from circuitcli.commands.train import command

    assert [p.hidden for p in command.params if p.name == "save_path"] == [True]


def test_dash_o_never_overwrites_the_commands_inputs(tmp_path):
    circuit = write(tmp_path, "m.circuit", "score = a*x + b*y + c\n")
    data = write(tmp_path, "d.csv", "x,y,label\n1,2,1\n-1,-2,-1\n")
    for target in (circuit, data):
        before = Path(target).read_bytes()
        err = bad("train", circuit, "--data", data, "--iters", "2", "-o", target)
        assert "own input" in err
        assert Path(target).read_bytes() == before


def test_an_input_missing_from_the_csv_is_named_as_a_parameter(tmp_path):
    # y was meant to be a feature; the file lacks it, so it would be learned: stderr says so
    data = write(tmp_path, "d.csv", "x,label\n1,1\n-1,-1\n")
    plain = write(tmp_path, "s.circuit", "score = a*x + b*y + c\n")  # marks no features
    result = run("train", plain, "--data", data, "--iters", "2")
    assert "learning 4 parameters" in result.stderr and "a, b, y, c" in result.stderr
    # the shipped SVM marks x and y as its features
    assert "no column y" in bad("train", "svm.circuit", "--data", data, "--iters", "2")
    # a circuit that marks its features makes it an error, pointing at the header
    marked = write(tmp_path, "m.circuit", "# train: --features x,y\nscore = a*x + b*y + c\n")
    err = bad("train", marked, "--data", data, "--iters", "2")
    assert "d.csv, line 1 (the header): no column y" in err and "makes y a feature" in err
    typo = write(tmp_path, "t.circuit", "# train: --features x,yy\nscore = a*x + b*y + c\n")
    assert "no input yy; did you mean y?" in bad("train", typo, "--data", data)


# ---- CSV as the csv module reads it; cells as NAME=VALUE takes them ---------------------------


def test_quoted_newline_is_not_glued_into_a_number(tmp_path):
    # "2\n3" is one cell holding a newline: not a number (splitlines() used to read 23)
    path = tmp_path / "d.csv"
    path.write_bytes(b'x,y,label\n1,"2\n3",1\n')
    err = bad("train", "svm.circuit", "--data", str(path))
    assert "row 1 (line 2), column y: '2\\n3' is not a number" in err


def test_quoted_newline_in_an_unused_column_keeps_rows_and_lines(tmp_path):
    path = tmp_path / "d.csv"
    path.write_bytes(b'x,y,note\n1,2,"two\nlines"\n1,oops,x\n')
    err = run("predict", "score = a*x + b*y", "a=1", "b=1", "--data", str(path),
              ok=False).stderr
    assert "row 2 (line 4), column y: 'oops'" in err  # the second row starts on line 4
    path.write_bytes(b'x,y,note\n1,2,"two\nlines"\n1,3,x\n')
    out = run("predict", "score = a*x + b*y", "a=1", "b=1", "--data", str(path)).stdout
    import csv
    import io

    rows = list(csv.reader(io.StringIO(out, newline="")))
    assert rows[1][:3] == ["1", "2", "two\nlines"] and float(rows[1][3]) == 3.0
    assert float(rows[2][3]) == 4.0


@pytest.mark.parametrize("separator", ["\f", "\u2028", "\x1c", "\x85"])
def test_only_real_line_ends_end_a_row(tmp_path, separator):
    path = tmp_path / "d.csv"
    path.write_text(f"x,y,label\n1,2{separator}5,1\n", encoding="utf-8")
    err = bad("train", "svm.circuit", "--data", str(path))
    assert "row 1 (line 2), column y" in err and "is not a number" in err


@pytest.mark.parametrize("cell", ["1_000", "\u0663", "inf", "nan", "1e400", "0x10", "١٢"])
def test_cells_take_what_name_value_takes(tmp_path, cell):
    path = write(tmp_path, "d.csv", f"x,y,label\n1,{cell},1\n")
    err = bad("train", "svm.circuit", "--data", path)
    assert "row 1 (line 2), column y" in err and len(err.strip().splitlines()) == 1
    from circuitcli.core.grammar import parse_number

    assert parse_number(cell) is None  # what NAME=VALUE refuses


def test_numbers_the_command_line_takes_are_read_alike(tmp_path):
    path = write(tmp_path, "d.csv", "x,y,label\n+1.5e0, -.25 ,+1\r\n2.,3E-1,-1\r\n")
    from circuitcli.io.data import read_csv as read

    data = read(path)
    assert data.values["x"].tolist() == [1.5, 2.0]
    assert data.values["y"].tolist() == [-0.25, 0.3]
    assert data.lines == [2, 3]


def test_a_fifo_or_a_directory_is_not_read(tmp_path):
    import os

    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    err = bad("train", "svm.circuit", "--data", str(fifo))  # returns: never opens the FIFO
    assert "pipe.csv: not a regular file" in err
    assert "is a directory" in bad("train", "svm.circuit", "--data", str(tmp_path))


@st.composite
def layered_circuits(draw):
    """Random circuits over x, y, z from the gate table: functions by name, operators, and
    repeated sub-expressions, so that groups hold duplicates and evenly spaced rows."""
    from circuitcli.core.gates import FUNCTIONS

    names = ["x", "y", "z"]
    lines = []
    for k in range(draw(st.integers(3, 14))):
        pick = st.sampled_from(names)
        kind = draw(st.sampled_from(["op", "function", "layer"]))
        if kind == "op":
            expr = f"{draw(pick)} {draw(st.sampled_from(['+', '-', '*', '/']))} {draw(pick)}"
        elif kind == "layer":
            expr = " + ".join(f"{draw(st.sampled_from(['0.5', '-2', '3']))}*{n}" for n in names)
        else:
            name = draw(st.sampled_from(sorted(FUNCTIONS)))
            arity = FUNCTIONS[name].arity or draw(st.integers(2, 3))
            expr = f"{name}({', '.join(draw(pick) for _ in range(arity))})"
        lines.append(f"n{k} = {expr}")
        names.append(f"n{k}")
    lines.append("out = " + " + ".join(names[3:]))
    return "\n".join(lines) + "\n"


@settings(max_examples=60, deadline=None)
@given(layered_circuits(), st.integers(0, 2**32 - 1))
def test_compiled_equals_the_interpreter_on_random_circuits(text, seed):
    import numpy as np

    from circuitcli.core.backend import numpy_backend
    from circuitcli.core.evaluate import backward, forward
    from circuitcli.methods.batch import Compiled

    circuit = parse(text)
    rng = np.random.default_rng(seed)
    values = {name: rng.normal(size=8) * 2 for name in circuit.inputs}
    pull = rng.normal(size=8)
    B = numpy_backend()
    with np.errstate(all="ignore"):
        vals = forward(circuit, values, backend=B)
        grads = backward(circuit, vals, pull=pull, backend=B)
    compiled = Compiled(circuit)
    V = compiled.values(8)
    for name, v in values.items():
        V[compiled.rows([name])[0]] = v
    compiled.forward(V)
    want = np.broadcast_to(vals[circuit.output], (8,))
    assert np.array_equal(V[compiled.output], want, equal_nan=True)  # the same operations
    G = compiled.backward(V, pull)
    # the two sum a gradient's terms in different orders, so they may differ by rounding in
    # the largest term: a row where exp(n7) is 2e11 and the gradient -23.9 (the terms
    # cancel) differs by 1.5e-4. The tolerance scales with the row's largest value.
    with np.errstate(all="ignore"):
        largest = np.max([np.abs(np.broadcast_to(v, (8,))) for v in vals], axis=0)
    for name in circuit.inputs:
        want = np.broadcast_to(grads[circuit.inputs[name]], (8,))
        got = G[compiled.rows([name])[0]]
        ok = np.isfinite(want) & (np.abs(want) < 1e12) & np.isfinite(largest)
        scale = np.maximum(1.0, np.maximum(np.abs(want), largest))[ok]
        assert np.all(np.abs(got[ok] - want[ok]) <= 1e-9 * scale), (text, name)
