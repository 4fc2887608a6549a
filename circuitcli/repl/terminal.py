"""The REPL on a terminal: prompt_toolkit's line editing, history and TAB completion.

History is kept across sessions in the state directory
($XDG_STATE_HOME/circuitcli/repl_history). Ctrl-C cancels the line being typed (or a
long command) and the session goes on; Ctrl-D on an empty line leaves.
"""

from __future__ import annotations

from prompt_toolkit import PromptSession
from rich.text import Text

from ..io.session import state_home
from .commands import Quit, Repl, StepInterrupted
from .complete import ReplCompleter
from .history import HISTORY_LIMIT, file_history

__all__ = ["HISTORY_LIMIT", "PROMPT", "history_path", "run_terminal"]

PROMPT = "circuit> "


def history_path() -> str:
    return str(state_home() / "circuitcli" / "repl_history")


def _history(repl: Repl):
    # HISTORY_LIMIT read here at each call (history.py's; a test may lower it on this module)
    return file_history(history_path(), "REPL history file", repl.note, HISTORY_LIMIT)


def run_terminal(repl: Repl) -> int:
    """Prompt, run, print, until :quit or Ctrl-D; the exit code is 0."""
    session: PromptSession[str] = PromptSession(
        history=_history(repl), completer=ReplCompleter(lambda: repl.state.names()),
        complete_while_typing=False)
    repl.print(Text("circuit repl: type an expression such as (x+y)*z and values such as "
                    "x = -2; :help lists the commands; Ctrl-D leaves", style="dim"))
    while True:
        try:
            line = session.prompt(PROMPT)
        except KeyboardInterrupt:
            continue  # the line is dropped; a fresh prompt
        except EOFError:
            return 0
        try:
            repl.run(line)
        except Quit:
            return 0
        except StepInterrupted as err:
            repl.note(str(err))
        except KeyboardInterrupt:
            repl.note("interrupted; the circuit is as it was")
