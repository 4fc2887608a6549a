"""`circuit repl` driven as a script (stdin not a terminal), through click's CliRunner.

Expected numbers come from the notebook (/work/shared/seed) or from hand calculation,
written next to each check; never from the program's own output.
"""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from circuitcli.cli import main

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = ROOT / "samples" / "notebook.repl"


def repl(lines: str, *args: str):
    """Run a script of lines with --echo; the result and its output split per line."""
    result = CliRunner().invoke(main, ["repl", "--echo", *args], input=lines)
    return result, segments(result.output)


def segments(output: str) -> list[tuple[str, str]]:
    """(line typed, what it printed) for every line the transcript echoes with '> '."""
    found: list[tuple[str, list[str]]] = [("", [])]
    for line in output.splitlines():
        if line.startswith("> "):
            found.append((line[2:], []))
        else:
            found[-1][1].append(line)
    return [(line, "\n".join(out)) for line, out in found]


def after(segs: list[tuple[str, str]], typed: str, nth: int = 0) -> str:
    """What the nth echo of `typed` printed."""
    hits = [out for line, out in segs if line == typed]
    assert len(hits) > nth, f"{typed!r} not in the transcript: {[s[0] for s in segs]}"
    return hits[nth]


def rows(table: str) -> dict[str, list[str]]:
    """Table rows by their first cell (the node or input name), cells stripped."""
    found = {}
    for line in table.splitlines():
        if "│" in line:
            cells = [c.strip() for c in line.split("│")]
            found[cells[0].lstrip("▸ ").strip()] = cells[1:]
    return found


def grads(table: str) -> dict[str, float]:
    """name -> gradient from a value/gradient table (columns node, gate, computes, value,
    gradient, pull)."""
    return {name: float(cells[3]) for name, cells in rows(table).items()}


def values(table: str) -> dict[str, float]:
    return {name: float(cells[2]) for name, cells in rows(table).items()}


def close(got: float, want: float) -> bool:
    """Equal to the 6 significant digits the tables show."""
    return math.isclose(got, want, rel_tol=1e-5, abs_tol=1e-12)


CHAIN = "x = -2\ny = 5\nz = -4\n(x+y)*z\n"


def test_the_notebooks_chain_rule_session():
    result, segs = repl(CHAIN + ":step 0.01\n:show\n:undo\n:show\n")
    assert result.exit_code == 0, result.output
    table = after(segs, "(x+y)*z")
    assert "out = -12" in table
    # the notebook: derivative_f_wrt_x, _y, _z = -4 -4 3
    g = grads(table)
    assert (g["x"], g["y"], g["z"]) == (-4, -4, 3)
    assert values(table)["out"] == -12
    step = after(segs, ":step 0.01")
    moved = {name: float(cells[2]) for name, cells in rows(step).items()}
    # the notebook: -2.04 4.96 -3.97, then f = -11.5924
    assert [moved[n] for n in "xyz"] == pytest.approx([-2.04, 4.96, -3.97], abs=1e-12)
    assert "-12 → -11.5924" in step
    shown = after(segs, ":show").splitlines()
    assert shown[:3] == ["x = -2.04", "y = 4.96", "z = -3.97"]
    assert "out = -12" in after(segs, ":undo")
    assert after(segs, ":show", 1).splitlines() == ["x = -2", "y = 5", "z = -4", "(x+y)*z"]


def test_save_then_circuit_grad_reads_the_same_table(tmp_path):
    path = tmp_path / "chain.circuit"
    result, segs = repl(CHAIN + ":step 0.01\n" + f":save {path}\n")
    assert result.exit_code == 0, result.output
    assert f"wrote {path}" in result.output
    # the REPL's table for the stepped circuit, and circuit grad's for the saved file
    stepped = after(segs, ":step 0.01")
    grad = CliRunner().invoke(main, ["grad", str(path)])
    assert grad.exit_code == 0, grad.output
    assert values(grad.output)["out"] == -11.5924  # the notebook's f after the step
    _, segs2 = repl(CHAIN + ":step 0.01\n(x+y)*z\n")
    assert rows(grad.output) == rows(after(segs2, "(x+y)*z", 1))
    # by hand at x, y, z = -2.04, 4.96, -3.97: dx = dy = z, dz = x + y = 2.92
    g = grads(grad.output)
    assert g["x"] == g["y"] == -3.97 and close(g["z"], 2.92)
    assert stepped  # the step printed its table


