"""`circuit reset`: forget the current circuit."""

from __future__ import annotations

import click

from .loading import current_session
from .options import CircuitCommand, session_options


@click.command("reset", cls=CircuitCommand)
@session_options
def command() -> None:
    """Forget the current circuit. A session file circuitcli cannot read is moved
    aside (to SESSION.broken-DATE), never deleted, and a fresh start is made. Only a
    regular file is ever moved: a device, FIFO, directory or dangling link is left alone.

    \b
    Examples:
      circuit reset
      circuit reset --session ./lesson.json
    """
    session = current_session()
    if session is None:
        click.echo("the session is off (--no-session or CIRCUIT_SESSION=off): nothing to forget")
        return
    click.echo(session.reset())
