"""`circuit repl` on a real pseudo-terminal (pexpect): prompt, TAB, history, Ctrl-C, Ctrl-D.

The installed `circuit` entry point of this Python's environment is spawned with
TERM=xterm and its own XDG_STATE_HOME (so the history file lives in tmp). NO_COLOR keeps
escape codes out of the text matched; PROMPT_TOOLKIT_NO_CPR stops prompt_toolkit from
asking the terminal for its cursor position, which pexpect would never answer.
"""

from __future__ import annotations

import math
import os
import re
from pathlib import Path

import pytest
from conftest import entry_point

pexpect = pytest.importorskip("pexpect")
pytest.importorskip("prompt_toolkit")

PROMPT = "circuit>"  # the space after it is drawn as a cursor move
TIMEOUT = 30  # generous: the machine is shared
UP = "\x1b[A"


def text(shown: str) -> str:
    """A pattern for `shown` as the terminal shows it: escape codes may come between any
    two characters (styles, cursor moves), and a space may be drawn as a cursor move."""
    escapes = r"(?:\x1b\[[0-9;?]*[A-Za-z])*"
    return escapes.join(r"(?: |\x1b\[\d*C)" if ch == " " else re.escape(ch) for ch in shown)


@pytest.fixture
def spawn(tmp_path):
    children = []

    def start():
        env = {**os.environ, "TERM": "xterm", "XDG_STATE_HOME": str(tmp_path / "state"),
               "CIRCUIT_SESSION": str(tmp_path / "state" / "session.json"), "NO_COLOR": "1",
               "PROMPT_TOOLKIT_NO_CPR": "1", "COLUMNS": "100", "LINES": "40"}
        child = pexpect.spawn(entry_point(), ["repl"], env=env, encoding="utf-8",
                              timeout=TIMEOUT, dimensions=(40, 100))
        children.append(child)
        child.expect(text(PROMPT))
        return child

    yield start
    for child in children:
        if child.isalive():
            child.terminate(force=True)


def finish(child) -> int:
    """Ctrl-D on an empty line; the exit status."""
    child.sendcontrol("d")
    child.expect(pexpect.EOF)
    child.close()
    return child.exitstatus


def test_tab_completes_a_function_and_the_table_follows(spawn):
    child = spawn()
    child.sendline("x = 1")
    child.expect(text("no expression yet"))
    child.expect(text(PROMPT))
    child.send("q = sig")
    child.send("\t")
    child.expect(text("sigmoid("))
    child.sendline("x)")
    want = f"{1 / (1 + math.exp(-1)):.6g}"  # sigmoid(1), by its formula
    child.expect(text(f"q = {want}"))
    child.expect(text(PROMPT))
    assert finish(child) == 0


def test_ctrl_c_cancels_the_line_and_the_session_goes_on(spawn):
    child = spawn()
    child.sendline("x = 1")
    child.expect(text("no expression yet"))
    child.expect(text(PROMPT))
    child.send("y = 12345")
    child.expect(text("12345"))  # typed, on the screen
    child.sendcontrol("c")
    # had the cancelled line run, y would have a value and `y` alone would draw a table
    child.sendline("y")
    child.expect(text("no input or node named y"))
    child.expect(text(PROMPT))
    assert finish(child) == 0


def test_history_is_recalled_with_the_up_arrow_across_sessions(spawn, tmp_path):
    first = spawn()
    first.sendline("z = 42")
    first.expect(text("no expression yet"))
    first.expect(text(PROMPT))
    assert finish(first) == 0
    assert "z = 42" in (tmp_path / "state" / "circuitcli" / "repl_history").read_text()
    second = spawn()
    second.send(UP)
    second.expect(text("z = 42"))
    second.send("\r")
    second.expect(text("z = 42   (no expression yet"))
    second.expect(text(PROMPT))
    assert finish(second) == 0


def test_quit_and_ctrl_d_end_with_code_0(spawn):
    child = spawn()
    child.sendline(":stpe")
    child.expect(text("did you mean :step?"))
    child.expect(text(PROMPT))
    assert finish(child) == 0
    child = spawn()
    child.sendline(":quit")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0


# ---- the history file is used only when it is a regular file (issue 24, High) -------------


def _history_in(tmp_path, monkeypatch):
    from circuitcli.repl import terminal

    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    path = Path(terminal.history_path())
    path.parent.mkdir(parents=True, exist_ok=True)
    return terminal, path


class _Notes:
    def __init__(self):
        self.notes = []

    def note(self, message):
        self.notes.append(message)


def _zero_device(path):
    import stat

    os.mknod(path, 0o600 | stat.S_IFCHR, os.makedev(1, 5))
    return path


@pytest.mark.parametrize("kind", ["fifo", "zero-link", "directory", "too-big"])
def test_a_history_file_that_is_not_a_small_regular_file_is_a_note(tmp_path, monkeypatch,
                                                                    kind):
    from guards import deadline

    terminal, path = _history_in(tmp_path, monkeypatch)
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "zero-link":
        if os.geteuid() != 0:
            pytest.skip("os.mknod needs root (CI runs as root)")
        path.symlink_to(_zero_device(tmp_path / "zero"))
    elif kind == "directory":
        path.mkdir()
    else:
        monkeypatch.setattr(terminal, "HISTORY_LIMIT", 100)
        path.write_text("+x*y\n" * 100)
    repl = _Notes()
    with deadline(10):  # a blocking open or an endless read fails here
        history = terminal._history(repl)
        assert list(history.load_history_strings()) == []
        history.store_string("x = 1")  # this session's history lives in memory
    assert len(repl.notes) == 1 and "no history across sessions" in repl.notes[0]
    said = {"fifo": "FIFO", "zero-link": "character device", "directory": "directory",
            "too-big": "larger than the 100 bytes"}[kind]
    assert said in repl.notes[0], repl.notes[0]
    if kind == "fifo":
        import stat

        assert stat.S_ISFIFO(os.lstat(path).st_mode)  # left as it was


def test_a_regular_history_file_round_trips(tmp_path, monkeypatch):
    terminal, _ = _history_in(tmp_path, monkeypatch)
    repl = _Notes()
    history = terminal._history(repl)
    history.store_string("x = 1")
    history.store_string("f = x *\\\ny")
    again = terminal._history(repl)
    assert list(again.load_history_strings()) == ["f = x *\\\ny", "x = 1"]
    assert repl.notes == []


def test_a_history_file_swapped_for_a_fifo_is_not_written(tmp_path, monkeypatch):
    from guards import deadline

    terminal, path = _history_in(tmp_path, monkeypatch)
    history = terminal._history(_Notes())
    path.unlink()
    os.mkfifo(path)
    with deadline(10):
        history.store_string("x = 1")
