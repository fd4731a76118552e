"""``dief schema``: write the generated contracts (JSON Schema, AsyncAPI) to ``schemas/``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

__all__ = ["register"]

schema_app = typer.Typer(
    name="schema",
    help="Export the generated contracts (JSON Schema, AsyncAPI).",
    no_args_is_help=True,
)


@schema_app.command("export")
def export(
    out: Annotated[
        Path, typer.Option("--out", help="Directory to write the schema files into.")
    ] = Path("schemas"),
    check: Annotated[
        bool,
        typer.Option("--check", help="Write nothing; exit 1 if any file in --out is stale."),
    ] = False,
) -> None:
    """Write schemas/*.json (JSON Schema and AsyncAPI) generated from the code."""
    from dief.wire.schemas import check_schemas, export_schemas  # noqa: PLC0415  loaded when the command runs (Kafka, SQL, rendering): the CLI starts without it

    if check:
        stale = check_schemas(out)
        if stale:
            typer.echo(f"stale in {out}: {', '.join(stale)}; run `dief schema export`", err=True)
            raise typer.Exit(1)
        typer.echo(f"{out}: up to date")
        return
    for path in export_schemas(out):
        typer.echo(str(path))


def register(app: typer.Typer) -> None:
    """Add the ``schema`` sub-app to *app*."""
    app.add_typer(schema_app)
