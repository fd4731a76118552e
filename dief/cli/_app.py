"""The ``dief`` typer application: the root command, and each concept's commands
registered from its own module."""

from __future__ import annotations

import importlib.metadata
from typing import Annotated

import typer

from dief import __version__
from dief.cli import alerts as _alerts
from dief.cli import approve as _approve
from dief.cli import audit as _audit
from dief.cli import broker as _broker
from dief.cli import checklist as _checklist
from dief.cli import digest as _digest
from dief.cli import dlq as _dlq
from dief.cli import kafka as _kafka
from dief.cli import keys as _keys
from dief.cli import receipts as _receipts
from dief.cli import run as _run
from dief.cli import schema as _schema
from dief.cli import services as _services
from dief.cli import summary as _summary
from dief.cli import web as _web

__all__ = ["app", "main"]

app = typer.Typer(
    name="dief",
    help="DIEF Exchange: non-attributed diversion case exchange for the ATT DIEF.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,  # locals may hold passphrases or key material
)


def _version() -> str:
    """The installed distribution's version (the package's own when not installed)."""
    try:
        return importlib.metadata.version("dief-exchange")
    except importlib.metadata.PackageNotFoundError:
        return __version__


def _print_version(value: bool) -> None:
    """``--version``: print the version and exit."""
    if value:
        typer.echo(f"dief {_version()}")
        raise typer.Exit


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", help="Print the version and exit.", callback=_print_version, is_eager=True
        ),
    ] = False,
) -> None:
    """DIEF Exchange: non-attributed diversion case exchange for the ATT DIEF."""


for _module in (_run, _services, _receipts, _keys, _broker, _schema, _digest, _summary, _web):
    _module.register(app)
_dlq.register(app)
_audit.register(app)
_checklist.register(app)
_kafka.register(app)
_alerts.register(app)
_approve.register(app)


def main() -> None:
    """Console-script entry point."""
    app()
