"""The rough edges of issue 23: plain text with NO_COLOR, sample names, help texts, train's
data loss, step after train."""

from __future__ import annotations

from click.testing import CliRunner

from circuitcli.cli import main


def invoke(*args: str, env: dict[str, str] | None = None, input: str | None = None):
    return CliRunner().invoke(main, list(args), env={"CIRCUIT_SESSION": "off", **(env or {})},
                              input=input)


def test_no_color_is_plain_text_on_a_terminal() -> None:
    """README: NO_COLOR gives plain text; no colour, no bold, no dim."""
    styled = invoke("grad", "x - y", "x=1", "y=1", env={"FORCE_COLOR": "1", "TERM": "xterm"})
    assert "\x1b[1m" in styled.output  # bold on a terminal
    r = invoke("grad", "x - y", "x=1", "y=1", env={"NO_COLOR": "1", "FORCE_COLOR": "1",
                                                  "TERM": "xterm"})
    assert r.exit_code == 0 and "\x1b[" not in r.output
    r = invoke("repl", env={"NO_COLOR": "1", "FORCE_COLOR": "1"}, input="x*y\nx=2\ny=3\n")
    assert "\x1b[" not in r.output


def test_misspelled_sample_gets_did_you_mean(tmp_path, monkeypatch) -> None:
    r = invoke("grad", "nueron.circuit")
    assert r.exit_code == 2
    assert "did you mean neuron.circuit?" in r.output
    r = invoke("grad", "nueron")
    assert r.exit_code == 2 and "did you mean neuron.circuit?" in r.output
    r = invoke("grad", "zzzzzz.circuit")
    assert r.exit_code == 2 and "did you mean" not in r.output
    # a file of the user's own, in the folder named
    (tmp_path / "my_model.circuit").write_text("x*2\n")
    r = invoke("grad", str(tmp_path / "my_modle.circuit"), "x=1")
    assert f"did you mean {tmp_path / 'my_model.circuit'}?" in r.output
    monkeypatch.chdir(tmp_path)
    assert "did you mean my_model.circuit?" in invoke("grad", "my_modle.circuit").output


def test_train_data_loss_is_computed_directly() -> None:
    """The hinge data loss is the mean of max(0, 1 - label * score) over the rows, computed
    here from the learned a, b, c and svm.csv, not total minus penalty (which left rounding
    dust: -8.7e-19 once the loss reached 0). Several starts: each must agree exactly."""
    import csv
    import json

    from circuitcli.io.bundled import sample_dir

    with open(sample_dir() / "svm.csv", encoding="utf-8") as f:
        rows = [{k: float(v) for k, v in row.items()} for row in csv.DictReader(f)]
    for k in range(12):
        start = [f"a={1 + k / 7}", f"b={-2 + k / 11}"]
        r = invoke("train", "svm.circuit", "--data", "svm.csv", *start, "--reg", "0.1",
                   "--epochs", "20", "--json")
        assert r.exit_code == 0, r.output
        doc = json.loads(r.stdout)
        a, b, c = (doc["params"][n] for n in "abc")
        hinge = [max(0.0, 1 - row["label"] * (a * row["x"] + b * row["y"] + c)) for row in rows]
        assert doc["data_loss"] == sum(hinge) / len(hinge), k
        assert doc["data_loss"] >= 0
        penalty = 0.5 * 0.1 * (a * a + b * b)
        assert abs(doc["loss"] - (doc["data_loss"] + penalty)) <= 1e-15 * doc["loss"]


def test_step_after_train_moves_only_the_parameters(tmp_path) -> None:
    """svm.circuit's '# train: --features x,y': a step after training moves a, b, c (each by
    lr times its gradient, x, y and 1 for the score a*x + b*y + c) and leaves x, y alone."""
    import json

    env = {"CIRCUIT_SESSION": str(tmp_path / "session.json")}
    trained = invoke("train", "svm.circuit", "--data", "svm.csv", "--json", env=env)
    assert trained.exit_code == 0, trained.output
    params = json.loads(trained.stdout)["params"]
    r = invoke("step", "--json", env=env)
    assert r.exit_code == 0, r.output
    moved = json.loads(r.stdout)["inputs"]
    x, y = 1.2, 0.7  # the file's x and y
    assert moved["x"]["after"] == moved["x"]["before"] == x
    assert moved["y"]["after"] == moved["y"]["before"] == y
    assert moved["a"]["before"] == params["a"]
    assert moved["a"]["after"] == params["a"] + 0.01 * x
    assert moved["b"]["after"] == params["b"] + 0.01 * y
    assert moved["c"]["after"] == params["c"] + 0.01 * 1
    assert "--all moves them" in r.stderr
    r = invoke("step", "--all", "--json", env=env)
    moved = json.loads(r.stdout)["inputs"]
    assert moved["x"]["after"] != x and moved["y"]["after"] != y


