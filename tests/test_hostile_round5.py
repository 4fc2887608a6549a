"""Hostile input on round three's new surfaces (issue 24): check --backward files, the quiz's
answers and history file, check --sweep-h at the edge of the doubles. Each test failed
before its fix. Device nodes and FIFOs are made in tmp_path only, never in /dev.
"""

from __future__ import annotations

import json
import os
import re
import stat

import pytest
from click.testing import CliRunner
from conftest import entry_point

from circuitcli.cli import main

EVIL = "\x1b[2J\x1b]0;PWNED\x07\u202e"


def run(*args: str, input: str | None = None):
    return CliRunner().invoke(main, list(args), input=input, env={"CIRCUIT_SESSION": "off"})


def no_crash(r) -> None:
    assert "Traceback" not in r.output and "internal error" not in r.output, r.output
    assert r.exception is None or isinstance(r.exception, SystemExit), repr(r.exception)


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))


# ---- check --sweep-h where a method's default step underflows to 0 -------------------------


@pytest.mark.parametrize("json_out", [False, True])
def test_sweep_h_where_the_complex_step_underflows_is_no_internal_error(json_out):
    # the complex step's default h is 1e-20·|x|: at x = 5e-324 that product is 0 in doubles,
    # so "where the default step sits" on the V has no answer (it was log10(0): exit 3)
    assert 1e-20 * 5e-324 == 0.0
    r = run("check", "exp(x)*y", "x=5e-324", "y=0", "--sweep-h",
            *(["--json"] if json_out else []))
    no_crash(r)
    assert r.exit_code == 0, r.output
    if json_out:
        doc = json.loads(r.stdout)
        assert doc["steps"][0] > 0
    else:
        assert "complex" in r.stdout


# ---- a backward file whose expression cannot be evaluated ----------------------------------


def test_a_backward_line_that_divides_by_zero_points_into_the_file(tmp_path):
    (tmp_path / "t.backward").write_text("dy = x\n  dx = 2 * 1/(x-3) # at x = 3\n")
    r = run("check", "x*y", "x=3", "y=2", "--backward", "t.backward")
    no_crash(r)
    assert r.exit_code == 2
    lines = r.stderr.splitlines()
    # line 2, column 8: where `2 * 1/(x-3)` starts in the file (counted by hand)
    assert lines[0].startswith("error: t.backward:2:8: "), lines
    assert "division by zero" in lines[0]
    assert lines[1] == "    dx = 2 * 1/(x-3) # at x = 3"
    caret = lines[2]  # under the expression of line 2, not under column 1 of the expression
    assert caret.index("^") == lines[1].index("2 * 1/") and set(caret.strip()) == {"^"}
    assert len(caret) <= len("    dx = 2 * 1/(x-3)")


@pytest.mark.parametrize("body,what", [("dx = log(x-3)", "log"), ("dx = sqrt(-y)", "sqrt"),
                                       ("dx = 0^-1", "negative power")])
def test_a_backward_line_outside_a_gates_domain_names_the_file(tmp_path, body, what):
    (tmp_path / "t.backward").write_text(body + "\n")
    r = run("check", "x*y", "x=3", "y=2", "--backward", "t.backward")
    no_crash(r)
    assert r.exit_code == 2
    assert r.stderr.startswith("error: t.backward:1:6: ") and what in r.stderr, r.stderr


# ---- the quiz: echoed answers, its line limit, its history file ----------------------------


def test_the_piped_quiz_echoes_answers_escaped():
    r = run("quiz", "--level", "1", "--seed", "1", "--count", "1", input=f"{EVIL}\nskip\n")
    no_crash(r)
    assert r.exit_code == 0
    assert "\x1b" not in r.output and "\u202e" not in r.output and "\x07" not in r.output
    assert r.stdout.count("\\x1b]0;PWNED\\x07\\u202e") == 2  # the echo and "not a number"


def test_a_piped_quiz_line_is_held_to_the_line_limit(monkeypatch):
    from circuitcli.io import files

    monkeypatch.setattr(files, "TEXT_LIMIT", 1000)
    r = run("quiz", "--level", "1", "--seed", "1", input="1" * 5000 + "\n")
    no_crash(r)
    assert r.exit_code == 2
    assert "line 1: longer than the 1000 bytes" in r.stderr


