"""Tables at any width: every number a table command shows is the full-precision one (from
--json, or a formula over its numbers) rounded to the digits shown, at 40, 60, 80 and 120
columns; nothing is cut with "…"; decorative columns go first."""

from __future__ import annotations

import json
import re

import pytest
from click.testing import CliRunner

from circuitcli.cli import main

WIDTHS = (40, 60, 80, 120)
NUMBER = re.compile(r"(?<![\w.])[-+]?(?:\d+\.?\d*|\.\d+)(?:e[-+]?\d+)?(?![\w.])")


def run(args: list[str], width: int, stdin: str | None = None) -> str:
    result = CliRunner().invoke(main, [*args], env={"COLUMNS": str(width),
                                                    "CIRCUIT_SESSION": "off", "NO_COLOR": "1"},
                                input=stdin)
    assert result.exit_code == 0, result.output
    return result.stdout


def numbers_in(doc) -> list[float]:
    """Every number in a JSON document, and those written inside its strings."""
    found: list[float] = []
    stack = [doc]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, bool) or item is None:
            continue
        elif isinstance(item, (int, float)):
            found.append(float(item))
        elif isinstance(item, str):
            found.extend(float(t) for t in NUMBER.findall(item))
    return found


def significant(token: str) -> int:
    mantissa = token.lstrip("+-").split("e")[0].replace(".", "").lstrip("0")
    return max(1, len(mantissa))


def shown_right(token: str, truths: list[float]) -> bool:
    """The token is one of the true numbers rounded to as many significant digits as it has
    (or, at 17 digits, the true number itself)."""
    value = float(token)
    k = significant(token)
    return any(float(f"{x:.{k}g}") == value or x == value for x in truths)


def assert_numbers(text: str, truths: list[float]) -> None:
    assert "…" not in text, text
    wrong = [t for t in NUMBER.findall(text) if not shown_right(t, truths)]
    assert not wrong, f"numbers not found at full precision: {wrong}\n{text}"


NEURON = ["neuron.circuit"]
MUL = ["(x+y)*z", "x=-2", "y=5", "z=-4"]


def differences(doc_pairs: list[tuple[float, float]]) -> list[float]:
    return [b - a for a, b in doc_pairs]


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("args", [NEURON, MUL, ["relu(x) + max(x, y)", "x=0", "y=0"]])
def test_grad(args: list[str], width: int) -> None:
    doc = json.loads(run(["grad", *args, "--json"], 200))
    text = run(["grad", *args], width)
    assert_numbers(text, numbers_in(doc))
    lines = text.splitlines()
    assert max(len(line) for line in lines) <= width
    # the pull bar goes before any number does
    if width < 80 and args is NEURON:
        assert "█" not in text and "pull" not in text


def test_grad_gives_up_pull_then_computes_then_records() -> None:
    wide, mid, narrow = (run(["grad", *NEURON], w) for w in (120, 60, 30))
    assert "pull" in wide and "computes" in wide
    assert "pull" not in mid and "computes" not in mid and "gradient" in mid.splitlines()[1]
    assert "▸ a: value 1, gradient -0.104994" in narrow.replace("\n    ", " ")


@pytest.mark.parametrize("width", WIDTHS)
def test_grad_digits_17(width: int) -> None:
    doc = json.loads(run(["grad", *NEURON, "--json"], 200))
    text = run(["grad", *NEURON, "--digits", "17"], width)
    assert_numbers(text, numbers_in(doc))
    assert "-0.10499358540350651" in text  # the JSON's -0.1049935854035065 at 17 digits


@pytest.mark.parametrize("width", WIDTHS)
def test_check(width: int) -> None:
    doc = json.loads(run(["check", *NEURON, "--nodes", "--json"], 200))
    text = run(["check", *NEURON, "--nodes"], width)
    # the settings line names the method's step and the tolerances
    assert_numbers(text, [*numbers_in(doc), 2, 6.06e-06, 1, 10, 1e-09])


