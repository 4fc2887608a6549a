"""Hostile input, round three (issue 24, Medium): no internal error (exit 3) on huge
numbers, Graphviz bounded in size and time and heard when it warns, the live page safe for
any input name and quick for big circuits.

Expected numbers come from formulas (a hypot, a chain's node and edge counts), never from
the program's own run.
"""

from __future__ import annotations

import json
import math
import os
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from circuitcli.cli import main
from circuitcli.render import dot as dot_module

PAGE_JS = Path(__file__).resolve().parent.parent / "circuitcli" / "render" / "page" / "page.js"


def run(*args: str, input: str | None = None):
    return CliRunner().invoke(main, list(args), input=input)


def no_internal_error(r, codes=(0, 1, 2)) -> None:
    assert r.exit_code in codes, r.output
    assert "internal error" not in r.output and "Traceback" not in r.output, r.output


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)


# ---- internal errors ----------------------------------------------------------------------


@pytest.mark.parametrize("args", [
    ("compare", "x*x", "x=1e200"),
    ("compare", "exp(x)", "x=700"),
    ("compare", "x*x", "x=1", "--tweak", "1e308"),
    ("compare", "x*x", "x=1", "--lr", "1e308"),
], ids=["x*x at 1e200", "exp at 700", "tweak 1e308", "lr 1e308"])
def test_compare_with_huge_numbers_is_no_internal_error(args):
    r = run(*args, "--json")
    no_internal_error(r)
    assert r.exit_code == 0


def test_compare_measures_a_huge_move_without_overflow():
    """lr 1e308 on x*x at x=1: the gradient step moves x by 2e308, past the largest double
    (inf); a random tweak of up to 1e308 moves at most 1e308. hypot does not overflow."""
    r = run("compare", "x*x", "x=1", "--lr", "1e150", "--json")
    no_internal_error(r)
    doc = json.loads(r.stdout)
    moved = {s["name"]: s["moved"] for s in doc["strategies"]} if "strategies" in doc else {}
    if moved:
        assert math.isclose(moved["analytic gradient"], 2e150, rel_tol=1e-12)


def test_check_with_a_huge_h_is_no_internal_error():
    no_internal_error(run("check", "x", "x=1", "--h", "1e200"))


def test_a_page_with_an_infinite_constant_is_written():
    r = run("graph", "x*1e309", "x=1", "-o", "p.html")
    no_internal_error(r, (0,))
    page = Path("p.html").read_text()
    blob = re.search(r'id="circuit-data">(.*?)</script>', page, re.S).group(1)
    consts = [n["value"] for n in json.loads(blob)["nodes"] if n["gate"] == "const"]
    assert consts == ["Infinity"]  # JSON has no inf: the string JavaScript's Number() reads


@pytest.mark.parametrize("bad", ["²", "١", "3.5", "0", "-1", "9999999999"])
def test_repl_step_count_that_is_not_ascii_digits_is_one_error(bad):
    r = run("repl", input=f"x*x\nx = 1\n:step 0.01 {bad}\n:step 0.01 2\n")
    no_internal_error(r, (2,))
    assert "N must be a whole number of steps" in r.output
    assert r.output.count("2 steps up the gradient") == 1  # the REPL went on


# ---- Graphviz ---------------------------------------------------------------------------


def fake_dot(tmp_path, monkeypatch, script: str) -> None:
    exe = tmp_path / "bin" / "dot"
    exe.parent.mkdir(exist_ok=True)
    exe.write_text("#!/bin/sh\n" + script + "\n")
    exe.chmod(0o755)
    monkeypatch.setenv("PATH", f"{exe.parent}{os.pathsep}{os.environ['PATH']}")


def test_repl_graph_keeps_the_size_guard(tmp_path, monkeypatch):
    monkeypatch.setattr(dot_module, "GRAPHVIZ_LIMIT", 10)
    fake_dot(tmp_path, monkeypatch, "sleep 30")  # would hang the test if it ran
    lines = "x = 1\n" + "".join(f"n{i} = {'x' if i == 0 else f'n{i - 1}'} * 2\n"
                                for i in range(20)) + ":graph big.svg\n"
    r = run("repl", input=lines)
    assert r.exit_code == 2 and "too big for Graphviz" in r.output, r.output
    assert not (tmp_path / "big.svg").exists()


def test_dot_is_stopped_after_its_time(tmp_path, monkeypatch):
    monkeypatch.setattr(dot_module, "GRAPHVIZ_SECONDS", 1)
    fake_dot(tmp_path, monkeypatch, "exec sleep 30")
    r = run("graph", "x*y", "x=1", "y=2", "--format", "svg")
    assert r.exit_code == 2 and "took over 1 s and was stopped" in r.stderr, r.output


def test_dot_warnings_are_surfaced(tmp_path, monkeypatch):
    fake_dot(tmp_path, monkeypatch, "cat >/dev/null; echo 'Warning: graph is too large "
             "for cairo-renderer bitmaps. Scaling by 0.0365 to fit' >&2; echo '<svg/>'")
    r = run("graph", "x*y", "x=1", "y=2", "--format", "svg")
    assert r.exit_code == 0, r.output
    assert "note: Graphviz: Warning: graph is too large" in r.stderr
    assert r.stdout.strip() == "<svg/>"


# ---- the page ---------------------------------------------------------------------------