def test_an_error_line_changes_nothing_and_the_exit_code_is_2():
    result, segs = repl(CHAIN + "x = log(\nq = log(x)\n(x+y)*z)\n:show\n")
    assert result.exit_code == 2
    assert "error: <stdin>:5:" in result.output  # the line number of the script
    assert "the expression ends early" in after(segs, "x = log(")
    assert "error: <stdin>:7:8: unmatched ')'" in after(segs, "(x+y)*z)")
    assert "log needs a positive number" in result.output  # q = log(x) at x = -2
    assert "^" in result.output  # the caret under the column
    assert after(segs, ":show").splitlines() == ["x = -2", "y = 5", "z = -4", "(x+y)*z",
                                                 "3 lines failed"]


def test_redefining_a_node_replaces_it_in_place():
    result, segs = repl("x = -2; y = 5; z = -4\nq = x + y\nf = q * z\nq = x * y\n:show\n")
    assert result.exit_code == 0, result.output
    table = after(segs, "q = x * y")
    # f = x*y*z: df/dx = y*z = -20, df/dy = x*z = 8, df/dz = x*y = -10; f = 40
    assert "f = 40" in table
    g = grads(table)
    assert (g["x"], g["y"], g["z"]) == (-20, 8, -10)
    assert after(segs, ":show").splitlines()[3:] == ["q = x * y", "f = q * z"]


def test_a_statement_goes_before_its_first_use():
    # x was an input that q uses; defining x from a and b puts it before q
    result, segs = repl("x = 2; y = 1\nq = x + y\nq\nx = a * b\na = 3; b = 4\n:show\n")
    assert result.exit_code == 0, result.output
    assert "no value yet for a, b" in after(segs, "x = a * b")
    assert after(segs, ":show").splitlines() == [
        "y = 1", "a = 3", "b = 4", "x = a * b", "q = x + y"]
    assert "q = 13" in after(segs, "a = 3; b = 4")  # 3*4 + 1


def test_a_name_alone_picks_the_output(tmp_path):
    path = tmp_path / "q.circuit"
    result, segs = repl(f"x = 1; y = 2\nq = x + y\nf = q * 2\nq\n:show\n:save {path}\n")
    assert result.exit_code == 0, result.output
    assert "q = 3" in after(segs, "q")
    assert after(segs, ":show").splitlines()[-1] == "# the output is q"
    grad = CliRunner().invoke(main, ["grad", str(path)])
    assert "q = 3" in grad.output.splitlines()[0]


def test_cycles_are_refused():
    result, segs = repl("x = 1; y = 2\nq = x + y\nf = q * 2\nx = f + 1\nq = q + 1\n:show\n")
    assert result.exit_code == 2
    assert "cycle: f uses q uses x" in after(segs, "x = f + 1")
    assert "used in its own definition" in after(segs, "q = q + 1")
    assert after(segs, ":show").splitlines()[:-1] == ["x = 1", "y = 2", "q = x + y", "f = q * 2"]
    assert result.output.endswith("2 lines failed\n")


def test_missing_values_are_named():
    result, segs = repl("(x+y)*z\nx = 1\n:step\n")
    assert result.exit_code == 2
    assert "no value yet for x, y, z" in after(segs, "(x+y)*z")
    assert "no value yet for y, z" in after(segs, "x = 1")
    assert "no value yet for y, z" in after(segs, ":step")


def test_several_steps_and_redo():
    result, segs = repl("x = -2; y = 3\nx * y\n:step 0.01 2\n:undo\n:redo\n:show\n")
    assert result.exit_code == 0, result.output
    # by hand: d(xy)/dx = y, d(xy)/dy = x; two steps of 0.01 from (-2, 3)
    x, y = -2.0, 3.0
    for _ in range(2):
        x, y = x + 0.01 * y, y + 0.01 * x
    shown = after(segs, ":show").splitlines()
    assert float(shown[0].split("= ")[1]) == pytest.approx(x, rel=1e-15)
    assert float(shown[1].split("= ")[1]) == pytest.approx(y, rel=1e-15)
    assert close(values(after(segs, ":redo"))["out"], x * y)


def test_unknown_commands_get_did_you_mean():
    result, segs = repl(":stpe\n:undo\n:frobnicate\n")
    assert result.exit_code == 2
    assert "did you mean :step?" in after(segs, ":stpe")
    assert "nothing to undo" in after(segs, ":undo")
    assert "unknown command :frobnicate" in after(segs, ":frobnicate")


def test_help_lists_every_command_and_how_to_reach_the_current_circuit():
    from circuitcli.repl.commands import COMMANDS

    result, segs = repl(":help\n")
    assert result.exit_code == 0
    text = after(segs, ":help")
    for name in COMMANDS:
        assert f":{name}" in text
    assert "current circuit" in text


