"""The command layer (issue 19, part 3): one loader, each shared option declared once with one
validator, one -o writer. Each test runs the same input through several commands and asks
for the same words, so a second copy of a loader or a validator that drifts fails here."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from circuitcli.cli import main

SAMPLES = Path(__file__).resolve().parent.parent / "samples"
SVM = str(SAMPLES / "svm.csv")


def run(*args: str, input: str | None = None):
    return CliRunner().invoke(main, list(args), input=input)


def without_help_hint(line: str) -> str:
    """The error without its last words, `(circuit step -h for help)`, which name the command."""
    return re.sub(r" \(\S+ \S+ -h for help\)$", "", line)


def one_error_line(r) -> str:
    assert r.exit_code == 2, r.output
    assert r.stdout == ""
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert "Traceback" not in r.output and "internal error" not in r.output
    return lines[0]


# -- one loader: a damaged session says the same thing to every command -----------------------

# every command that reads the current circuit, with what else it needs
READERS = [
    ("grad",), ("check",), ("explain",), ("show",), ("step",), ("search",), ("compare",),
    ("graph",), ("code",), ("set", "x=1"), ("train", "--data", SVM), ("predict", "--data", SVM),
]


def _session(tmp_path: Path, **doc) -> str:
    path = tmp_path / "s.json"
    base = {"format": "circuitcli session", "version": 2, "source": "", "output": None,
            "inputs": {"x": 1.0, "y": 2.0}}
    path.write_text(json.dumps({**base, **doc}))
    return str(path)


@pytest.mark.parametrize("damage, expected", [
    # a circuit that does not parse: where, and how to start afresh
    ({"circuit": "f = (x +* y"}, "holds a circuit that does not parse"),
    # not a session at all
    ({"format": "something else", "circuit": "f = x*y"}, "is not a circuitcli session"),
    # a field of the wrong type
    ({"circuit": 7}, 'is damaged ("circuit" must be a string)'),
])
def test_a_damaged_session_gets_one_message_from_every_command(tmp_path, damage, expected):
    session = _session(tmp_path, **damage)
    messages = {}
    for command in READERS:
        r = run(*command, "--session", session)
        messages[command[0]] = one_error_line(r)
    assert len(set(messages.values())) == 1, messages
    message = next(iter(messages.values()))
    assert expected in message and session in message and "circuit reset" in message


def test_the_unparsable_session_message_says_where(tmp_path):
    session = _session(tmp_path, circuit="f = x * y\ng = (f +* 2\n")
    line = one_error_line(run("train", "--data", SVM, "--session", session))
    assert line.startswith(f"error: the session file {session} holds a circuit that does not "
                           "parse (")
    assert "at line 2, column" in line


def test_a_bad_of_given_now_is_not_called_a_damaged_session(tmp_path):
    session = _session(tmp_path, circuit="f = x * y\n")
    for command in (("grad",), ("train", "--data", SVM), ("predict", "--data", SVM)):
        line = one_error_line(run(*command, "--of", "nosuch", "--session", session))
        assert "session file" not in line and "nosuch" in line


# -- one validator per option -------------------------------------------------------------------


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "1e400", "abc"])
def test_lr_that_is_not_a_finite_number_is_refused_alike_by_step_compare_and_train(value):
    lines = set()
    for command in (("step", "x*y", "x=1", "y=2"), ("compare", "x*y", "x=1", "y=2"),
                    ("train", "svm.circuit", "--data", SVM)):
        line = one_error_line(run(*command, "--lr", value, "--no-session"))
        lines.add(without_help_hint(line))
    assert lines == {f"error: Invalid value for '--lr': {value!r} is not a finite number"}


@pytest.mark.parametrize("value", ["0", "-1"])
def test_lr_at_or_below_zero_is_refused_alike(value):
    lines = set()
    for command in (("step", "x*y", "x=1", "y=2"), ("compare", "x*y", "x=1", "y=2"),
                    ("train", "svm.circuit", "--data", SVM)):
        line = one_error_line(run(*command, "--lr", value, "--no-session"))
        lines.add(without_help_hint(line).replace(" (--minimize goes down the gradient)", ""))
    assert lines == {f"error: Invalid value for '--lr': must be a positive number, not {value}"}


@pytest.mark.parametrize("option", ["--reg", "--lr-end"])
def test_train_refuses_nan_where_it_took_it(option):
    # click's FloatRange lets nan through: training ran with a nan rate or penalty
    line = one_error_line(run("train", "svm.circuit", "--data", SVM, option, "nan",
                              "--no-session"))
    assert f"Invalid value for '{option}': 'nan' is not a finite number" in line


def test_step_tol_refuses_nan():
    line = one_error_line(run("step", "x*y", "x=1", "y=2", "--tol", "nan", "--no-session"))
    assert "Invalid value for '--tol': 'nan' is not a finite number" in line


SEEDED = [("search", "x*y", "x=1", "y=2"), ("compare", "x*y", "x=1", "y=2"),
          ("train", "svm.circuit", "--data", SVM, "--iters", "2"),
          ("graph", "x*y", "x=1", "--format", "html"), ("quiz", "--level", "1", "--json")]


def test_seed_takes_the_same_values_in_search_compare_and_train():
    for command in SEEDED:
        line = one_error_line(run(*command, "--seed", "1.5", "--no-session"))
        assert "Invalid value for '--seed': '1.5' is not a valid integer" in line


def test_a_negative_seed_is_refused_by_every_seeded_command():
    # random.Random(-1) is random.Random(1): `--seed -1` silently repeated `--seed 1`'s run
    import random

    assert random.Random(-1).random() == random.Random(1).random()  # why it is refused
    lines = {without_help_hint(one_error_line(run(*command, "--seed", "-1", "--no-session")))
             for command in SEEDED}
    assert len(lines) == 1, lines
    assert lines.pop().startswith("error: Invalid value for '--seed': -1 is not in the range 0<=")


@pytest.mark.parametrize("value, words", [("-1", "must be a number >= 0, not -1"),
                                          ("nan", "'nan' is not a finite number")])
def test_tol_is_refused_alike_by_check_step_and_quiz(value, words):
    # quiz took any number: with a negative tol no answer could ever be right
    lines = set()
    for command in (("check", "x*y", "x=1", "y=2", "--expect", "x=2"),
                    ("step", "x*y", "x=1", "y=2"),
                    ("quiz", "--seed", "1", "--level", "1", "--json", "--answer", "1")):
        lines.add(without_help_hint(one_error_line(run(*command, "--tol", value,
                                                       "--no-session"))))
    assert lines == {f"error: Invalid value for '--tol': {words}"}


def test_step_damping_refuses_nan():
    # click's FloatRange(0) let nan through into the Newton step
    line = one_error_line(run("step", "x*y", "x=1", "y=2", "--newton", "--damping", "nan",
                              "--no-session"))
    assert "Invalid value for '--damping': 'nan' is not a finite number" in line


# -- predict and train split the inputs with one set of checks -------------------------------


def test_a_feature_given_a_value_is_refused_in_the_same_words_by_train_and_predict():
    train = one_error_line(run("train", "svm.circuit", "--data", SVM, "x=2", "--no-session"))
    predict = one_error_line(run("predict", "svm.circuit", "--data", SVM, "x=2",
                                 "--no-session"))
    assert train == predict
    assert "svm.csv, line 1 (the header), column 1: x is a data column, so a feature of " \
           "every row; it cannot also be given a value (x=2)" in train


def test_an_unknown_name_is_refused_in_the_same_words_by_train_and_predict():
    train = one_error_line(run("train", "svm.circuit", "--data", SVM, "q=1", "--no-session"))
    predict = one_error_line(run("predict", "svm.circuit", "--data", SVM, "q=1",
                                 "--no-session"))
    assert train == predict and "no input named q" in train


def test_no_feature_column_is_refused_in_the_same_words(tmp_path):
    csv = tmp_path / "other.csv"
    csv.write_text("u,v,label\n1,2,1\n")
    train = one_error_line(run("train", "svm.circuit", "--data", str(csv), "--no-session"))
    predict = one_error_line(run("predict", "svm.circuit", "--data", str(csv),
                                 "--no-session"))
    assert train == predict and "none of the circuit's inputs is a column of the file" in train


# -- one -o writer ----------------------------------------------------------------------------


def test_train_o_escapes_a_carriage_return_in_the_file_name(tmp_path):
    # a folder that does not exist, named with a carriage return: the name must not reach the
    # terminal raw (a \r would let the rest of the line hide what came before)
    path = str(tmp_path / "a\rb" / "params.json")
    line = one_error_line(run("train", "svm.circuit", "--data", SVM, "-o", path,
                              "--no-session"))
    assert "\r" not in line and "a\\x0db" in line and "no such folder" in line


def test_train_o_says_wrote_with_the_name_escaped(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    r = run("train", "svm.circuit", "--data", SVM, "--iters", "2", "-o", "p\rq.json",
            "--no-session")
    assert r.exit_code == 0, r.output
    assert "\r" not in r.stderr and "wrote p\\x0dq.json (" in r.stderr
    assert json.loads((tmp_path / "p\rq.json").read_text())["format"] == "circuitcli params"


def test_train_o_over_its_own_input_is_refused_before_training(tmp_path):
    line = one_error_line(run("train", "svm.circuit", "--data", SVM, "-o", SVM,
                              "--no-session"))
    assert "that is the command's own input" in line

