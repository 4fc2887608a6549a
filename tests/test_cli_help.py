"""Every command's --help shows a real example, and that example runs."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pytest
from click.testing import CliRunner

from circuitcli.cli import COMMANDS, main

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "circuitcli" / "docs"
SAMPLES = ROOT / "samples"


def available() -> list[str]:
    ctx = main.make_context("circuit", [], resilient_parsing=True)
    return main.list_commands(ctx)


def test_core_commands_are_listed():
    assert {"grad", "samples"} <= set(available())
    assert set(available()) <= set(COMMANDS)


@pytest.mark.parametrize("name", available())
def test_help_shows_an_example_that_runs(name, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    text = CliRunner().invoke(main, [name, "--help"]).output
    examples = re.findall(rf"^\s+(circuit {name}\b.*)$", text, re.MULTILINE)
    assert examples, f"circuit {name} --help shows no example:\n{text}"
    # the first example must work as shown (samples are found by name from any directory),
    # after a first command has made a current circuit, as a reader's session would have
    CliRunner().invoke(main, ["grad", "chain.circuit"])
    argv = shlex.split(examples[0])[1:]
    result = CliRunner().invoke(main, argv)
    assert result.exit_code in (0, 1), f"{examples[0]}: {result.output}"


# -- -h, circuit help, did you mean ----------------------------------------------------------
def test_dash_h_is_help_not_minus_h(run):
    r = run("grad", "-h")
    assert r.exit_code == 0 and r.stdout.startswith("Usage: circuit grad")
    # an expression that starts with -h is still an expression: -(h*x) at h=1, x=2
    r = run("grad", "-h*x", "h=1", "x=2", "--json", "--no-nodes")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["output"]["value"] == -2.0


def test_help_lists_commands_and_topics(run):
    r = run("help")
    assert r.exit_code == 0
    for name in available():
        assert name in r.stdout
    topics = sorted(p.stem for p in DOCS.glob("*.md"))
    assert topics and all(topic in r.stdout for topic in topics)


def test_help_command_is_the_commands_own_help(run):
    assert run("help", "step").stdout == run("step", "--help").stdout


def test_help_topic_prints_the_doc(run):
    r = run("help", "session")
    assert r.exit_code == 0
    # not a terminal: the Markdown as written
    assert r.stdout.rstrip("\n") == (DOCS / "session.md").read_text(encoding="utf-8").rstrip("\n")


@pytest.mark.parametrize("argv,suggestion", [
    (["help", "sesion"], "did you mean session?"),
    (["help", "grd"], "did you mean grad?"),
    (["grd", "x", "x=1"], "Did you mean grad?"),
    (["smaples"], "Did you mean samples?"),
])
def test_typos_get_a_suggestion(run, argv, suggestion):
    r = run(*argv)
    assert r.exit_code == 2
    assert suggestion in r.stderr
    assert "Traceback" not in r.output


# -- samples -------------------------------------------------------------------------------
def test_samples_lists_circuits_and_csv_files(run):
    r = run("samples")
    assert r.exit_code == 0
    for path in SAMPLES.iterdir():
        if path.suffix in (".circuit", ".csv"):
            assert path.name in r.stdout


def test_samples_json_describes_each_file(run):
    r = run("samples", "--json")
    assert r.exit_code == 0
    entries = json.loads(r.stdout)
    kinds = {e["name"]: e["kind"] for e in entries}
    assert kinds["svm.csv"] == "csv" and kinds["neuron.circuit"] == "circuit"
    assert all(set(e) == {"name", "kind", "description", "path"} for e in entries)
    assert all(Path(e["path"]).name == e["name"] for e in entries)


@pytest.mark.parametrize("name,file", [("svm.csv", "svm.csv"), ("neuron", "neuron.circuit"),
                                       ("chain.circuit", "chain.circuit")])
def test_samples_name_prints_that_sample(run, name, file):
    r = run("samples", name)
    assert r.exit_code == 0
    assert r.stdout == (SAMPLES / file).read_text(encoding="utf-8")


def test_samples_unknown_name_is_an_error(run):
    r = run("samples", "nueron.circuit")
    assert r.exit_code == 2 and "did you mean neuron.circuit?" in r.stderr


def test_a_name_that_is_a_command_and_a_topic_reaches_both():
    from circuitcli.commands.help import topics

    both = sorted(set(topics()) & set(COMMANDS))
    assert "check" in both
    for name in both:
        r = CliRunner().invoke(main, ["help", name], prog_name="circuit")
        assert r.exit_code == 0 and r.stdout.startswith(f"Usage: circuit {name}")
        assert f"circuit help {name} --guide" in r.stdout
        page = CliRunner().invoke(main, ["help", name, "--guide"], prog_name="circuit")
        heading = topics()[name].read_text(encoding="utf-8").splitlines()[0]
        assert page.exit_code == 0 and page.stdout.startswith(heading)