def test_the_notebooks_analytic_cell_is_explained() -> None:
    """-5.870599999997832 is x*y after a step along the numerical gradient the notebook
    printed (3.000000000064062, -2.0000000000131024); the exact step gives -5.8706."""
    import json
    from pathlib import Path

    from circuitcli.io.bundled import sample_dir

    x, y = -2 + 0.01 * 3.000000000064062, 3 + 0.01 * -2.0000000000131024
    assert repr(x * y) == "-5.870599999997832"
    r = invoke("step", "mul_gate.circuit", "--json")
    after = json.loads(r.stdout)["output"]["after"]
    assert after == (-2 + 0.01 * 3) * (3 - 0.01 * 2) and repr(after) == "-5.8706"
    docs = Path(__file__).resolve().parents[1] / "circuitcli" / "docs" / "session.md"
    for text in ((sample_dir() / "mul_gate.circuit").read_text("utf-8"),
                 docs.read_text("utf-8")):
        assert "-5.870599999997832" in text and "numerical gradient" in text
        assert "3.000000000064062" in text


def test_repl_graph_writes_the_live_page(tmp_path) -> None:
    """`:graph page.html` was refused ("cannot tell the format"); it writes the page, with
    the REPL's values in it."""
    import json
    import re

    page = tmp_path / "page.html"
    r = invoke("repl", input=f"(x+y)*z\nx=-2\ny=5\nz=-4\n:graph {page}\n")
    assert r.exit_code == 0, r.output
    assert f"wrote {page}" in r.output
    html = page.read_text("utf-8")
    blob = re.search(r'id="circuit-data">(.*?)</script>', html, re.DOTALL).group(1)
    data = json.loads(blob)
    assert data["values"] == {"x": -2.0, "y": 5.0, "z": -4.0}
    assert 'data-action="next"' in html


def test_repl_load_completion_offers_what_load_accepts(tmp_path, monkeypatch) -> None:
    from prompt_toolkit.completion import CompleteEvent
    from prompt_toolkit.document import Document

    from circuitcli.repl.complete import ReplCompleter

    for name in ("mine.circuit", "picture.png", "page.html", "notes.txt"):
        (tmp_path / name).write_text("x*2\n")
    (tmp_path / "sub").mkdir()
    monkeypatch.chdir(tmp_path)
    completer = ReplCompleter(lambda: [])

    def complete(text: str) -> list[str]:
        return [c.text for c in completer.get_completions(Document(text), CompleteEvent())]

    offered = complete(":load ")
    assert {"mine.circuit", "notes.txt", "sub"} <= set(offered)
    assert "picture.png" not in offered and "page.html" not in offered
    assert "neuron" in offered and "svm" in offered  # the samples :load neuron accepts
    assert complete(":load neu") == ["neuron"]
    assert "page.html" in complete(":graph ")  # :graph writes pictures and pages


def test_benchmark_figures_live_in_the_docs(tmp_path) -> None:
    """`circuit help benchmarks` has a section per script in tests/bench/, and each script
    rewrites its own section with --write-docs (through tests/bench/figures.py)."""
    import importlib.util
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    docs = (root / "circuitcli" / "docs" / "benchmarks.md").read_text("utf-8")
    scripts = sorted(p.name for p in (root / "tests" / "bench").glob("bench_*.py"))
    assert scripts
    for name in scripts:
        assert f"<!-- begin {name} -->" in docs and f"<!-- end {name} -->" in docs, name
        assert "run(main)" in (root / "tests" / "bench" / name).read_text("utf-8"), name
    r = invoke("help", "benchmarks")
    assert r.exit_code == 0 and "bench_startup.py" in r.output
    readme = (root / "README.md").read_text("utf-8")
    assert "issue notes" not in readme and "circuit help benchmarks" in readme

    spec = importlib.util.spec_from_file_location("figures", root / "tests/bench/figures.py")
    figures = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(figures)
    page = tmp_path / "benchmarks.md"
    page.write_text("intro\n<!-- begin a.py -->\nold\n<!-- end a.py -->\n"
                    "<!-- begin b.py -->\nkeep\n<!-- end b.py -->\n")
    figures.write_section("a.py", "python tests/bench/a.py", "ratio 1.05\n", page)
    text = page.read_text()
    assert "ratio 1.05" in text and "old" not in text and "keep" in text
    assert text.startswith("intro\n") and "`python tests/bench/a.py`" in text


def test_a_benchmark_section_says_what_else_the_machine_was_doing(tmp_path, monkeypatch) -> None:
    """Figures from a shared machine say so in their section (BENCH_MACHINE_NOTE)."""
    import importlib.util
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    spec = importlib.util.spec_from_file_location("figures", root / "tests/bench/figures.py")
    figures = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(figures)
    page = tmp_path / "benchmarks.md"
    page.write_text("<!-- begin a.py -->\nold\n<!-- end a.py -->\n")
    monkeypatch.setenv("BENCH_MACHINE_NOTE", "shared with other builds")
    figures.write_section("a.py", "python tests/bench/a.py", "ratio 1.05\n", page)
    assert "cores, Python" in page.read_text() and "; shared with other builds)" in page.read_text()
