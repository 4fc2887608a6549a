"""Where the notebook's sample circuits are: inside the installed package, or in a checkout."""

from __future__ import annotations

from pathlib import Path

__all__ = ["sample_dir", "samples"]


def sample_dir() -> Path:
    """The folder of shipped samples (circuitcli.samples once installed, else ./samples)."""
    import importlib.util

    spec = importlib.util.find_spec("circuitcli.samples")
    if spec is not None and spec.submodule_search_locations:
        return Path(next(iter(spec.submodule_search_locations)))
    return Path(__file__).resolve().parents[2] / "samples"


def samples() -> dict[str, tuple[Path, str]]:
    """name -> (path, the first comment line, which says what the sample is)."""
    found = {}
    for path in sorted(sample_dir().glob("*.circuit")):
        first = path.read_text(encoding="utf-8").splitlines()[0] if path.stat().st_size else ""
        found[path.stem] = (path, first.lstrip("# ").strip())
    return found
