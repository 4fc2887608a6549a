"""`circuit reset` moves aside only a regular session file, and no command takes a device,
a FIFO, a directory or a dangling link as the session file or its `.lock` (issue 24, High).

Every device node and FIFO is made in tmp_path (CIRCUIT_SESSION and XDG_STATE_HOME point
there, see conftest.py): never the system's /dev. Device nodes need root (CI runs as root).
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner
from guards import ROOT_ONLY, deadline

from circuitcli.cli import main
from circuitcli.io.session import Session, SessionError


def run(*args: str):
    return CliRunner().invoke(main, list(args))


def session() -> Path:
    return Path(os.environ["CIRCUIT_SESSION"])


def lock() -> Path:
    return Path(str(session()) + ".lock")


@pytest.fixture(autouse=True)
def _folder():
    session().parent.mkdir(parents=True, exist_ok=True)
    with deadline(20):  # a blocking open fails the test instead of hanging the suite
        yield


def null_device(path: Path) -> Path:
    os.mknod(path, 0o600 | stat.S_IFCHR, os.makedev(1, 3))
    return path


def one_line(r, *fragments: str) -> str:
    assert r.exit_code == 2, r.output
    assert r.stdout == ""
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    assert "Traceback" not in r.output
    return lines[0]


def entries() -> list[str]:
    return sorted(os.listdir(session().parent))


def make_char_device(tmp_path: Path) -> str:
    null_device(session())
    return "character device"


def make_fifo(tmp_path: Path) -> str:
    os.mkfifo(session())
    return "FIFO"


def make_directory(tmp_path: Path) -> str:
    session().mkdir()
    return "directory"


def make_link_to_device(tmp_path: Path) -> str:
    session().symlink_to(null_device(tmp_path / "null"))
    return "symlink to a character device"


def make_link_to_fifo(tmp_path: Path) -> str:
    os.mkfifo(tmp_path / "pipe")
    session().symlink_to(tmp_path / "pipe")
    return "symlink to a FIFO"


def make_dangling_link(tmp_path: Path) -> str:
    session().symlink_to(tmp_path / "nowhere" / "target.json")
    return "dangling symlink"


SESSION_KINDS = {"device": make_char_device, "fifo": make_fifo, "directory": make_directory,
                 "link-to-device": make_link_to_device, "link-to-fifo": make_link_to_fifo,
                 "dangling-link": make_dangling_link}
NEEDS_ROOT = {"device", "link-to-device"}


def kinds(table: dict) -> list:
    return [pytest.param(make, id=name, marks=[ROOT_ONLY] if name in NEEDS_ROOT else [])
            for name, make in table.items()]


def snapshot(path: Path) -> tuple:
    st = os.lstat(path)
    return st.st_ino, st.st_mode, st.st_rdev, (os.readlink(path) if path.is_symlink() else "")


@pytest.mark.parametrize("make", kinds(SESSION_KINDS))
def test_reset_leaves_a_session_file_that_is_not_regular_alone(tmp_path, make):
    what = make(tmp_path)
    before = snapshot(session())
    line = one_line(run("reset"), "circuit reset leaves", str(session()), what)
    assert "--session" in line
    assert snapshot(session()) == before  # not renamed, not replaced
    assert entries() == ["session.json"]  # no .lock beside it, nothing moved aside
    assert not (tmp_path / "nowhere").exists()  # a dangling link's target is not created


@pytest.mark.parametrize("make", kinds({k: v for k, v in SESSION_KINDS.items()
                                        if k != "dangling-link"}))
def test_no_command_recommends_reset_where_reset_refuses(tmp_path, make):
    what = make(tmp_path)
    before = snapshot(session())
    for args in (("grad", "x*y", "x=1", "y=2"), ("show",), ("step",), ("grad",),
                 ("set", "x=2"), ("graph", "--format", "dot")):
        line = one_line(run(*args), str(session()), what)
        assert "reset" not in line, line
    assert snapshot(session()) == before
    assert entries() == ["session.json"]
    assert run("grad", "x*y", "x=1", "y=2", "--no-session").exit_code == 0


def test_a_session_linked_to_a_regular_file_works_and_reset_removes_only_the_link(tmp_path):
    """The documented choice: a link to a regular file is the session (its target is
    written atomically, the link stays); reset removes or moves aside the link itself,
    never the file it points to."""
    real = tmp_path / "mine.json"
    session().symlink_to(real)
    assert run("grad", "x*y", "x=1", "y=2").exit_code == 0
    assert json.loads(real.read_text())["circuit"] == "x*y"
    r = run("reset")
    assert r.exit_code == 0, r.output
    assert not os.path.lexists(session()) and real.exists()
    session().symlink_to(real)
    real.write_text("not json")
    r = run("reset")
    assert r.exit_code == 0 and "moved the unreadable session file aside" in r.stdout
    assert real.read_text() == "not json"  # the target is left as it was
    assert not os.path.lexists(session())


def test_a_dangling_session_link_is_written_through_but_reset_leaves_it(tmp_path):
    """A link to a file not made yet is where the first write puts the session (as a
    shell's `>` does); reset has nothing to forget there and says so, exit 2."""
    real = tmp_path / "later.json"
    session().symlink_to(real)
    one_line(run("reset"), "dangling symlink", str(real))
    assert session().is_symlink() and entries() == ["session.json"]
    r = run("show")
    assert r.exit_code == 2 and "no current circuit" in r.stderr
    assert run("grad", "x*y", "x=1", "y=2").exit_code == 0
    assert session().is_symlink() and json.loads(real.read_text())["circuit"] == "x*y"


def test_reset_still_moves_aside_a_regular_file_that_is_not_a_session():
    session().write_text("[1, 2]")
    line = one_line(run("show"), str(session()), "circuit reset starts afresh")
    assert "lock" not in line
    r = run("reset")
    assert r.exit_code == 0 and "moved the unreadable session file aside" in r.stdout
    aside = [n for n in entries() if ".broken-" in n]
    assert len(aside) == 1 and (session().parent / aside[0]).read_text() == "[1, 2]"


# ---- the .lock file ------------------------------------------------------------------------


def lock_fifo(tmp_path: Path) -> str:
    os.mkfifo(lock())
    return "FIFO"


def lock_link_to_device(tmp_path: Path) -> str:
    lock().symlink_to(null_device(tmp_path / "null"))
    return "symlink to a character device"


def lock_directory(tmp_path: Path) -> str:
    lock().mkdir()
    return "directory"


def lock_dangling_link(tmp_path: Path) -> str:
    lock().symlink_to(tmp_path / "made-by-us")
    return "dangling symlink"


def lock_link_to_regular(tmp_path: Path) -> str:
    (tmp_path / "other").write_text("")
    lock().symlink_to(tmp_path / "other")
    return "symlink"


def lock_device(tmp_path: Path) -> str:
    null_device(lock())
    return "character device"


LOCK_KINDS = {"fifo": lock_fifo, "link-to-device": lock_link_to_device,
              "directory": lock_directory, "dangling-link": lock_dangling_link,
              "link-to-regular": lock_link_to_regular, "device": lock_device}


@pytest.mark.parametrize("make", kinds(LOCK_KINDS))
def test_a_lock_file_that_is_not_regular_is_refused_and_left_alone(tmp_path, make):
    what = make(tmp_path)
    before = snapshot(lock())
    # a session written before the lock went bad: reset would remove it, but refuses
    session().write_text('{"format": "circuitcli session", "version": 2, "circuit": "x*y", '
                         '"source": "", "output": null, "inputs": {"x": 1.0, "y": 2.0}}\n')
    content = session().read_text()
    line = one_line(run("reset"), "circuit reset leaves", str(lock()), what)
    assert "remove it yourself" in line
    for args in (("grad", "x*y", "x=5", "y=2"), ("set", "x=3")):  # writers take the lock
        line = one_line(run(*args), str(lock()), what)
        assert "reset" not in line, line
    assert run("show").exit_code == 0  # reading needs no lock
    assert snapshot(lock()) == before and session().read_text() == content
    assert not (tmp_path / "made-by-us").exists()  # a dangling link's target not created


@pytest.mark.parametrize("make", kinds(LOCK_KINDS))
def test_a_damaged_session_with_a_bad_lock_says_to_remove_the_lock_first(tmp_path, make):
    make(tmp_path)
    session().write_text("[1, 2]")
    line = one_line(run("show"), str(session()), str(lock()), "remove it yourself")
    assert "then circuit reset" in line


@ROOT_ONLY
def test_the_session_api_refuses_too():
    null_device(session())
    with pytest.raises(SessionError, match="leaves"):
        Session(session()).reset()
    with pytest.raises(SessionError, match="character device"), Session(session()).locked():
        pass
    assert entries() == ["session.json"]
