"""`circuit graph`: the tree, DOT (checked by Graphviz), SVG, PNG and Mermaid, for every sample."""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess

import pytest
from click.testing import CliRunner
from guards import NEEDS_DOT
from rich.console import Console

import circuitcli
from circuitcli.cli import main
from circuitcli.io.bundled import samples
from circuitcli.render.dot import dot_source
from circuitcli.render.mermaid import mermaid_source
from circuitcli.render.tree import CircuitTree

SAMPLES = sorted(f"{name}.circuit" for name in samples())
HAVE_DOT = shutil.which("dot") is not None
needs_dot = NEEDS_DOT  # a failure under CI=1, where Graphviz is installed
SVG_OPEN = re.compile(r"<svg[\s>]")


def run(*args: str, env: dict | None = None, input: str | None = None):
    return CliRunner().invoke(main, list(args), env=env, input=input)


def plain_tree(circuit, result=None, depth: int = 12) -> list[str]:
    buffer = io.StringIO()
    Console(file=buffer, color_system=None, width=100).print(
        CircuitTree(circuit, result, "", 6, depth), soft_wrap=True)
    return buffer.getvalue().splitlines()[1:]  # the first line is the header


def graphviz(source: str) -> subprocess.CompletedProcess:
    return subprocess.run(["dot", "-Tsvg"], input=source.encode(), capture_output=True,
                          check=False)


# ---- every sample, every format -------------------------------------------------------------


@pytest.mark.parametrize("sample", SAMPLES)
def test_every_sample_as_a_tree(sample):
    r = run("graph", sample)
    assert r.exit_code == 0, r.output
    circuit = circuitcli.parse((samples()[sample[:-8]][0]).read_text())
    labels = circuit.labels()
    # every input and gate the output depends on has exactly one full line; later uses
    # are references, and a deep branch's "(continued)" header repeats a line on purpose
    drawn = [line.split("── ")[-1].split()[0] for line in r.output.splitlines()[1:]
             if ("←" in line or line.rstrip().endswith("input"))
             and not line.endswith("(continued)")]
    wanted, stack = set(), [circuit.output]
    while stack:
        i = stack.pop()
        if i not in wanted and circuit.live[i]:
            wanted.add(i)
            stack.extend(circuit.args[i])
    assert sorted(drawn) == sorted(labels[i] for i in wanted)


@pytest.mark.parametrize("sample", SAMPLES)
def test_every_sample_as_mermaid(sample):
    r = run("graph", sample, "--format", "mermaid")
    assert r.exit_code == 0, r.output
    lines = r.stdout.splitlines()
    assert lines[0] == "```mermaid" and lines[-1] == "```"
    assert "flowchart LR" in lines
    circuit = circuitcli.parse((samples()[sample[:-8]][0]).read_text())
    arrows = [line for line in lines if re.match(r"\s+n\d+ -->", line)]
    assert len(arrows) == sum(len(a) for a in circuit.args)
    boxes = {m.group(1) for line in lines if (m := re.match(r"\s+(n\d+)[\[(]", line))}
    assert boxes == {f"n{i}" for i in range(len(circuit))}


@needs_dot
@pytest.mark.parametrize("sample", SAMPLES)
def test_every_sample_as_dot_is_accepted_by_graphviz(sample):
    r = run("graph", sample, "--format", "dot")
    assert r.exit_code == 0, r.output
    assert r.output.startswith("digraph circuit {") and "rankdir=LR;" in r.output
    done = graphviz(r.output)
    assert done.returncode == 0 and done.stderr == b"", done.stderr.decode()
    circuit = circuitcli.parse((samples()[sample[:-8]][0]).read_text())
    edges = re.findall(r"^  n(\d+) -> n(\d+)(?: \[.*\])?;$", r.output, re.MULTILINE)
    assert sorted((int(a), int(b)) for a, b in edges) == sorted(
        (j, i) for i, a in enumerate(circuit.args) for j in a)