def test_check_graph_code_explain(tmp_path):
    dot = tmp_path / "chain.dot"
    result, segs = repl(CHAIN + f":check\n:graph\n:graph {dot}\n:code\n:explain\n:quit\n:show\n")
    assert result.exit_code == 0, result.output
    assert "3 of 3 inputs agree" in after(segs, ":check")
    assert "out = -12" in after(segs, ":graph")
    assert dot.read_text().startswith("digraph")
    code = after(segs, ":code")
    assert "# backward pass" in code and "dz = " in code
    # (x+y)*z at -2, 5, -4: the output pulls on x+y with local z = -4, and x gets 1 × -4
    story = after(segs, ":explain")
    assert "local -4 × pull 1 = -4" in story and "gradient of x: -4" in story
    assert ":show" not in [line for line, _ in segs]  # :quit ended the session before it


def test_the_repl_leaves_the_current_circuit_alone_unless_asked(tmp_path, monkeypatch):
    session = tmp_path / "state" / "session.json"
    result, _ = repl(CHAIN + ":step 0.01\n")
    assert result.exit_code == 0
    assert not session.exists()
    # :save with no file makes it the current circuit that circuit grad reads
    result, _ = repl(CHAIN + ":save\n")
    assert result.exit_code == 0, result.output
    grad = CliRunner().invoke(main, ["grad"])
    assert grad.exit_code == 0, grad.output
    assert "out = -12" in grad.output
    # and :load with no file starts from the CLI's current circuit
    CliRunner().invoke(main, ["grad", "sigmoid(a*x + b)", "a=1", "x=2", "b=-2"])
    result, segs = repl(":load\n")
    assert result.exit_code == 0, result.output
    assert "out = 0.5" in after(segs, ":load")  # sigmoid(1*2 - 2) = 1/2


def test_load_a_file_or_a_sample(tmp_path):
    path = tmp_path / "q.circuit"
    path.write_text("# a comment\na = 2\nq = a * a  # squared\n")
    result, segs = repl(f":load {path}\n:load neuron\n:load nowhere.circuit\n")
    assert result.exit_code == 2
    assert "q = 4" in after(segs, f":load {path}")
    assert "= 0.880797" in after(segs, ":load neuron")  # the notebook's 0.8807970779778823
    assert "no such file" in after(segs, ":load nowhere.circuit")


def test_starting_from_a_circuit_on_the_command_line():
    result, segs = repl(":step 0.01\n", "(x+y)*z", "x=-2", "y=5", "z=-4")
    assert result.exit_code == 0, result.output
    assert "out = -12" in segs[0][1]
    assert "-12 → -11.5924" in after(segs, ":step 0.01")


def test_comments_blank_lines_and_several_statements_on_a_line():
    result = CliRunner().invoke(main, ["repl"], input="# a comment\n\n  \nx = -2; y = 3  # both\n"
                                "x * y\n")
    assert result.exit_code == 0, result.output
    assert "out = -6" in result.output
    assert "comment" not in result.output


def test_values_must_be_finite_numbers():
    result, segs = repl("x = 1e999\n")
    assert result.exit_code == 2
    assert "finite" in after(segs, "x = 1e999")


