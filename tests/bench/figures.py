"""`--write-docs`: a benchmark's printed figures become its section of the user's docs.

circuitcli/docs/benchmarks.md (`circuit help benchmarks`) keeps one section per script,
between `<!-- begin NAME -->` and `<!-- end NAME -->`. A script run with --write-docs prints
as usual and then replaces its own section with what it printed, the command line, the date
and the machine: the figures there always come from a real run, never typed in by hand.
What the machine was doing besides (shared with other work, on battery, ...) is said by
$BENCH_MACHINE_NOTE, which the section quotes after the machine.
"""

from __future__ import annotations

import io
import os
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

DOCS = Path(__file__).resolve().parents[2] / "circuitcli" / "docs" / "benchmarks.md"


class _Tee(io.TextIOBase):
    """Writes to the terminal and keeps a copy."""

    def __init__(self, out) -> None:
        self.out = out
        self.kept = io.StringIO()

    def write(self, text: str) -> int:
        self.kept.write(text)
        return self.out.write(text)

    def flush(self) -> None:
        self.out.flush()


def run(main: Callable[[], Any]) -> Any:
    """Run a benchmark's main(); with --write-docs, record what it printed."""
    if "--write-docs" not in sys.argv:
        return main()
    sys.argv.remove("--write-docs")
    name = os.path.basename(sys.argv[0])
    command = " ".join(["python", f"tests/bench/{name}", *sys.argv[1:]])
    tee = _Tee(sys.stdout)
    sys.stdout = tee
    try:
        result = main()
    finally:
        sys.stdout = tee.out
    write_section(name, command, tee.kept.getvalue())
    print(f"wrote the figures into {DOCS} (section {name})", file=sys.stderr)
    return result


def section(name: str, command: str, output: str) -> str:
    when = time.strftime("%Y-%m-%d", time.gmtime())
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    note = os.environ.get("BENCH_MACHINE_NOTE", "").strip()
    if note:
        machine += f"; {note}"
    return (f"<!-- begin {name} -->\n`{command}` ({when}; {machine}):\n\n```text\n"
            f"{output.rstrip()}\n```\n<!-- end {name} -->")


def write_section(name: str, command: str, output: str, docs: Path = DOCS) -> None:
    """Replace the script's section (atomically: a crash leaves the old file whole)."""
    from circuitcli.io.files import write_file

    text = docs.read_text(encoding="utf-8")
    begin, end = f"<!-- begin {name} -->", f"<!-- end {name} -->"
    if begin not in text or end not in text:
        raise SystemExit(f"{docs} has no section for {name} ({begin} ... {end})")
    head, rest = text.split(begin, 1)
    _, tail = rest.split(end, 1)
    write_file(str(docs), (head + section(name, command, output) + tail).encode("utf-8"))
