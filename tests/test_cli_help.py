"""Every command's --help shows a real example, and that example runs."""

from __future__ import annotations

import re
import shlex

import pytest
from click.testing import CliRunner

from circuitcli.cli import COMMANDS, main


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
