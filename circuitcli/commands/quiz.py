"""`circuit quiz`: exercises on the notebook's circuits and random ones, checked and
diagnosed; a stateless --json form for scripts and course autograders."""

from __future__ import annotations

import random
import sys

import click
from rich.console import Console
from rich.text import Text

from ..core.lazy import lazy
from ..io.files import read_lines
from ..io.progress import Progress
from ..methods.quiz import exercise, grade_answer
from ..render.json import dumps
from ..render.practice import answer_document, answer_lines, exercise_lines
from .options import FINITE, json_option, seed_option, session_options, tol_option
from .output import make_console

quizzes = lazy("circuitcli.repl.quiz")  # the interactive loop, not the --json form

_LEVEL_HELP = "1 the multiply gate, 2 (x+y)*z, 3 the neuron, 4 the ninja patterns, 5+ random"


@click.command("quiz")
@click.option("--level", type=click.IntRange(1, 40), metavar="N",
              help=f"The level ({_LEVEL_HELP}; each adds a gate and more fan-out). "
                   "Default: one past the highest level passed.")
@seed_option(None, "Exercises from this seed (the same on every machine); default: random.")
@click.option("--answer", type=FINITE, metavar="V",
              help="With --json: grade this answer to the exercise of --seed and --level.")
@click.option("--count", type=click.IntRange(1), metavar="N",
              help="Stop after N exercises.")
@tol_option(1e-3, "An answer is right within tol relative to the truth's size.")
@click.option("--reset-progress", is_flag=True,
              help="Forget the levels passed and the streak.")
@json_option
@session_options
def command(level: int | None, seed: int | None, answer: float | None, count: int | None,
            tol: float, reset_progress: bool, as_json: bool) -> None:
    """An exercise at a time: a value, a local derivative or a gradient to find.

    On a terminal: type a number (? shows how it is made, skip moves on, Ctrl-D or
    quit leaves). Piped: one answer a line, and a transcript. Three right in a
    row pass a level; the progress is kept in the state directory.

    \b
    For scripts (stateless, nothing kept):
      circuit quiz --seed 7 --level 2 --json
        {"circuit": TEXT, "values": {NAME: float},
         "ask": {"kind": "value"|"local"|"gradient", "node": NAME, "of": NAME}}
      circuit quiz --seed 7 --level 2 --json --answer 3
        {"right": bool, "truth": float, "diagnosis": str|null}   (exit 0 or 1)

    \b
    Examples:
      circuit quiz
      circuit quiz --level 4 --seed 1
      printf '3\\n-4\\n' | circuit quiz --level 2 --seed 1
    """
    if reset_progress:
        had = Progress().reset()
        click.echo("quiz progress forgotten" if had else "no quiz progress to forget",
                   err=True)
        if seed is None and level is None and not as_json and answer is None:
            return
    if as_json or answer is not None:
        _stateless(level or 1, seed, answer, tol, as_json)
        return
    progress = Progress.load()
    if progress.note:
        click.echo(progress.note, err=True)
    if seed is None:
        seed = random.SystemRandom().randrange(10**6)
    terminal = sys.stdin.isatty() and sys.stdout.isatty()
    out = make_console()
    err = Console(stderr=True, highlight=False, color_system=None if not terminal else "auto")
    quiz = quizzes.Quiz(out, err, level, seed, progress, tol, fixed_level=level is not None)
    code = (quizzes.run_terminal_quiz(quiz, count) if terminal
            else quizzes.run_piped_quiz(quiz, read_lines(sys.stdin, "quiz answer"), count))
    if code:
        raise SystemExit(code)


def _stateless(level: int, seed: int | None, answer: float | None, tol: float,
               as_json: bool) -> None:
    """`--json` (and `--answer`): one exercise, or one answer graded; nothing is kept."""
    if seed is None:
        raise click.UsageError("--json and --answer need --seed S: the seed (with --level) "
                               "names the exercise")
    ex = exercise(level, seed)
    if answer is None:
        if as_json:
            click.echo(dumps(ex.document()))
        else:
            click.echo("\n".join(exercise_lines(ex)))
        return
    graded = grade_answer(ex, answer, tol)
    if as_json:
        click.echo(dumps(answer_document(graded)))
    else:
        console = make_console()
        for words, style in answer_lines(graded):
            console.print(Text(words, style=style), soft_wrap=not console.is_terminal)
    if not graded.right:
        raise SystemExit(1)
