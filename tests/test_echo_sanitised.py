"""Echoed user text never speaks to the terminal (issue 24, High): every echo path is fed
ESC, an OSC that sets the window title, BEL, a C1 control and bidi controls, and the raw
bytes that reach a pseudo-terminal, and a pipe, are counted. Each path must show the text
escaped (`\\x1b`, `\\u202e`), so the test also proves the echo happened.

Real processes (python -m circuitcli), so what is counted is what a terminal would get.
"""

from __future__ import annotations

import json
import os
import pty
import select
import subprocess
import sys
from pathlib import Path

import pytest

from circuitcli.core.safe_text import printable

# clear screen, OSC 0 (window title) ended by BEL, C1 CSI, RLO, LRI, RLM, ALM
EVIL = "\x1b[2J\x1b]0;PWNED\x07\x9b\u202e\u2066\u200f\u061c"
RAW = [b"\x1b[2J", b"\x1b]", b"\x07", "\x9b".encode(), *(ch.encode() for ch in
       "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")]
SHOWN = (b"\\x1b", b"\\u202e")


def files(tmp: Path) -> None:
    (tmp / "bad.circuit").write_text(f"x = 1\nf = x {EVIL} 2\n")
    (tmp / "header.csv").write_text(f"a{EVIL},b,y\n1,2,1\n")
    (tmp / "extra.csv").write_text(f"a,y,c{EVIL}\n1,1,2\n")
    (tmp / "ok.csv").write_text("a,y\n1,1\n2,-1\n")
    (tmp / "p.json").write_text(json.dumps({"format": "circuitcli params", "version": 1,
                                            "params": {f"w{EVIL}": 1.0}}))
    (tmp / f"t{EVIL}.circuit").write_text("f = x * 2\n")


# (id, argv, stdin): each one echo path the issue lists
CASES = [
    ("caret-line", ["grad", f"x*2{EVIL}", "x=1"], None),
    ("file-line", ["grad", "bad.circuit"], None),
    ("stdin-line", ["grad", "-"], f"f = x {EVIL}\n"),
    ("of", ["grad", "x*2", "x=1", "--of", f"q{EVIL}"], None),
    ("value", ["grad", "x*2", f"x=1{EVIL}"], None),
    ("name", ["grad", f"x{EVIL}=1"], None),
    ("freeze", ["step", "x*y", "x=1", "y=2", "--freeze", f"y{EVIL}"], None),
    ("unknown-option", ["grad", f"--bogus{EVIL}", "x*2"], None),
    ("unknown-command", [f"gra{EVIL}"], None),
    ("bad-choice", ["graph", "x*2", "x=1", "--format", f"svg{EVIL}"], None),
    ("bad-number-option", ["step", "x*2", "x=1", "--lr", f"0.1{EVIL}"], None),
    ("train-header", ["train", "a*w+b", "--data", "header.csv", "--label", f"y{EVIL}"], None),
    ("predict-csv", ["predict", "a*w+b", "w=1", "b=0", "--data", "extra.csv"], None),
    ("params-key", ["predict", "a*w", "--data", "ok.csv", "--params", "p.json"], None),
    ("title", ["grad", f"t{EVIL}.circuit", "x=1"], None),
    ("wrote", ["graph", "x*2", "x=1", "--format", "dot", "-o", f"o{EVIL}.dot"], None),
    ("repl-echo", ["repl", "--echo"], f"x*2{EVIL}\nx = 1{EVIL}\n:bo{EVIL}gus\n"),
    ("repl-error", ["repl"], f"f = x {EVIL}\n:load {EVIL}.circuit\n:of q{EVIL}\n"),
]


def env_for(tmp: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")}
    env.update(CIRCUIT_SESSION=str(tmp / "session.json"), XDG_STATE_HOME=str(tmp / "st"),
               COLUMNS="100", TERM="xterm-256color")
    return env


def run_in_pipe(argv, stdin, tmp) -> bytes:
    p = subprocess.run([sys.executable, "-m", "circuitcli", *argv], input=(stdin or "").encode(),
                       capture_output=True, cwd=tmp, env=env_for(tmp), timeout=60)
    assert b"Traceback" not in p.stderr and p.returncode in (0, 1, 2), (p.returncode, p.stderr)
    return p.stdout + p.stderr


def run_in_pty(argv, stdin, tmp) -> bytes:
    """stdout and stderr on a pseudo-terminal (so the program colours, as for a person);
    stdin a pipe, so the REPL runs its lines and ends."""
    master, slave = pty.openpty()
    p = subprocess.Popen([sys.executable, "-m", "circuitcli", *argv], stdin=subprocess.PIPE,
                         stdout=slave, stderr=slave, cwd=tmp, env=env_for(tmp))
    os.close(slave)
    p.stdin.write((stdin or "").encode())
    p.stdin.close()
    out = b""
    while True:
        ready, _, _ = select.select([master], [], [], 60)
        assert ready, "no output for 60 s"
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        out += chunk
    os.close(master)
    assert p.wait(30) in (0, 1, 2)
    assert b"Traceback" not in out
    return out


def raw_count(out: bytes) -> dict:
    return {seq: out.count(seq) for seq in RAW if out.count(seq)}


@pytest.mark.parametrize("argv,stdin", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
@pytest.mark.parametrize("where", ["pty", "pipe"])
def test_echoed_user_text_reaches_no_terminal_raw(tmp_path, argv, stdin, where):
    files(tmp_path)
    out = (run_in_pty if where == "pty" else run_in_pipe)(argv, stdin, tmp_path)
    assert raw_count(out) == {}, out
    if where == "pipe":
        assert b"\x1b" not in out, out  # no colour in a pipe, and no ESC from the user
    assert any(s in out for s in SHOWN), out  # the text was echoed, escaped


def test_the_page_title_and_data_hold_no_raw_controls(tmp_path):
    files(tmp_path)
    name = f"t{EVIL}.circuit"
    run_in_pipe(["graph", name, "x=1", "-o", "page.html"], None, tmp_path)
    page = (tmp_path / "page.html").read_bytes()
    assert raw_count(page) == {}
    assert b"\x1b" not in page
    title = page.split(b"<title>")[1].split(b"</title>")[0]
    assert b"\\x1b" in title and b"\\u202e" in title


def test_printable_escapes_every_bidi_and_c1_control():
    for ch in "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c":
        assert printable(f"a{ch}b") == f"a\\u{ord(ch):04x}b"
    assert printable("\x1b]0;t\x07\x9b") == "\\x1b]0;t\\x07\\x9b"
    assert printable("caf\u00e9 \u4e2d x\u00b2") == "caf\u00e9 \u4e2d x\u00b2"  # letters stay
    assert printable("a\nb\tc", keep="\n\t") == "a\nb\tc"


def test_the_caret_stays_under_the_mistake_after_escaping():
    from circuitcli.core.syntax import CircuitError

    err = CircuitError("unexpected character", "a\x1b[1mb $ c", 7, 8)
    _, line, caret = err.render().split("\n")
    assert line == "  a\\x1b[1mb $ c"
    assert line[caret.index("^")] == "$" and caret.count("^") == 1
    err = CircuitError("bad", "x\u202e", 1, 2)
    _, line, caret = err.render().split("\n")
    assert line[caret.index("^"):] == "\\u202e" and caret.count("^") == 6
