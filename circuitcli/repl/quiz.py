"""The quiz, interactively: pose an exercise, read an answer, say right or what went wrong.

`Quiz` holds the run (level, seed, progress) and turns one typed line into a reply; the
two loops feed it lines: `run_terminal_quiz` through prompt_toolkit (history, Ctrl-C and
Ctrl-D leave cleanly), `run_piped_quiz` from stdin, one answer a line, printing a
transcript. The REPL's `:quiz` uses the same object, one exercise at a time.
"""

from __future__ import annotations

import random
from collections.abc import Iterable

from rich.console import Console
from rich.text import Text

from ..core.grammar import parse_number
from ..core.lazy import lazy
from ..core.safe_text import printable
from ..core.syntax import CircuitError
from ..io.progress import PASS_AFTER, Progress
from ..io.session import state_home
from ..methods.quiz import Exercise, exercise, grade_answer
from ..render.practice import answer_hint, answer_lines, exercise_lines

prompts = lazy("prompt_toolkit")  # only on a terminal
histories = lazy("circuitcli.repl.history")  # the REPL's history file rule, on a terminal

__all__ = ["Quiz", "run_piped_quiz", "run_terminal_quiz", "start_quiz"]

PROMPT = "answer> "
HELP = "type a number; ? shows how it is made, skip moves on, quit leaves"


class Quiz:
    """One learner's run of exercises: level L, seeds S, S+1, ..."""

    def __init__(self, out: Console, err: Console, level: int | None, seed: int,
                 progress: Progress | None, tol: float, fixed_level: bool = False) -> None:
        self.out, self.err = out, err
        self.progress = progress
        self.level = level or (progress.level if progress else 1)
        self.fixed = fixed_level
        self.seed = seed
        self.tol = tol
        self.number = 0
        self.asked = 0
        self.right = 0
        self.current: Exercise | None = None

    def pose(self) -> Exercise:
        """The next exercise, printed."""
        self.current = exercise(self.level, self.seed + self.number)
        self.number += 1
        self.out.print()
        for k, line in enumerate(exercise_lines(self.current, self.number)):
            self.out.print(Text(line, style="bold" if k == 0 else ""),
                           soft_wrap=not self.out.is_terminal)
        return self.current

    def reply(self, line: str) -> bool:
        """Handle one typed line; True when the exercise is over (answered or skipped)."""
        text = line.strip()
        ex = self.current
        if ex is None or not text:
            return False
        if text in ("?", "hint", "explain"):
            ans = grade_answer(ex, float("nan"), self.tol)

            for hint in answer_hint(ans, 6):
                self.out.print(Text(f"  {hint}"), soft_wrap=not self.out.is_terminal)
            return False
        if text == "skip":
            ans = grade_answer(ex, float("nan"), self.tol)
            self.out.print(Text(f"skipped: the answer is {ans.truth:.6g}", style="dim"))
            return True
        value = parse_number(text)
        if value is None:
            self.out.print(Text(f"'{printable(text)}' is not a number: {HELP}", style="yellow"),
                           soft_wrap=not self.out.is_terminal)
            return False
        ans = grade_answer(ex, value, self.tol)
        self.asked += 1
        self.right += ans.right
        for words, style in answer_lines(ans):
            self.out.print(Text(words, style=style), soft_wrap=not self.out.is_terminal)
        if self.progress is not None:
            passed = self.progress.record(self.level, ans.right)
            try:
                self.progress.save()
            except (OSError, CircuitError) as err:  # the quiz goes on without its file
                self.err.print(Text(f"note: progress not saved ({err})", style="dim"))
            streak = self.progress.streak
            if passed:
                self.out.print(Text(f"level {self.level} passed: {PASS_AFTER} right in a row",
                                    style="bold green"))
                if not self.fixed:
                    self.level += 1
                    self.out.print(Text(f"on to level {self.level}", style="bold"))
            elif ans.right:
                self.out.print(Text(f"streak {streak}", style="dim"))
        return True

    def summary(self) -> None:
        if self.asked:
            line = f"{self.right} of {self.asked} right"
            if self.progress is not None:
                line += (f"; levels passed: {', '.join(map(str, self.progress.passed)) or 'none'}"
                         f"; best streak {self.progress.best}")
            self.out.print(Text(line, style="bold"))


def run_piped_quiz(quiz: Quiz, lines: Iterable[str], count: int | None) -> int:
    """One answer a line from stdin, each echoed, as a transcript; ends at the input's end."""
    quiz.pose()
    for raw in lines:
        line = raw.rstrip("\r\n")
        quiz.out.print(Text(f"> {printable(line)}", style="bold"), soft_wrap=True)
        if line.strip() in ("q", "quit", "exit"):
            break
        if quiz.reply(line):
            if count is not None and quiz.number >= count:
                break
            quiz.pose()
    quiz.summary()
    return 0


def run_terminal_quiz(quiz: Quiz, count: int | None) -> int:
    """prompt_toolkit's line editing and history; Ctrl-D leaves, Ctrl-C leaves (130)."""
    path = str(state_home() / "circuitcli" / "quiz_history")
    # a regular file only, read size-capped (a FIFO there would hang the start, a link to
    # /dev/zero fill memory): the REPL's history rule
    history = histories.file_history(path, "quiz history file",
                                     lambda note: quiz.err.print(Text(note, style="dim")))
    session: prompts.PromptSession[str] = prompts.PromptSession(history=history)
    quiz.out.print(Text(f"circuit quiz: {HELP}; Ctrl-D leaves", style="dim"))
    quiz.pose()
    while True:
        try:
            line = session.prompt(PROMPT)
        except EOFError:
            quiz.summary()
            return 0
        except KeyboardInterrupt:
            quiz.summary()
            quiz.err.print(Text("interrupted: progress is saved after every answer"))
            return 130
        if line.strip() in ("q", "quit", "exit"):
            quiz.summary()
            return 0
        if quiz.reply(line):
            if count is not None and quiz.number >= count:
                quiz.summary()
                return 0
            quiz.pose()


def start_quiz(out: Console, err: Console, level: int | None, previous: Quiz | None) -> Quiz:
    """The REPL's :quiz: the run goes on from the previous exercise unless a level is given."""
    if previous is not None and level is None:
        return previous
    progress = Progress.load()
    return Quiz(out, err, level, random.SystemRandom().randrange(10**6), progress, 1e-3,
                fixed_level=level is not None)
