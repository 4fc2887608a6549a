"""The command fuzz, grown to the REPL's `:` commands and the page generator (issue 24).

REPL: scripts of statements and `:` commands (every entry of repl.commands.COMMANDS, with
arguments that fit and that do not: numbers, names, the hostile files of the command fuzz,
including a FIFO and a directory, and files of every format :graph writes) are piped to
`circuit repl`. Page: random circuits over every gate, with hostile names (`__proto__`,
`</script>`, bidi controls) and numbers that overflow, go through `circuit graph -o
page.html`. Whatever the input, the exit code is 0, 1, 2 or 130, there is no traceback, no
"internal error" and no numpy RuntimeWarning; a page that is written holds every node in
its JSON and nothing that could close its script.
"""

from __future__ import annotations

import json
import os
import warnings
from pathlib import Path

import pytest
from click.testing import CliRunner
from guards import deadline
from hypothesis import given, settings
from hypothesis import strategies as st
from test_fuzz_commands import EXPRESSIONS, FILES, FUZZ, NUMBERS, OK_CODES, TEXT, hostile_dir

from circuitcli.cli import main
from circuitcli.core.gates import GATES
from circuitcli.repl.commands import ALIASES, COMMANDS

NAMES = ["x", "y", "z", "q", "f", "w0", "__proto__", "constructor", "é", "nosuch"]
OUT_FILES = ["p.html", "p.dot", "p.txt", "p.mmd", "p.svg", "p.md", "p.nosuch", "out.svg",
             "fifo.circuit", "dir.circuit", "session.json", "session.json.lock", ""]
ARGS = st.sampled_from([*NUMBERS, *NAMES, *FILES, *OUT_FILES, "1", "2", "0.5", "x=1", "x=nan",
                        "quiz", "1 2 3", "-1", "²"]) | TEXT


@st.composite
def repl_line(draw) -> str:
    kind = draw(st.integers(0, 4))
    if kind == 0:  # a statement: a value, a node, a bare expression
        name = draw(st.sampled_from(NAMES))
        return draw(st.sampled_from([f"{name} = {draw(st.sampled_from(NUMBERS))}",
                                     f"{name} = {draw(st.sampled_from(EXPRESSIONS))}",
                                     draw(st.sampled_from(EXPRESSIONS))]))
    if kind == 1:
        return draw(TEXT)
    command = draw(st.sampled_from([*COMMANDS, *ALIASES, "nosuch", "stpe"]))
    args = draw(st.lists(ARGS, max_size=3))
    return " ".join([f":{command}", *args])


SETUP = ["x = -2", "y = 5", "z = -4", "f = (x+y)*z"]  # so that most commands have a circuit


def _held(r, caught, where: str) -> None:
    """What every fuzz run must keep: a documented exit code, no crash, no leaked warning."""
    assert r.exit_code in OK_CODES, f"{where}: exit {r.exit_code}\n{r.output}\n{r.exception!r}"
    assert r.exception is None or isinstance(r.exception, SystemExit), f"{where}: {r.exception!r}"
    assert "internal error" not in r.output and "Traceback" not in r.output, f"{where}\n{r.output}"
    leaked = [str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)]
    assert not leaked, f"{where}: {leaked}"


def check_repl(lines: list[str]) -> None:
    script = "\n".join(lines) + "\n"
    with hostile_dir(), deadline(60), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        env = {"CIRCUIT_SESSION": os.path.join(os.getcwd(), "session.json"), "COLUMNS": "80"}
        r = CliRunner().invoke(main, ["repl"], input=script.encode("utf-8", "surrogateescape"),
                               env=env)
    where = f"circuit repl <<< {script!r}"
    _held(r, caught, where)


@settings(FUZZ, max_examples=25, derandomize=True, database=None)
@given(lines=st.lists(repl_line(), min_size=1, max_size=6), setup=st.booleans())
def test_fuzz_repl_commands_quick(lines, setup):
    check_repl((SETUP if setup else []) + lines)


