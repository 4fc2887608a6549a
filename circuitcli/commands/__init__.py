"""One module per `circuit` subcommand, each exposing `command`; see cli.COMMANDS."""
