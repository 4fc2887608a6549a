"""`circuit samples`: the notebook's examples (circuits and CSV data) that ship with circuitcli."""

from __future__ import annotations

import click

from ..core.lazy import lazy
from ..io.bundled import catalogue, find_sample
from ..render.samples import sample_entry, samples_table
from .completion import sample_names
from .options import CircuitCommand, json_option
from .output import make_console

json_out = lazy("circuitcli.render.json")  # only with --json


@click.command("samples", cls=CircuitCommand)
@click.argument("name", required=False, shell_complete=sample_names)
@click.option("--paths", is_flag=True, help="Print only the files' full paths, one a line.")
@json_option
def command(name: str | None, paths: bool, as_json: bool) -> None:
    """List the sample circuits, CSV files, backward passes and REPL lessons, one line
    each; with NAME, print that sample's text.

    Any sample runs by its file name from any directory.

    \b
    Examples:
      circuit samples
      circuit samples neuron.circuit
      circuit samples --json
      circuit grad neuron.circuit
      circuit grad chain.circuit z=-3
    """
    if name is not None:
        sample = find_sample(name)
        text = sample.path.read_text(encoding="utf-8")
        if as_json:
            click.echo(json_out.dumps({**sample_entry(sample), "text": text}))
        else:
            click.echo(text, nl=False)
        return
    found = catalogue()
    if as_json:
        click.echo(json_out.dumps([sample_entry(s) for s in found.values()]))
    elif paths:
        for sample in found.values():
            click.echo(str(sample.path))
    else:
        make_console().print(samples_table(found.values()))
