"""Hostile input, round three (issue 24): the REPL's tables keep --max-rows, and the Low items
(size limits on stdin and piped lines, dead writers' temp files, a full stderr, strict
parameter files, labels that are not labels, long names, FIFOs in the REPL, a program that
would divide by zero). Device nodes and FIFOs are made in tmp_path only, never in /dev.
"""

from __future__ import annotations

import fcntl
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from circuitcli.cli import main
from circuitcli.io import files
from circuitcli.io.bundled import sample_dir

SAMPLES = Path(__file__).resolve().parent.parent / "samples"


def run(*args: str, input: str | None = None):
    return CliRunner().invoke(main, list(args), input=input)


def one_error(r, code: int = 2) -> str:
    """The run failed with `code` in one line of error (no traceback), which is returned."""
    assert r.exit_code == code, r.output
    assert "Traceback" not in r.output and "internal error" not in r.output, r.output
    return r.stderr


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)


# ---- the REPL keeps the CLI's --max-rows rule and a short title ----------------------------


def long_sum(terms: int) -> str:
    return "f = " + " + ".join(f"{k}*x" for k in range(1, terms + 1))


def test_the_repl_table_keeps_max_rows_and_a_short_title():
    # 300 terms: x, 300 products and 299 sums (the last is f): 600 rows
    r = run("repl", input=f"x = 2\n{long_sum(300)}\n")
    assert r.exit_code == 0, r.output
    table = [line for line in r.stdout.splitlines() if "│" in line]
    assert len(table) == 40  # the CLI's default --max-rows
    assert "560 rows left out" in r.stdout  # 600 - 40
    header = r.stdout.splitlines()[1]
    assert header.startswith("f = 1*x + 2*x") and "…" in header and len(header) < 100
    # d f / d x = 1 + 2 + ... + 300 = 45150 (a formula, not a run)
    assert any("▸ x" in line and "45150" in line for line in table)


def test_the_repl_takes_max_rows_and_all_as_grad_does():
    few = run("repl", "--max-rows", "5", input=f"x = 2\n{long_sum(20)}\n")
    every = run("repl", "--all", input=f"x = 2\n{long_sum(20)}\n")
    assert few.exit_code == every.exit_code == 0
    assert sum("│" in line for line in few.stdout.splitlines()) == 5
    assert sum("│" in line for line in every.stdout.splitlines()) == 40  # x, 20 products, 19 sums


def test_the_repl_check_table_keeps_max_rows_too():
    values = "\n".join(f"x{k} = {k}" for k in range(60))
    r = run("repl", "--max-rows", "7", input=values + "\nf = " + " + ".join(
        f"x{k}*x{k}" for k in range(60)) + "\n:check\n")
    assert r.exit_code == 0, r.output
    check = r.stdout[r.stdout.rindex("input ┃"):]
    assert sum("│" in line for line in check.splitlines()) == 7


def test_a_repl_missing_many_values_names_a_few():
    r = run("repl", input="f = " + " + ".join(f"x{k}" for k in range(500)) + "\n")
    line = " ".join(r.stdout.split())  # one message, wrapped to the terminal's width
    assert "no value yet for" in line and "x0, x1" in line
    assert "and 492 more" in line and "x499," not in line


# ---- stdin and one endless REPL line: the file limit -----------------------------------------


def test_stdin_is_held_to_the_file_limit(monkeypatch):
    monkeypatch.setattr(files, "TEXT_LIMIT", 1000)
    err = one_error(run("grad", "-", "x=1", input="x" * 5000))
    assert "standard input holds more than the 1000 bytes a circuit may have" in err
    assert run("grad", "-", "x=2", input="x*" + "x" * 100 + "+x").exit_code == 2  # no such x
    ok = run("grad", "-", "x=2", input="x*x\n")
    assert ok.exit_code == 0 and "4" in ok.stdout


def test_one_endless_repl_line_is_held_to_the_file_limit(monkeypatch):
    monkeypatch.setattr(files, "TEXT_LIMIT", 1000)
    err = one_error(run("repl", input="x = 1\n" + "x" * 5000))
    assert "standard input, line 2: longer than the 1000 bytes a line may have" in err


def test_check_backward_from_stdin_is_held_to_the_file_limit(monkeypatch):
    monkeypatch.setattr(files, "TEXT_LIMIT", 1000)
    err = one_error(run("check", "x*y", "x=1", "y=2", "--backward", "-", input="#" * 5000))
    assert "more than the 1000 bytes a backward file may have" in err


# ---- a killed writer's temporary file is removed by the next write ------------------------


def test_a_dead_writers_temp_file_is_removed_by_the_next_write(tmp_path):
    stale = tmp_path / ".p.dot.k9x2ab_q.tmp"  # what mkstemp names a killed write's file
    stale.write_bytes(b"half a page" * 1000)
    other = tmp_path / ".p.dot.notours.tmp"  # not one of ours: left alone
    other.write_text("keep")
    unrelated = tmp_path / ".q.dot.k9x2ab_q.tmp"  # another target's: left alone
    unrelated.write_text("keep")
    r = run("graph", "x*y", "x=1", "y=2", "--format", "dot", "-o", "p.dot")
    assert r.exit_code == 0, r.output
    assert not stale.exists() and other.exists() and unrelated.exists()
    assert Path("p.dot").read_text().startswith("digraph")


