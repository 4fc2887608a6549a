"""`circuit predict`: score CSV rows with parameters that `circuit train -o` wrote."""

from __future__ import annotations

import click

from .common import CircuitCommand, circuit_arguments, json_option, output_file_option, write_output


@click.command("predict", cls=CircuitCommand)
@circuit_arguments
@click.option("--params", "params_path", metavar="PARAMS.json",
              help="Learned parameters: the file circuit train -o wrote (or its --json). "
                   "Default: the circuit's own values (the current circuit's after training).")
@click.option("--data", "data_path", required=True, metavar="FILE.csv",
              help="Rows to score: a header line and a column per feature.")
@click.option("--label", metavar="NAME",
              help="The label column, if the rows have one (default: the one trained on).")
@output_file_option("the predictions CSV")
@json_option
def command(args: tuple[str, ...], output: str | None, params_path: str | None, data_path: str,
            label: str | None, output_path: str | None, as_json: bool) -> None:
    """Score the rows of a CSV file with learned parameters.

    Without --params, the parameters are the circuit's values: with no circuit
    given, the current circuit's, which `circuit train` leaves at the learned ones.

    Prints the rows as CSV with two more columns: score (the circuit's output)
    and predicted (+1 where the score is > 0, else -1; left out for a model
    trained with the square loss on labels other than +1/-1). When the rows
    carry labels, the accuracy goes to standard error. NAME=VALUE overrides a
    parameter. -o FILE writes the CSV to FILE instead; --json prints the scores,
    the predictions and the accuracy as JSON. The current circuit is only read.

    \b
    Examples:
      circuit predict svm.circuit --data svm.csv
      circuit train svm.circuit --data svm.csv --iters 400 --lr 0.01 -o svm.json
      circuit predict svm.circuit --params svm.json --data svm.csv
      circuit predict --data svm.csv
      circuit predict svm.circuit --data svm.csv -o scored.csv
    """
    import csv
    import io
    import sys

    import numpy as np

    from ..io.data import DataError, load_params, read_csv, resolve_data_path
    from ..methods.model import scores
    from .learning import load_model

    target, given = load_model(args, output)
    circuit = target.circuit
    data = read_csv(resolve_data_path(data_path), data_path, numeric=list(circuit.inputs),
                    keep_cells=True)
    features = [name for name in circuit.inputs if name in data.columns]
    if not features:
        raise DataError(f"{data_path}: none of the circuit's inputs is a column of the file; "
                        f"inputs: {', '.join(circuit.inputs)}; columns: {', '.join(data.columns)}")
    if params_path is not None:
        doc = load_params(params_path)
        stored = doc["params"]
    else:
        # no file: the circuit's values, which after `circuit train` are the learned ones
        params_path = "the circuit's values"
        doc = {}
        values = {**target.circuit.defaults, **target.values}
        stored = {name: v for name, v in values.items() if name not in data.columns}
    for name in stored:
        if name not in circuit.inputs:
            raise DataError(f"{params_path}: {name} is not an input of "
                            f"{target.title}; was it trained on another circuit?")
        if name in features:
            raise DataError(f"{params_path}: {name} is a parameter there but a column of "
                            f"{data_path} here")
    values = {name: float(v) for name, v in stored.items()}
    for name, v in given.items():
        if name in features:
            raise DataError(f"{data_path}, line {data.header_line} (the header), column "
                            f"{data.columns.index(name) + 1}: {name} is a data column; it cannot "
                            f"also be given a value ({name}={v:g})")
        if name not in circuit.inputs:
            circuit.values_for({name: v})  # raises the circuit's own "no input named" message
        values[name] = v
    missing = [name for name in circuit.inputs if name not in values and name not in features]
    if missing:
        listed = ", ".join(missing[:8]) + (f" and {len(missing) - 8} more" if len(missing) > 8
                                           else "")
        if doc:
            raise DataError(f"{params_path}: no value for {listed}; it is not a column of "
                            f"{data_path} either")
        raise DataError(f"no value for {listed}: not a column of {data_path}; give --params "
                        "PARAMS.json (circuit train -o writes one) or NAME=VALUE")
    columns = {name: data.values[name] for name in features}
    s = scores(circuit, values, columns, data.rows, data)
    classify = doc.get("classify", True) is not False
    predicted = np.where(s > 0, 1, -1)
    label = label or doc.get("label") or "label"
    truth = _labels(data, label) if classify and label in data.columns else None
    right = int(np.sum(predicted == truth)) if truth is not None else None
    if as_json:
        from ..render.json import dumps, finite

        click.echo(dumps({
            "rows": data.rows,
            "scores": [finite(v) for v in s.tolist()],
            "predicted": predicted.tolist() if classify else None,
            "label": label if truth is not None else None,
            "accuracy": right / data.rows if right is not None else None,
            "correct": right,
        }))
    else:
        header = list(data.columns)
        score_col = _free("score", header)
        predicted_col = _free("predicted", [*header, score_col])
        text = io.StringIO(newline="")
        writer = csv.writer(text, lineterminator="\n")
        writer.writerow([*header, score_col, *([predicted_col] if classify else [])])
        for cells, score, p in zip(data.cells, s, predicted):
            writer.writerow([*cells, repr(float(score)),
                             *([f"{int(p):+d}"] if classify else [])])
        if output_path is not None:
            write_output(output_path, text.getvalue(),
                         (circuit.source, resolve_data_path(data_path), params_path or ""))
        else:
            sys.stdout.write(text.getvalue())
            sys.stdout.flush()  # the rows before the accuracy line, wherever both streams go
    if right is not None:
        click.echo(f"accuracy {right / data.rows:.1%} ({right} of {data.rows} rows, "
                   f"column {label})", err=True)


def _free(name: str, taken: list[str]) -> str:
    """`score`, or `score_2` when the data already has a score column."""
    k = 1
    found = name
    while found in taken:
        k += 1
        found = f"{name}_{k}"
    return found


def _labels(data, label: str):
    """The label column as +1/-1 numbers, or None if it holds anything else."""
    import numpy as np

    k = data.columns.index(label)
    try:
        values = np.array([float(cells[k]) for cells in data.cells])
    except ValueError:
        return None
    return values if np.all(np.abs(values) == 1) else None


