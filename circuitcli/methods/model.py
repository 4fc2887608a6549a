"""The model: a circuit, its data split into features and labels, its parameters, its losses.

The circuit's output is a score; the inputs that are CSV columns are features,
every other input is a parameter. `prepare` decides which is which and where
each parameter starts; `loss_and_slope` gives each row's loss and its pull on
the score; `scores`, `predict` and `decision_grid` use learned parameters. `prepare` and
`predict` split the inputs with the same checks, so the two commands say the same thing.
"""

from __future__ import annotations

import math
import random
import re
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..core.backend import numpy_backend
from ..core.circuit import Circuit
from ..core.evaluate import forward
from ..core.lazy import lazy
from ..core.syntax import CircuitError, suggest
from .dataset import Data, DataError

np = lazy("numpy")  # the model's arithmetic; the circuit's own parse needs none

__all__ = ["CLASSIFIERS", "LOSSES", "Directive", "Model", "Prediction", "decision_grid",
           "directive", "listing", "loss_and_slope", "predict", "prepare", "random_starts",
           "scores", "start_values", "trained_point"]

LOSSES = ("hinge", "logistic", "square")
# losses whose labels are classes, +1 or -1
CLASSIFIERS = ("hinge", "logistic")
# a full batch by default up to this many rows; minibatches of DEFAULT_BATCH above it

# ---- the model: circuit + data + which input is what --------------------------------------


@dataclass
class Directive:
    """Training settings written in a circuit file: `# train: --loss hinge --reg 1 --reg-on a,b`."""

    loss: str | None = None
    reg: float | None = None
    reg_on: list[str] | None = None
    label: str | None = None
    lr: float | None = None
    features: list[str] | None = None  # the inputs the circuit says are data columns
    spans: dict[str, tuple[int, int]] = field(default_factory=dict)


_DIRECTIVE = re.compile(r"^[ \t]*#[ \t]*train:(.*)$", re.MULTILINE)
_DIRECTIVE_KEYS = ("--loss", "--reg", "--reg-on", "--label", "--lr", "--features")


def directive(circuit: Circuit) -> Directive:
    """The `# train:` comment lines of a circuit file (options only; later lines win)."""
    found = Directive()
    for m in _DIRECTIVE.finditer(circuit.text):
        _read_directive(found, circuit, m.group(1), m.start(1))
    return found


def _read_directive(found: Directive, circuit: Circuit, body: str, base: int) -> None:
    """One `# train:` line's options into `found`; errors point at the offending word."""
    text = circuit.text
    try:
        words = shlex.split(body)
    except ValueError as err:
        raise CircuitError(f"# train: {err}", text, base, base + len(body),
                           circuit.source) from None
    it = iter(words)
    cursor = 0

    def locate(word: str) -> int:
        nonlocal cursor
        at = body.find(word, cursor)
        if at < 0:  # a quoted word: point at where the search stands
            at = cursor
        cursor = at + len(word)
        return base + at

    for word in it:
        start = locate(word)
        key, eq, value = word.partition("=")
        if key not in _DIRECTIVE_KEYS:
            raise CircuitError(
                f"# train: unknown option {key}; a circuit file may set "
                + ", ".join(_DIRECTIVE_KEYS), text, start, start + len(key), circuit.source)
        if not eq:
            value = next(it, None)
            if value is None:
                raise CircuitError(f"# train: {key} needs a value", text, start,
                                   start + len(key), circuit.source)
        vstart = start + len(key) + 1 if eq else locate(value)
        span = (vstart, vstart + len(value))
        found.spans[key] = span
        if key == "--loss":
            if value not in LOSSES:
                raise CircuitError(f"# train: --loss {value}: choose one of "
                                   + ", ".join(LOSSES), text, *span, circuit.source)
            found.loss = value
        elif key in ("--reg", "--lr"):
            try:
                number = float(value)
            except ValueError:
                number = math.nan
            least = 0.0 if key == "--reg" else math.ulp(0.0)
            if not math.isfinite(number) or number < least:
                need = ">= 0" if key == "--reg" else "> 0"
                raise CircuitError(f"# train: {key} needs a number {need}, not {value}",
                                   text, *span, circuit.source)
            if key == "--reg":
                found.reg = number
            else:
                found.lr = number
        elif key == "--reg-on":
            found.reg_on = [n.strip() for n in value.split(",") if n.strip()]
        elif key == "--features":
            found.features = [n.strip() for n in value.split(",") if n.strip()]
        else:
            found.label = value


