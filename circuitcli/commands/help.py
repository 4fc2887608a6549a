"""`circuit help`: the commands and the user guide's topics, shipped inside the package.

The guide is circuitcli/docs/*.md, so an installed user has it too: `circuit help TOPIC`
renders one with rich's Markdown on a terminal and prints it plain elsewhere.
"""

from __future__ import annotations

import difflib
from pathlib import Path

import click
from rich.markdown import Markdown

from ..core.syntax import CircuitError
from ..io.bundled import guide_topics
from .completion import topics_and_commands
from .output import make_console

topics = guide_topics  # the old name

def _first_heading(path: Path) -> str:
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("#"):
            return line.lstrip("# ").strip()
    return ""


@click.command("help")
@click.argument("name", required=False, metavar="[COMMAND|TOPIC]",
                shell_complete=topics_and_commands)
@click.option("--guide", is_flag=True,
              help="The user guide's page, for a name that is a command and a topic too.")
@click.pass_context
def command(ctx: click.Context, name: str | None, guide: bool) -> None:
    """Help on a command (as COMMAND --help gives it) or a topic of the user guide.

    Without a name: the commands and the topics. A name that is both (check,
    graph, train, ...) gives the command's help; --guide gives its page.

    \b
    Examples:
      circuit help
      circuit help grad
      circuit help session
      circuit help check --guide
    """
    group = ctx.find_root().command
    assert isinstance(group, click.Group)
    root = ctx.find_root()
    names = group.list_commands(root)
    found = topics()
    if name is None:
        click.echo(group.get_help(root))
        formatter = root.make_formatter()  # as wide as the terminal, like the commands'
        with formatter.section("\nTopics (circuit help TOPIC)"):
            formatter.write_dl([(topic, _first_heading(path)) for topic, path in found.items()])
        click.echo(formatter.getvalue(), nl=False)
        return
    if name in names and not (guide and name in found):
        cmd = group.get_command(root, name)
        assert cmd is not None
        with cmd.context_class(cmd, info_name=name, parent=root) as sub:
            click.echo(cmd.get_help(sub))
        if name in found:
            width = root.make_formatter().width
            click.echo("\n" + click.wrap_text(
                f"The user guide's page: circuit help {name} --guide", width))
        return
    if name in found:
        text = found[name].read_text(encoding="utf-8")
        console = make_console()
        if not console.is_terminal:
            click.echo(text, nl=not text.endswith("\n"))
            return
        console.print(Markdown(text))
        return
    close = difflib.get_close_matches(name, [*names, *found], n=1, cutoff=0.5)
    hint = f"; did you mean {close[0]}?" if close else ""
    raise CircuitError(f"no command or topic named {name!r}{hint} (circuit help lists them)")
