"""Topic names (DESIGN §2 ⚑) and idempotent topic creation on any Kafka-protocol broker.

The names are pure functions of the region; :func:`ensure_topics` is the only function here
that does I/O, and it works the same against the embedded Tansu broker and a real Kafka
cluster (pass ``replication_factor=3`` and the cluster's security options there).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError, TopicAlreadyExistsError, for_code

from dief.exceptions import BrokerError, ConfigurationError
from dief.vocab import Region

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

__all__ = [
    "BULLETINS_TOPIC",
    "CREDENTIAL_ANSWERS_TOPIC",
    "CREDENTIAL_REQUESTS_TOPIC",
    "CSP_TOPIC",
    "DEFAULT_CASE_PARTITIONS",
    "DIGESTS_TOPIC",
    "DIRECTORY_TOPIC",
    "RECEIPTS_TOPIC",
    "ROUTES_TOPIC",
    "EnsuredTopics",
    "TopicSpec",
    "cases_topic",
    "dief_topics",
    "directory_topic",
    "dlq_topic",
    "ensure_topics",
]

#: Sealed digests from every regional aggregator to the Secretariat (key = region code).
DIGESTS_TOPIC = "dief.digests"
#: Signed, public-safe CSP summaries (key = cycle, e.g. ``CSP12``).
CSP_TOPIC = "csp.reporting"
#: Sealed receipts from every regional aggregator to the posting nodes (key = receipt id,
#: hex SHA-256 of the record's envelope id; DESIGN §8). Every node reads all of it.
RECEIPTS_TOPIC = "dief.receipts"
#: Sealed route tables between regional aggregators (DESIGN §5; key
#: ``<from>-><to>/<period>``): each sealed to the receiving region's aggregator only, so
#: every aggregator reads the whole topic and skips what is not sealed to it.
ROUTES_TOPIC = "dief.routes"
#: The signed forum directory (DESIGN §2, §4 ⚑): compacted, keys ``current`` and
#: ``v<version>``, so the current version and the whole history stay readable.
DIRECTORY_TOPIC = "dief.directory"
#: Sealed contributor-credential requests (DESIGN §5 ⚑): every node writes, only the
#: Secretariat's issuer reads (consumer group ``dief-issuer``); key = the request hash.
CREDENTIAL_REQUESTS_TOPIC = "dief.credentials.requests"
#: Sealed contributor-credential answers, keyed by the hash of the request they answer
#: (``dief.credentials.request_hash``): the issuer writes, every node reads all of it
#: without a consumer group and opens only the answers to its own requests.
CREDENTIAL_ANSWERS_TOPIC = "dief.credentials.answers"
#: Sealed, signed bulletin batches from every region's aggregator to every node, and each
#: directory version's bulletin group key (DESIGN §13 ⚑; key: a random id, or
#: ``group-key/v<version>``). Nodes read all of it; region aggregators write.
BULLETINS_TOPIC = "dief.bulletins"
#: Partitions of each ``dief.<region>.cases`` topic unless configured otherwise.
DEFAULT_CASE_PARTITIONS = 3

_ALREADY_EXISTS = TopicAlreadyExistsError.errno


def _region(region: Region | str) -> Region:
    if isinstance(region, Region):
        return region
    try:
        return Region(str(region).upper())
    except ValueError as exc:
        known = " ".join(r.value for r in Region)
        raise ConfigurationError(f"unknown region {region!r}: expected one of {known}") from exc


def cases_topic(region: Region | str) -> str:
    """``dief.<region>.cases``: sealed cases for that region's aggregator (key = case_id)."""
    return f"dief.{_region(region).topic_code}.cases"


def dlq_topic(region: Region | str) -> str:
    """``dief.<region>.dlq``: records that region's aggregator could not apply."""
    return f"dief.{_region(region).topic_code}.dlq"


@dataclass(frozen=True, slots=True)
class TopicSpec:
    """One topic to create: name, partition count, replication factor and configs."""

    name: str
    partitions: int = 1
    replication_factor: int = 1
    configs: tuple[tuple[str, str], ...] = field(default=())

    def __post_init__(self) -> None:
        if not self.name:
            raise ConfigurationError("a topic name must not be empty")
        if self.partitions < 1:
            raise ConfigurationError(
                f"topic {self.name}: partitions must be at least 1, not {self.partitions}"
            )
        if self.replication_factor < 1:
            raise ConfigurationError(
                f"topic {self.name}: replication factor must be at least 1, "
                f"not {self.replication_factor}"
            )


@dataclass(frozen=True, slots=True)
class EnsuredTopics:
    """What :func:`ensure_topics` did: topics it created and topics that already existed."""

    created: tuple[str, ...]
    existing: tuple[str, ...]

    @property
    def names(self) -> tuple[str, ...]:
        return self.created + self.existing