@dataclass
class Model:
    """What training needs: the circuit, the data split into features and labels, the parameters."""

    circuit: Circuit
    data: Data
    features: list[str]
    params: list[str]
    label: str
    loss: str
    reg: float
    reg_on: list[str]
    start: dict[str, float]  # every parameter's starting value
    randomized: list[str]  # the parameters whose start was drawn at random
    unused: list[str]  # columns that are neither features nor the label
    seed: int
    classify: bool  # labels are classes +1/-1: hinge, logistic, or square loss on +-1 labels


def prepare(circuit: Circuit, data: Data, given: Mapping[str, float], *,
            known: Mapping[str, float] | None = None, label: str | None = None,
            loss: str | None = None, reg: float | None = None,
            reg_on: Sequence[str] | None = None, seed: int = 0) -> Model:
    """Split the circuit's inputs into features (CSV columns) and parameters, check the labels,
    and pick every parameter's starting value: given (NAME=VALUE), else known (the current
    circuit's), else the circuit file's, else random."""
    found = directive(circuit)
    label = label or found.label or "label"
    loss = loss or found.loss or "hinge"
    reg = reg if reg is not None else (found.reg if found.reg is not None else 0.0)
    columns = data.columns
    if label not in columns:
        raise DataError(f"{data.path}, line {data.header_line} (the header): no label column "
                        f"{label}{suggest(label, columns) or ''}; columns: {', '.join(columns)}"
                        " (--label names another)")
    if label in circuit.inputs:
        raise DataError(f"{data.path}: {label} is the label column; the circuit cannot also use "
                        "it as an input (--label names another column)")
    features = _features(circuit, data)
    _check_given(circuit, data, features, given)
    for name in found.features or ():
        # the circuit marks this input as a feature: missing from the file, it would
        # otherwise be learned silently as a parameter
        span = found.spans.get("--features")
        if name not in circuit.inputs:
            raise CircuitError(f"# train: --features {name}: the circuit has no input {name}"
                               f"{suggest(name, circuit.inputs) or ''}", circuit.text,
                               *(span or (None, None)), source=circuit.source)
        if name not in columns:
            raise DataError(
                f"{data.path}, line {data.header_line} (the header): no column {name}, but "
                f"the circuit's '# train: --features' line makes {name} a feature"
                f"{suggest(name, columns) or ''}; columns: {', '.join(columns)}")
    params = [name for name in circuit.inputs if name not in columns]
    if not params:
        raise CircuitError("the circuit has no parameters to learn: every input is a column of "
                           f"{data.path}")
    y = data.values[label]
    if loss in CLASSIFIERS:
        bad = np.flatnonzero((y != 1.0) & (y != -1.0))
        if bad.size:
            r = int(bad[0])
            raise DataError(f"{data.path}, row {r + 1} (line {data.lines[r]}), column {label}: "
                            f"{y[r]:g} is not a class label; --loss {loss} needs +1 or -1")
    chosen = list(reg_on) if reg_on is not None else (
        found.reg_on if found.reg_on is not None else list(params))
    for name in chosen:
        if name not in params:
            why = "a data column (a feature)" if name in features else "not a parameter"
            span = found.spans.get("--reg-on") if reg_on is None else None
            raise CircuitError(
                f"--reg-on: {name} is {why}"
                + (suggest(name, params) if name not in features else "")
                + f"; parameters: {listing(params)}",
                circuit.text if span else None, *(span or (None, None)),
                source=circuit.source)
    start: dict[str, float] = {}
    randomized = []
    for name in params:
        if name in given:
            start[name] = float(given[name])
        elif known and name in known:
            start[name] = float(known[name])
        elif name in circuit.defaults:
            start[name] = float(circuit.defaults[name])
        else:
            randomized.append(name)
    start.update(random_starts(randomized, seed))
    start = {name: start[name] for name in params}
    unused = [c for c in columns if c not in features and c != label]
    classify = loss in CLASSIFIERS or bool(np.all(np.abs(y) == 1.0))
    return Model(circuit, data, features, params, label, loss, reg,
                 [p for p in params if p in set(chosen)], start, randomized, unused, seed,
                 classify)


def _features(circuit: Circuit, data: Data) -> list[str]:
    """The circuit's inputs that are columns of the data; none is an error."""
    features = [name for name in circuit.inputs if name in data.columns]
    if not features:
        raise DataError(
            f"{data.path}: none of the circuit's inputs is a column of the file; inputs: "
            f"{', '.join(circuit.inputs)}; columns: {', '.join(data.columns)}")
    return features


