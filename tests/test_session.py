"""The current circuit on disk: where it lives, what it holds, and how it survives
concurrent writers, killed writers and files that are not sessions."""

from __future__ import annotations

import json
import math
import os
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from guards import unprivileged
from hypothesis import given, settings
from hypothesis import strategies as st

from circuitcli.cli import main
from circuitcli.io.session import FORMAT, VERSION, Saved, Session, SessionError

ROOT = Path(__file__).resolve().parent.parent


def run(*args: str, env: dict | None = None):
    return CliRunner().invoke(main, list(args), env=env)


def session_file() -> Path:
    return Path(os.environ["CIRCUIT_SESSION"])


def stored(path: Path | None = None) -> dict:
    return json.loads((path or session_file()).read_text())


@pytest.fixture
def session_dir():
    session_file().parent.mkdir(parents=True, exist_ok=True)
    return session_file().parent


def chain_state(x: float, y: float, z: float) -> dict:
    return {"format": FORMAT, "version": VERSION, "circuit": "(x+y)*z", "source": "",
            "output": None, "inputs": {"x": x, "y": y, "z": z}}


# -- remembering ----------------------------------------------------------------------------
def test_a_given_circuit_is_remembered_with_its_values():
    r = run("grad", "(x+y)*z", "x=-2", "y=5", "z=-4", "--json")
    assert r.exit_code == 0, r.output
    assert stored() == chain_state(-2.0, 5.0, -4.0)


def test_no_circuit_means_the_current_one():
    run("grad", "(x+y)*z", "x=-2", "y=5", "z=-4")
    r = run("grad", "--json")
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert doc["output"]["value"] == -12.0
    assert {n: v["grad"] for n, v in doc["inputs"].items()} == {"x": -4.0, "y": -4.0, "z": 3.0}


def test_values_given_without_a_circuit_update_the_current_one():
    run("grad", "(x+y)*z", "x=-2", "y=5", "z=-4")
    r = run("grad", "z=3", "--json")
    assert json.loads(r.stdout)["output"]["value"] == 9.0  # (−2+5)*3
    assert stored()["inputs"] == {"x": -2.0, "y": 5.0, "z": 3.0}


def test_output_choice_is_remembered():
    run("grad", "q = x + y\nf = q * z", "x=-2", "y=5", "z=-4", "--of", "q")
    r = run("grad", "--json")
    assert json.loads(r.stdout)["output"] == {"name": "q", "value": 3.0}