@pytest.mark.slow
@settings(FUZZ, max_examples=400, database=None)
@given(lines=st.lists(repl_line(), min_size=1, max_size=12), setup=st.booleans())
def test_fuzz_repl_commands(lines, setup):
    check_repl((SETUP if setup else []) + lines)


def test_every_repl_command_is_in_the_fuzz():
    # the fuzz draws from the table itself: a new command is fuzzed as soon as it is listed
    assert set(COMMANDS) >= {"step", "check", "graph", "save", "load", "quiz", "hessian"}


# ---- the page generator -------------------------------------------------------------------

FUNCTIONS = sorted(g.name for g in GATES.values() if g.function and g.arity == 1)
HOSTILE_NAMES = ["x", "y", "__proto__", "constructor", "prototype", "toString", "hasOwnProperty",
                 "valueOf", "é", "ß", "x_1", "π"]
PAGE_NUMBERS = ["1", "-2", "0", "-0", "1e308", "-1e308", "1e-320", "0.5", "700", "-700"]


@st.composite
def page_circuit(draw) -> tuple[str, list[str]]:
    """A circuit text over random gates, and its NAME=VALUE arguments."""
    names = draw(st.lists(st.sampled_from(HOSTILE_NAMES), min_size=1, max_size=4, unique=True))
    made = list(names)
    lines = []
    for k in range(draw(st.integers(1, 8))):
        a, b = draw(st.sampled_from(made)), draw(st.sampled_from(made))
        op = draw(st.sampled_from(["+", "-", "*", "/", "**", "max", "min", *FUNCTIONS]))
        expr = (f"{a} {op} {b}" if op in "+-*/**" else f"{op}({a}, {b})" if op in ("max", "min")
                else f"{op}({a})")
        node = f"n{k}"
        comment = draw(st.sampled_from(["", "  # </script><b>x", "  # \u202eevil", "  # \x1b]0;t"]))
        lines.append(f"{node} = {expr}{comment}")
        made.append(node)
    values = [f"{name}={draw(st.sampled_from(PAGE_NUMBERS))}" for name in names
              if draw(st.booleans())]
    return "\n".join(lines) + "\n", values


def check_page(text: str, values: list[str], pull: str | None) -> None:
    with hostile_dir(), deadline(60), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        Path("c.circuit").write_text(text, encoding="utf-8")
        extra = ["--pull", pull] if pull is not None else []
        env = {"CIRCUIT_SESSION": os.path.join(os.getcwd(), "session.json"), "COLUMNS": "80"}
        r = CliRunner().invoke(main, ["graph", "c.circuit", *values, *extra, "-o", "p.html"],
                               env=env)
        page = Path("p.html").read_text(encoding="utf-8") if Path("p.html").exists() else None
    where = f"circuit graph {text!r} {values} {extra} -o p.html"
    _held(r, caught, where)
    if r.exit_code != 0:
        assert page is None, where  # a refused page is never half written
        return
    blob = page.split('<script type="application/json" id="circuit-data">')[1]
    blob = blob.split("</script>")[0]
    assert "<" not in blob, where  # nothing in the data can open or close an element
    data = json.loads(blob)
    assert data["nodes"] and {n["gate"] for n in data["nodes"]} <= {*GATES, "const"}
    assert "form-action 'none'" in page and "\u202e" not in page.split("<body>")[0]


@settings(FUZZ, max_examples=25, derandomize=True, database=None)
@given(circuit=page_circuit(), pull=st.sampled_from([None, "1", "-1", "1e308", "nan", "0"]))
def test_fuzz_the_page_generator_quick(circuit, pull):
    check_page(*circuit, pull)


@pytest.mark.slow
@settings(FUZZ, max_examples=300, database=None)
@given(circuit=page_circuit(), pull=st.sampled_from([None, "1", "-1", "1e308", "nan", "0"]))
def test_fuzz_the_page_generator(circuit, pull):
    check_page(*circuit, pull)