@pytest.mark.parametrize("width", WIDTHS)
def test_step(width: int) -> None:
    doc = json.loads(run(["step", *MUL, "--steps", "3", "--json"], 200))
    text = run(["step", *MUL, "--steps", "3"], width)
    pairs = [(v["before"], v["after"]) for v in doc["inputs"].values()]
    pairs.append((doc["output"]["before"], doc["output"]["after"]))
    after = {n: v["after"] for n, v in doc["inputs"].items()}
    now = [after["z"], after["x"] + after["y"]]  # d/dx (x+y)*z = z, d/dz = x + y
    assert_numbers(text, [*numbers_in(doc), *differences(pairs), *now, 3, 0.01])


@pytest.mark.parametrize("width", WIDTHS)
def test_search(width: int) -> None:
    args = ["search", *MUL, "--seed", "1"]
    doc = json.loads(run([*args, "--json"], 200))
    text = run(args, width)
    pairs = [(doc["start"]["inputs"][n], doc["best"]["inputs"][n]) for n in doc["start"]["inputs"]]
    pairs.append((doc["start"]["output"], doc["best"]["output"]))
    assert_numbers(text, [*numbers_in(doc), *differences(pairs), 1])


@pytest.mark.parametrize("width", WIDTHS)
def test_compare(width: int) -> None:
    args = ["compare", *MUL, "--seed", "1"]
    doc = json.loads(run([*args, "--json"], 200))
    text = run(args, width)
    # timings differ from run to run: they are not compared
    text = re.sub(r"\d+(\.\d+)? (s|ms|µs|ns)\b", "", text)
    # the notes: the pass counts (3 + 1), h and the gradient difference at 3 digits
    assert_numbers(text, [*numbers_in(doc), 3, 1, 1e-05])
    if width >= 80:
        assert "strategy" in text  # a table, the names short at 80
    if width == 120:
        assert "numerical gradient" in text


@pytest.mark.parametrize("width", WIDTHS)
def test_show(width: int) -> None:
    doc = json.loads(run(["show", *NEURON, "--json"], 200))
    text = run(["show", *NEURON], width)
    assert_numbers(text, numbers_in(doc))


@pytest.mark.parametrize("width", WIDTHS)
def test_samples(width: int) -> None:
    doc = json.loads(run(["samples", "--json"], 200))
    text = run(["samples"], width)
    assert_numbers(text, numbers_in(doc))
    for sample in doc:
        assert sample["name"] in text


@pytest.mark.parametrize("width", WIDTHS)
def test_train(width: int) -> None:
    args = ["train", "svm.circuit", "--data", "svm.csv", "--no-plot"]
    doc = json.loads(run([*args, "--json"], 200))
    text = run(args, width)
    text = re.sub(r"\d+\.\d+ s\b", "", text)  # the run's time
    text = re.sub(r"\d+\.\d%", "", text)  # accuracy, checked below
    assert f"{doc['accuracy']:.1%}" in run(args, 200)
    penalty = doc["loss"] - doc["data_loss"]
    assert_numbers(text, [*numbers_in(doc), penalty, 1, 0.01])


@pytest.mark.parametrize("width", WIDTHS)
def test_predict(width: int) -> None:
    args = ["predict", "svm.circuit", "--data", "svm.csv"]
    doc = json.loads(run([*args, "--json"], 200))
    text = run(args, width)
    for line, score in zip(text.splitlines()[1:], doc["scores"]):
        assert float(line.split(",")[-2]) == score  # the CSV carries every digit


@pytest.mark.parametrize("width", WIDTHS)
def test_explain(width: int) -> None:
    doc = json.loads(run(["explain", *NEURON, "--json"], 200))
    text = run(["explain", *NEURON], width)
    assert_numbers(text, numbers_in(doc))