def test_a_file_circuit_is_kept_even_after_the_file_is_gone(tmp_path):
    path = tmp_path / "mine.circuit"
    path.write_text("a = 2\nf = a * a\n")
    assert run("grad", str(path)).exit_code == 0
    path.unlink()
    r = run("grad", "--json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["inputs"]["a"]["grad"] == 4.0  # d(a*a)/da = 2a


def test_no_current_circuit_yet_is_a_clear_error():
    r = run("grad")
    assert r.exit_code == 2
    assert "no current circuit" in r.output and "Traceback" not in r.output


@given(st.dictionaries(st.from_regex(r"[a-z][a-z0-9_]{0,6}", fullmatch=True),
                       st.floats(allow_nan=True, allow_infinity=True), min_size=1, max_size=6))
@settings(max_examples=40, deadline=None)
def test_values_round_trip_to_the_last_bit(values):
    path = Path(os.environ["CIRCUIT_SESSION"]).parent / "roundtrip" / "s.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    s = Session(path)
    s.save(Saved(" + ".join(values), values))
    back = s.load().values
    assert list(back) == list(values)
    for name, v in values.items():
        w = back[name]
        assert (math.isnan(v) and math.isnan(w)) or (w == v and math.copysign(1, w) ==
                                                       math.copysign(1, v))


# -- where the session lives ------------------------------------------------------------------
def test_default_location_is_the_xdg_state_directory(tmp_path, monkeypatch):
    monkeypatch.delenv("CIRCUIT_SESSION")
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg"))
    assert run("grad", "x*y", "x=1", "y=2").exit_code == 0
    assert stored(tmp_path / "xdg" / "circuitcli" / "session.json")["inputs"] == {"x": 1.0,
                                                                                  "y": 2.0}


def test_default_location_without_xdg_is_under_home(tmp_path, monkeypatch):
    monkeypatch.delenv("CIRCUIT_SESSION")
    monkeypatch.delenv("XDG_STATE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert run("grad", "x*y", "x=1", "y=2").exit_code == 0
    assert (tmp_path / ".local" / "state" / "circuitcli" / "session.json").is_file()


def test_a_relative_xdg_state_home_is_ignored(tmp_path, monkeypatch):
    monkeypatch.delenv("CIRCUIT_SESSION")
    monkeypatch.setenv("XDG_STATE_HOME", "relative/state")
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    assert run("grad", "x*y", "x=1", "y=2").exit_code == 0
    assert (tmp_path / ".local" / "state" / "circuitcli" / "session.json").is_file()
    assert not (tmp_path / "relative").exists()


@pytest.mark.parametrize("where", ["before", "after"])
def test_session_option_beats_the_environment(tmp_path, where):
    path = tmp_path / "mine.json"
    args = ["grad", "x*y", "x=1", "y=2"]
    args = ["--session", str(path), *args] if where == "before" else [*args, "--session",
                                                                       str(path)]
    assert run(*args).exit_code == 0
    assert stored(path)["circuit"] == "x*y"
    assert not session_file().exists()


@pytest.mark.parametrize("how", ["flag", "flag-before", "env", "env-upper"])
def test_no_session_reads_and_writes_nothing(how, session_dir):
    session_file().write_text(json.dumps(chain_state(-2, 5, -4)))
    before = session_file().read_bytes()
    env = {"CIRCUIT_SESSION": "off" if how == "env" else "OFF"} if how.startswith("env") else None
    flag = {"flag": ["--no-session"], "flag-before": []}.get(how, [])
    head = ["--no-session"] if how == "flag-before" else []
    r = run(*head, "grad", "x*y", "x=1", "y=2", *flag, env=env)
    assert r.exit_code == 0, r.output
    assert session_file().read_bytes() == before
    assert sorted(p.name for p in session_dir.iterdir()) == [session_file().name]
    r = run(*head, "step", *flag, env=env)  # nothing to read: no current circuit
    assert r.exit_code == 2 and "session is off" in r.output


def test_session_and_no_session_together_is_a_usage_error(tmp_path):
    r = run("grad", "x", "x=1", "--session", str(tmp_path / "s.json"), "--no-session")
    assert r.exit_code == 2 and "contradict" in r.output


def test_a_missing_directory_is_an_error_naming_it(tmp_path):
    path = tmp_path / "no" / "such" / "dir" / "s.json"
    r = run("grad", "x*y", "x=1", "y=2", "--session", str(path))
    assert r.exit_code == 2
    assert str(path.parent) in r.output and len(r.output.strip().splitlines()) == 1
    assert not (tmp_path / "no").exists()


def test_a_file_where_the_directory_should_be_is_an_error(tmp_path):
    (tmp_path / "plain").write_text("")
    path = tmp_path / "plain" / "s.json"
    r = run("grad", "x*y", "x=1", "y=2", "--session", str(path))
    assert r.exit_code == 2 and str(tmp_path / "plain") in r.output


def test_a_read_only_directory_is_an_error_naming_it():
    # root writes into a read-only directory anyway, and CI runs as root: the run drops
    # root's privileges in a forked child (guards.unprivileged), so this runs there too
    base = tempfile.mkdtemp(prefix="circuitcli-ro-")
    folder = os.path.join(base, "ro")
    try:
        os.chmod(base, 0o755)  # nobody may look inside, not write
        os.mkdir(folder, 0o555)

        def grad():
            r = run("grad", "x*y", "x=1", "y=2", "--session", os.path.join(folder, "s.json"))
            return r.exit_code, r.output

        code, output = unprivileged(grad)
    finally:
        os.chmod(folder, 0o700)
        shutil.rmtree(base)
    assert code == 2 and folder in output and "read-only" in output
    assert not os.path.exists(os.path.join(folder, "s.json"))


def test_a_read_only_file_system_is_an_error_naming_it():
    # /proc refuses new files even to root: a stand-in for a read-only mount
    if not os.path.isdir("/proc/self"):
        pytest.skip("no /proc here")
    r = run("grad", "x*y", "x=1", "y=2", "--session", "/proc/circuit-session.json")
    assert r.exit_code == 2 and "/proc" in r.output and "Traceback" not in r.output


def test_a_directory_as_the_session_file_is_an_error(tmp_path):
    r = run("grad", "--session", str(tmp_path))
    assert r.exit_code == 2 and str(tmp_path) in r.output and "directory" in r.output


# -- files that are not sessions ---------------------------------------------------------
BROKEN = {
    "empty": b"",
    "blank": b"  \n",
    "truncated": json.dumps(chain_state(-2, 5, -4)).encode()[:40],
    "list": b"[1, 2, 3]",
    "string": b'"hello"',
    "foreign": b'{"name": "my notes", "version": 1}',
    "newer version": json.dumps({**chain_state(-2, 5, -4), "version": VERSION + 1}).encode(),
    "no version": json.dumps({k: v for k, v in chain_state(-2, 5, -4).items()
                              if k != "version"}).encode(),
    "bad value": json.dumps({**chain_state(-2, 5, -4), "inputs": {"x": "two"}}).encode(),
    "binary": bytes(range(256)),
    # JSON that Python's decoder cannot take (OverflowError, int digit limit, RecursionError)
    "400 digits": json.dumps(chain_state(-2, 5, -4)).replace("-4", "1" * 400).encode(),
    "5001 digits": json.dumps(chain_state(-2, 5, -4)).replace("-4", "7" * 5001).encode(),
    "1e400": json.dumps(chain_state(-2, 5, -4)).replace("-4", "1e400").encode(),
    "100000 nested": b"[" * 100_000 + b"]" * 100_000,
}


@pytest.mark.parametrize("kind", list(BROKEN))
@pytest.mark.parametrize("command", [["grad"], ["step"], ["show"], ["grad", "x*y", "x=1", "y=2"],
                                     ["step", "x*y", "x=1", "y=2"], ["set", "x=3"]])
def test_a_broken_session_file_is_a_one_line_error_and_stays_as_it_was(kind, command,
                                                                       session_dir):
    session_file().write_bytes(BROKEN[kind])
    r = run(*command)
    assert r.exit_code == 2, r.output
    lines = r.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ")
    assert str(session_file()) in lines[0] and "circuit reset" in lines[0]
    assert session_file().read_bytes() == BROKEN[kind]


@pytest.mark.parametrize("command", [["grad"], ["step"], ["show"], ["set", "x=3"]])
def test_a_stored_circuit_that_does_not_parse_is_a_one_line_error(command, session_dir):
    raw = json.dumps({**chain_state(-2, 5, -4), "circuit": "(x+y"}).encode()
    session_file().write_bytes(raw)
    r = run(*command)
    assert r.exit_code == 2
    lines = r.output.strip().splitlines()
    assert len(lines) == 1 and str(session_file()) in lines[0] and "reset" in lines[0]
    assert session_file().read_bytes() == raw
    # a well-formed session of ours: a new circuit may replace it
    assert run("grad", "x*y", "x=1", "y=2").exit_code == 0


def test_version_mismatch_says_which_versions():
    path = session_file()
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({**chain_state(1, 2, 3), "version": 7}))
    r = run("show")
    assert "version 7" in r.output and f"version {VERSION}" in r.output


def test_reset_moves_a_broken_file_aside_and_starts_afresh(session_dir):
    session_file().write_bytes(BROKEN["truncated"])
    r = run("reset")
    assert r.exit_code == 0 and "aside" in r.output
    aside = [p for p in session_dir.iterdir() if ".broken-" in p.name]
    assert len(aside) == 1 and aside[0].read_bytes() == BROKEN["truncated"]
    assert not session_file().exists()
    assert run("grad", "x*y", "x=1", "y=2").exit_code == 0


# -- atomic, locked writes ----------------------------------------------------------------
def _env() -> dict:
    return {**os.environ, "PYTHONPATH": str(ROOT)}


def _sequential_chain(n: int, lr: float = 0.01) -> dict:
    """The notebook's update rule written out by hand for f = (x+y)*z: df/dx = df/dy = z,
    df/dz = x + y."""
    x, y, z = -2.0, 5.0, -4.0
    for _ in range(n):
        gx, gy, gz = z, z, x + y
        x, y, z = x + lr * gx, y + lr * gy, z + lr * gz
    return {"x": x, "y": y, "z": z}


def test_twenty_concurrent_steps_equal_twenty_sequential_ones(session_dir):
    session_file().write_text(json.dumps(chain_state(-2.0, 5.0, -4.0)))
    procs = [subprocess.Popen([sys.executable, "-m", "circuitcli", "step", "--lr", "0.01",
                               "--json"], env=_env(), stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE) for _ in range(20)]
    outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0] * 20, [e for _, e in outs]
    assert stored()["inputs"] == _sequential_chain(20)
    # every process saw a different point: none read a state another was about to replace
    befores = sorted(json.loads(o)["inputs"]["z"]["before"] for o, _ in outs)
    assert len(set(befores)) == 20
    assert [p.name for p in session_dir.iterdir() if p.name.endswith(".tmp")] == []


