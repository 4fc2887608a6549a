"""`circuit predict`: score CSV rows with parameters that `circuit train -o` wrote."""

from __future__ import annotations

import sys

import click

from ..io.data import load_params, read_csv, resolve_data_path
from ..methods.model import predict
from ..render.json import dumps
from ..render.predict import accuracy_line, predict_csv, predict_document
from .completion import json_files
from .loading import load_model
from .options import (
    CircuitCommand,
    circuit_arguments,
    data_option,
    json_option,
    label_option,
    output_file_option,
)
from .output import write_output


@click.command("predict", cls=CircuitCommand)
@circuit_arguments
@click.option("--params", "params_path", metavar="PARAMS.json", shell_complete=json_files,
              help="Learned parameters: the file circuit train -o wrote (or its --json). "
                   "Default: the circuit's own values (the current circuit's after training).")
@data_option("Rows to score: a header line and a column per feature.")
@label_option("The label column, if the rows have one (default: the one trained on).")
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
    target, given = load_model(args, output)
    circuit = target.circuit
    data_file = resolve_data_path(data_path)
    data = read_csv(data_file, data_path, numeric=list(circuit.inputs), keep_cells=True)
    params = load_params(params_path) if params_path is not None else None
    result = predict(circuit, data, given, params=params, params_name=params_path or "",
                     known=target.values, label=label, title=target.title)
    if as_json:
        click.echo(dumps(predict_document(result)))
    elif output_path is not None:
        write_output(output_path, predict_csv(result),
                     (circuit.source, data_file, params_path or ""))
    else:
        sys.stdout.write(predict_csv(result))
        sys.stdout.flush()  # the rows before the accuracy line, wherever both streams go
    line = accuracy_line(result)
    if line is not None:
        click.echo(line, err=True)
