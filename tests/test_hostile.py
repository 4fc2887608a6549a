"""Hostile files and names through the commands (issue 12): nothing that is not ours is
replaced, nothing hangs or fills memory, nothing reaches the terminal raw, no traceback.

FIFOs and device nodes are made inside tmp_path, never the system's /dev; device nodes need
root, and those tests say so when they skip (CI runs as root).
"""

from __future__ import annotations

import json
import os
import signal
import stat

import pytest
from click.testing import CliRunner
from guards import NEEDS_DOT, ROOT_ONLY, deadline, device

from circuitcli.cli import main
from circuitcli.render import dot as dot_module


def run(*args: str):
    return CliRunner().invoke(main, list(args))


def one_line_error(r, *fragments: str) -> str:
    """The run failed with exit 2 and one line on stderr holding every fragment."""
    assert r.exit_code == 2, r.output
    assert r.stdout == ""
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    assert "Traceback" not in r.output and "internal error" not in r.output
    return lines[0]


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)


@pytest.fixture(autouse=True)
def _no_hang():
    """A command that blocks fails its test after 20 s instead of hanging the suite."""
    with deadline(20):
        yield





@pytest.fixture
def circuit_file(tmp_path):
    path = tmp_path / "c.circuit"
    path.write_text("x = 3\ny = -2\nf = x * y\n")
    return path


# ---- writing: -o ------------------------------------------------------------------------


@pytest.mark.parametrize("form", ["dot", "mermaid", "tree"])
def test_graph_refuses_to_write_over_its_own_circuit_file(circuit_file, form):
    before = circuit_file.read_bytes()
    one_line_error(run("graph", str(circuit_file), "--format", form, "-o", str(circuit_file)),
                   "the command's own input")
    assert circuit_file.read_bytes() == before


def test_graph_refuses_its_input_through_another_name(circuit_file, tmp_path):
    link = tmp_path / "other.dot"
    link.symlink_to(circuit_file)
    before = circuit_file.read_bytes()
    one_line_error(run("graph", str(circuit_file), "--format", "dot", "-o", str(link)),
                   "the command's own input")
    assert circuit_file.read_bytes() == before and link.is_symlink()


def test_code_refuses_to_write_over_its_own_circuit_file(circuit_file):
    before = circuit_file.read_bytes()
    one_line_error(run("code", str(circuit_file), "-o", str(circuit_file)),
                   "the command's own input")
    assert circuit_file.read_bytes() == before


def test_a_failed_write_names_the_given_file(circuit_file):
    line = one_line_error(run("graph", str(circuit_file), "--format", "dot", "-o",
                              "/nonexistent/dir/x.svg"),
                          "/nonexistent/dir/x.svg", "No such file or directory")
    assert ".tmp" not in line


def test_graph_into_a_fifo_nobody_reads_fails_at_once(circuit_file, tmp_path):
    fifo = tmp_path / "out.dot"
    os.mkfifo(fifo)
    one_line_error(run("graph", str(circuit_file), "--format", "dot", "-o", str(fifo)),
                   str(fifo), "no process is reading")
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)


def test_graph_into_a_symlink_writes_its_target(circuit_file, tmp_path):
    (tmp_path / "real.dot").write_text("old")
    link = tmp_path / "link.dot"
    link.symlink_to("real.dot")
    r = run("graph", str(circuit_file), "--format", "dot", "-o", str(link))
    assert r.exit_code == 0, r.output
    assert link.is_symlink()
    assert (tmp_path / "real.dot").read_text().startswith("digraph circuit {")


@ROOT_ONLY
def test_graph_into_a_null_device_leaves_it_a_device(circuit_file, tmp_path):
    null = device(tmp_path / "null", 3)
    r = run("graph", str(circuit_file), "--format", "dot", "-o", null)
    assert r.exit_code == 0, r.output
    assert stat.S_ISCHR(os.stat(null).st_mode)