REPL_INPUT = "a = 1\nb = 2\nc = -3\nx = -1\ny = 3\ns = sigmoid(a*x + b*y + c)\n:check\n"


@pytest.mark.parametrize("width", WIDTHS)
def test_repl(width: int) -> None:
    grad = json.loads(run(["grad", "s = sigmoid(a*x + b*y + c)", "a=1", "b=2", "c=-3", "x=-1",
                           "y=3", "--json"], 200))
    check = json.loads(run(["check", "s = sigmoid(a*x + b*y + c)", "a=1", "b=2", "c=-3",
                            "x=-1", "y=3", "--json"], 200))
    text = run(["repl"], width, REPL_INPUT)
    assert_numbers(text, [*numbers_in(grad), *numbers_in(check), 2, 6.06e-06, 1, 10, 1e-09])
    assert "-0.104994" in text


def test_infinite_gradient_gets_the_full_bar() -> None:
    """exp(x) at 1000: x's gradient is inf, the strongest pull there is; the output's 1 is
    nothing beside it."""
    text = run(["grad", "exp(x)", "x=1000"], 120)
    rows = {line.split("│")[0].strip(): line for line in text.splitlines() if "│" in line}
    assert rows["▸ x"].split("│")[5].strip() == "█" * 10
    assert rows["out"].split("│")[5].strip() == ""


def test_digits_full_is_the_shortest_round_trip() -> None:
    text = run(["grad", "x*y", "x=1.1", "y=3", "--digits", "full"], 120)
    assert "3.3000000000000003" in text  # repr(1.1 * 3)
    assert "3.30000000000000027" not in text
    # the notebook's -5.950100000000001, digit by digit (--digits 17 gives -5.9501000000000008)
    text = run(["grad", "x*y", "x=-1.99", "y=2.99", "--digits", "full"], 120)
    assert "-5.950100000000001" in text.split()


def test_digits_at_most_n() -> None:
    text = run(["grad", "x*y", "x=1.1", "y=3", "--digits", "3"], 120)
    assert all(significant(t) <= 3 for t in NUMBER.findall(text))


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("extra", [[], ["--hvp", "x=1"]])
def test_hessian(width: int, extra: list[str]) -> None:
    args = ["hessian", *NEURON, *extra]
    doc = json.loads(run([*args, "--json"], 200))
    text = run(args, width)
    text = re.sub(r"along \d+ directions?|along [^\n]*=1", "", text)  # counts, the direction
    assert_numbers(text, [*numbers_in(doc), 1, 2, 3])


@pytest.mark.parametrize("width", WIDTHS)
def test_check_sweep_h(width: int) -> None:
    """Found in the new-user trial: the --sweep-h legend cut its numbers (`3.2e…` at 80
    columns, `1…` at 40) and its plots ran past 40 and 80 columns. The axes' ticks are
    decades, the slopes of the arms come from the JSON's fitted slopes."""
    args = ["check", "exp(x)", "x=1", "--sweep-h"]
    doc = json.loads(run([*args, "--json"], 200))
    text = run(args, width)
    assert max(len(line) for line in text.splitlines()) <= width
    truths = [*numbers_in(doc), *(10.0**d for d in range(-20, 2)), 0, -1, 1, 2, 4]
    assert_numbers(text, truths)
    for method in doc["inputs"][0]["methods"].values():  # every best step is shown
        assert f"{method['best_h']:.1e}" in text


def test_compare_shows_no_nan_for_a_strategy_that_did_not_move() -> None:
    """Found in the new-user trial: a refused Newton step moved 0, and its gain/moved read
    `nan` in the table (the JSON keeps null)."""
    args = ["compare", "neuron.circuit", "--seed", "1"]
    doc = json.loads(run([*args, "--json"], 200))
    newton = next(s for s in doc["strategies"] if s["name"] == "newton step")
    assert newton["moved"] == 0 and newton["gain_per_unit_moved"] is None
    text = run(args, 120)
    row = next(line for line in text.splitlines() if line.startswith("newton step"))
    assert "nan" not in row and row.split("│")[4].strip() == "—"