@needs_dot
@pytest.mark.parametrize("sample", SAMPLES)
def test_every_sample_as_svg_and_png(sample, tmp_path):
    r = run("graph", sample, "--format", "svg")
    assert r.exit_code == 0, r.output
    assert SVG_OPEN.search(r.output)
    target = tmp_path / "g.png"
    r = run("graph", sample, "-o", str(target), "--dpi", "24")  # small: mlp is big
    assert r.exit_code == 0, r.output
    assert target.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")


# ---- the tree ---------------------------------------------------------------------------------


def test_tree_shows_the_chain_rule_numbers():
    # notebook: q = x + y = 3, f = q * z = -12; df/dq = z = -4, df/dz = q = 3, df/dx = df/dy = -4
    r = run("graph", "chain.circuit")
    assert r.exit_code == 0, r.output
    assert r.output.splitlines() == [
        "chain.circuit   f = -12",
        "f = -12   grad 1   ← q * z   mul",
        "├── q = 3   grad -4   ← x + y   add",
        "│   ├── x = -2   grad -4   input",
        "│   └── y = 5   grad -4   input",
        "└── z = -4   grad 3   input",
    ]


def test_a_reused_node_is_drawn_once_and_referenced():
    r = run("graph", "q = x + y; f = q * q", "x=1", "y=2")
    lines = r.output.splitlines()
    assert [line for line in lines[1:] if "q = " in line] == [
        "├── q = 3   grad 6   ← x + y   add"]
    assert lines[-1] == "└── q ↑ (drawn above)"
    # x and y sit under q once: the reference is not expanded again
    assert sum("x = 1" in line for line in lines) == 1


def test_an_input_used_twice_is_referenced_and_its_gradient_adds_up():
    r = run("graph", "a * a", "a=3")  # Ex-6: da = 2 * a
    assert r.output.splitlines()[1:] == [
        "out = 9   grad 1   ← a * a   mul",
        "├── a = 3   grad 6   input",
        "└── a ↑ (drawn above)",
    ]


def test_constants_and_constant_subexpressions():
    r = run("graph", "x * -2 + 2", "x=1")
    lines = r.output.splitlines()
    assert "│   └── neg1 = -2   ← -2   neg" in lines  # a constant node: no gradient
    assert lines.count("│       └── 2   constant") == 1
    assert lines[-1] == "└── 2   constant"  # a repeated literal is drawn where it is used


def test_structure_only_without_values():
    r = run("graph", "(x+y)*z", "x=1")
    assert r.exit_code == 0, r.output
    lines = r.output.splitlines()
    assert lines[0] == "(x+y)*z   (give y=... z=... to see values and gradients)"
    assert lines[1] == "out   ← add1 * z   mul"
    assert "grad" not in r.output.split("\n", 1)[1]


def test_a_misspelled_name_is_still_an_error():
    r = run("graph", "(x+y)*z", "w=1")
    assert r.exit_code == 2
    assert "no input named w" in r.output


def test_kinks_and_unused_nodes_are_noted():
    r = run("graph", "a = 0\nb = 1\nunused = b * 2\nf = relu(a)")
    assert r.exit_code == 0, r.output
    lines = r.output.splitlines()
    assert lines[1] == "f = 0   grad 1   ← relu(a)   kink"
    assert "kink at f = relu(a): relu at 0: uses the subgradient 0" in lines
    assert "not drawn, the output does not use them: b, unused" in lines


def test_pull_scales_every_gradient():
    r = run("graph", "chain.circuit", "--pull", "2")
    assert "(pull from above: 2)" in r.output
    assert "└── z = -4   grad 6   input" in r.output


def test_gradients_are_coloured_like_circuit_grad():
    env = {"FORCE_COLOR": "1", "TERM": "xterm-256color"}
    r = run("graph", "x - y", "x=1", "y=1", env=env)
    assert "\x1b[32m1\x1b[0m" in r.output  # green: x pulls up
    assert "\x1b[31m-1\x1b[0m" in r.output  # red: y pulls down
    assert "\x1b[3" not in run("graph", "x - y", "x=1", "y=1").output  # no terminal: plain


