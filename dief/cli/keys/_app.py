"""The ``keys`` sub-app with its commands, in the order the help lists them."""

from __future__ import annotations

import typer

from dief.cli.keys import _backup, _rotation, _setup
from dief.cli.keys._common import keys_app

__all__ = ["register"]

# The help lists the commands in this order: setting up, keeping up, backing up.
for _name, _function in (*_setup.COMMANDS, *_rotation.COMMANDS, *_backup.COMMANDS):
    keys_app.command(_name)(_function)


def register(app: typer.Typer) -> None:
    """Add the ``keys`` sub-app to *app*."""
    app.add_typer(keys_app, name="keys", help=keys_app.info.help)