def test_the_page_forbids_forms_and_base_urls():
    run("graph", "x*y", "x=1", "y=2", "-o", "p.html")
    csp = re.search(r'Content-Security-Policy" content="([^"]*)"', Path("p.html").read_text())
    rules = [r.strip() for r in csp.group(1).split(";")]
    assert "form-action 'none'" in rules and "base-uri 'none'" in rules
    assert "default-src 'none'" in rules


def test_the_page_measures_no_path_in_the_browser():
    js = PAGE_JS.read_text()
    assert "getTotalLength" not in js and "getPointAtLength" not in js
    assert "Object.assign({}" not in js  # every map of names has no prototype


def test_every_edge_carries_its_label_point_on_its_curve():
    from circuitcli.core.parser import parse
    from circuitcli.render.layout import layout

    lay = layout(parse("f = a*a + b", ""))
    for e in lay["edges"]:
        x, y = e["label"]
        nums = [float(v) for v in re.findall(r"-?\d+(?:\.\d+)?", e["path"])]
        xs, ys = nums[0::2], nums[1::2]
        assert min(xs) <= x <= max(xs) and min(ys) <= y <= max(ys)  # inside the hull
    # the two edges a -> a*a sit at different points (0.5 and 0.7 of the way)
    twin = [e["label"] for e in lay["edges"] if e["to"] == lay["edges"][0]["to"]
            and e["from"] == lay["edges"][0]["from"]]
    assert len(twin) == 2 and twin[0] != twin[1]


def test_a_10k_node_page_is_written_with_our_layout_and_bigger_ones_are_refused(monkeypatch):
    from circuitcli.render import html, layout

    monkeypatch.setattr(layout, "graphviz_layout", lambda *a: pytest.fail("dot ran"))
    lines = "x = 1\n" + "".join(f"n{i} = {'x' if i == 0 else f'n{i - 1}'} * 2\n"
                                for i in range(4999))  # x, 4999 gates, one constant 2
    Path("big.circuit").write_text(lines)
    r = run("graph", "big.circuit", "-o", "p.html")
    assert r.exit_code == 0, r.output
    monkeypatch.setattr(html, "PAGE_LIMIT", 100)
    r = run("graph", "big.circuit", "-o", "q.html")
    assert r.exit_code == 2 and "too big for the live page" in r.stderr
    assert "--format tree" in r.stderr and not Path("q.html").exists()


# ---- -o and :save never write the session or its lock -------------------------------------


def session_path() -> Path:
    return Path(os.environ["CIRCUIT_SESSION"])


@pytest.mark.parametrize("which", ["session", "lock", "link-to-session"])
def test_o_never_writes_the_session_or_its_lock(tmp_path, which):
    assert run("grad", "x*y", "x=1", "y=2").exit_code == 0
    target = {"session": session_path(), "lock": Path(str(session_path()) + ".lock"),
              "link-to-session": tmp_path / "link.dot"}[which]
    if which == "link-to-session":
        target.symlink_to(session_path())
    before = session_path().read_bytes()
    for args in (("graph", "--format", "dot"), ("code",)):
        r = run(*args, "-o", str(target))
        assert r.exit_code == 2 and "session file or its lock" in r.stderr, r.output
    assert session_path().read_bytes() == before
    assert run("grad").exit_code == 0


def test_repl_save_and_graph_never_write_the_session_or_its_lock():
    assert run("grad", "x*y", "x=1", "y=2").exit_code == 0
    before = session_path().read_bytes()
    lock = f"{session_path()}.lock"
    r = run("repl", input=f"a*b\n:save {session_path()}\n:graph {lock}\n:save {lock}\n")
    assert r.exit_code == 2 and r.output.count("is the session file or its lock") == 3
    assert session_path().read_bytes() == before


# ---- Ctrl-C: 130, what was reached, and said --------------------------------------------


def interrupt_after(argv: list[str], seconds: float, stdin: str = "", tmp=None):
    import signal
    import subprocess
    import sys
    import time

    p = subprocess.Popen([sys.executable, "-m", "circuitcli", *argv], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=tmp)
    p.stdin.write(stdin.encode())
    p.stdin.close()
    time.sleep(seconds)
    os.kill(p.pid, signal.SIGINT)
    try:
        out, err = p.stdout.read(), p.stderr.read()
        p.wait(60)
    finally:
        if p.poll() is None:
            p.kill()
    return p.returncode, out.decode(), err.decode()


def test_ctrl_c_in_compare_is_130_and_says_how_many_tries_were_made(tmp_path):
    code, out, err = interrupt_after(["compare", "x*x", "x=1", "--tries", "200000000"], 4,
                                     tmp=tmp_path)
    assert code == 130, (out, err)
    m = re.search(r"random search stopped after (\d+) of 200000000 tries", err)
    assert m and 0 < int(m.group(1)) < 200_000_000, err
    assert "Traceback" not in err and out == ""


def test_ctrl_c_in_a_piped_repl_step_is_130_keeps_the_steps_and_stops(tmp_path):
    script = "x*x\nx = 1\n:step 0.0000001 200000000\n:step 0.01\n"
    code, out, err = interrupt_after(["repl"], 4, script, tmp=tmp_path)
    assert code == 130, (out, err)
    m = re.search(r"interrupted at line 3: interrupted after (\d+) of 200000000 steps", err)
    assert m and 0 < int(m.group(1)) < 200_000_000, err
    assert "Traceback" not in err
    assert out.count("steps up the gradient") <= 1  # line 4 never ran
    assert "lr 0.01" not in out