@pytest.mark.parametrize("kind", ["fifo", "zero-link", "directory"])
def test_a_quiz_history_that_is_not_a_regular_file_is_a_note_not_a_hang(tmp_path, kind):
    """On a terminal the quiz kept its answers in quiz_history with open(path, "a"): a FIFO
    there blocked the start for ever, a link to a zero device was read without end."""
    pexpect = pytest.importorskip("pexpect")
    path = tmp_path / "state" / "circuitcli" / "quiz_history"
    path.parent.mkdir(parents=True)
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "zero-link":
        if os.geteuid() != 0:
            pytest.skip("os.mknod needs root (CI runs as root)")
        os.mknod(tmp_path / "zero", 0o600 | stat.S_IFCHR, os.makedev(1, 5))
        path.symlink_to(tmp_path / "zero")
    else:
        path.mkdir()
    env = {**os.environ, "TERM": "xterm", "XDG_STATE_HOME": str(tmp_path / "state"),
           "CIRCUIT_SESSION": "off", "NO_COLOR": "1", "PROMPT_TOOLKIT_NO_CPR": "1",
           "COLUMNS": "100", "LINES": "40"}
    child = pexpect.spawn(entry_point(), ["quiz", "--level", "1", "--seed", "1"], env=env,
                          encoding="utf-8", timeout=20, dimensions=(40, 100))
    try:
        child.expect("no history across sessions")
        child.expect("answer>")
        child.sendline("skip")
        child.expect("skipped: the answer is")
        child.expect("answer>")
        child.sendcontrol("d")
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    assert child.exitstatus == 0
    kind_now = os.lstat(path).st_mode
    assert {"fifo": stat.S_ISFIFO, "zero-link": stat.S_ISLNK,
            "directory": stat.S_ISDIR}[kind](kind_now)  # left as it was


# ---- digits that are not ASCII digits ------------------------------------------------------


@pytest.mark.parametrize("digits", ["²", "٣", "１"])
def test_a_digits_option_that_is_not_ascii_digits_is_one_error(digits):
    # str.isdigit() is true for all three, and int() fails on '²': it was exit 3
    assert digits.isdigit()
    r = run("grad", "x*2", "x=1", "--digits", digits)
    no_crash(r)
    assert r.exit_code == 2 and "--digits" in r.stderr, r.output


@pytest.mark.parametrize("level", ["²", "٣"])
def test_a_repl_quiz_level_that_is_not_ascii_digits_is_one_error(level):
    r = run("repl", input=f":quiz {level}\n")
    no_crash(r)
    assert r.exit_code == 2
    assert ":quiz takes at most one argument, a level from 1 to 40" in r.stderr, r.output


# ---- the full Hessian of a big circuit ------------------------------------------------------


def ring(n: int) -> str:
    """n inputs, f = x0*x1 + x1*x2 + ... + x(n-1)*x0: 3n - 1 nodes, H the ring's adjacency."""
    return ("".join(f"x{i} = 1\n" for i in range(n))
            + "f = " + " + ".join(f"x{i}*x{(i + 1) % n}" for i in range(n)) + "\n")


def test_a_full_hessian_past_its_limit_is_refused_before_it_fills_memory(tmp_path):
    """3,000 inputs over 8,999 nodes: it took 0.8 GB and 46 s; now one line at once."""
    from guards import deadline

    (tmp_path / "ring.circuit").write_text(ring(3000))
    with deadline(20):
        for args, input in ((("hessian", "ring.circuit"), None),
                            (("check", "ring.circuit", "--order", "2", "--no-sympy"), None),
                            (("repl",), ":load ring.circuit\n:hessian\n")):
            r = run(*args, input=input)
            no_crash(r)
            assert r.exit_code == 2, (args, r.output)
            assert "too big for the full Hessian: 3,000 inputs at each of 8,999 nodes" \
                in r.stderr and "--hvp" in r.stderr, r.stderr
        r = run("hessian", "ring.circuit", "--hvp", "x0=1", "--json")  # H v still works
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    product = doc["hvp"]
    # H = the ring's adjacency: H e0 has 1 at x1 and at x(n-1), 0 elsewhere
    assert product["x1"] == product["x2999"] == 1.0
    assert sum(abs(v) for v in product.values()) == 2.0


def test_a_full_hessian_under_its_limit_is_computed(monkeypatch):
    from circuitcli.methods import derivatives

    monkeypatch.setattr(derivatives, "HESSIAN_LIMIT", 4 * 11)  # 4 inputs x 11 nodes: at it
    r = run("hessian", ring(4), "--json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["hessian"] == [[0, 1, 0, 1], [1, 0, 1, 0], [0, 1, 0, 1],
                                              [1, 0, 1, 0]]
    monkeypatch.setattr(derivatives, "HESSIAN_LIMIT", 4 * 11 - 1)
    assert run("hessian", ring(4)).exit_code == 2


# ---- the Jacobian table keeps --max-rows ---------------------------------------------------


