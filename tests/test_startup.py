"""Start-up: `circuit grad` on a small expression imports little beyond click and rich.

Issue 13 asks for start-up within 1.2x of `python -c "import click, rich.console,
rich.table"` (tests/bench/bench_startup.py measures it). Timings are not asserted here;
what the grad path imports is: every module it loads beyond that baseline is listed, so a
heavy import that creeps back fails this test rather than a benchmark nobody runs.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# beyond click + rich, `circuit grad` may load these (and circuitcli's own modules):
# array (the tape), locale (click's gettext), rich.bar (the pull column), gc (compiled into
# the interpreter: importing it costs nothing; cli.py freezes the objects on the way out),
# atexit (compiled in too: cli.run asks it whether the normal way out has work to do)
ALLOWED = {"array", "locale", "_locale", "rich.bar", "gc", "atexit"}
JSON = {"json", "json.decoder", "json.encoder", "json.scanner", "_json"}
# what the grad path must not load (each was on it once, or is heavy)
FORBIDDEN = {"sympy", "numpy", "mpmath", "prompt_toolkit", "pathlib", "hashlib", "fcntl",
             "heapq", "importlib.util", "urllib.parse", "ipaddress", "tempfile", "difflib",
             "shutil", "argparse", "filelock", *JSON}
OUR_FORBIDDEN = ("circuitcli.methods", "circuitcli.repl", "circuitcli.io.data",
                 "circuitcli.render.json")

PROBE = """
import sys
import click, rich.console, rich.table
base = set(sys.modules)
from circuitcli.cli import main
try:
    main(sys.argv[1:], standalone_mode=False)
finally:
    extra = sorted(set(sys.modules) - base)  # before the probe's own imports below
    import json
    from circuitcli.core import backend, syntax
    built = {"Statement": syntax._statement_class.cache_info().currsize,
             "Primitive": backend._primitive_class.cache_info().currsize}
    sys.stderr.write("PROBE " + json.dumps({"extra": extra, "built": built}) + "\\n")
