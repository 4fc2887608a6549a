"""Shared set-up: every test runs with its own state directory (so no test reads or writes a
user's session), and the fixtures that run `circuit` through click's CliRunner."""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from circuitcli.cli import main


@pytest.fixture(autouse=True)
def _isolated_state(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("CIRCUIT_SESSION", str(tmp_path / "state" / "session.json"))
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    monkeypatch.setenv("COLUMNS", "100")


def invoke(*args: str, input: str | None = None, env: dict | None = None) -> Result:
    """`circuit ARGS...` through CliRunner (stdout in .stdout, stderr in .stderr)."""
    return CliRunner().invoke(main, list(args), input=input, env=env, prog_name="circuit")


@pytest.fixture
def run():
    """run("grad", "x*y", "x=1", "y=2") -> click's Result."""
    return invoke


@pytest.fixture
def doc():
    """doc("show") -> the JSON document `circuit show --json` prints (exit 0 asserted)."""

    def parse(*args: str) -> dict:
        r = invoke(*args, "--json")
        assert r.exit_code == 0, r.output
        return json.loads(r.stdout)

    return parse


@pytest.fixture
def session_file() -> Path:
    """The file that keeps this test's current circuit."""
    return Path(os.environ["CIRCUIT_SESSION"])


def entry_point() -> str:
    """The installed `circuit` script, for tests that run it in a real terminal."""
    here = Path(sys.executable).parent / "circuit"
    found = str(here) if here.exists() else shutil.which("circuit")
    if found is None:
        pytest.skip("the circuit entry point is not installed (pip install -e .)")
    return found