def test_a_writer_killed_with_sigkill_leaves_nothing_after_the_next_write(tmp_path):
    # a child makes its temp file as replace_file does (held), then is killed with SIGKILL
    code = ("import os, sys, time; from circuitcli.io import files; "
            "fd, tmp = files.tempfile.mkstemp(dir='.', prefix='.p.dot.', suffix='.tmp'); "
            "files._hold(fd); os.write(fd, b'x' * 100000); print(tmp, flush=True); "
            "time.sleep(60)")
    child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        tmp = Path(child.stdout.readline().strip())
        assert tmp.exists()
        # while the writer lives, its file is its own: another write leaves it
        assert run("graph", "x", "x=1", "--format", "dot", "-o", "p.dot").exit_code == 0
        assert tmp.exists()
    finally:
        child.kill()
        child.wait()
    assert run("graph", "x", "x=1", "--format", "dot", "-o", "p.dot").exit_code == 0
    assert not tmp.exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


def test_a_temp_file_held_by_a_living_writer_is_never_removed(tmp_path):
    held = tmp_path / ".p.dot.abcdefgh.tmp"
    held.write_text("in progress")
    fd = os.open(held, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        files.write_atomic(str(tmp_path / "p.dot"), "new")
        assert held.exists()
    finally:
        os.close(fd)
    files.write_atomic(str(tmp_path / "p.dot"), "newer")
    assert not held.exists()


# ---- stderr on a full device --------------------------------------------------------------


@pytest.fixture
def full_device(tmp_path) -> Path:
    """A character device 1,7 (what /dev/full is) in tmp_path: writes fail with ENOSPC."""
    path = tmp_path / "full"
    try:
        os.mknod(path, stat.S_IFCHR | 0o666, os.makedev(1, 7))
    except PermissionError:
        pytest.skip("making a device node needs root")
    return path


@pytest.mark.parametrize("args", [["grad", "--nosuch"], ["grad", "x+", "x=1"],
                                  ["nosuchcommand"], ["grad", "x", "x=abc"]],
                         ids=["unknown option", "bad expression", "unknown command", "bad value"])
def test_a_usage_error_exits_2_when_stderr_is_full(full_device, tmp_path, args):
    env = {**os.environ, "CIRCUIT_SESSION": str(tmp_path / "s.json")}
    with open(full_device, "w") as err:
        r = subprocess.run([sys.executable, "-m", "circuitcli", *args], stderr=err,
                           stdout=subprocess.DEVNULL, env=env, timeout=60)
    assert r.returncode == 2


# ---- strict inputs ------------------------------------------------------------------------


def params_doc(**fields) -> dict:
    doc = {"format": "circuitcli params", "version": 1, "label": "label",
           "params": {"a": 1.0, "b": -2.0, "c": -1.0}}
    doc.update(fields)
    return doc


def predict_with(text: str):
    Path("p.json").write_text(text)
    return run("predict", "svm.circuit", "--data", "svm.csv", "--params", "p.json")


def test_a_valid_parameter_file_is_read():
    r = predict_with(json.dumps(params_doc(classify=True, loss_function="hinge", seed=0)))
    assert r.exit_code == 0, r.output
    # row 1 of svm.csv: x=1.2, y=0.7, so a*x + b*y + c = 1.2 - 1.4 - 1 = -1.2
    assert r.stdout.splitlines()[1].split(",")[3] == "-1.2"


@pytest.mark.parametrize("text, says", [
    ('{"format": "circuitcli params", "version": 1, "params": {"a": 1, "b": 1, "c": 1, '
     '"a": 2}}', 'the key "a" appears twice'),
    ('{"format": "circuitcli params", "version": 1, "params": {"a": NaN, "b": 1, "c": 1}}',
     "NaN is not a JSON number"),
    ('{"format": "circuitcli params", "version": 1, "params": {"a": -Infinity, "b": 1, '
     '"c": 1}}', "-Infinity is not a JSON number"),
    ('{"format": "circuitcli params", "version": 1, "version": 1, "params": {"a": 1, '
     '"b": 1, "c": 1}}', 'the key "version" appears twice'),
], ids=["duplicate param", "bare NaN", "bare -Infinity", "duplicate version"])
def test_lenient_json_is_refused(text, says):
    assert says in one_error(predict_with(text))


@pytest.mark.parametrize("field, value, says", [
    ("version", 2.0, "parameter file version 2.0"),
    ("version", 1.0, "parameter file version 1.0"),
    ("version", True, "parameter file version true"),
    ("classify", "no", '"classify" is "no"; it must be true or false'),
    ("classify", 0, '"classify" is 0; it must be true or false'),
    ("loss_function", "hinj", '"loss_function" is "hinj"; it must be hinge or logistic or '
                              "square"),
    ("label", 5, '"label" is 5; it must be a column name'),
    ("features", "x", '"features" is "x"; it must be a list of names'),
    ("accuracy", 1.5, '"accuracy" is 1.5; it must be a number from 0 to 1 or null'),
    ("seed", 0.5, '"seed" is 0.5; it must be a whole number or null'),
])
def test_unknown_values_of_parameter_fields_are_refused(field, value, says):
    assert says in one_error(predict_with(json.dumps(params_doc(**{field: value}))))


def test_what_train_writes_predict_reads(tmp_path):
    r = run("train", "svm.circuit", "--data", "svm.csv", "--epochs", "2", "-o", "t.json")
    assert r.exit_code == 0, r.output
    assert run("predict", "svm.circuit", "--data", "svm.csv", "--params", "t.json"
               ).exit_code == 0
    r = run("train", "svm.circuit", "--data", "svm.csv", "--epochs", "2", "--json")
    Path("j.json").write_text(r.stdout)
    assert run("predict", "svm.circuit", "--data", "svm.csv", "--params", "j.json"
               ).exit_code == 0


@pytest.mark.parametrize("args", [("check", "x*x", "x=1", "--tol", "nan"),
                                  ("train", "svm.circuit", "--data", "svm.csv", "--reg", "nan")])
def test_nan_tolerance_and_regularisation_are_refused(args):
    assert "is not a finite number" in one_error(run(*args))


@pytest.mark.parametrize("label", ["nan", "inf", "-inf", "1e999", " NaN"])
def test_predict_says_when_a_label_is_not_finite(label):
    rows = (SAMPLES / "svm.csv").read_text().splitlines()
    cells = rows[2].split(",")
    rows[2] = ",".join([*cells[:-1], label])
    Path("labels.csv").write_text("\n".join(rows) + "\n")
    err = one_error(run("predict", "svm.circuit", "--data", "labels.csv"))
    assert f"labels.csv, row 2 (line 3), column label: {label.strip()!r} is not a label" in err


# ---- messages -----------------------------------------------------------------------------


LONG = "a" * 300


@pytest.mark.parametrize("args", [("grad", f"{LONG}.circuit"),
                                  ("train", "svm.circuit", "--data", f"{LONG}.csv"),
                                  ("check", "x", "x=1", "--backward", f"{LONG}.backward"),
                                  ("repl",)])
def test_a_300_character_name_is_one_clear_line_without_the_install_path(args):
    r = run(*args, input=f":load {LONG}.circuit\n")
    err = one_error(r)
    assert str(sample_dir()) not in r.output and "/samples" not in r.output, r.output
    assert LONG in err


def test_repl_load_of_a_fifo_says_it_is_not_a_regular_file(tmp_path):
    os.mkfifo(tmp_path / "pipe.circuit")
    err = one_error(run("repl", input=":load pipe.circuit\n"))
    assert "pipe.circuit is a FIFO (named pipe), not a regular file" in err
    assert "no such file" not in err


def test_a_repl_script_that_is_a_fifo_is_not_a_regular_file(tmp_path):
    os.mkfifo(tmp_path / "lesson.repl")
    err = one_error(run("repl", "lesson.repl", input=""))
    assert "lesson.repl is a FIFO (named pipe), not a regular file" in err


@pytest.mark.parametrize("args", [("1/x", "x=-0.0"), ("1/x", "x=0"), ("x/y", "x=1", "y=-0.0")])
def test_code_values_never_prints_a_program_that_divides_by_zero(args):
    err = one_error(run("code", *args, "--values"))
    assert "division by zero" in err and "the program would stop there" in err


def test_code_values_at_a_nonzero_divisor_runs(tmp_path):
    r = run("code", "1/x", "x=-0.5", "--values")
    assert r.exit_code == 0, r.output
    out = subprocess.run([sys.executable, "-c", r.stdout], capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0, out.stderr
    # 1/x = -2 and d(1/x)/dx = -1/x**2 = -4 at x = -0.5
    assert "out = -2.0" in out.stdout and "dx = -4.0" in out.stdout


def test_repl_graph_page_keeps_the_page_limit(monkeypatch):
    from circuitcli.render import html

    monkeypatch.setattr(html, "PAGE_LIMIT", 5)
    err = one_error(run("repl", input="x = 1\nf = x*x*x*x*x*x\n:graph p.html\n"))
    assert "too big for the live page: 6 nodes, above the 5 a page holds" in err
    assert not Path("p.html").exists()


def test_the_page_limit_message_says_what_draws_a_bigger_circuit(monkeypatch):
    from circuitcli.render import html

    monkeypatch.setattr(html, "PAGE_LIMIT", 5)
    err = one_error(run("graph", "x*x*x*x*x*x", "x=1", "-o", "p.html"))
    assert err.count("\n") == 1
    assert "too big for the live page: 6 nodes, above the 5 a page holds" in err
    assert "--format tree or --format dot draw a circuit of any size" in err

