"""Shell completion through click's own protocol: the environment variables a shell's
completion script sets (_CIRCUIT_COMPLETE=bash_complete, zsh_complete, fish_complete with
COMP_WORDS and COMP_CWORD), answered by `circuit` as the script would run it."""

from __future__ import annotations

import shlex

import pytest
from click.testing import CliRunner

from circuitcli.cli import main


def complete(line: str, shell: str = "bash", cwd=None) -> list[str]:
    """The values offered for the last word of `line` (empty after a trailing space)."""
    words = shlex.split(line)
    if line.endswith(" "):
        words.append("")
    env = {"_CIRCUIT_COMPLETE": f"{shell}_complete", "CIRCUIT_SESSION": "off"}
    if shell == "fish":
        env |= {"COMP_WORDS": line, "COMP_CWORD": words[-1]}
    else:
        env |= {"COMP_WORDS": line, "COMP_CWORD": str(len(words) - 1)}
    r = CliRunner().invoke(main, [], env=env, prog_name="circuit")
    assert r.exit_code == 0, r.output
    assert "error" not in r.stdout and not r.stderr, r.output
    return values(r.stdout, shell)


def values(out: str, shell: str) -> list[str]:
    if not out.strip():
        return []
    if shell == "bash":  # type,value per line
        return [v for t, v in (line.split(",", 1) for line in out.splitlines()) if t != "dir"]
    if shell == "zsh":  # type, value, help: three lines each
        lines = out.splitlines()
        return [lines[k + 1] for k in range(0, len(lines), 3) if lines[k] != "dir"]
    # fish: "plain,value" or "plain,value\thelp" per line
    return [line.split(",", 1)[1].split("\t")[0] for line in out.splitlines()
            if not line.startswith("dir,")]


SHELLS = ["bash", "zsh", "fish"]


@pytest.mark.parametrize("shell", SHELLS)
def test_an_option_value_being_typed_is_completed_not_refused(shell):
    """The README's `circuit graph neuron.circuit --format <TAB>` printed 'error: option
    --format needs a value' and completed nothing."""
    assert complete("circuit graph neuron.circuit --format ", shell) == [
        "tree", "dot", "svg", "png", "mermaid", "html"]
    assert complete("circuit graph neuron.circuit --format m", shell) == ["mermaid"]
    assert "full" in complete("circuit grad --digits ", shell)


@pytest.mark.parametrize("shell", SHELLS)
def test_data_completes_csv_files_here_and_shipped(shell, tmp_path, monkeypatch):
    (tmp_path / "svm_mine.csv").write_text("x,label\n1,1\n")
    (tmp_path / "svm_notes.txt").write_text("")
    monkeypatch.chdir(tmp_path)
    got = complete("circuit train svm.circuit --data sv", shell)
    assert sorted(got) == ["svm.csv", "svm_mine.csv"]


@pytest.mark.parametrize("shell", SHELLS)
def test_circuit_argument_completes_files_and_samples(shell, tmp_path, monkeypatch):
    (tmp_path / "nearby.circuit").write_text("x*2\n")
    (tmp_path / "neat.txt").write_text("")
    monkeypatch.chdir(tmp_path)
    got = complete("circuit grad ne", shell)
    assert sorted(got) == ["nearby.circuit", "neuron.circuit"]
    assert complete("circuit grad neuron.circuit ", shell) == []  # NAME=VALUE follows
    assert "notebook.repl" in complete("circuit repl no", shell)


@pytest.mark.parametrize("shell", SHELLS)
def test_of_completes_the_nodes_of_the_circuit_on_the_line(shell):
    assert complete("circuit grad neuron.circuit --of ax", shell) == ["ax", "axpby", "axpbypc"]
    assert set(complete("circuit grad 'q = x + y; q * z' --of ", shell)) == {"q", "x", "y", "z"}
    assert complete("circuit grad --of ", shell) == []  # no circuit on the line yet
    assert complete("circuit grad 'x +' --of ", shell) == []  # a broken one: nothing


@pytest.mark.parametrize("shell", SHELLS)
def test_methods_topics_and_samples(shell):
    assert complete("circuit check x x=1 --method c", shell) == ["central", "complex"]
    got = complete("circuit help se", shell)
    assert {"search", "set", "session"} <= set(got)
    assert complete("circuit samples sv", shell) == ["svm.circuit", "svm.csv"]
    assert "grad" in complete("circuit gr", shell)


@pytest.mark.parametrize("shell", SHELLS)
def test_wrt_completes_the_inputs_of_the_circuit_on_the_line(shell):
    """Found in the new-user trial: `grad --forward --wrt <TAB>` offered nothing."""
    assert complete("circuit grad neuron.circuit --forward --wrt ", shell) == [
        "a", "b", "c", "x", "y"]
    assert complete("circuit explain 'q = x + y; q * z' --forward --wrt ", shell) == [
        "x", "y", "z"]
    assert complete("circuit grad --wrt ", shell) == []


@pytest.mark.parametrize("shell", SHELLS)
def test_backward_and_params_complete_their_files(shell, tmp_path, monkeypatch):
    """Found in the trial: `check --backward <TAB>` and `predict --params <TAB>` offered
    nothing, though each exercise ships a .backward file and train -o writes JSON."""
    (tmp_path / "ex1_mine.backward").write_text("da = b * dx\n")
    (tmp_path / "ex1_notes.txt").write_text("")
    (tmp_path / "learned.json").write_text("{}")
    monkeypatch.chdir(tmp_path)
    assert sorted(complete("circuit check ex1_mul.circuit --backward ex1", shell)) == [
        "ex1_mine.backward", "ex1_mul.backward"]
    assert complete("circuit predict svm.circuit --params ", shell) == ["learned.json"]


def test_output_file_lets_the_shell_offer_file_names():
    """`-o <TAB>` answered nothing at all, so bash offered no file names either: the answer
    is click's "file" item, which bash's script turns into its own file completion."""
    env = {"_CIRCUIT_COMPLETE": "bash_complete", "CIRCUIT_SESSION": "off",
           "COMP_WORDS": "circuit graph neuron.circuit -o ne", "COMP_CWORD": "4"}
    r = CliRunner().invoke(main, [], env=env, prog_name="circuit")
    assert r.stdout.splitlines() == ["file,ne"]


def test_samples_lists_and_prints_the_backward_passes_and_the_lesson():
    """Found in the new-user trial: the docs send a learner to `ex1_mul.backward` and
    `notebook.repl`, but `circuit samples` neither listed nor printed them."""
    r = CliRunner().invoke(main, ["samples", "--json"], env={"CIRCUIT_SESSION": "off"})
    kinds = {s["name"]: s["kind"] for s in __import__("json").loads(r.stdout)}
    assert kinds["ex1_mul.backward"] == "backward" and kinds["notebook.repl"] == "lesson"
    assert kinds["neuron.circuit"] == "circuit" and kinds["svm.csv"] == "csv"
    r = CliRunner().invoke(main, ["samples", "ex1_mul.backward"], env={"CIRCUIT_SESSION": "off"})
    assert r.exit_code == 0 and "da = b * dx" in r.stdout
    assert complete("circuit samples ex1_mul") == ["ex1_mul.circuit", "ex1_mul.backward"]
    assert complete("circuit samples note") == ["notebook.repl"]