@ROOT_ONLY
def test_graph_into_a_full_device_is_one_line_and_it_stays_a_device(circuit_file, tmp_path):
    full = device(tmp_path / "full", 7)
    one_line_error(run("graph", str(circuit_file), "--format", "dot", "-o", full),
                   f"cannot write {full}: No space left on device")
    assert stat.S_ISCHR(os.stat(full).st_mode)


# ---- reading: circuit files and the session file ------------------------------------------


def test_a_fifo_as_circuit_file_is_one_line_not_a_hang(tmp_path):
    fifo = tmp_path / "c.circuit"
    os.mkfifo(fifo)
    for command in ("grad", "graph", "code", "check", "show"):
        one_line_error(run(command, str(fifo)), str(fifo), "FIFO", "not a regular file")


def test_a_directory_named_like_a_circuit_file_is_one_line(tmp_path):
    (tmp_path / "d.circuit").mkdir()
    one_line_error(run("grad", "d.circuit"), "d.circuit: is a directory")


def test_a_directory_does_not_shadow_an_expression(tmp_path):
    (tmp_path / "x").mkdir()
    r = run("grad", "x", "x=2", "--json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["inputs"]["x"] == {"value": 2.0, "grad": 1.0}


@ROOT_ONLY
@pytest.mark.parametrize("minor", [5, 3])
def test_a_link_to_a_zero_or_null_device_as_circuit_file_is_refused(tmp_path, minor):
    link = tmp_path / "c.circuit"
    link.symlink_to(device(tmp_path / "dev", minor))
    one_line_error(run("grad", str(link)), "character device")


def session_path() -> str:
    return os.environ["CIRCUIT_SESSION"]


def make_session_dir() -> None:
    os.makedirs(os.path.dirname(session_path()), exist_ok=True)


def test_a_fifo_as_session_is_one_line_and_reset_leaves_it_alone():
    make_session_dir()
    os.mkfifo(session_path())
    for args in (("grad", "x*y", "x=1", "y=2"), ("show",), ("step",), ("reset",)):
        line = one_line_error(run(*args), session_path(), "FIFO", "leaves")
        assert "reset starts afresh" not in line  # reset refuses it too
    assert stat.S_ISFIFO(os.lstat(session_path()).st_mode)
    assert os.listdir(os.path.dirname(session_path())) == ["session.json"]  # no .lock
    r = run("grad", "x*y", "x=1", "y=2", "--no-session")
    assert r.exit_code == 0, r.output


@ROOT_ONLY
@pytest.mark.parametrize("minor", [5, 3])
def test_a_session_linked_to_a_device_is_refused_and_reset_leaves_it(tmp_path, minor):
    make_session_dir()
    dev = device(tmp_path / "dev", minor)
    os.symlink(dev, session_path())
    one_line_error(run("show"), session_path(), "character device")
    one_line_error(run("reset"), session_path(), "character device", "leaves")
    assert os.path.islink(session_path()) and os.readlink(session_path()) == dev
    assert stat.S_ISCHR(os.stat(dev).st_mode)


def test_a_session_above_its_size_limit_is_refused(monkeypatch):
    from circuitcli.io import session

    make_session_dir()
    assert run("grad", "x*y", "x=1", "y=2").exit_code == 0
    size = os.path.getsize(session_path())
    monkeypatch.setattr(session, "SIZE_LIMIT", size - 1)
    one_line_error(run("show"), session_path(), f"larger than the {size - 1} bytes")


HOSTILE_JSON = {
    "400 digits": '{"format": "circuitcli session", "version": 1, "circuit": "x", '
                  '"source": "", "output": null, "inputs": {"x": ' + "1" * 400 + "}}",
    "5001 digits": '{"format": "circuitcli session", "version": 1, "circuit": "x", '
                   '"source": "", "output": null, "inputs": {"x": ' + "1" * 5001 + "}}",
    "100000 nested": "[" * 100_000 + "]" * 100_000,
}


@pytest.mark.parametrize("text", HOSTILE_JSON.values(), ids=HOSTILE_JSON.keys())
def test_session_json_the_decoder_cannot_take_is_one_line_and_left_alone(text):
    make_session_dir()
    with open(session_path(), "w") as f:
        f.write(text)
    for args in (("show",), ("grad",), ("grad", "x", "x=1")):
        line = one_line_error(run(*args), session_path(), "not valid JSON", "circuit reset")
        assert len(line) < 300
    with open(session_path()) as f:
        assert f.read() == text


# ---- names and numbers from outside ------------------------------------------------------

UNDECODABLE = os.fsdecode(b"\xff.circuit")  # what sys.argv holds for $'\xff.circuit'


@pytest.mark.parametrize("command", ["grad", "code", "graph", "step", "show"])
def test_a_file_name_that_is_not_utf8_works(tmp_path, command):
    with open(os.path.join(os.fsencode(tmp_path), b"\xff.circuit"), "w") as f:
        f.write("f = x * y\n")
    r = run(command, UNDECODABLE, "x=3", "y=-2")
    assert r.exit_code == 0, r.output
    if command in ("code", "graph", "show"):  # look-only: they leave the session alone
        assert "\\xff.circuit" in r.stdout
        r = run("grad", UNDECODABLE, "x=3", "y=-2")
        assert r.exit_code == 0, r.output
    with open(session_path(), encoding="ascii") as f:
        assert json.load(f)["source"] == UNDECODABLE  # stored losslessly
    r = run("show", "--json")
    assert r.exit_code == 0, r.output
    if command in ("grad", "show"):
        r = run(command)
        assert r.exit_code == 0, r.output
        assert r.stdout.startswith("\\xff.circuit")  # the title, escaped


def test_an_escape_sequence_in_a_file_name_never_reaches_the_terminal(tmp_path):
    name = "a\x1b[2J\x1b[31mRED.circuit"
    (tmp_path / name).write_text("f = x * y\n")
    shown = "a\\x1b[2J\\x1b[31mRED.circuit"
    for args in (("grad", name, "x=1", "y=2"), ("show",), ("graph", name, "x=1", "y=2"),
                 ("code", name), ("graph", name, "--format", "dot"),
                 ("graph", name, "--format", "mermaid")):
        r = run(*args)
        assert r.exit_code == 0, r.output
        assert "\x1b" not in r.output, args
        # mermaid's title is a YAML string, where the backslash itself is escaped
        assert (shown.replace("\\", "\\\\") if "mermaid" in args else shown) in r.output


@NEEDS_DOT
def test_a_control_character_in_the_title_does_not_break_graphviz(tmp_path):
    name = "a\x01b.circuit"
    (tmp_path / name).write_text("f = x * y\n")
    r = run("graph", name, "x=1", "y=2", "--format", "svg")
    assert r.exit_code == 0, r.output
    assert "<svg" in r.stdout and "a\\x01b.circuit" in r.stdout


def test_a_carriage_return_cannot_close_the_mermaid_fence(tmp_path):
    name = "a\r```\n<img src=x onerror=alert(1)>.circuit"
    (tmp_path / name).write_text("f = x * y\n")
    r = run("graph", name, "--format", "mermaid")
    assert r.exit_code == 0, r.output
    lines = r.stdout.splitlines()
    assert lines[0] == "```mermaid" and lines[-1] == "```"
    assert [n for n, line in enumerate(lines) if line.startswith("```")] == [0, len(lines) - 1]
    assert "\r" not in r.stdout
    assert not any(line.startswith("<") for line in lines)  # no raw HTML outside a string


# gradient values by hand: d(xy)/dx = y, d(xy)/dy = x; d(pull * x)/dx = pull
@pytest.mark.parametrize("args, grads", [
    (("x*y", "x=1e308", "y=2"), {"x": 2.0, "y": 1e308}),
    (("x", "x=1", "--pull", "1e307"), {"x": 1e307}),
    (("1e308*x", "x=1"), {"x": 1e308}),
    (("x*y", "x=5e-324", "y=1e308"), {"x": 1e308, "y": 5e-324}),
])
def test_gradients_of_any_size_render(args, grads):
    r = run("grad", *args)
    assert r.exit_code == 0, r.output
    assert "internal error" not in r.output
    r = run("grad", *args, "--json")
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert {name: entry["grad"] for name, entry in doc["inputs"].items()} == grads


# ---- size: Graphviz ------------------------------------------------------------------------


def chain(n: int) -> str:
    """x, then n gates, each multiplying the one before by a constant of its own."""
    return "x = 1\n" + "".join(f"n{i} = {'x' if i == 0 else f'n{i - 1}'} * {i + 2}\n"
                               for i in range(n))


def test_a_picture_above_the_graphviz_limit_is_refused_before_dot_runs(monkeypatch, tmp_path):
    monkeypatch.setattr(dot_module, "GRAPHVIZ_LIMIT", 50)
    monkeypatch.setattr(dot_module, "run_graphviz", lambda *a, **k: pytest.fail("dot ran"))
    (tmp_path / "long.circuit").write_text(chain(60))
    for form in ("svg", "png"):
        one_line_error(run("graph", "long.circuit", "--format", form, "-o", "x." + form),
                       "121 nodes", "limit of 50", "--force", "--format tree", "--format dot")
    assert not (tmp_path / "x.svg").exists()
    for form in ("dot", "tree", "mermaid"):  # the formats that scale are never refused
        assert run("graph", "long.circuit", "--format", form).exit_code == 0


def shared_weight(n: int) -> str:
    """x, w, then n gates in a row, each multiplying by the same w."""
    return "x = 0.5\nw = 0.9\nn0 = x * w\n" + "".join(f"n{i} = n{i - 1} * w\n"
                                                     for i in range(1, n))


def test_layout_size_counts_nodes_and_the_ranks_long_edges_cross():
    from circuitcli.core.parser import parse

    # a chain with a constant of its own per gate: x, n constants, n gates (121 nodes),
    # 2n edges, no long edge
    assert dot_module.layout_size(parse(chain(60), "")) == 121 + 120
    # w feeds gate i (rank i + 1) from rank 0: i virtual nodes, 0 + 1 + ... + (n - 1) in all;
    # n + 2 nodes and 2n edges
    n = 250
    assert dot_module.layout_size(parse(shared_weight(n), "")) == (n + 2 + 2 * n
                                                                   + n * (n - 1) // 2)
    # issue 24: 140 max gates over the same 140 inputs: 281 nodes, 140 * 141 edges
    xs = ", ".join(f"x{k}" for k in range(140))
    dense = "".join(f"x{k} = {k}\n" for k in range(140)) + "".join(
        f"m{k} = max({xs})\n" for k in range(140)) + "f = " + " + ".join(
        f"m{k}" for k in range(140)) + "\n"
    circuit = parse(dense, "")
    edges = sum(len(a) for a in circuit.args)
    assert dot_module.layout_size(circuit) >= len(circuit) + edges > dot_module.GRAPHVIZ_LIMIT


def test_the_default_limit_refuses_what_exhausted_dot(tmp_path, monkeypatch):
    monkeypatch.setattr(dot_module, "run_graphviz", lambda *a, **k: pytest.fail("dot ran"))
    (tmp_path / "long.circuit").write_text("x = 1\n" + "".join(
        f"n{i} = tanh({'x' if i == 0 else f'n{i - 1}'})\n" for i in range(20_000)))
    one_line_error(run("graph", "long.circuit", "--format", "svg"), "20001 nodes",
                   f"limit of {dot_module.GRAPHVIZ_LIMIT}")
    # 102 nodes only, but w's edges cross 4,950 ranks: the shape that grows dot's memory
    (tmp_path / "shared.circuit").write_text(shared_weight(100))
    one_line_error(run("graph", "shared.circuit", "--format", "png", "-o", "s.png"),
                   "102 nodes, 5252 points")


def test_force_runs_graphviz_above_the_limit(monkeypatch, tmp_path):
    monkeypatch.setattr(dot_module, "GRAPHVIZ_LIMIT", 5)
    monkeypatch.setattr(dot_module, "run_graphviz", lambda source, fmt_, dpi=None: b"<svg/>")
    (tmp_path / "long.circuit").write_text(chain(10))
    r = run("graph", "long.circuit", "--format", "svg", "--force")
    assert r.exit_code == 0, r.output
    assert r.stdout == "<svg/>"


def fake_dot(tmp_path, monkeypatch, script: str) -> None:
    exe = tmp_path / "dot"
    exe.write_text("#!/bin/sh\n" + script + "\n")
    exe.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")


@pytest.mark.parametrize("script, reason", [
    ("echo 'Warning: something' >&2; echo 'Error: <stdin>: syntax error in line 3' >&2; "
     "exit 1", "Error: <stdin>: syntax error in line 3"),
    ("echo 'out of memory in gvLayout' >&2; exit 1", "out of memory in gvLayout"),
    ("kill -9 $$", "killed by SIGKILL (out of memory?)"),
    ("exit 3", "exit status 3, nothing on stderr"),
])
def test_when_graphviz_fails_its_reason_is_said(tmp_path, monkeypatch, circuit_file, script,
                                                reason):
    fake_dot(tmp_path, monkeypatch, "cat > /dev/null; " + script)
    one_line_error(run("graph", str(circuit_file), "--format", "svg"),
                   f"Graphviz's dot could not draw the circuit: {reason}")


def test_an_escape_sequence_in_a_comment_never_reaches_the_terminal(tmp_path):
    (tmp_path / "c.circuit").write_text("x = 1  # \x1b[2J\x1b]0;title\x07\nf = x * 2  # \x9b31m\n")
    for args in (("grad", "c.circuit"), ("show",), ("code", "c.circuit"), ("graph",),
                 ("graph", "--format", "dot"), ("graph", "--format", "mermaid"), ("check",),
                 ("step",)):
        r = run(*args)
        assert r.exit_code == 0, r.output
        assert not any(ch in r.output for ch in "\x1b\x07\x9b"), args
    r = run("show")  # show leaves out the default's line (the table has x), not the comment
    assert "f = x * 2  # \\x9b31m" in r.stdout


# ---- files read by train and predict (the `train` branch hardens these readers) -------------
@pytest.mark.parametrize("args", [
    ("train", "svm.circuit", "--data", "{fifo}"),
    ("predict", "svm.circuit", "--data", "{fifo}", "--params", "{params}"),
    ("predict", "svm.circuit", "--data", "{csv}", "--params", "{fifo}"),
    ("predict", "svm.circuit", "--data", "{csv}", "--params", "{big}"),
], ids=["train --data fifo", "predict --data fifo", "predict --params fifo",
        "predict --params 400 digits"])
def test_train_and_predict_refuse_hostile_files(tmp_path, args):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    (tmp_path / "data.csv").write_text("x,y,label\n1,2,1\n-1,0.5,-1\n")
    head = '{"format": "circuitcli params", "version": 1, '
    (tmp_path / "params.json").write_text(head + '"params": {"a": 1, "b": -2, "c": -1}}')
    (tmp_path / "big.json").write_text(head + '"params": {"a": ' + "1" * 400 + ', "b": 1, "c": 1}}')
    names = {"fifo": fifo, "csv": tmp_path / "data.csv", "params": tmp_path / "params.json",
             "big": tmp_path / "big.json"}
    assert run("predict", "svm.circuit", "--data", str(names["csv"]), "--params",
               str(names["params"])).exit_code == 0  # the files fit: only the hostile one fails
    signal.alarm(3)  # shorter than the fixture's: on a blocking open this test is expected
    r = run(*(a.format(**names) for a in args))
    assert r.exit_code == 2, r.output
    assert "internal error" not in r.output
    assert str(fifo if "{fifo}" in args else names["big"]) in r.output
