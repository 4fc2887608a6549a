"""A large circuit file is kept in the session by reference (path, size, mtime, hash), not
copied; a session written by an older circuitcli (version 1) still loads."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from circuitcli.io.session import (
    BY_REFERENCE,
    FORMAT,
    VERSION,
    FileRef,
    Saved,
    Session,
    _document,
)

# (x+y)*z at x=-2, y=5, z=-4: the notebook's first circuit, out = -12, and by hand
# d/dx = d/dy = z = -4, d/dz = x + y = 3
GRADS = {"x": -4.0, "y": -4.0, "z": 3.0}


def session_file() -> Path:
    return Path(os.environ["CIRCUIT_SESSION"])


def stored() -> dict:
    return json.loads(session_file().read_text())


def big_circuit(path: Path, filler: str = "x") -> Path:
    """The notebook's circuit behind a comment that makes the file larger than BY_REFERENCE."""
    path.write_text(f"# {filler * (BY_REFERENCE + 10)}\n"
                    "x = -2\ny = 5\nz = -4\nout = (x + y) * z\n")
    assert path.stat().st_size > BY_REFERENCE
    return path


def input_grads(doc: dict) -> dict:
    return {name: v["grad"] for name, v in doc["inputs"].items()}


def one_line(r, code: int = 2) -> str:
    assert r.exit_code == code, r.output
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), r.stderr
    assert "Traceback" not in r.output
    return lines[0]


def test_a_large_file_is_kept_by_reference_and_runs_again(tmp_path, run):
    path = big_circuit(tmp_path / "big.circuit")
    r = run("grad", str(path), "--json")
    assert r.exit_code == 0, r.output
    doc = stored()
    assert "circuit" not in doc and doc["version"] == VERSION
    data = path.read_bytes()
    st = path.stat()
    assert doc["file"] == {"path": str(path.resolve()), "size": len(data),
                           "mtime_ns": st.st_mtime_ns,
                           "blake2b": hashlib.blake2b(data, digest_size=32).hexdigest()}
    assert session_file().stat().st_size < 1000  # not a copy of the megabyte
    r = run("grad", "--json")  # the current circuit, read back from its file
    assert r.exit_code == 0, r.output
    assert input_grads(json.loads(r.stdout)) == GRADS


def test_a_large_file_stays_by_reference_when_its_values_change(tmp_path, run):
    path = big_circuit(tmp_path / "big.circuit")
    assert run("grad", str(path)).exit_code == 0
    r = run("step", "--lr", "0.01", "--json")
    assert r.exit_code == 0, r.output
    doc = stored()
    assert "circuit" not in doc and doc["file"]["path"] == str(path.resolve())
    # one step up the gradient, by hand: x + 0.01 * dx for each input
    assert doc["inputs"] == {"x": -2.04, "y": 4.96, "z": -3.97}
    r = run("grad", "z=1", "--json")  # a value given with no circuit: still the same file
    assert r.exit_code == 0, r.output
    assert stored()["inputs"]["z"] == 1.0 and "circuit" not in stored()


def test_a_small_file_keeps_its_text(tmp_path, run):
    path = tmp_path / "small.circuit"
    path.write_text("x = -2\ny = 5\nz = -4\nout = (x + y) * z\n")
    assert run("grad", str(path)).exit_code == 0
    assert stored()["circuit"] == path.read_text() and "file" not in stored()


def test_an_edited_large_file_is_a_one_line_error_naming_it(tmp_path, run, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = big_circuit(Path("big.circuit"))
    assert run("grad", "big.circuit").exit_code == 0
    size = path.stat().st_size
    big_circuit(path, filler="y")  # same size, other bytes
    before = session_file().read_bytes()
    line = one_line(run("grad"))
    assert "big.circuit changed since the session saved it" in line
    assert "circuit grad big.circuit" in line and "circuit reset" in line
    assert session_file().read_bytes() == before  # the session is left as it was
    path.write_text("out = 1\n")  # another size
    line = one_line(run("show"))
    assert f"its size went from {size} to 8 bytes" in line
    # giving the file again makes the edited circuit current
    assert run("grad", "big.circuit").exit_code == 0
    assert stored()["circuit"] == "out = 1\n"


def test_a_deleted_large_file_is_a_one_line_error(tmp_path, run):
    path = big_circuit(tmp_path / "big.circuit")
    assert run("grad", str(path)).exit_code == 0
    path.unlink()
    for command in (["grad"], ["step"], ["show"], ["set", "x=1"]):
        line = one_line(run(*command))
        assert str(path.resolve()) in line and "gone" in line and "circuit reset" in line
    assert run("reset").exit_code == 0
    assert not session_file().exists()


def test_a_large_file_only_touched_still_loads(tmp_path, run):
    path = big_circuit(tmp_path / "big.circuit")
    assert run("grad", str(path)).exit_code == 0
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 5_000_000_000))
    r = run("grad", "--json")
    assert r.exit_code == 0, r.output
    assert input_grads(json.loads(r.stdout)) == GRADS


def test_a_large_file_replaced_by_a_directory_is_one_line(tmp_path, run):
    path = big_circuit(tmp_path / "big.circuit")
    assert run("grad", str(path)).exit_code == 0
    path.unlink()
    path.mkdir()
    line = one_line(run("grad"))
    assert "big.circuit" in line and "circuit reset" in line


