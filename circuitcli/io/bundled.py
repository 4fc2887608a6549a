"""The notebook's samples that ship with circuitcli: where they are, what each is, and the
one lookup by name that `circuit samples NAME` uses."""

from __future__ import annotations

import difflib
import importlib.util
from dataclasses import dataclass
from pathlib import Path

from ..core.syntax import CircuitError

__all__ = ["Sample", "catalogue", "find_sample", "guide_topics", "sample_dir", "samples",
           "shipped"]


def sample_dir() -> Path:
    """The folder of shipped samples (circuitcli.samples once installed, else ./samples)."""
    spec = importlib.util.find_spec("circuitcli.samples")
    if spec is not None and spec.submodule_search_locations:
        return Path(next(iter(spec.submodule_search_locations)))
    return Path(__file__).resolve().parents[2] / "samples"


def shipped(name: str) -> Path | None:
    """The shipped sample file called `name`, or None: a name with a folder in it, or one
    the system refuses (300 characters: "File name too long"), is simply not a sample, and
    the error the user sees names what they typed, not where circuitcli is installed."""
    if not name or "/" in name or "\0" in name:
        return None
    path = sample_dir() / name
    try:
        return path if path.is_file() else None
    except (OSError, ValueError):
        return None


def guide_topics() -> dict[str, Path]:
    """The user guide shipped in the package: topic name -> its Markdown file
    (circuitcli/docs/NAME.md), for `circuit help TOPIC`."""
    folder = Path(__file__).resolve().parent.parent / "docs"
    return {path.stem: path for path in sorted(folder.glob("*.md"))}


def samples() -> dict[str, tuple[Path, str]]:
    """name -> (path, the first comment line, which says what the sample is)."""
    found = {}
    for path in sorted(sample_dir().glob("*.circuit")):
        first = path.read_text(encoding="utf-8").splitlines()[0] if path.stat().st_size else ""
        found[path.stem] = (path, first.lstrip("# ").strip())
    return found


@dataclass
class Sample:
    name: str
    kind: str  # "circuit", "csv", "backward" (a ninja exercise's answer) or "lesson" (.repl)
    description: str
    path: Path


def _first_comment(path: Path) -> str:
    """What a file is, from its first comment line: its first sentence, without the
    "(check with: ...)" that repeats the command, nor a clause the next line finishes."""
    with open(path, encoding="utf-8") as f:
        line = f.readline().lstrip("# ").strip()
    line = line.split(" (check with", 1)[0].split(". ", 1)[0].rstrip(":;,. ")
    return line.removesuffix(" as")


def catalogue() -> dict[str, Sample]:
    """file name -> Sample: circuits first, then the CSV files train and predict read, the
    backward passes `check --backward` grades, and the REPL's lessons."""
    found = {path.name: Sample(path.name, "circuit", about, path)
             for path, about in samples().values()}
    for path in sorted(sample_dir().glob("*.csv")):
        with open(path, encoding="utf-8") as f:
            header = f.readline().strip()
            rows = sum(1 for line in f if line.strip())
        found[path.name] = Sample(path.name, "csv", f"{rows} rows of {header} (for train)",
                                  path)
    for kind, pattern in (("backward", "*.backward"), ("lesson", "*.repl")):
        for path in sorted(sample_dir().glob(pattern)):
            found[path.name] = Sample(path.name, kind, _first_comment(path), path)
    return found


def find_sample(name: str) -> Sample:
    """The sample called `name`, with or without .circuit or .csv; else "did you mean"."""
    found = catalogue()
    sample = found.get(name) or found.get(f"{name}.circuit") or found.get(f"{name}.csv")
    if sample is None:
        close = difflib.get_close_matches(name, list(found), n=1, cutoff=0.5)
        hint = f"; did you mean {close[0]}?" if close else ""
        raise CircuitError(f"no sample named {name!r}{hint} (circuit samples lists them)")
    return sample
