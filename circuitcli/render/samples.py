"""`circuit samples` as a table or JSON."""

from __future__ import annotations

from collections.abc import Iterable

from ..io.bundled import Sample
from .fit import Column, Fitted

__all__ = ["sample_entry", "samples_table"]


def sample_entry(sample: Sample) -> dict[str, str]:
    """One sample in `circuit samples --json`."""
    return {"name": sample.name, "kind": sample.kind, "description": sample.description,
            "path": str(sample.path)}


def samples_table(found: Iterable[Sample]):
    """One line per sample: its file name, its kind and what it is."""
    columns = [Column("file", "left", "cyan"), Column("kind", "left", "dim", drop=1),
               Column("what it is", "left", wrap=True, least=24)]
    return Fitted(columns, ([s.name, s.kind, s.description] for s in found))
