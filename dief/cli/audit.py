"""``dief audit DIR [DIR…] [--region R] [--own-cases FILE] [--outbox FILE | --bulletins FILE]
[--json]``: the independent disclosure audit (docs/audit.md) of an output folder, as a reader
of one region sees it.

Several folders are several issues of the same documents, oldest first. Exit status 1 when
a suppressed cell can be computed exactly (or a TLP:RED case's profile isolated), else 0.

The bulletins a reader knows come from its node's store (``--outbox``: the bulletin store
in the node's outbox file, which the running node's follower writes and ``dief alerts``
lists), or from a JSON file of them (``--bulletins``: a ``BulletinBoard`` file, or a list of
its ``live`` rows).
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from dief.audit import (
    AuditReport,
    OwnCase,
    audit,
    bulletin_case,
    load_bulletins,
    load_own_cases,
    load_reader,
    report_json,
)
from dief.cli._console import err_console, fail
from dief.exceptions import ConfigurationError, DiefError
from dief.vocab import Region

__all__ = ["register"]

_SHOWN = 20


def _regions(folders: list[Path], region: Region | None) -> list[str]:
    if region is not None:
        return [str(region)]
    digests = folders[-1] / "digests"
    found = sorted(p.name for p in digests.iterdir() if p.is_dir()) if digests.is_dir() else []
    return [r for r in found if r in {str(x) for x in Region}] or [str(x) for x in Region]


def _node_bulletins(outbox: Path) -> tuple[OwnCase, ...]:
    """The bulletins in force in a node's store (its outbox file: what its follower kept
    and ``dief alerts`` lists), each a case every reader of its region knows."""
    if not outbox.is_file():
        raise ConfigurationError(f"no node outbox file at {outbox.name}")
    from dief.bulletins import BulletinStore  # noqa: PLC0415  loaded when the option is used: the CLI starts without it
    from dief.node import Outbox  # noqa: PLC0415  (as above)

    async def read() -> tuple[OwnCase, ...]:
        box = Outbox(outbox)
        await box.start()
        try:
            held = await BulletinStore(box).bulletins()
        finally:
            await box.stop()
        cases = (bulletin_case(b.entry.model_dump(mode="json"), b.region) for b in held)
        return tuple(c for c in cases if c is not None)

    return asyncio.run(read())


def _known(outbox: Path | None, bulletins: Path | None) -> tuple[OwnCase, ...]:
    if outbox is not None and bulletins is not None:
        raise ConfigurationError("give the node's outbox or a bulletins file, not both")
    if outbox is not None:
        return _node_bulletins(outbox)
    return load_bulletins(bulletins) if bulletins is not None else ()


def _print(report: AuditReport) -> None:
    console = err_console
    head = Table(title=f"Disclosure audit: a reader of {report.region}", show_lines=False)
    for column in (
        "suppressed cells",
        "determined",
        "narrowed",
        "red isolated",
        "unknowns",
        "equalities",
        "inequalities",
        "seconds",
    ):
        head.add_column(column, justify="right")
    head.add_row(
        str(len(report.suppressed)),
        str(len(report.determined)),
        str(len(report.narrowed)),
        str(len(report.red_isolated)),
        str(report.unknowns),
        str(report.equalities),
        str(report.inequalities),
        f"{report.seconds:.1f}",
    )
    console.print(head)
    leaks = [*report.determined, *report.red_isolated]
    if leaks:
        cells = Table(title="Cells a reader can compute exactly")
        for column in ("document", "table", "cell", "value"):
            cells.add_column(column)
        for c in leaks[:_SHOWN]:
            doc = c.documents[0] if c.documents else f"({c.role}: digest less summary)"
            cells.add_row(doc, c.table, c.cell, str(c.lower))
        console.print(cells)
        if len(leaks) > _SHOWN:
            console.print(f"… and {len(leaks) - _SHOWN} more (--json lists them all)")
    docs = [d for d in report.documents if d.determined or d.narrowed]
    if docs:
        per = Table(title="Documents with cells determined or narrowed")
        for column in ("document", "suppressed", "determined", "narrowed"):
            per.add_column(column)
        for d in docs[:_SHOWN]:
            per.add_row(d.document, str(d.suppressed), str(d.determined), str(d.narrowed))
        console.print(per)


def audit_command(
    folders: Annotated[
        list[Path], typer.Argument(help="Output folder(s) of dief run/demo, oldest issue first")
    ],
    region: Annotated[
        Region | None, typer.Option("--region", help="The reader's region (default: every region)")
    ] = None,
    own_cases: Annotated[
        Path | None, typer.Option("--own-cases", help="The reader's own cases (JSON Lines or JSON)")
    ] = None,
    outbox: Annotated[
        Path | None,
        typer.Option(
            "--outbox",
            help="The reader's node outbox file: the bulletins its store holds (dief alerts)",
        ),
    ] = None,
    bulletins: Annotated[
        Path | None,
        typer.Option(
            "--bulletins", help="A JSON file of bulletins instead (a board file, or its rows)"
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the full report as JSON")] = False,
    level: Annotated[
        int | None,
        typer.Option("--level", min=1, help="Protection level (default: each document's k)"),
    ] = None,
    integer: Annotated[
        bool,
        typer.Option("--integer", help="Check narrow intervals as integer programmes too (slower)"),
    ] = False,
    verdicts_only: Annotated[
        bool,
        typer.Option(
            "--verdicts-only",
            help=(
                "Leave the upper end of an interval wider than every protection level"
                " uncomputed: the same determined, narrowed and red-isolated cells, faster"
            ),
        ),
    ] = False,
) -> None:
    """Bound every suppressed cell a reader of one region can see, by linear programming."""
    try:
        own = load_own_cases(own_cases) if own_cases is not None else ()
        known = _known(outbox, bulletins)
        reports = [
            audit(
                load_reader(folders, r),
                own,
                level=level,
                integer=integer,
                bulletins=known,
                verdicts_only=verdicts_only,
            )
            for r in _regions(folders, region)
        ]
    except DiefError as exc:
        raise fail(exc) from exc
    if as_json:
        sys.stdout.write(json.dumps([report_json(r) for r in reports], indent=2) + "\n")
    else:
        for report in reports:
            _print(report)
    if any(r.leaks for r in reports):
        raise typer.Exit(code=1)


def register(app: typer.Typer) -> None:
    """Add ``audit`` to *app*."""
    app.command("audit")(audit_command)
