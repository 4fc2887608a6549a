"""`circuit samples` as a table or JSON."""

from __future__ import annotations

from collections.abc import Iterable

from ..io.bundled import Sample

__all__ = ["sample_entry", "samples_table"]


def sample_entry(sample: Sample) -> dict[str, str]:
    """One sample in `circuit samples --json`."""
    return {"name": sample.name, "kind": sample.kind, "description": sample.description,
            "path": str(sample.path)}


def samples_table(found: Iterable[Sample]):
    """One line per sample: its file name, its kind and what it is."""
    from rich.table import Table

    table = Table(show_edge=False, pad_edge=False, header_style="bold")
    table.add_column("file", style="cyan", no_wrap=True)
    table.add_column("kind", style="dim", no_wrap=True)
    table.add_column("what it is")
    for sample in found:
        table.add_row(sample.name, sample.kind, sample.description)
    return table
