"""Route tables (DESIGN §5 ⚑ ``related_regions``): a case goes to its own region only; its
region's aggregator tells each region on the route, in aggregate, how many of its cases
pass there.

- What the sender publishes and what a reader already knows of it
  (:mod:`dief.routes._sender`): :class:`SenderCells` (its caps), :func:`sender_view`,
  :func:`digest_floors`.
- Computing and protecting (:mod:`dief.routes._tables`): :class:`RouteCase`,
  :func:`route_cells`, :func:`protect_route` (k_meeting, jointly with the sending
  region's own digests and CSP summary row), :func:`bounds_hold`.
- The signed payload: :class:`RoutePayload`, :func:`build_route_table`,
  :func:`sign_route_table`, :func:`parse_route_payload` (context
  :data:`CONTEXT_ROUTE_TABLE`); the wire shape is :class:`dief.wire.RouteTable`.
- What the tables publish, for the sender's summary row requirement
  (:mod:`dief.routes._routed`): :func:`listed_cells`, :func:`routed_cells`,
  :func:`routed_row_cells`.
- Sending: :class:`RouteIssuer`, :func:`publish_route_tables` (with the digests, on
  ``dief.routes``, sealed to the receiving region's aggregator), each issue keeping the
  pattern of the earlier ones (:class:`RoutePattern`, recorded in the sender's store).
- Receiving: :class:`RouteInbox` (open, verify, keep the latest per sending region and
  cycle); the digest shows them (``dief.digests``).
"""

from __future__ import annotations

from dief.aggregator.store import ReceivedRoute, RouteCase, RoutePattern, RouteTables
from dief.routes._inbox import RouteInbox, RouteOutcome, RouteReceived
from dief.routes._payload import (
    CONTEXT_ROUTE_TABLE,
    RoutePayload,
    VerifyKeysFor,
    build_route_table,
    parse_route_payload,
    route_payload_bytes,
    sign_route_table,
)
from dief.routes._publish import PublishedRoute, RouteIssuer, publish_route_tables, sender_cells
from dief.routes._routed import listed_cells, routed_cells, routed_row_cells
from dief.routes._sender import SenderCells, digest_floors, sender_view
from dief.routes._tables import (
    RouteProtection,
    bounds_hold,
    protect_route,
    route_cells,
)

__all__ = [
    "CONTEXT_ROUTE_TABLE",
    "PublishedRoute",
    "ReceivedRoute",
    "RouteCase",
    "RouteInbox",
    "RouteIssuer",
    "RouteOutcome",
    "RoutePattern",
    "RoutePayload",
    "RouteProtection",
    "RouteReceived",
    "RouteTables",
    "SenderCells",
    "VerifyKeysFor",
    "bounds_hold",
    "build_route_table",
    "digest_floors",
    "listed_cells",
    "parse_route_payload",
    "protect_route",
    "publish_route_tables",
    "route_cells",
    "route_payload_bytes",
    "routed_cells",
    "routed_row_cells",
    "sender_cells",
    "sender_view",
    "sign_route_table",
]
