"""Every option's help text, read from click: no placeholder, no mention of an option the
command lacks (an option of another command is named after `circuit CMD`), and no JSON for a
command that has no --json."""

from __future__ import annotations

import re

import click
import pytest

from circuitcli.cli import COMMANDS, main

PLACEHOLDER = re.compile(r"\b(TODO|FIXME|XXX|TBD|lorem|placeholder)\b|\?\?|^\s*$|\.\.\.\s*$",
                         re.IGNORECASE)
OPTION = re.compile(r"(?<![\w-])(--[a-z][a-z-]*|-[a-zA-Z])(?![\w-])")
OTHER = re.compile(r"circuit ([a-z]+)\b")


def commands() -> dict[str, click.Command]:
    ctx = click.Context(main)
    return {name: main.get_command(ctx, name) for name in COMMANDS}


def option_names(command: click.Command) -> set[str]:
    names = {"-h", "--help"}
    for param in command.params:
        if isinstance(param, click.Option):
            names.update(param.opts)
            names.update(param.secondary_opts)
    return names


def problems(name: str, command: click.Command, text: str, where: str) -> list[str]:
    """What is wrong with one help text."""
    found = []
    if PLACEHOLDER.search(text):
        found.append(f"{name} {where}: placeholder or empty help: {text!r}")
    every = commands()
    for m in OPTION.finditer(text):
        before = text[: m.start()]
        others = [c for c in OTHER.findall(before) if c in every and c != name]
        own = option_names(command)
        if m.group(1) in own:
            continue
        if others and m.group(1) in option_names(every[others[-1]]):
            continue
        found.append(f"{name} {where}: mentions {m.group(1)}, which it does not have")
    if "--json" not in option_names(command):
        for m in re.finditer(r"\bJSON\b", text):
            if not OTHER.search(text[: m.start()]) and ".json" not in text.lower():
                found.append(f"{name} {where}: mentions JSON but has no --json")
    return found


@pytest.mark.parametrize("name", list(COMMANDS))
def test_every_option_help(name: str) -> None:
    command = commands()[name]
    found = []
    for param in command.params:
        if isinstance(param, click.Option) and not param.hidden:
            found += problems(name, command, param.help or "", "/".join(param.opts))
    assert not found, "\n".join(found)


@pytest.mark.parametrize("name", list(COMMANDS))
def test_every_command_help(name: str) -> None:
    command = commands()[name]
    assert not problems(name, command, command.help or "", "help")


def test_the_checker_catches_what_it_should() -> None:
    grad = commands()["grad"]
    graph = commands()["graph"]
    assert problems("grad", grad, "TODO", "x")
    assert problems("grad", grad, "", "x")
    assert problems("grad", grad, "Needs --frobnicate.", "x")
    assert not problems("grad", grad, "With --json, full precision.", "x")
    assert not problems("predict", commands()["predict"], "circuit train -o writes it", "x")
    assert problems("graph", graph, "Digits in the table (JSON keeps them all).", "x")


def test_of_help_says_what_of_does_on_look_only_commands() -> None:
    for name in ("show", "set", "predict"):
        of = next(p for p in commands()[name].params if "--of" in getattr(p, "opts", ()))
        assert "differentiate" not in of.help


def test_graph_output_help_reads_as_sentences() -> None:
    out = next(p for p in commands()["graph"].params if "-o" in getattr(p, "opts", ()))
    assert out.help.startswith("Write the picture to FILE (atomically), and say so on stderr.")


def test_readme_lists_every_command_with_json() -> None:
    from pathlib import Path

    readme = Path(__file__).resolve().parents[1].joinpath("README.md").read_text("utf-8")
    listed = re.search(r"`--json` puts JSON alone on stdout\s*\(([^)]*)\)", readme)
    assert listed, "README's list of the commands with --json"
    named = {n.strip() for n in listed.group(1).replace("\n", " ").split(",")}
    having = {name for name, c in commands().items() if "--json" in option_names(c)}
    assert having <= named, having - named