_STALLED_WRITER = """
import os, sys, time
from pathlib import Path
from circuitcli.io.session import Saved, Session

def stall(src, dst):  # the temporary file is written and fsynced; the rename never comes
    print(src, flush=True)
    time.sleep(120)

os.replace = stall
Session(Path(sys.argv[1])).save(Saved("(x+y)*z", {"x": 99.0, "y": 99.0, "z": 99.0}))
"""


def test_a_writer_killed_before_its_rename_leaves_the_previous_state(session_dir):
    session_file().write_text(json.dumps(chain_state(-2.0, 5.0, -4.0)))
    before = session_file().read_bytes()
    writer = subprocess.Popen([sys.executable, "-c", _STALLED_WRITER, str(session_file())],
                              env=_env(), stdout=subprocess.PIPE, text=True)
    try:
        temp = Path(writer.stdout.readline().strip())
        assert json.loads(temp.read_text())["inputs"]["x"] == 99.0  # it was mid-write
        # while it holds the lock, another command cannot write
        s = Session(session_file())
        import circuitcli.io.session as session_module

        old_timeout = session_module.LOCK_TIMEOUT
        session_module.LOCK_TIMEOUT = 0.2
        try:
            with pytest.raises(SessionError, match="busy"), s.locked():
                pass
        finally:
            session_module.LOCK_TIMEOUT = old_timeout
    finally:
        writer.send_signal(signal.SIGKILL)
        writer.wait()
    assert session_file().read_bytes() == before
    # the dead writer's lock went with it; the next writer clears its temporary file
    r = run("step")
    assert r.exit_code == 0, r.output
    assert stored()["inputs"] == _sequential_chain(1)
    assert not temp.exists()


