"""`circuit train`: learn a circuit's parameters from the rows of a CSV file."""

from __future__ import annotations

import click

from ..io.data import params_text, read_csv, resolve_data_path
from ..methods.model import decision_grid, directive, listing, prepare, trained_point
from ..methods.train import Schedule, train
from ..render.json import dumps
from ..render.train import params_document, progress_bar, train_document, train_report
from .loading import load_model
from .options import (
    FINITE,
    CircuitCommand,
    at_least_zero,
    circuit_arguments,
    data_option,
    digits_option,
    json_option,
    label_option,
    lr_option,
    output_file_option,
    rows_options,
    seed_option,
)
from .output import check_output, make_console, write_output


def _names(ctx: click.Context, param: click.Parameter, value: tuple[str, ...]) -> list[str] | None:
    """--reg-on a,b --reg-on c -> [a, b, c]; not given -> None (the file's, else all)."""
    if not value:
        return None
    return [n.strip() for item in value for n in item.split(",") if n.strip()]


@click.command("train", cls=CircuitCommand)
@circuit_arguments
@data_option("Training rows: a header line, one column per feature, and the label.")
@label_option("The label column (default: label).")
@click.option("--loss", type=click.Choice(["hinge", "logistic", "square"]),
              help="hinge (default; the notebook's SVM), logistic or square.")
@click.option("--reg", type=FINITE, callback=at_least_zero, metavar="LAMBDA",
              help="L2 regularization: adds LAMBDA/2 * p**2 per regularized parameter "
                   "(default: the file's '# train:' line, else 0).")
@click.option("--reg-on", callback=_names, multiple=True, metavar="NAMES",
              help="The parameters --reg applies to, comma-separated (default: all).")
@click.option("--iters", type=click.IntRange(1), metavar="N",
              help="N steps of one random row each: the notebook's loop.")
@click.option("--epochs", type=click.IntRange(1), metavar="N",
              help="N passes over the data in batches (default 100).")
@click.option("--batch", type=click.IntRange(1), metavar="B",
              help="Rows per step with --epochs (default: all rows, up to 1024).")
@lr_option(None, "Learning rate: p -= RATE * dloss/dp (default 0.01).")
@click.option("--lr-end", type=FINITE, callback=at_least_zero, metavar="RATE",
              help="Decay the learning rate linearly to RATE over the run.")
@seed_option(0, "Seeds the random starting values and row order: same seed, same run.")
@output_file_option("the learned parameters (JSON, for circuit predict --params)")
@click.option("--save", "save_path", metavar="PARAMS.json", hidden=True,
              help="The same as -o/--output (kept for old scripts).")
@digits_option
@rows_options(default=20, help="Longer parameter tables keep the largest gradients.",
              every="Show every parameter, however many.")
@click.option("--no-plot", is_flag=True, help="Leave out the loss and decision-boundary plots.")
@json_option
def command(args: tuple[str, ...], output: str | None, data_path: str, label: str | None,
            loss: str | None, reg: float | None, reg_on: list[str] | None, iters: int | None,
            epochs: int | None, batch: int | None, lr: float | None, lr_end: float | None,
            seed: int, output_path: str | None, save_path: str | None, digits: int,
            max_rows: int, show_all: bool, no_plot: bool, as_json: bool) -> None:
    """Learn the parameters of a circuit from a CSV file.

    The circuit's output is a score. Its inputs that are columns of the CSV
    file are features; the label column is --label; every other input is a
    parameter, starting at its NAME=VALUE or the circuit's value, else at
    random in [-0.5, 0.5]. Each step runs the circuit forward and backward
    over a batch of rows and moves every parameter down the gradient of
    mean loss + LAMBDA/2 * sum of squares. Given no circuit, trains the
    current one, from its current values; the learned values become its values.

    \b
    Examples:
      circuit train svm.circuit --data svm.csv --iters 400 --lr 0.01
      circuit train nn.circuit --data svm.csv --epochs 300 --lr 0.1
      circuit train mlp.circuit --data moons.csv --epochs 100 --lr 1.0 --lr-end 0.1
      circuit train svm.circuit --data svm.csv --iters 400 --lr 0.01 -o params.json

    Ctrl-C stops training between steps: the parameters reached become the
    current values (and -o still writes them), and the exit code is 130.
    """
    if iters is not None and (epochs is not None or batch is not None):
        raise click.UsageError("--iters (one random row per step) and --epochs/--batch are two "
                               "different schedules: give one of them")
    if output_path is not None and save_path is not None and output_path != save_path:
        raise click.UsageError("-o/--output and --save name the same thing: give one of them")
    out_path = output_path if output_path is not None else save_path
    target, given = load_model(args, output, remember=True)
    circuit = target.circuit
    resolved = resolve_data_path(data_path)
    inputs = (circuit.source, resolved)
    if out_path is not None:
        check_output(out_path, inputs)
    data = read_csv(resolved, data_path)
    model = prepare(circuit, data, given, known=target.values, label=label, loss=loss, reg=reg,
                    reg_on=reg_on, seed=seed)
    click.echo(f"learning {len(model.params)} parameter{'s' if len(model.params) != 1 else ''} "
               f"(inputs that are not columns of {data_path}): {listing(model.params)}",
               err=True)
    if lr is None:
        lr = directive(circuit).lr or 0.01
    schedule = Schedule(lr=lr, lr_end=lr_end, iters=iters, epochs=epochs, batch=batch)
    console = make_console()
    progress_console = make_console(stderr=True)  # progress goes to stderr, like notes
    if not as_json and progress_console.is_terminal:
        with progress_bar(progress_console) as update:
            run = train(model, schedule, update)
    else:
        run = train(model, schedule)
    # what was reached is kept first, whatever happens to the report
    target.remember(trained_point(circuit, run.params, data))
    if out_path is not None:
        write_output(out_path, params_text(params_document(run)), inputs)
    if as_json:
        click.echo(dumps(train_document(run)))
    else:
        grid = None
        if not no_plot and len(model.features) == 2:
            width, height = _plot_size(console.width)
            grid = decision_grid(model, run.params, width, height)
        console.print(train_report(run, title=target.title, data_name=data_path,
                                   digits=digits, max_rows=None if show_all else max_rows,
                                   plots=not no_plot, grid=grid, width=console.width))
    if run.interrupted:
        kept = "the current values" if target.session is not None else "reported above"
        wrote = f" and written to {out_path}" if out_path is not None else ""
        click.echo(f"interrupted after {run.steps} of {schedule.steps(data.rows)} steps: the "
                   f"parameters reached are {kept}{wrote}", err=True)
        raise SystemExit(130)


def _plot_size(columns: int) -> tuple[int, int]:
    width = max(20, min(72, columns - 12))
    return width, max(8, width * 2 // 7)
