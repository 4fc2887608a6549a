"""`circuit samples`: the notebook's examples that ship with circuitcli."""

from __future__ import annotations

import click

from .common import CircuitCommand, make_console


@click.command("samples", cls=CircuitCommand)
@click.option("--paths", is_flag=True, help="Print only the files' full paths, one a line.")
def command(paths: bool) -> None:
    """List the sample circuits, one line each.

    Any sample runs by its file name from any directory.

    \b
    Examples:
      circuit samples
      circuit samples --paths
      circuit grad neuron.circuit
      circuit grad chain.circuit z=-3
    """
    from rich.table import Table

    from ..io.bundled import samples

    found = samples()
    if paths:
        for path, _ in found.values():
            click.echo(str(path))
        return
    table = Table(show_edge=False, pad_edge=False, header_style="bold")
    table.add_column("file", style="cyan", no_wrap=True)
    table.add_column("what it is")
    for path, about in found.values():
        table.add_row(path.name, about)
    make_console().print(table)