"""


def _search_path() -> str:
    """The sources first, then where click and rich are installed. The probe runs without
    site (-S): an editable install's import hook loads pathlib, importlib.util and more at
    start-up, which would hide them from the probe."""
    import click
    import rich

    folders = [str(ROOT)]
    for module in (click, rich):
        folder = os.path.dirname(os.path.dirname(module.__file__))
        if folder not in folders:
            folders.append(folder)
    return os.pathsep.join(folders)


def probe(*args: str, env: dict | None = None) -> tuple[set[str], dict]:
    """The modules `circuit ARGS` loads beyond click and rich, and the lazy classes built."""
    done = subprocess.run([sys.executable, "-S", "-c", PROBE, *args], capture_output=True,
                          text=True, env={"PYTHONPATH": _search_path(), "PATH": "",
                                          "COLUMNS": "100", **(env or {})})
    assert done.returncode == 0, done.stderr
    line = next(ln for ln in done.stderr.splitlines() if ln.startswith("PROBE "))
    found = json.loads(line[len("PROBE "):])
    return set(found["extra"]), found["built"]


def others(extra: set[str]) -> set[str]:
    return {m for m in extra if m != "circuitcli" and not m.startswith("circuitcli.")}


GRAD = ("grad", "(x+y)*z", "x=-2", "y=5", "z=-4")


def test_grad_with_the_session_off_imports_only_what_it_needs():
    extra, built = probe(*GRAD, env={"CIRCUIT_SESSION": "off"})
    assert others(extra) <= ALLOWED, others(extra) - ALLOWED
    assert not extra & FORBIDDEN
    assert not [m for m in extra if m.startswith(OUR_FORBIDDEN)]
    # no session and no file: neither the session module nor the file reader
    assert "circuitcli.io.session" not in extra and "circuitcli.io.files" not in extra
    assert built == {"Statement": 0, "Primitive": 0}  # dataclasses only other paths need


def test_grad_with_an_unchanged_session_neither_locks_nor_writes(tmp_path):
    env = {"CIRCUIT_SESSION": str(tmp_path / "session.json")}
    first, _ = probe(*GRAD, env=env)  # writes the session: json and the lock
    assert {"json", "fcntl"} <= first
    stamp = (tmp_path / "session.json").stat().st_mtime_ns
    extra, _ = probe(*GRAD, env=env)  # the same again: its bytes compared, left alone
    # _json (C) quotes the strings compared; json itself, its regexes and the parser, and
    # the lock stay out: an unchanged session is not parsed
    assert others(extra) <= ALLOWED | {"_json"}, others(extra) - ALLOWED
    assert not extra & (FORBIDDEN - {"_json"})
    assert (tmp_path / "session.json").stat().st_mtime_ns == stamp


def test_grad_json_imports_no_table(tmp_path):
    extra, _ = probe(*GRAD, "--json", env={"CIRCUIT_SESSION": "off"})
    assert "rich.bar" not in extra and "circuitcli.render.table" not in extra
    assert not extra & (FORBIDDEN - JSON)


def test_the_probe_sees_a_heavy_import():
    """The probe itself works: a command that needs numpy shows it."""
    env = {"CIRCUIT_SESSION": "off"}
    extra, _ = probe("check", "x*y", "x=1", "y=2", env=env)
    assert "numpy" in extra or "sympy" in extra


def test_lazy_classes_are_the_same_as_before():
    from dataclasses import fields, is_dataclass

    from circuitcli.core import backend, syntax

    statement = syntax.Statement
    assert is_dataclass(statement) and statement is syntax.Statement
    assert [f.name for f in fields(statement)] == ["name", "start", "end", "default", "uses"]
    assert statement.__module__ == "circuitcli.core.syntax"
    assert is_dataclass(backend.Primitive)
    assert backend.PRIMITIVES["log"] == backend.Primitive("log", "math.log", "LIBM.log", "np.log")
    assert os.path.basename(syntax.__file__) == "syntax.py"


def test_the_program_freezes_its_objects_on_the_way_out():
    """The `circuit` script runs the group's __call__, which ends with gc.freeze() so the
    interpreter's last collections skip this process's objects (CliRunner calls main)."""
    code = ("import gc, sys\n"
            "from circuitcli.cli import main\n"
            "try:\n"
            "    main(['grad', 'x*y', 'x=2', 'y=3', '--json'])\n"
            "except SystemExit as done:\n"
            "    print('EXIT', done.code, gc.get_freeze_count() > 0)\n")
    done = subprocess.run([sys.executable, "-S", "-c", code], capture_output=True, text=True,
                          env={"PYTHONPATH": _search_path(), "CIRCUIT_SESSION": "off"})
    assert "EXIT 0 True" in done.stdout, done.stderr
    assert json.loads(done.stdout.split("EXIT")[0])["output"]["value"] == 6.0


# a file left open and unflushed: the interpreter's normal way out flushes it as it frees it
RUN = ("import atexit, sys\n"
       "kept = open(sys.argv[1], 'w')\n"
       "kept.write('TEARDOWN')\n"
       "if sys.argv[2] == 'atexit':\n"
       "    atexit.register(print, 'ATEXIT')\n"
       "from circuitcli.cli import main, run\n"
       "entry = main if sys.argv[2] == 'main' else run\n"
       "sys.argv[1:] = sys.argv[3:]\n"
       "entry()\n")


def _run(tmp_path, how: str, *args: str, stdout=subprocess.PIPE) -> tuple[
        subprocess.CompletedProcess, str]:
    """The program run as the `circuit` script runs it, and what its teardown left."""
    left = tmp_path / "teardown.txt"
    done = subprocess.run([sys.executable, "-S", "-c", RUN, str(left), how, *args],
                          stdout=stdout, stderr=subprocess.PIPE, text=True,
                          env={"PYTHONPATH": _search_path(), "CIRCUIT_SESSION": "off"})
    return done, left.read_text()


def test_the_program_ends_at_once_once_its_output_is_out(tmp_path):
    """The `circuit` script (cli.run) ends with os._exit once stdout and stderr are flushed:
    no teardown runs, every byte of the output is there, the exit code is kept."""
    done, left = _run(tmp_path, "plain", "grad", "x*y", "x=2", "y=3", "--json")
    assert done.returncode == 0, done.stderr
    assert left == ""
    assert json.loads(done.stdout)["inputs"]["x"]["grad"] == 3.0  # by hand: d(xy)/dx = y
    done, left = _run(tmp_path, "plain", "grad", "x*", "x=2")
    assert done.returncode == 2 and left == ""
    assert done.stderr.splitlines()[0].startswith("error: 1:3:")


def test_the_program_leaves_the_normal_way_when_there_is_work_left(tmp_path):
    # an atexit callback (sympy's, a coverage run's) runs, and the teardown with it
    done, left = _run(tmp_path, "atexit", "grad", "x*y", "x=2", "y=3", "--json")
    assert done.returncode == 0, done.stderr
    assert done.stdout.endswith("}\nATEXIT\n") and left == "TEARDOWN"
    assert json.loads(done.stdout.split("ATEXIT")[0])["output"]["value"] == 6.0


def test_a_failed_flush_leaves_the_normal_way(tmp_path):
    """stdout that cannot take the output (a full disk) ends as it did before cli.run: the
    error said on stderr, the normal way out (which tries the flush once more), the same
    exit code as the click group's own main gives."""
    ends = []
    for how in ("plain", "main"):
        with open("/dev/full", "w") as full:  # Linux's; CI runs there
            done, left = _run(tmp_path, how, "grad", "x*y", "x=2", "y=3", "--json",
                              stdout=full)
        assert left == "TEARDOWN"
        assert done.stderr.splitlines()[0] == "error: No space left on device"
        ends.append(done.returncode)
    assert ends[0] == ends[1] != 0


def test_a_big_file_is_hashed_only_when_the_session_may_keep_it(tmp_path):
    big = tmp_path / "big.circuit"
    big.write_text("# " + "x" * (1 << 20) + "\nout = x * y\n")
    args = ("grad", str(big), "x=2", "y=3", "--json")
    off, _ = probe(*args, env={"CIRCUIT_SESSION": "off"})
    assert "hashlib" not in off
    on, _ = probe(*args, env={"CIRCUIT_SESSION": str(tmp_path / "s.json")})
    assert "hashlib" in on and "file" in json.loads((tmp_path / "s.json").read_text())
    look, _ = probe("show", str(big), "x=2", "y=3", env={"CIRCUIT_SESSION": str(tmp_path /
                                                                               "s.json")})
    assert "hashlib" not in look  # a look-only command never remembers it
