"""The interface contract, checked on every command in cli.COMMANDS (issue 10).

CAPS says what each command can do by the contract; a command added to COMMANDS must be
classified here (test_every_command_is_classified), and is then checked by the one
parametrised test: -h and --help, --json alone on stdout, --of NAME, -o FILE and its
`wrote FILE (N bytes)` line, and that a look-only command leaves the session untouched.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest

from circuitcli.cli import COMMANDS, main

CHAIN = ("chain.circuit",)  # q = x + y; f = q * z, with default values
SVM = ("svm.circuit",)  # score = a*x + b*y + c


@dataclass(frozen=True)
class Caps:
    """What a command takes and gives: `args` is a working call of it with a circuit of its
    own (empty for commands that take none)."""

    args: tuple[str, ...] = ()
    of: str | None = None  # a node name to pass with --of
    json: bool = False  # returns data: --json prints JSON alone on stdout
    artefact: str | None = None  # makes a file: -o FILE with this extension writes it
    changes_session: bool = False  # grad, set, step, search --apply, train, reset
    terminal: bool = False  # needs a terminal to run at all (only -h/--help are checked)


CAPS: dict[str, Caps] = {
    "grad": Caps(CHAIN, of="q", json=True, changes_session=True),
    "check": Caps(CHAIN, of="q", json=True),
    "step": Caps(CHAIN, of="q", json=True, changes_session=True),
    "search": Caps((*CHAIN, "--seed", "1"), of="q", json=True),
    "compare": Caps((*CHAIN, "--seed", "1"), of="q", json=True),
    "show": Caps(CHAIN, of="q", json=True),
    "set": Caps(CHAIN, of="q", json=True, changes_session=True),
    "reset": Caps(changes_session=True),
    "train": Caps((*SVM, "--data", "svm.csv", "--iters", "5"), of="score", json=True,
                  artefact=".json", changes_session=True),
    "predict": Caps((*SVM, "--data", "svm.csv"), of="score", json=True, artefact=".csv"),
    "graph": Caps(CHAIN, of="q", artefact=".dot"),
    "code": Caps(CHAIN, of="q", artefact=".py"),
    "samples": Caps(json=True),
    "help": Caps(),
    "explain": Caps(CHAIN, of="q", json=True),
    "hessian": Caps(CHAIN, of="q", json=True, artefact=".csv"),
    # reads its lines from stdin: test_repl.py runs it piped and on a pseudo-terminal
    "repl": Caps(terminal=True),
    # stateless with --json; piped answers and the terminal: test_quiz.py
    "quiz": Caps(("--seed", "1", "--level", "2"), json=True),
}


def declares(name: str, option: str) -> bool:
    command = main.get_command(main.make_context("circuit", [], resilient_parsing=True), name)
    return any(option in (*p.opts, *p.secondary_opts) for p in command.params
               if hasattr(p, "opts"))


def available() -> list[str]:
    return main.list_commands(main.make_context("circuit", [], resilient_parsing=True))


def test_every_command_is_classified():
    missing = [name for name in COMMANDS if name not in CAPS]
    assert not missing, f"classify these commands in CAPS: {missing}"


def test_the_group_has_help_too(run):
    for flag in ("-h", "--help"):
        r = run(flag)
        assert r.exit_code == 0 and "Usage: circuit" in r.stdout
        assert all(name in r.stdout for name in available())


@pytest.mark.parametrize("name", available())
def test_command_keeps_the_contract(name, run, session_file, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    caps = CAPS[name]
    for flag in ("-h", "--help"):
        r = run(name, flag)
        assert r.exit_code == 0, f"{name} {flag}: {r.output}"
        assert r.stdout.startswith(f"Usage: circuit {name}"), r.stdout
    if caps.terminal:
        return

    def usable(option: str) -> bool:
        assert declares(name, option), f"circuit {name} lacks {option}"
        return True

    # a current circuit the command must leave alone unless it is one that changes it
    assert run("grad", "x*y", "x=1", "y=2").exit_code == 0
    before = session_file.read_bytes()

    if caps.json and usable("--json"):
        r = run(name, *caps.args, "--json")
        assert r.exit_code == 0, r.output
        assert r.stdout.lstrip()[:1] in ("{", "["), r.stdout
        json.loads(r.stdout)  # JSON and nothing else
    if caps.of is not None:
        r = run(name, *caps.args, "--of", caps.of)
        assert r.exit_code in (0, 1), f"--of {caps.of}: {r.output}"
        bad = run(name, *caps.args, "--of", "no_such_node")
        assert bad.exit_code == 2 and "no_such_node" in bad.stderr, bad.output
    if caps.artefact is not None and usable("-o"):
        target = tmp_path / f"artefact{caps.artefact}"
        r = run(name, *caps.args, "-o", str(target))
        assert r.exit_code == 0, r.output
        size = target.stat().st_size
        assert size > 0
        assert f"wrote {target} ({size} bytes)" in r.stderr
        assert str(target) not in r.stdout
    if caps.args and not caps.changes_session:
        r = run(name, *caps.args)
        assert r.exit_code in (0, 1), r.output
        assert session_file.read_bytes() == before, f"circuit {name} changed the session"


def test_the_session_is_untouched_byte_for_byte_by_search_without_apply(run, session_file):
    assert run("grad", "x*y", "x=1", "y=2").exit_code == 0
    before = session_file.read_bytes()
    assert run("search", "a+b", "a=1", "b=2", "--seed", "3").exit_code == 0
    assert session_file.read_bytes() == before
    assert run("search", "a+b", "a=1", "b=2", "--seed", "3", "--apply").exit_code == 0
    assert json.loads(session_file.read_text())["circuit"] == "a+b"


def test_every_command_in_the_table_is_available():
    # a module missing from the package would make its command vanish from the group silently
    assert sorted(available()) == sorted(COMMANDS)


def test_code_writes_the_program_with_o(run, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    shown = run("code", "chain.circuit", "--values")
    r = run("code", "chain.circuit", "--values", "-o", "chain.py")
    assert r.exit_code == 0 and r.stdout == ""
    data = (tmp_path / "chain.py").read_bytes()
    assert data.decode() == shown.stdout
    assert r.stderr.strip() == f"wrote chain.py ({len(data)} bytes)"


def test_code_never_writes_over_its_circuit_file(run, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    circuit = tmp_path / "c.circuit"
    circuit.write_text("x = 1\nx*x\n")
    r = run("code", "c.circuit", "-o", "c.circuit")
    assert r.exit_code == 2 and "own input" in r.stderr
    assert circuit.read_text() == "x = 1\nx*x\n"


@pytest.mark.parametrize("name,module,function", [
    ("check", "circuitcli.methods.check", "check"),
    ("compare", "circuitcli.methods.strategies", "compare"),
    ("graph", "circuitcli.commands.graph", "evaluate"),  # where graph looks it up
])
def test_ctrl_c_exits_130_with_one_line(run, monkeypatch, name, module, function):
    import importlib

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(importlib.import_module(module), function, interrupted)
    r = run(name, "x*y", "x=-2", "y=3")
    assert r.exit_code == 130, r.output
    assert r.stderr == "interrupted\n" and r.stdout == ""


@pytest.mark.parametrize("args", [
    ["gard"], ["grad", "x", "x=1", "--dgits", "3"], ["grad", "x*y", "x=1", "y=2", "--digits", "0"],
    ["grad", "x*y", "x=1", "y=2", "--session"], ["code", "x*y", "-o"], ["step", "--lr", "abc"],
])
def test_usage_errors_are_one_line_and_write_nothing(args, run, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    r = run(*args)
    assert r.exit_code == 2, r.output
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), r.stderr
    assert not (tmp_path / "--").exists()  # an option without its value wrote no file "--"


def test_a_pipe_gets_whole_numbers_not_80_columns(monkeypatch):
    # rich cuts to 80 columns when it cannot ask a terminal; compare's table is wider than that
    from click.testing import CliRunner

    monkeypatch.delenv("COLUMNS", raising=False)
    r = CliRunner().invoke(main, ["compare", "x*y", "x=-2", "y=3", "--digits", "12"])
    assert r.exit_code == 0, r.output
    assert "…" not in r.stdout
    assert max(map(len, r.stdout.splitlines())) > 80