@pytest.mark.parametrize("args", [["help"], ["grad", "--help"], ["--help"], ["help", "check"],
                                  ["quiz", "--help"], ["help", "help"]])
def test_help_fits_40_columns(args: list[str]) -> None:
    """Found in the new-user trial: click lays help out 50 columns wide at least, so at 40
    the terminal folded it mid-word ("every" / "gate's" split, "Did you me / an")."""
    text = run(args, 40)
    # an example command line or JSON shape, or a term with no space to break at, may be
    # longer: those are shown as they are typed
    long = [line for line in text.splitlines() if len(line) > 40 and not line.lstrip()
            .startswith(("circuit ", "printf ", "{", '"', "--method [", "--format ["))]
    assert not long, text
    assert "Topics (circuit help TOPIC):" in run(["help"], 40)


def run_on_terminal(args: list[str], width: int) -> str:
    """As on a terminal (rich told so by FORCE_COLOR; NO_COLOR keeps it plain text)."""
    result = CliRunner().invoke(main, args, env={
        "COLUMNS": str(width), "CIRCUIT_SESSION": "off", "NO_COLOR": "1", "FORCE_COLOR": "1"})
    assert result.exit_code in (0, 1), result.output
    return result.stdout


@pytest.mark.parametrize("width", [40, 80])
@pytest.mark.parametrize("args", [["explain", *NEURON],
                                  ["explain", *NEURON, "--forward", "--wrt", "x"],
                                  ["check", "ex5_neuron.circuit", "--expect", "dq=0.8808"]])
def test_prose_wraps_between_words_on_a_terminal(args: list[str], width: int) -> None:
    """Found in the new-user trial: explain's story and check --expect's diagnosis were
    printed unwrapped, so at 80 columns the terminal cut `df/dq = 0.1049|94` in two.
    On a terminal they wrap between words: every line fits, every number is whole."""
    text = run_on_terminal(args, width)
    assert max(len(line.rstrip()) for line in text.splitlines()) <= width, text
    doc = json.loads(run([*args, "--json"], 200)) if args[0] == "explain" else None
    if doc is not None and "--forward" not in args:
        assert_numbers(text, numbers_in(doc))
    assert "0.104994" in text and "0.1049\n" not in text


def test_quiz_wraps_between_words_on_a_terminal(tmp_path) -> None:
    """Found in the new-user trial: at 40 columns the quiz's `at a = -1, ..., c = -4` was
    folded by the terminal into `c = -` and `4` (its lines were printed unwrapped)."""
    result = CliRunner().invoke(main, ["quiz", "--level", "3", "--seed", "2", "--count", "1"],
                                input="?\n0.5\n", env={
                                    "COLUMNS": "40", "CIRCUIT_SESSION": "off", "NO_COLOR": "1",
                                    "FORCE_COLOR": "1", "XDG_STATE_HOME": str(tmp_path)})
    lines = [line.rstrip() for line in result.stdout.splitlines()]
    assert max(map(len, lines)) <= 40, result.stdout
    assert not any(line.endswith("-") for line in lines), result.stdout
    assert any(line.lstrip().startswith("at a = ") for line in lines)


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("args", [["-(x-1)*(x-1) - y*y", "x=3.14159", "y=2.71828"]])
def test_step_newton(args: list[str], width: int) -> None:
    """Found in the new-user trial: at 40 columns `step --newton` cut its "after" column
    to `aft…` (its table was not under the width policy)."""
    cmd = ["step", *args, "--newton"]
    doc = json.loads(run([*cmd, "--json"], 200))
    text = run(cmd, width)
    steps = differences([(v["before"], v["after"]) for v in doc["inputs"].values()])
    text = re.sub(r"along \d+ directions?|\d+ forward and \d+ backward", "", text)
    assert_numbers(text, [*numbers_in(doc), *steps, 1, 2])
    assert max(len(line) for line in text.splitlines()) <= width or width < 60


