"""The REPL without a terminal: a script of lines on stdin runs as one session.

No prompt and no colour: each line's result is printed as it runs, `#` comments and
blank lines are skipped, and the exit code says whether every line went through
(0) or some failed (2); a failed line leaves the session as it was, and the script
goes on, as a learner at the prompt would.
"""

from __future__ import annotations

from collections.abc import Iterable

from rich.text import Text

from ..core.safe_text import printable
from .commands import Quit, Repl, StepInterrupted

__all__ = ["run_piped"]


def run_piped(repl: Repl, lines: Iterable[str], echo: bool = False) -> int:
    """Run every line until the end or :quit (repl.done); 2 if any failed, 130 if
    interrupted, else 0."""
    failed = 0
    n = 0
    try:
        for n, raw in enumerate(lines, 1):
            line = raw.rstrip("\r\n")
            if echo and line.strip():
                repl.print(Text(f"> {printable(line)}", style="dim"
                                if line.lstrip().startswith("#")
                                else "bold"), soft_wrap=True)
            try:
                ok = repl.run(line, n)
            except Quit:
                break
            failed += not ok
    except KeyboardInterrupt as err:
        reached = f": {err}" if isinstance(err, StepInterrupted) else ""
        repl.err.print(Text(f"interrupted at line {n}{reached}"))
        return 130
    if failed:
        repl.err.print(Text(f"{failed} line{'s' * (failed != 1)} failed", style="bold red"))
        return 2
    return 0
