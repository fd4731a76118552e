"""The route table (DESIGN §5 ⚑ ``related_regions``): what a case's region tells a region on
its route, in aggregate.

A route table counts, for one CSP cycle, the cases of the sending region whose route passes
through the receiving region (their ``related_regions`` name it), by dimension, with
distinct contributors per cell, protected by the sending region (docs/digests.md, "Route
tables"). It travels sealed to the receiving region's aggregator (payload type
:data:`TYPE_ROUTE_TABLE`) and signed by the sending region (the signed payload is
:class:`dief.routes.RoutePayload`); the receiving region's digest shows it as given.

No case id, contributor, pseudonym or owner key is part of it: only counts.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator, model_validator

from dief.vocab import Dimension, Region
from dief.wire._outputs import Cell, Totals

__all__ = [
    "ROUTE_DIMENSIONS",
    "ROUTE_TABLE_SCHEMA",
    "TYPE_ROUTE_TABLE",
    "RouteTable",
    "digest_routes",
    "route_key",
]

#: Payload type of a sealed route table (DESIGN §2, §5).
TYPE_ROUTE_TABLE = "dief.route-table"
#: Payload schema version of :data:`TYPE_ROUTE_TABLE`.
ROUTE_TABLE_SCHEMA = 1

#: The dimensions a route table counts: what a region on the route can act on (what was
#: diverted, how, by which means of transport, at which stage and in which kind of
#: transfer, what happened on a sea leg, to whom). Confidence, detection source, actions
#: taken, risk indicators, actors, verifications and reassessments describe the sending
#: region's own work and stay in its digest.
ROUTE_DIMENSIONS: tuple[Dimension, ...] = (
    Dimension.KIND,
    Dimension.ITEM_CATEGORY,
    Dimension.TRANSFER_STAGE,
    Dimension.TRANSFER_TYPE,
    Dimension.METHOD,
    Dimension.TRANSPORT_MODE,
    Dimension.MARITIME,
    Dimension.END_USER_TYPE,
)

_CYCLE = re.compile(r"^CSP[1-9][0-9]{0,3}$")


def route_key(sender: Region, receiver: Region, period: str) -> bytes:
    """The record key on ``dief.routes``: ``<from>-><to>/<period>``."""
    return f"{sender.value}->{receiver.value}/{period}".encode("ascii")


class RouteTable(BaseModel):
    """One route table: the sending region's cases of one CSP cycle whose route passes
    through the receiving region, counted by :data:`ROUTE_DIMENSIONS`.

    ``withheld``: the sending region could not publish any count of this table without
    letting a reader bound one of its own suppressed cells (no totals, no cells).
    ``data_version`` (an added field: DESIGN §7 "more fields are welcome"): the token the
    sender's store renews whenever the cycle's cases change, as its digests and summary
    rows state it."""

    model_config = ConfigDict(extra="forbid", frozen=True, title="DIEF route table")

    from_region: Region = Field(description="The sending region (where the cases counted)")
    to_region: Region = Field(description="The receiving region (on the cases' route)")
    period: str = Field(
        pattern=_CYCLE.pattern, description="The CSP cycle counted (route tables are per cycle)"
    )
    k: int = Field(ge=1, description="Minimum distinct contributors for a published cell")
    issued_at: AwareDatetime = Field(description="When issued, to the hour (UTC)")
    withheld: bool = Field(default=False, description="Nothing of the table is published")
    #: absent when None (a table of a sender that keeps no data versions reads as before)
    data_version: str | None = Field(
        default=None,
        pattern=r"^[0-9a-f]{1,64}$",
        exclude_if=lambda value: value is None,
        description=(
            "The sending region's data version of the cycle (docs/audit.md, 'Issue "
            "linking'): two tables stating the same one count the same cases; a table "
            "stating none is never linked to another"
        ),
    )
    totals: Totals
    dimensions: Annotated[dict[Dimension, list[Cell]], Field(default_factory=dict)]
    notes: list[str] = Field(default_factory=list, max_length=20)

    @field_validator("issued_at")
    @classmethod
    def _coarse(cls, value: datetime) -> datetime:
        try:
            value = value.astimezone(UTC)
        except OverflowError:  # year 1 or 9999 with an offset: pydantic passes it on unwrapped
            raise ValueError("issued_at is out of range") from None
        if (value.minute, value.second, value.microsecond) != (0, 0, 0):
            raise ValueError("issued_at is coarsened to the hour")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> RouteTable:
        if self.from_region == self.to_region:
            raise ValueError("a route table goes to another region")
        unknown = [d.value for d in self.dimensions if d not in ROUTE_DIMENSIONS]
        if unknown:
            raise ValueError(f"not a route-table dimension: {', '.join(unknown)}")
        if self.withheld and (
            self.dimensions or self.totals.cases is not None or not self.totals.withheld
        ):
            raise ValueError("a withheld route table publishes no totals and no cells")
        for cells in self.dimensions.values():
            values = [c.value for c in cells]
            if len(set(values)) != len(values):
                raise ValueError("a route-table dimension lists a value twice")
        return self


def digest_routes(digest: BaseModel) -> list[RouteTable]:
    """The route tables a received digest shows (its ``routes`` field, DESIGN §7 "more
    fields are welcome"): the tables other regions sent about cases whose route passes
    through the digest's region; empty when it has none."""
    extra = digest.model_extra or {}
    raw = extra.get("routes") or []
    return [RouteTable.model_validate(item) for item in raw]
