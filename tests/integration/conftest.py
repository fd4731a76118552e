"""Fixtures for integration tests: a real embedded Kafka-protocol broker (Tansu), databases.

- ``broker``: one broker for the whole session, with the DIEF topics (DESIGN §2). Shared by
  every test that asks for it, so write to the DIEF topics only with your own consumer
  group and keys, or use ``fresh_topic``; never assume a DIEF topic is empty.
- ``module_broker``: a broker of its own for one test module (empty DIEF topics). Starting
  one takes well under a second.
- ``fresh_topic``: a new, uniquely named one-partition topic on ``broker``.
- ``proxied_broker``: a broker of its own for one test, reachable only through a
  :class:`dief.testing.TcpProxy` (``.bootstrap`` is the proxy; ``.proxy.cut()`` makes the
  broker unreachable to every client), with no topics.
- (autouse) in a test marked ``postgres``, ``_pipeline_helpers.database_url("postgresql",
  …)`` makes its databases on the session's PostgreSQL server (tests/conftest.py).

Producers against Tansu need ``enable_idempotence=False`` (see docs/broker.md). The broker
is not tied to the event loop it was started in, so function-scoped async tests can use it.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

import pytest
import pytest_asyncio

from dief.broker import EmbeddedBroker
from dief.kafka import TopicSpec, ensure_topics
from dief.testing import ProxiedBroker, broker_behind_proxy
from tests.integration._pipeline_helpers import postgres_for_database_url

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterator


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def broker() -> AsyncIterator[EmbeddedBroker]:
    """The session's embedded broker with the DIEF topics; ``broker.bootstrap`` to connect."""
    async with EmbeddedBroker() as running:
        yield running


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def module_broker() -> AsyncIterator[EmbeddedBroker]:
    """An embedded broker for one test module only, with empty DIEF topics."""
    async with EmbeddedBroker() as running:
        yield running


@pytest_asyncio.fixture
async def fresh_topic(broker: EmbeddedBroker) -> str:
    """The name of a new one-partition topic on the session ``broker``."""
    name = f"test.{uuid.uuid4().hex[:12]}"
    await ensure_topics(broker.bootstrap, [TopicSpec(name)], time_limit=10.0)
    return name


@pytest_asyncio.fixture
async def proxied_broker() -> AsyncIterator[ProxiedBroker]:
    """A broker for one test behind a proxy the test can cut and restore; no topics."""
    async with broker_behind_proxy() as stack:
        yield stack


@pytest.fixture(autouse=True)
def _postgres_for_database_url(request: pytest.FixtureRequest) -> Iterator[None]:
    """In a test marked ``postgres`` (only there: others never start a server),
    ``database_url("postgresql", …)`` makes fresh databases on the session's server."""
    if request.node.get_closest_marker("postgres") is None:
        yield
        return
    with postgres_for_database_url(request.getfixturevalue("make_postgres_database")):
        yield