def test_a_long_step_killed_midway_leaves_the_previous_state(session_dir):
    session_file().write_text(json.dumps(chain_state(-2.0, 5.0, -4.0)))
    before = session_file().read_bytes()
    proc = subprocess.Popen([sys.executable, "-m", "circuitcli", "step", "--steps", "100000000",
                             "--lr", "1e-12"], env=_env(), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    lock = Path(str(session_file()) + ".lock")
    deadline = time.monotonic() + 30
    while not lock.exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(0.3)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert session_file().read_bytes() == before
    assert run("step").exit_code == 0


def test_the_filelock_fallback_excludes_the_fcntl_lock(session_dir, monkeypatch):
    """Where fcntl is missing, filelock does the locking; on the same lock file the two
    exclude each other, so mixed platforms sharing a session stay serialized."""
    import circuitcli.io.session as session_module

    holder = Session(session_file())
    with holder.locked():
        monkeypatch.setattr(session_module, "fcntl", None)
        monkeypatch.setattr(session_module, "LOCK_TIMEOUT", 0.2)
        other = Session(session_file())
        with pytest.raises(SessionError, match="busy"), other.locked():
            pass
    other.save(Saved("x", {"x": 1.0}))  # free again: the fallback takes it
    assert other.load() == Saved("x", {"x": 1.0})


def test_saving_leaves_no_temporary_files(session_dir):
    for i in range(5):
        run("grad", "x*y", f"x={i}", "y=2")
    assert sorted(p.name for p in session_dir.iterdir()) == ["session.json", "session.json.lock"]


def test_unchanged_state_is_not_rewritten(session_dir):
    run("grad", "x*y", "x=1", "y=2")
    stamp = session_file().stat().st_mtime_ns
    inode = session_file().stat().st_ino
    time.sleep(0.01)
    run("grad", "x*y", "x=1", "y=2")
    run("grad")
    assert (session_file().stat().st_mtime_ns, session_file().stat().st_ino) == (stamp, inode)


# -- session files that are not regular files, and names that are not UTF-8 -----------------
def test_a_fifo_as_session_is_refused_without_blocking(session_dir):
    os.mkfifo(session_file())
    with pytest.raises(SessionError, match="FIFO"):
        Session(session_file()).load()  # a blocking open would hang here
    with pytest.raises(SessionError, match=r"circuit reset leaves .* alone"):
        Session(session_file()).reset()  # only a regular file is ever moved aside
    assert stat.S_ISFIFO(os.lstat(session_file()).st_mode)
    assert not os.path.lexists(str(session_file()) + ".lock")


def test_a_symlinked_session_stays_a_link(session_dir, tmp_path):
    real = tmp_path / "elsewhere.json"
    session_file().symlink_to(real)
    assert run("grad", "x*y", "x=1", "y=2").exit_code == 0
    assert run("step").exit_code == 0
    assert session_file().is_symlink()
    assert json.loads(real.read_text())["circuit"] == "x*y"


def test_a_source_name_that_is_not_utf8_round_trips_and_the_file_stays_ascii(session_dir):
    name = os.fsdecode(b"caf\xe9-\xff.circuit")  # lone surrogates, as sys.argv holds them
    saved = Saved("x * y", {"x": 1.0, "y": 2.0}, name, None)
    session = Session(session_file())
    session.save(saved)
    raw = session_file().read_bytes()
    assert raw.isascii() and b"\\udce9" in raw
    assert session.load() == saved and session.load().source == name
