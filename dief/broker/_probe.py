"""Asking a loopback port what answers there: a free port, a TCP accept, a Kafka cluster id.

The embedded broker is told apart from any other Kafka broker by its cluster id, which
starts with :data:`EMBEDDED_CLUSTER_PREFIX`.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from typing import Final

from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError

from dief.exceptions import BrokerError

__all__ = [
    "EMBEDDED_CLUSTER_PREFIX",
    "HOST",
    "accepts",
    "is_embedded_broker",
    "pick_free_port",
    "probe_cluster_id",
]

HOST: Final = "127.0.0.1"
#: Every embedded broker's cluster id starts with this (see :func:`is_embedded_broker`).
EMBEDDED_CLUSTER_PREFIX: Final = "dief-embedded-"


def pick_free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


async def accepts(port: int) -> bool:
    """True if something accepts TCP connections on ``127.0.0.1:port``."""
    try:
        async with asyncio.timeout(1.0):
            _, writer = await asyncio.open_connection(HOST, port)
    except (OSError, TimeoutError):
        return False
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()
    return True


async def is_embedded_broker(bootstrap: str, *, time_limit: float = 10.0) -> bool:
    """Whether the broker at *bootstrap* is one an :class:`EmbeddedBroker` started (in this
    process or another, e.g. ``dief broker``): its cluster id says so.

    Clients of such a broker must turn idempotent producers off (Tansu has none).
    ``BrokerError`` if nothing answers within *time_limit* seconds.
    """
    admin = AIOKafkaAdminClient(
        bootstrap_servers=bootstrap, client_id="dief-broker-probe", request_timeout_ms=5000
    )
    try:
        async with asyncio.timeout(time_limit):
            await admin.start()
            cluster = await admin.describe_cluster()
    except (KafkaError, OSError, TimeoutError) as exc:
        raise BrokerError(
            f"the broker at {bootstrap} does not answer ({type(exc).__name__})"
        ) from exc
    finally:
        with contextlib.suppress(KafkaError, OSError):
            await admin.close()
    return str(cluster.get("cluster_id") or "").startswith(EMBEDDED_CLUSTER_PREFIX)


async def probe_cluster_id(port: int, expected_cluster_id: str) -> str | None:
    """The cluster id of whatever answers Kafka metadata on *port*, or None if nothing does.

    With an advertised port, the metadata request after bootstrap goes there.
    """
    if not await accepts(port):
        return None
    admin = AIOKafkaAdminClient(
        bootstrap_servers=f"{HOST}:{port}",
        client_id="dief-broker-probe",
        request_timeout_ms=2000,
    )
    try:
        async with asyncio.timeout(3.0):
            await admin.start()
            cluster = await admin.describe_cluster()
    except (KafkaError, OSError, TimeoutError):
        return None
    finally:
        with contextlib.suppress(KafkaError, OSError):
            await admin.close()
    answered = cluster.get("cluster_id")
    return str(answered) if answered is not None else expected_cluster_id