def test_depth_continues_deep_branches_below():
    circuit = circuitcli.parse((samples()["neuron"][0]).read_text())
    lines = plain_tree(circuit, circuit.grad(), depth=2)
    assert lines[0].startswith("s = 0.880797")
    continued = [line for line in lines if line.endswith("↓ continued below")]
    assert [line.split("── ")[1].split()[0] for line in continued] == ["axpby"]
    assert "axpby = 5   grad 0.104994   ← ax + by   add   (continued)" in lines
    # every node still drawn exactly once
    names = [re.sub(r"^[│├└─ ]*", "", line).split()[0] for line in lines if line]
    full = [n for n, line in zip(names, [line for line in lines if line])
            if "↑" not in line and "(continued)" not in line]
    assert sorted(full) == sorted(["s", "axpbypc", "axpby", "c", "ax", "by", "a", "x", "b", "y"])


def test_a_100000_deep_chain_draws_without_recursion():
    n = 100_000
    circuit = circuitcli.parse("x" + "*1.00001" * n)
    lines = plain_tree(circuit, circuit.grad(x=1.0))
    drawn = [line for line in lines if "←" in line and not line.endswith("(continued)")]
    assert len(drawn) == n  # every gate once
    sections = [line for line in lines if line.endswith("(continued)")]
    assert len(sections) == -(-n // 12) - 1
    guides = max(len(re.match(r"[│├└─ ]*", line).group(0)) for line in lines)
    assert guides == 4 * 12  # indentation stays bounded: 12 levels a section
    x_lines = [line for line in lines if re.search(r"── x = 1 ", line)]
    assert len(x_lines) == 1 and x_lines[0].endswith(f"grad {1.00001 ** n:.6g}   input")


# ---- DOT, SVG, PNG ----------------------------------------------------------------------------


def test_dot_boxes_carry_name_gate_value_and_gradient():
    circuit = circuitcli.parse((samples()["chain"][0]).read_text())
    source = dot_source(circuit, circuit.grad(), "chain")
    q = next(line for line in source.splitlines() if "<B>q</B>" in line)
    assert "add: x + y" in q and "value 3" in q and "grad -4" in q
    assert '#b91c1c">grad -4<' in q  # red, as circuit grad colours a negative gradient
    z = next(line for line in source.splitlines() if "<B>z</B>" in line)
    assert "input" in z and "value -4" in z and '#15803d">grad 3<' in z
    # an edge per use: a * a has two edges from a
    twice = dot_source(circuitcli.parse("a * a"))
    assert twice.count("n0 -> n1;") == 2


@needs_dot
def test_dot_escapes_titles_and_tooltips(tmp_path):
    weird = tmp_path / 'a<b>&"c\\N.circuit'
    weird.write_text("x = 1\nf = x * 2\n")
    r = run("graph", str(weird), "--format", "dot")
    assert r.exit_code == 0, r.output
    assert "&lt;b&gt;&amp;" in r.output
    done = graphviz(r.output)
    assert done.returncode == 0 and done.stderr == b"", done.stderr.decode()
    assert "&lt;b&gt;&amp;&quot;c\\N.circuit" in done.stdout.decode()  # \N not expanded


def test_svg_without_graphviz_says_how_to_install_it(tmp_path):
    env = {"PATH": str(tmp_path)}  # an empty folder: no dot anywhere
    for form in ("svg", "png"):
        r = run("graph", "chain.circuit", "--format", form, env=env)
        assert r.exit_code == 2
        assert len(r.output.strip().splitlines()) == 1
        assert "apt-get install graphviz" in r.output and "--format dot" in r.output


@needs_dot
def test_png_goes_to_a_pipe_or_a_file(tmp_path):
    r = CliRunner().invoke(main, ["graph", "chain.circuit", "--format", "png"])
    assert r.exit_code == 0
    assert r.stdout_bytes.startswith(b"\x89PNG")


# ---- writing files ----------------------------------------------------------------------------


@pytest.mark.parametrize(("suffix", "start"), [
    (".txt", "chain.circuit   f = -12"), (".dot", "digraph circuit {"),
    (".gv", "digraph circuit {"), (".md", "```mermaid"), (".mmd", "---"),
])
def test_the_extension_picks_the_format(tmp_path, suffix, start):
    (tmp_path / "out").mkdir()
    target = tmp_path / "out" / f"graph{suffix}"
    r = run("graph", "chain.circuit", "-o", str(target))
    assert r.exit_code == 0, r.output
    assert r.stdout == ""
    assert r.stderr == f"wrote {target} ({target.stat().st_size} bytes)\n"
    text = target.read_text()
    assert text.splitlines()[0] == start
    if suffix == ".mmd":
        assert "```" not in text  # a bare diagram, for mermaid-cli
    assert os.listdir(tmp_path / "out") == [target.name]  # no temporary file left behind


def test_dash_means_standard_output():
    r = run("graph", "chain.circuit", "-o", "-", "--format", "dot")
    assert r.exit_code == 0 and r.stdout.startswith("digraph circuit {")


def test_file_output_matches_standard_output(tmp_path):
    target = tmp_path / "tree.out"
    r = run("graph", "neuron.circuit", "--output", str(target), "--format", "tree")
    assert r.exit_code == 0, r.output
    assert target.read_text() == run("graph", "neuron.circuit").output


def test_an_existing_file_is_replaced_whole_and_keeps_its_mode(tmp_path):
    target = tmp_path / "g.dot"
    target.write_text("old contents that are longer than nothing " * 100)
    os.chmod(target, 0o640)
    r = run("graph", "ex1_mul.circuit", "-o", str(target))
    assert r.exit_code == 0, r.output
    assert target.read_text().startswith("digraph circuit {")
    assert "old contents" not in target.read_text()
    assert target.stat().st_mode & 0o777 == 0o640


def test_unknown_extension_and_missing_folder_are_usage_errors(tmp_path):
    r = run("graph", "chain.circuit", "-o", str(tmp_path / "g.pdf"))
    assert r.exit_code == 2 and "cannot tell the format" in r.output
    r = run("graph", "chain.circuit", "-o", str(tmp_path / "nope" / "g.dot"))
    assert r.exit_code == 2 and "No such file or directory" in r.output
    assert "Traceback" not in r.output


def test_dash_o_is_an_option_but_minus_o_times_x_is_an_expression(tmp_path):
    r = run("graph", "-o*x", "o=2", "x=3")
    assert r.exit_code == 0, r.output
    assert r.output.splitlines()[1] == "out = -6   grad 1   ← neg1 * x   mul"


# ---- Mermaid ----------------------------------------------------------------------------------


def test_mermaid_boxes_arrows_and_classes():
    circuit = circuitcli.parse("q = x + y\nf = q * q")
    text = mermaid_source(circuit, circuit.grad(x=1, y=2), "t")
    lines = text.splitlines()
    assert lines[:5] == ["```mermaid", "---", 'title: "t"', "---", "flowchart LR"]
    assert '    n2["<b>q = 3</b><br/>grad 6<br/>add: x + y"]' in lines
    assert lines.count("    n2 --> n3") == 2  # one arrow per use
    assert "    class n0,n1 input" in lines and "    class n3 output" in lines


def test_mermaid_warns_on_stderr_past_its_edge_limit():
    r = run("graph", "x" + "+x" * 300, "--format", "mermaid")  # 300 add gates, 2 edges each
    assert r.exit_code == 0
    assert r.stderr == ("note: 600 edges; Mermaid draws at most 500 unless its maxEdges "
                        "setting is raised\n")
    assert r.stdout.startswith("```mermaid")


def test_mermaid_escapes_what_would_break_it():
    circuit = circuitcli.parse("x * 2")
    text = mermaid_source(circuit, None, 'a "b" <c> #d', fenced=False)
    assert 'title: "a \\"b\\" <c> #d"' in text
    assert "```" not in text