def test_notebook_sample_replays_the_notebooks_numbers():
    """Every number checked here is the notebook's (seed/000_81e851faca8fc1a3.txt)."""
    result, segs = repl(NOTEBOOK.read_text(encoding="utf-8"))
    assert result.exit_code == 0, result.output
    # In [2]: forMulGate(-1.99, 2.99) -> -5.950100000000001
    assert close(values(after(segs, "x * y"))["out"], -5.950100000000001)
    # In [7]: the derivatives of x*y at (-2, 3): 3.000000000064062 -2.0000000000131024
    assert grads(after(segs, "x = -2; y = 3")) == {"x": 3, "y": -2, "out": 1}
    # In [67]: after x += 0.01 * dx: forMulGate(x, y) -> -5.870599999997832
    assert "-6 → -5.8706" in after(segs, ":step 0.01", 0)
    # In [3]: -4 -4 3; In [7]: -2.04 4.96 -3.97, then q, f = 2.92 -11.5924
    chain = grads(after(segs, "f = q * z"))
    assert (chain["x"], chain["y"], chain["z"]) == (-4, -4, 3)
    assert "-12 → -11.5924" in after(segs, ":step 0.01", 1)
    shown = after(segs, ":show").splitlines()
    assert shown[:3] == ["x = -2.04", "y = 4.96", "z = -3.97"]
    # In [8]: the numerical gradient -3.99999 -3.99999 3.00000 agrees
    assert "3 of 3 inputs agree" in after(segs, ":check", 1)
    # In [14]-[20]: s = 0.8807970779778823; a..y grads; after the step 0.8825501816218984
    neuron = after(segs, "s = sigmoid(q)")
    assert close(values(neuron)["s"], 0.8807970779778823)
    want = {"a": -0.10499358540350662, "b": 0.31498075621051985, "c": 0.10499358540350662,
            "x": 0.10499358540350662, "y": 0.20998717080701323}
    got = grads(neuron)
    for name, g in want.items():
        assert close(got[name], g), name
    assert f"0.880797 → {float(f'{0.8825501816218984:.6g}'):g}" in after(segs, ":step 0.01", 2)
    # Ex-6: x = a*a, da = 2 * a * dx = 6 at a = 3
    assert grads(after(segs, "x = a * a"))["a"] == 6
    # Ex-7: da = 2a, db = 2b, dc = 2c at (3, -2, 5)
    g = grads(after(segs, "x = a*a + b*b + c*c"))
    assert (g["a"], g["b"], g["c"]) == (6, -4, 10)
    # Ex-8: x = ((ab + c)d)^2 at (3, -2, 5, 0.5): x1 = -1, x2 = -0.5, dx2 = 2 x2 = -1,
    # dd = x1 dx2 = 1, dx1 = d dx2 = -0.5, da = b dx1 = 1, db = a dx1 = -1.5, dc = -0.5
    g = grads(after(segs, "x = x2 * x2"))
    assert (g["a"], g["b"], g["c"], g["d"]) == (1, -1.5, -0.5, 1)
    # Ex-8 division: x = 1/a at a = 3: da = -1/(a*a)
    assert close(grads(after(segs, "x = 1.0 / a"))["a"], -1 / 9)
    # x = (a+b)/(c+d) at (3, -2, 5, 0.5): da = db = 1/(c+d), dc = dd = -(a+b)/(c+d)^2
    g = grads(after(segs, "x = x1 * x3"))
    assert close(g["a"], 1 / 5.5) and close(g["b"], 1 / 5.5)
    assert close(g["c"], -1 / 5.5**2) and close(g["d"], -1 / 5.5**2)
    # Ex-8 max: the larger input gets dx, the other 0; ReLU: da = 0 when a < 0
    g = grads(after(segs, "x = max(a, b)"))
    assert (g["a"], g["b"]) == (1, 0)
    assert grads(after(segs, "a = -1.5"))["a"] == 0
    assert grads(after(segs, ":undo", 1))["a"] == 1


def test_completion_of_functions_names_and_commands():
    pytest.importorskip("prompt_toolkit")
    from prompt_toolkit.completion import CompleteEvent
    from prompt_toolkit.document import Document

    from circuitcli.repl.complete import ReplCompleter

    completer = ReplCompleter(lambda: ["x", "xy", "q"])

    def complete(text: str) -> list[str]:
        return [c.text for c in completer.get_completions(Document(text), CompleteEvent())]

    assert complete("q = sig") == ["sigmoid("]
    assert complete("q = x") == ["x", "xy"]
    assert complete(":st") == [":step"]
    assert complete(":s") == [":step", ":show", ":save"]
    assert complete("2 + ") == []


def test_grad_does_not_import_prompt_toolkit():
    code = ("import sys\nfrom circuitcli.cli import main\n"
            "try:\n    main(['grad', 'x*y', 'x=1', 'y=2', '--no-session'])\n"
            "except SystemExit:\n    pass\n"
            "print('PT', 'prompt_toolkit' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert "PT False" in out


def test_command_words_without_the_colon_get_a_hint():
    result, segs = repl("help\nx = 1\nquit\n")
    assert result.exit_code == 2
    assert "did you mean :help?" in after(segs, "help")
    assert "did you mean :quit?" in after(segs, "quit")


def test_a_repl_file_is_a_lesson_replayed_before_stdin(tmp_path):
    lesson = tmp_path / "lesson.repl"
    lesson.write_text("# a lesson\nx = 3\nx * x\nx = log(\n")
    result = CliRunner().invoke(main, ["repl", str(lesson)], input=":show\n")
    assert result.exit_code == 2  # the lesson's last line fails
    assert "> x * x" in result.output  # replayed as a transcript
    assert "out = 9" in result.output  # 3 * 3
    assert f"error: {lesson}:4:" in result.output
    assert result.output.rstrip().endswith("x * x") or "x = 3\nx * x" in result.output