def test_a_big_jacobian_table_keeps_max_rows_and_json_keeps_everything(tmp_path):
    """1,000 outputs x 1,000 inputs took 193 s and 2.2 GB to lay out as a table."""
    n = 60
    (tmp_path / "q.circuit").write_text(
        "".join(f"x{i} = {i + 1}\n" for i in range(n))
        + "".join(f"q{i} = x{i} * x{(i + 1) % n}\n" for i in range(n))
        + "f = " + " + ".join(f"q{i}" for i in range(n)) + "\n")
    of = ",".join(f"q{i}" for i in range(n))
    r = run("grad", "q.circuit", "--of", of)
    assert r.exit_code == 0, r.output
    lines = r.stdout.splitlines()
    assert "Jacobian: 60 outputs × 60 inputs" in lines[0]
    shown = [int(m.group(1)) for m in map(re.compile(r"q(\d+)(?::| +│)").match, lines) if m]
    assert shown == list(range(40)), shown  # the first 40 outputs, one row each
    assert "20 outputs and 20 inputs left out" in r.stdout
    r = run("grad", "q.circuit", "--of", of, "--all")
    assert r.exit_code == 0 and "left out" not in r.stdout
    doc = json.loads(run("grad", "q.circuit", "--of", of, "--json").stdout)["jacobian"]
    assert len(doc["rows"]) == n and all(len(row) == n for row in doc["rows"])
    # d q59 / d x0 = x59 = 60 and d q59 / d x59 = x0 = 1 (q59 = x59 * x0)
    assert doc["rows"][59][0] == 60.0 and doc["rows"][59][59] == 1.0


# ---- check --expect with many answers ------------------------------------------------------


def test_many_expect_answers_scan_the_circuit_once_not_once_per_answer(monkeypatch):
    """Each wrong answer scanned every node for "the gradient of another node" (and the
    gradients' scale): 5,000 wrong answers on a 15,000-node circuit ran past 2 minutes.
    Counted here in node visits (Circuit.is_input), not in seconds."""
    from circuitcli.core.circuit import Circuit

    n = 300
    text = " + ".join(f"x{i}*y" for i in range(n))
    values = [f"x{i}=1" for i in range(n)] + ["y=2"]
    calls = {"n": 0}
    real = Circuit.is_input

    def counted(self, i):
        calls["n"] += 1
        return real(self, i)

    monkeypatch.setattr(Circuit, "is_input", counted)

    def visits(answers: int) -> int:
        calls["n"] = 0
        expect = ",".join(f"x{i}=3" for i in range(answers))  # wrong: each dx is 2
        r = run("check", text, *values, "--expect", expect)
        assert r.exit_code == 1, r.output
        assert f"0 of {answers} right" in r.stdout
        return calls["n"]

    one, many = visits(1), visits(100)
    nodes = 3 * n + 1  # x0..x(n-1), y, n products, n - 1 sums
    assert many - one < nodes, (one, many)  # 99 more answers: less than one more scan


def test_a_wrong_answer_still_names_the_nodes_whose_gradient_it_is():
    text = " + ".join(f"x{i}*y" for i in range(10))
    values = [f"x{i}=1" for i in range(10)] + ["y=2"]
    r = run("check", text, *values, "--expect", "y=2")  # dy = x0 + ... + x9 = 10; each dx = 2
    assert r.exit_code == 1
    assert "2 is the gradient of x0, x1, x2, x3, x4, x5 and 4 more, not of y" in r.stdout


def test_a_bad_hessian_direction_in_the_repl_points_at_the_argument_not_at_show():
    r = run("repl", input="x*y\nx = 1\ny = 2\n:hessian x=1e309\n")
    no_crash(r)
    assert r.exit_code == 2
    lines = r.stderr.splitlines()
    assert lines[0] == "error: <stdin>:4: :hessian x=1e309: the value must be a finite number"
    assert lines[1:3] == ["  x=1e309", "    ^^^^^"]  # the caret under the value, in the argument
    assert "of :show" not in r.stderr  # it was "(line 1 of :show)": :show has no such line


@pytest.mark.parametrize("line", [":graph \0", ":graph a\0.txt", ":save a\0.txt"])
def test_a_nul_in_a_repl_file_name_is_one_error(tmp_path, monkeypatch, line):
    """Found by the REPL fuzz: a NUL (which argv cannot carry, a REPL line can) reached
    os.path.realpath and os.stat as a ValueError: exit 3."""
    monkeypatch.chdir(tmp_path)
    r = run("repl", input=f"x = 1\nf = x*2\n{line}\n")
    assert r.exit_code in (0, 2) and "internal error" not in r.output, r.output
    assert "error: <stdin>:3" in r.output and "Traceback" not in r.output
    assert list(tmp_path.iterdir()) == []


def test_a_nul_in_a_repl_file_name_with_the_session_on(tmp_path):
    """The session's own guard (is this the session file?) met the NUL first."""
    r = CliRunner().invoke(main, ["repl"], input="x = 1\nf = x*2\n:graph \0.txt\n",
                           env={"XDG_STATE_HOME": str(tmp_path / "state"),
                                "CIRCUIT_SESSION": None})
    no_crash(r)
    assert "error: <stdin>:3" in r.output