def _check_given(circuit: Circuit, data: Data, features: Sequence[str],
                 given: Mapping[str, float]) -> None:
    """NAME=VALUE names an input that is not a data column (a feature takes each row's)."""
    for name in given:
        if name in features:
            k = data.columns.index(name) + 1
            raise DataError(f"{data.path}, line {data.header_line} (the header), column {k}: "
                            f"{name} is a data column, so a feature of every row; it cannot "
                            f"also be given a value ({name}={given[name]:g})")
        if name not in circuit.inputs:
            circuit.values_for({name: given[name]})  # raises the circuit's own message


def random_starts(names: Sequence[str], seed: int) -> dict[str, float]:
    """Starting values for parameters nobody gave a value: uniform in [-0.5, 0.5] (the
    guide's Math.random() - 0.5), drawn in the order given from `seed`. `circuit train` and
    the live page (`circuit graph -o page.html`) draw the same ones."""
    rng = random.Random(seed)
    return {name: rng.uniform(-0.5, 0.5) for name in names}


def listing(names: Sequence[str], most: int = 8) -> str:
    """`a, b, c`, or the first `most` names and how many there are in all."""
    shown = ", ".join(names[:most])
    return shown + (f", ... ({len(names)} in all)" if len(names) > most else "")


def trained_point(circuit: Circuit, params: Mapping[str, float], data: Data
                  ) -> dict[str, float]:
    """Where a trained circuit is left: the learned parameters, the features at the first
    row (what `circuit grad` then shows)."""
    point = {name: float(data.values[name][0]) if name in data.values else
             circuit.defaults.get(name, 0.0) for name in circuit.inputs}
    point.update(params)
    return point


# ---- losses ---------------------------------------------------------------------------------


def loss_and_slope(loss: str, s, y):
    """Per-row loss and its derivative with respect to the score (numpy arrays).

    hinge: max(0, 1 - y*s), slope -y where y*s < 1 (the notebook's pull, negated);
    logistic: log(1 + exp(-y*s)), slope -y * sigmoid(-y*s); square: (s - y)**2 / 2, slope s - y.
    """
    if loss == "hinge":
        margin = y * s
        return np.maximum(0.0, 1.0 - margin), np.where(margin < 1.0, -y, 0.0)
    if loss == "logistic":
        z = -y * s
        return np.logaddexp(0.0, z), -y * _sigmoid(z)
    if loss == "square":
        d = s - y
        return 0.5 * d * d, d
    raise ValueError(f"unknown loss {loss}")


def _sigmoid(z):
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


# ---- using learned parameters ----------------------------------------------------------------


def scores(circuit: Circuit, params: Mapping[str, float], columns: Mapping[str, Any], m: int,
           data: Data | None = None):
    """The circuit's output for m rows of feature columns at these parameters (a numpy array)."""
    with np.errstate(all="ignore"):
        vals = forward(circuit, {**params, **columns}, backend=numpy_backend())
    s = np.broadcast_to(np.asarray(vals[circuit.output], dtype=float), (m,))
    if data is not None and not np.all(np.isfinite(s)):
        r = int(np.flatnonzero(~np.isfinite(s))[0])
        point = {**params, **{name: float(col[r]) for name, col in columns.items()}}
        where = f"{data.path}, row {r + 1} (line {data.lines[r]})"
        try:
            forward(circuit, point)
        except CircuitError as err:
            err.message = f"{where}: {err.message}"
            err.args = (err.message,)
            raise
        raise DataError(f"{where}: the score is {s[r]}")
    return s


def decision_grid(model: Model, params: Mapping[str, float], width: int, height: int,
                  margin: float = 0.08):
    """Scores on a width x height grid over the two features' range (row 0 is the top).

    Returns (grid, (xmin, xmax), (ymin, ymax)); cell centres are evaluated in one batch.
    """
    fx, fy = model.features[:2]
    xs, ys = model.data.values[fx], model.data.values[fy]
    (x0, x1), (y0, y1) = _span(xs, margin), _span(ys, margin)
    cx = x0 + (np.arange(width) + 0.5) * (x1 - x0) / width
    cy = y1 - (np.arange(height) + 0.5) * (y1 - y0) / height
    gx, gy = np.meshgrid(cx, cy)
    s = scores(model.circuit, params, {fx: gx.ravel(), fy: gy.ravel()}, width * height)
    return s.reshape(height, width), (x0, x1), (y0, y1)


