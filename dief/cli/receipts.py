"""``dief receipts``: what became of the cases this node posted (DESIGN §8 ⚑)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from dief.cli._console import (
    BootstrapOpt,
    EmbeddedOpt,
    err_console,
    kafka_options,
    load_or_fail,
    run_or_fail,
)
from dief.node import CaseReceipts, ReceiptState
from dief.settings import NodeSettings

__all__ = ["register"]

console = Console()


def receipts(
    outbox: Annotated[
        Path | None,
        typer.Option("--outbox", help="The node's outbox file (default: DIEF_OUTBOX)"),
    ] = None,
    bootstrap: BootstrapOpt = None,
    embedded: EmbeddedOpt = False,
    read: Annotated[
        bool,
        typer.Option(
            "--read/--no-read",
            help="Read the receipts new on the broker first (--no-read: only what the outbox "
            "already holds, e.g. while `dief node` reads them)",
        ),
    ] = True,
    timeout: Annotated[
        float, typer.Option("--timeout", help="Seconds to spend reading receipts")
    ] = 15.0,
    as_json: Annotated[bool, typer.Option("--json", help="JSON Lines on standard output")] = False,
) -> None:
    """List this node's cases: each one's latest revision and what its receipts say, per
    region told (applied, dead-lettered with its reason, stale, duplicate, or no receipt
    yet). Only this node's outbox is read: the receipts of other nodes' records cannot be
    opened, and are never looked at."""
    from producers.node import node_receipts  # noqa: PLC0415  loaded when the command runs (Kafka, SQL, rendering): the CLI starts without it

    settings = load_or_fail(
        NodeSettings,
        {"outbox": outbox, "kafka": kafka_options(bootstrap, embedded)},
        connects=read,
    )
    if not settings.outbox.is_file():
        raise typer.BadParameter(f"no outbox at {settings.outbox} (DIEF_OUTBOX, --outbox)")
    cases, problem = run_or_fail(node_receipts(settings, read=timeout if read else None))
    if problem is not None:
        err_console.print(
            f"[yellow]receipts not all read[/] ({escape(problem)}); listing what the outbox "
            "already holds"
        )
    if as_json:
        for case in cases:
            typer.echo(json.dumps(_case_json(case), separators=(",", ":")))
        return
    for case in cases:
        console.print(f"case {case.case_id} revision {case.revision}: {_summary(case)}")
    counts = _counts(cases)
    console.print(
        f"{len(cases)} cases: " + ", ".join(f"{n} {what}" for what, n in counts.items() if n)
        if cases
        else "no cases posted from this outbox"
    )


def _summary(case: CaseReceipts) -> str:
    """One line of what the receipts of *case*'s latest revision say."""
    if not case.records:
        return "no receipt expected (posted before receipts)"
    said = {r.describe() for r in case.records}
    if len(said) == 1 and len(case.records) == 1:
        return said.pop()
    return "; ".join(f"{_where(r)} {r.describe()}" for r in case.records)


def _where(state: ReceiptState) -> str:
    return state.region


def _counts(cases: list[CaseReceipts]) -> dict[str, int]:
    """Cases by the worst of their latest revision's receipts."""
    counts = {"dead-lettered": 0, "waiting for a receipt": 0, "applied": 0, "other": 0}
    for case in cases:
        outcomes = {r.outcome for r in case.records}
        if "dead_lettered" in outcomes:
            counts["dead-lettered"] += 1
        elif None in outcomes:
            counts["waiting for a receipt"] += 1
        elif outcomes == {"applied"}:
            counts["applied"] += 1
        else:
            counts["other"] += 1
    return counts


def _case_json(case: CaseReceipts) -> dict[str, object]:
    return {
        "case_id": case.case_id,
        "revision": case.revision,
        "records": [
            {"region": r.region, "outcome": r.outcome, "reason": r.reason} for r in case.records
        ],
    }


def register(app: typer.Typer) -> None:
    """Add ``receipts`` to *app*."""
    app.command("receipts")(receipts)