@pytest.mark.parametrize("width", [40, 80])
@pytest.mark.parametrize("args", [["explain", *NEURON],
                                  ["check", "ex5_neuron.circuit", "--expect", "dq=0.8808"]])
def test_wrapped_prose_keeps_its_indent(args: list[str], width: int) -> None:
    """Found in the round-3 new-user trial: at 40 columns explain's `  s = sigmoid(axpbypc)
    = sigmoid(2) =` went on with `0.880797` at column 0, and at 80 check --expect's bullet
    `  - f's value ... df/dq =` with `0.104994`, so the end of a line read as a new one. A
    wrapped line goes on indented: every line starting at column 0 on a narrow terminal
    starts a line at column 0 on a wide one, and the indented ones keep their words."""
    wide = run_on_terminal(args, 300).splitlines()
    narrow = run_on_terminal(args, width).splitlines()
    starts = [line for line in wide if line and not line[0].isspace()]
    for line in narrow:
        if line and not line[0].isspace() and not line.startswith(("━", "┃")):
            assert any(w.startswith(line.rstrip()) for w in starts), (line, "\n".join(narrow))
    assert " ".join(" ".join(narrow).split()) == " ".join(" ".join(wide).split()) or \
        args[0] == "check"  # the check's table lays out anew; its prose is compared above


@pytest.mark.parametrize("width", [40, 60])
def test_the_repls_explain_keeps_its_indent_too(width: int) -> None:
    """The same in the REPL: `:explain` at 40 columns went on at column 0."""
    def repl(columns: int) -> list[str]:
        result = CliRunner().invoke(main, ["repl"], input=REPL_INPUT + ":explain\n", env={
            "COLUMNS": str(columns), "CIRCUIT_SESSION": "off", "NO_COLOR": "1",
            "FORCE_COLOR": "1"})
        assert result.exit_code == 0, result.output
        text = result.stdout
        return text[text.index("forward:"):].splitlines()

    wide, narrow = repl(300), repl(width)
    starts = [line for line in wide if line and not line[0].isspace()]
    for line in narrow:
        if line and not line[0].isspace():
            assert any(w.startswith(line.rstrip()) for w in starts), (line, "\n".join(narrow))
    assert " ".join(" ".join(narrow).split()) == " ".join(" ".join(wide).split())


RECORD = re.compile(r"^(▸ )?[\w ]+: (value|analytic|output) ")


@pytest.mark.parametrize("width", [40, 60])
@pytest.mark.parametrize("args", [["compare", *MUL, "--seed", "1"],
                                  ["grad", "relu(x) + max(x, y)", "x=0", "y=0"],
                                  ["check", *MUL], ["hessian", "x*y", "x=0", "y=0"]])
def test_notes_under_a_table_keep_their_indent(args: list[str], width: int) -> None:
    """Found in the round-3 new-user trial: at 40 columns the notes under compare's table
    and grad's kink notes went on at column 0 (`(Euclidean length); gain/moved ...`), as if
    each wrapped part were a note of its own. Outside the table (and its one-record-per-row
    form), a line at column 0 on a narrow terminal starts a line on a wide one."""
    def lines(columns: int) -> list[str]:
        result = CliRunner().invoke(main, args, env={
            "COLUMNS": str(columns), "CIRCUIT_SESSION": "off", "NO_COLOR": "1",
            "FORCE_COLOR": "1"})
        assert result.exit_code in (0, 1), result.output
        return result.output.splitlines()

    wide, narrow = lines(300), lines(width)
    starts = [line for line in wide if line and not line[0].isspace()]
    for line in narrow:
        if not line or line[0].isspace() or set(line) & set("│┃━") or RECORD.match(line):
            continue
        assert any(w.startswith(line.rstrip()) for w in starts), (line, "\n".join(narrow))
