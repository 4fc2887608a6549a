"""`circuit samples`: the notebook's examples (circuits and CSV data) that ship with circuitcli."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path

import click

from ..core.syntax import CircuitError
from .common import CircuitCommand, json_option, make_console


@dataclass
class Sample:
    name: str
    kind: str  # "circuit" or "csv"
    description: str
    path: Path


def bundled() -> dict[str, Sample]:
    """file name -> Sample, circuits first, then the CSV files train and predict read."""
    from ..io.bundled import sample_dir, samples

    found = {path.name: Sample(path.name, "circuit", about, path)
             for path, about in samples().values()}
    for path in sorted(sample_dir().glob("*.csv")):
        with open(path, encoding="utf-8") as f:
            header = f.readline().strip()
            rows = sum(1 for line in f if line.strip())
        found[path.name] = Sample(path.name, "csv", f"{rows} rows of {header} (for train)",
                                  path)
    return found


@click.command("samples", cls=CircuitCommand)
@click.argument("name", required=False)
@click.option("--paths", is_flag=True, help="Print only the files' full paths, one a line.")
@json_option
def command(name: str | None, paths: bool, as_json: bool) -> None:
    """List the sample circuits and CSV files, one line each; with NAME, print that
    sample's text.

    Any sample runs by its file name from any directory.

    \b
    Examples:
      circuit samples
      circuit samples neuron.circuit
      circuit samples --json
      circuit grad neuron.circuit
      circuit grad chain.circuit z=-3
    """
    found = bundled()
    if name is not None:
        sample = found.get(name) or found.get(f"{name}.circuit") or found.get(f"{name}.csv")
        if sample is None:
            close = difflib.get_close_matches(name, list(found), n=1, cutoff=0.5)
            hint = f"; did you mean {close[0]}?" if close else ""
            raise CircuitError(f"no sample named {name!r}{hint} (circuit samples lists them)")
        if as_json:
            from ..render.json import dumps

            click.echo(dumps({**_entry(sample), "text": sample.path.read_text("utf-8")}))
        else:
            click.echo(sample.path.read_text(encoding="utf-8"), nl=False)
        return
    if as_json:
        from ..render.json import dumps

        click.echo(dumps([_entry(s) for s in found.values()]))
        return
    if paths:
        for sample in found.values():
            click.echo(str(sample.path))
        return
    from ..render.fit import Column, Fitted

    columns = [Column("file", "left", "cyan"), Column("kind", "left", "dim", drop=1),
               Column("what it is", "left", wrap=True, least=24)]
    make_console().print(Fitted(columns, ([s.name, s.kind, s.description]
                                          for s in found.values())))


def _entry(sample: Sample) -> dict[str, str]:
    return {"name": sample.name, "kind": sample.kind, "description": sample.description,
            "path": str(sample.path)}