def _span(v, margin: float) -> tuple[float, float]:
    lo, hi = float(v.min()), float(v.max())
    pad = (hi - lo) * margin or 1.0
    return lo - pad, hi + pad



# ---- scoring rows ------------------------------------------------------------------------------


@dataclass
class Prediction:
    """`circuit predict`'s answer: a score per row, the class predicted (+1/-1) when the
    model classifies, and against the label column when it holds classes, how many agree."""

    data: Data
    scores: Any  # numpy array, one per row
    predicted: Any  # numpy array of +1/-1, one per row
    classify: bool
    label: str
    correct: int | None  # rows whose predicted class is their label (None: no such labels)

    @property
    def accuracy(self) -> float | None:
        return None if self.correct is None else self.correct / self.data.rows


def predict(circuit: Circuit, data: Data, given: Mapping[str, float], *,
            params: Mapping[str, Any] | None = None, params_name: str = "",
            known: Mapping[str, float] | None = None, label: str | None = None,
            title: str = "the circuit") -> Prediction:
    """Score every row of `data`: features from its columns, parameters from `params` (a
    parameter file's document, named `params_name`), else the circuit's values (`known`,
    then its defaults), with NAME=VALUE (`given`) over either. The inputs are split with
    prepare's checks; `title` names the circuit in messages."""
    features = _features(circuit, data)
    if params is not None:
        stored = params["params"]
    else:  # no file: the circuit's values, which after `circuit train` are the learned ones
        params_name = "the circuit's values"
        values = {**circuit.defaults, **(known or {})}
        stored = {name: v for name, v in values.items() if name not in data.columns}
    for name in stored:
        if name not in circuit.inputs:
            raise DataError(f"{params_name}: {name} is not an input of "
                            f"{title}; was it trained on another circuit?")
        if name in features:
            raise DataError(f"{params_name}: {name} is a parameter there but a column of "
                            f"{data.path} here")
    _check_given(circuit, data, features, given)
    values = {name: float(v) for name, v in stored.items()}
    values.update(given)
    missing = [name for name in circuit.inputs if name not in values and name not in features]
    if missing:
        listed = ", ".join(missing[:8]) + (f" and {len(missing) - 8} more" if len(missing) > 8
                                           else "")
        if params is not None:
            raise DataError(f"{params_name}: no value for {listed}; it is not a column of "
                            f"{data.path} either")
        raise DataError(f"no value for {listed}: not a column of {data.path}; give --params "
                        "PARAMS.json (circuit train -o writes one) or NAME=VALUE")
    s = scores(circuit, values, {name: data.values[name] for name in features}, data.rows,
               data)
    doc = params or {}
    classify = doc.get("classify", True) is not False
    label = label or doc.get("label") or "label"
    predicted = np.where(s > 0, 1, -1)
    truth = _classes(data, label) if classify and label in data.columns else None
    correct = int(np.sum(predicted == truth)) if truth is not None else None
    return Prediction(data, s, predicted, classify, label, correct)


def _classes(data: Data, label: str):
    """The label column as +1/-1 numbers, or None if it holds anything else."""
    k = data.columns.index(label)
    try:
        values = np.array([float(cells[k]) for cells in data.cells])
    except ValueError:
        return None
    bad = np.flatnonzero(~np.isfinite(values))
    if bad.size:  # float() reads "nan" and "inf": a label the accuracy cannot count
        row = int(bad[0])
        raise DataError(f"{data.path}, row {row + 1} (line {data.lines[row]}), column {label}: "
                        f"{data.cells[row][k].strip()!r} is not a label (+1 or -1); "
                        "fix or drop the row, or give --label another column")
    return values if np.all(np.abs(values) == 1) else None


def start_values(circuit: Circuit, missing: Sequence[str], given: Mapping[str, float],
                 seed: int) -> tuple[dict[str, float], str]:
    """Values for a drawing whose inputs lack some (the live page, REPL :graph page.html),
    and the note that says where they came from. The parameters come first, in the order
    `circuit train` draws them, so the page starts where training would; the data features
    a '# train:' line names come after."""
    features = (directive(circuit).features or []) if "train:" in circuit.text else []
    order = [n for n in missing if n not in features] + [n for n in missing if n in features]
    drawn = random_starts(order, seed)
    values = circuit.values_for({**drawn, **given})
    more = f" and {len(missing) - 6} more" if len(missing) > 6 else ""
    note = (f"no value for {', '.join(list(missing)[:6])}{more}: started at random in "
            f"[-0.5, 0.5] from seed {seed}, as circuit train starts parameters (edit them in "
            "the page)")
    return values, note