def test_a_version_1_session_still_loads(run):
    session_file().parent.mkdir(parents=True, exist_ok=True)
    # exactly what circuitcli wrote before version 2 (key order and layout included)
    session_file().write_text(json.dumps(
        {"format": FORMAT, "version": 1, "circuit": "(x+y)*z", "source": "", "output": None,
         "inputs": {"x": -2.0, "y": 5.0, "z": -4.0}}, indent=1) + "\n")
    r = run("grad", "--json")
    assert r.exit_code == 0, r.output
    assert input_grads(json.loads(r.stdout)) == GRADS
    assert run("step").exit_code == 0  # and it is replaced by a current one on change
    assert stored()["version"] == VERSION and stored()["inputs"]["x"] == -2.04


@pytest.mark.parametrize("file, problem", [
    ("not an object", '"file" must be an object'),
    ({"path": "relative.circuit", "size": 1, "mtime_ns": 1, "blake2b": "0" * 64},
     "absolute path"),
    ({"path": "/a.circuit", "size": -1, "mtime_ns": 1, "blake2b": "0" * 64}, '"size"'),
    ({"path": "/a.circuit", "size": True, "mtime_ns": 1, "blake2b": "0" * 64}, '"size"'),
    ({"path": "/a.circuit", "size": 1, "mtime_ns": 1, "blake2b": "abc"}, '"blake2b"'),
])
def test_a_damaged_file_reference_is_a_one_line_error(run, file, problem):
    session_file().parent.mkdir(parents=True, exist_ok=True)
    raw = json.dumps({"format": FORMAT, "version": VERSION, "file": file, "source": "",
                      "output": None, "inputs": {}}).encode()
    session_file().write_bytes(raw)
    line = one_line(run("grad"))
    assert problem in line and str(session_file()) in line and "circuit reset" in line
    assert session_file().read_bytes() == raw


def test_a_version_1_file_reference_is_not_read(run):
    """Version 1 had no "file": a version-1 session without "circuit" is damaged."""
    session_file().parent.mkdir(parents=True, exist_ok=True)
    session_file().write_text(json.dumps(
        {"format": FORMAT, "version": 1, "file": {"path": "/a", "size": 1, "mtime_ns": 1,
                                                  "blake2b": "0" * 64},
         "source": "", "output": None, "inputs": {}}))
    assert '"circuit" must be a string' in one_line(run("grad"))


def test_saved_by_reference_round_trips_through_the_file(tmp_path):
    path = big_circuit(tmp_path / "big.circuit")
    data = path.read_bytes()
    ref = FileRef.of(str(path), data, path.stat().st_mtime_ns)
    saved = Saved(data.decode(), {"x": 1.5}, str(path), "out", file=ref)
    session = Session(tmp_path / "s.json")
    session.save(saved)
    back = session.load()
    assert back == saved and back.by_reference and back.file == ref
    assert back.text == data.decode()  # read from the file, and checked
    assert not session.update(saved)  # nothing changed: nothing written


# -- the unchanged session is recognised by its bytes, without importing json ---------------
TEXTS = st.text(st.characters(codec="utf-8") | st.sampled_from("\"\\\n\t\x00\x1f\x7f\u2028"),
                max_size=30)
NAMES = st.text(st.characters(), min_size=1, max_size=6)


@given(text=TEXTS, values=st.dictionaries(NAMES, st.floats(), max_size=5),
       source=TEXTS | st.just(os.fsdecode(b"caf\xe9.circuit")), output=st.none() | NAMES,
       size=st.none() | st.integers(BY_REFERENCE + 1, 2**40))
@settings(max_examples=200, deadline=None)
def test_the_bytes_compared_are_the_bytes_json_writes(text, values, source, output, size):
    """_document must equal what update() writes through json, byte for byte: if it said
    "unchanged" for a file json would write differently, a change could be lost."""
    file = None if size is None else FileRef("/some/" + text.replace("\x00", ""), size,
                                             size * 3, "0f" * 32)
    saved = Saved(text, values, source, output, file=file)
    expected = json.dumps(saved.to_json(), indent=1, ensure_ascii=True,
                          allow_nan=False).encode("ascii") + b"\n"
    assert _document(saved) == expected


def test_an_unchanged_session_is_left_alone_and_a_changed_one_written(tmp_path):
    session = Session(tmp_path / "s.json")
    saved = Saved("x * y", {"x": 1.0, "y": float("nan")}, "", None)
    assert session.update(saved)
    stamp = (tmp_path / "s.json").stat().st_mtime_ns
    assert not session.update(Saved("x * y", {"x": 1.0, "y": float("nan")}, "", None))
    assert (tmp_path / "s.json").stat().st_mtime_ns == stamp
    assert session.update(Saved("x * y", {"x": 1.0, "y": 2.0}, "", None))
    assert session.load().values == {"x": 1.0, "y": 2.0}


@pytest.mark.parametrize("command", [["grad", "x*y", "x=1", "y=2"], ["step"], ["show"]])
def test_a_session_name_with_a_nul_byte_is_one_line(run, command):
    line = one_line(run(*command, "--session", "a\x00b.json"))
    assert "a\\x00b.json" in line and "NUL" in line