def dief_topics(
    *,
    partitions: int = DEFAULT_CASE_PARTITIONS,
    replication_factor: int = 1,
    regions: Iterable[Region] | None = None,
) -> tuple[TopicSpec, ...]:
    """The ⚑ topic set: cases and DLQ per region, then digests, CSP reporting, receipts,
    route tables, the credential requests and answers, the bulletins and the compacted
    directory.

    *partitions* applies to the case topics (the only ones read in parallel); every other
    topic has one partition.
    """
    specs: list[TopicSpec] = []
    for region in tuple(Region) if regions is None else regions:
        specs.append(TopicSpec(cases_topic(region), partitions, replication_factor))  # noqa: FURB113  the topics in the order they are created
        specs.append(TopicSpec(dlq_topic(region), 1, replication_factor))
    specs.append(TopicSpec(DIGESTS_TOPIC, 1, replication_factor))  # noqa: FURB113  the topics in the order they are created
    specs.append(TopicSpec(CSP_TOPIC, 1, replication_factor))
    specs.append(TopicSpec(RECEIPTS_TOPIC, 1, replication_factor))
    specs.append(TopicSpec(ROUTES_TOPIC, 1, replication_factor))
    specs.append(TopicSpec(CREDENTIAL_REQUESTS_TOPIC, 1, replication_factor))
    specs.append(TopicSpec(CREDENTIAL_ANSWERS_TOPIC, 1, replication_factor))
    specs.append(TopicSpec(BULLETINS_TOPIC, 1, replication_factor))
    specs.append(directory_topic(replication_factor))
    return tuple(specs)


def directory_topic(replication_factor: int = 1) -> TopicSpec:
    """``dief.directory``: one partition, compacted (``cleanup.policy=compact``), so every
    version (key ``v<n>``) and the latest (key ``current``) are kept."""
    return TopicSpec(
        DIRECTORY_TOPIC, 1, replication_factor, configs=(("cleanup.policy", "compact"),)
    )


def _describe(exc: KafkaError) -> str:
    """The text of an aiokafka error, with its class name once (some errors start with it)."""
    name = type(exc).__name__
    text = str(exc)
    return text if text.startswith(name) else f"{name}: {text}" if text else name


async def ensure_topics(
    bootstrap: str,
    topics: Sequence[TopicSpec] | None = None,
    *,
    time_limit: float = 30.0,
    **client_options: object,
) -> EnsuredTopics:
    """Create *topics* (default: :func:`dief_topics`) on the broker at *bootstrap*.

    Idempotent: topics that already exist are left as they are (their partition count is
    not changed) and reported in :attr:`EnsuredTopics.existing`. Returns once every topic
    shows in the cluster metadata. *client_options* go to ``AIOKafkaAdminClient``
    (``security_protocol``, ``ssl_context``, ``sasl_mechanism``, ... for a real cluster).

    :raises BrokerError: the broker cannot be reached within *time_limit*, or refused a topic.
    """
    specs = tuple(dief_topics() if topics is None else topics)
    if not specs:
        return EnsuredTopics(created=(), existing=())
    admin = AIOKafkaAdminClient(
        bootstrap_servers=bootstrap,
        client_id="dief-topics",
        request_timeout_ms=max(1000, int(time_limit * 1000)),
        **client_options,
    )
    try:
        async with asyncio.timeout(time_limit):
            await admin.start()
            created, existing = await _create(admin, specs)
            await _wait_visible(admin, {spec.name for spec in specs})
    except TimeoutError as exc:
        raise BrokerError(
            f"creating topics on {bootstrap} did not finish within {time_limit:g} s"
        ) from exc
    except KafkaError as exc:
        raise BrokerError(f"cannot create topics on {bootstrap}: {_describe(exc)}") from exc
    finally:
        await admin.close()
    return EnsuredTopics(created=created, existing=existing)


async def _create(
    admin: AIOKafkaAdminClient, specs: tuple[TopicSpec, ...]
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    response = await admin.create_topics(
        [
            NewTopic(
                name=spec.name,
                num_partitions=spec.partitions,
                replication_factor=spec.replication_factor,
                topic_configs=dict(spec.configs),
            )
            for spec in specs
        ]
    )
    created: list[str] = []
    existing: list[str] = []
    refused: list[str] = []
    for entry in response.topic_errors:
        name, code = str(entry[0]), int(entry[1])
        if code == 0:
            created.append(name)
        elif code == _ALREADY_EXISTS:
            existing.append(name)
        else:
            detail = entry[2] if len(entry) > 2 and entry[2] else for_code(code).__name__  # noqa: PLR2004  CreateTopics' entry: (name, code, message); the message is its third field
            refused.append(f"{name} (error {code}: {detail})")
    if refused:
        raise BrokerError("the broker refused to create topics: " + "; ".join(refused))
    return tuple(created), tuple(existing)


async def _wait_visible(admin: AIOKafkaAdminClient, names: set[str]) -> None:
    """Poll the metadata until every topic in *names* is listed (bounded by the caller)."""
    delay = 0.02
    while True:
        listed = {str(name) for name in await admin.list_topics()}
        if names <= listed:
            return
        await asyncio.sleep(delay)
        delay = min(delay * 2, 0.5)
