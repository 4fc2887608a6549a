"""`circuit predict`'s answer as text: the rows as CSV with a score (and class) column, the
JSON document, and the accuracy line for stderr."""

from __future__ import annotations

import csv
import io
from typing import Any

from ..core.safe_text import printable
from ..methods.model import Prediction
from .json import finite

__all__ = ["accuracy_line", "predict_csv", "predict_document"]


def predict_csv(p: Prediction) -> str:
    """The rows as read, then `score` (full precision) and `predicted` (+1/-1, for a model
    that classifies); a column of the data already so named gets a `_2`."""
    header = list(p.data.columns)
    score_col = _free("score", header)
    predicted_col = _free("predicted", [*header, score_col])
    text = io.StringIO(newline="")
    writer = csv.writer(text, lineterminator="\n")
    # the header and the cells as read, through the one sanitiser: a control in a CSV
    # file must not reach the terminal the rows are printed on (a quoted cell keeps its
    # newlines and tabs: the csv module quotes them again)
    writer.writerow([*(printable(c, keep="\n\t") for c in header), score_col,
                     *([predicted_col] if p.classify else [])])
    for cells, score, k in zip(p.data.cells, p.scores, p.predicted):
        writer.writerow([*(printable(c, keep="\n\t") for c in cells), repr(float(score)),
                         *([f"{int(k):+d}"] if p.classify else [])])
    return text.getvalue()


def predict_document(p: Prediction) -> dict[str, Any]:
    """The `circuit predict --json` document: inf and nan scores are null."""
    return {
        "rows": p.data.rows,
        "scores": [finite(v) for v in p.scores.tolist()],
        "predicted": p.predicted.tolist() if p.classify else None,
        "label": p.label if p.correct is not None else None,
        "accuracy": p.accuracy,
        "correct": p.correct,
    }


def accuracy_line(p: Prediction) -> str | None:
    """`accuracy 95.0% (19 of 20 rows, column label)`, when the rows have class labels."""
    if p.correct is None:
        return None
    return (f"accuracy {p.accuracy:.1%} ({p.correct} of {p.data.rows} rows, "
            f"column {printable(p.label)})")


def _free(name: str, taken: list[str]) -> str:
    """`score`, or `score_2` when the data already has a score column."""
    k = 1
    found = name
    while found in taken:
        k += 1
        found = f"{name}_{k}"
    return found
