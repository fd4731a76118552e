"""The options the ``dief dlq`` commands share."""

from __future__ import annotations

from typing import Annotated

import typer

from dief.vocab import Region

__all__ = [
    "JsonOpt",
    "ReasonOpt",
    "RefOpt",
    "RegionOpt",
    "SinceOpt",
    "TimeoutOpt",
    "UntilOpt",
    "VerboseOpt",
]

RegionOpt = Annotated[
    list[Region] | None,
    typer.Option("--region", help="Region (repeatable; default: DIEF_REGIONS, else all five)"),
]
ReasonOpt = Annotated[
    list[str] | None,
    typer.Option("--reason", help="Reason code, see `dief dlq show` (repeatable)"),
]
SinceOpt = Annotated[
    str | None,
    typer.Option(
        "--since",
        help="Only dead letters from this hour on (ISO 8601, UTC unless a zone is given; "
        "record times are known to the hour only)",
    ),
]
UntilOpt = Annotated[
    str | None,
    typer.Option("--until", help="Only dead letters from before this hour (ISO 8601)"),
]
RefOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--ref", help="Only this record (v:… reference) or REGION:partition:offset (repeatable)"
    ),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="JSON Lines on standard output")]
TimeoutOpt = Annotated[
    float,
    typer.Option("--timeout", min=1.0, help="Seconds to read the dead-letter topics at most"),
]
VerboseOpt = Annotated[bool, typer.Option("--verbose", "-v", help="Log more")]
