"""The README and the docs never lie: every `$ circuit ...` line shown there is run here.

A console block is a list of `$ circuit ARGS  # exit N` lines, each followed by the output it
shows. Each shown line must appear in the real output, in order (`...` skips any lines); the
exit code must be 0 unless the line says `# exit N`. Commands in one document share a session,
as they would for a reader typing them in turn. The README's Python block runs too, and each
`expr  # value` line in it must give that value.
"""

from __future__ import annotations

import ast
import re
import shlex
from pathlib import Path

import pytest
from click.testing import CliRunner

from circuitcli.cli import main

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", *sorted((ROOT / "circuitcli" / "docs").glob("*.md"))]
BLOCK = re.compile(r"```console\n(.*?)```", re.DOTALL)


def examples(path: Path) -> list[tuple[str, str | None, int, list[str]]]:
    """(command line, piped input, expected exit code, shown output lines) in order."""
    found = []
    for block in BLOCK.findall(path.read_text(encoding="utf-8")):
        current = None
        for line in block.splitlines():
            if line.startswith("$ "):
                command = line[2:]
                code = 0
                m = re.search(r"\s+# exit (\d+)\s*$", command)
                if m:
                    code = int(m.group(1))
                    command = command[: m.start()]
                piped = None
                m = re.fullmatch(r"echo (.*?) \| (circuit .*)", command)
                if m:
                    piped = shlex.split(m.group(1))[0] + "\n"
                    command = m.group(2)
                current = (command, piped, code, [])
                found.append(current)
            elif current is not None:
                current[3].append(line.rstrip())
    return found


def check_output(shown: list[str], actual: str, command: str) -> None:
    lines = [line.rstrip() for line in actual.splitlines() if line.strip()]
    at = 0
    skipping = False
    for want in shown:
        if want.strip() == "...":
            skipping = True
            continue
        if not want.strip():
            continue
        if skipping:
            while at < len(lines) and lines[at] != want:
                at += 1
        assert at < len(lines) and lines[at] == want, (
            f"{command}: expected line {want!r}\n--- real output ---\n{actual}")
        at += 1
        skipping = False


@pytest.mark.parametrize("path", DOCS, ids=lambda p: p.name)
def test_console_examples(path, tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("CIRCUIT_SESSION", str(tmp_path / "session.json"))
    cases = examples(path)
    for command, piped, code, shown in cases:
        argv = shlex.split(command)
        assert argv[0] == "circuit", command
        result = CliRunner().invoke(main, argv[1:], input=piped, env={"COLUMNS": "100"})
        assert result.exit_code == code, f"{command}: exit {result.exit_code}\n{result.output}"
        check_output(shown, result.output, command)


def test_readme_has_examples_and_two_first_commands():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(examples(ROOT / "README.md")) >= 5
    blocks = text.split("```")
    use, develop = blocks[1].strip().splitlines(), blocks[3].strip().splitlines()
    assert use[-1].endswith("pip install . && circuit grad samples/neuron.circuit")
    assert develop[-1].endswith("pip install '.[test]' && pytest -n 2")
    # a word before each: what the line is for
    assert "Use it" in blocks[0]
    assert "Develop it" in blocks[2]
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "pip install -q '.[test]' && pytest -n 2" in ci


def test_readme_python_api_block():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    code = re.search(r"```python\n(.*?)```", text, re.DOTALL).group(1)
    namespace: dict = {}
    checked = 0
    for line in code.splitlines():
        source, _, comment = line.partition("#")
        exec(source, namespace)  # our own README's code, never user text
        claim = comment.split(" (")[0].strip()
        try:
            expected = ast.literal_eval(claim)
        except (ValueError, SyntaxError):
            continue
        assert eval(source.strip(), namespace) == expected, line
        checked += 1
    assert checked >= 4
