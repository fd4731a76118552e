"""``dief checklist``: the risk-indicator checklist, filtered by transfer stage and type.

A licensing officer preparing an export assessment runs
``dief checklist --stage pre_transfer --transfer-type export``; the questions are grouped by
indicator group, each with its id, stages and public sources.
"""

from __future__ import annotations

from typing import Annotated

import typer

from dief.catalogue import ChecklistFormat, load_catalogue, render_checklist, shipped_versions
from dief.exceptions import ConfigurationError
from dief.vocab import TransferStage, TransferType

__all__ = ["register"]


def checklist(
    stage: Annotated[
        TransferStage | None,
        typer.Option(
            "--stage",
            case_sensitive=False,
            help="Only the questions for this transfer stage (default: every stage)",
        ),
    ] = None,
    transfer_type: Annotated[
        TransferType | None,
        typer.Option(
            "--transfer-type",
            case_sensitive=False,
            help="Only the questions that apply to this kind of transfer (default, and "
            "'unknown': every kind)",
        ),
    ] = None,
    version: Annotated[
        str | None,
        typer.Option("--version", help="Catalogue version (default: the latest shipped version)"),
    ] = None,
    fmt: Annotated[
        ChecklistFormat, typer.Option("--format", case_sensitive=False, help="Output format")
    ] = ChecklistFormat.TEXT,
) -> None:
    """Print the risk-indicator checklist (a 'yes' answer signals a diversion risk)."""
    if version is not None and version not in shipped_versions():
        raise typer.BadParameter(
            f"{version!r} is not a shipped catalogue version; choose from: "
            f"{', '.join(shipped_versions())}",
            param_hint="'--version'",
        )
    try:
        catalogue = load_catalogue(version)
    except ConfigurationError as exc:  # a broken shipped file: one line, no traceback
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from exc
    typer.echo(render_checklist(catalogue, fmt, stage=stage, transfer_type=transfer_type), nl=False)


def register(app: typer.Typer) -> None:
    """Add ``checklist`` to *app*."""
    app.command("checklist")(checklist)
