"""The AsyncAPI 3.0 document of the DIEF topics: servers, channels and operations.

The messages the channels carry are in :mod:`dief.wire._schemas_messages`.
"""

from __future__ import annotations

from typing import cast

from dief.vocab import Region
from dief.wire import CASE_SCHEMA_VERSION
from dief.wire._envelope import SUITE_HYBRID, SUITE_X25519
from dief.wire._schemas_messages import messages
from dief.wire._schemas_models import JsonObject, ref

__all__ = ["CASE_PARTITIONS", "PARTITIONER", "asyncapi_document"]

#: Partitions of each region's cases topic as DIEF creates it (every other topic has one).
CASE_PARTITIONS = 3
#: How a producer must choose a record's partition (DESIGN §2: every revision of a case on
#: one partition, in order): the Java client's default.
PARTITIONER = (
    "Producers choose the partition as the Java client's default partitioner does for a "
    "keyed record: murmur2 (the Kafka variant, seed 0x9747b28c) of the key's bytes, made "
    "positive (& 0x7fffffff), modulo the topic's partition count. kafkajs 2.x (its default "
    "partitioner) and aiokafka do the same; librdkafka's default (consistent_random, CRC32) "
    "does not: set partitioner=murmur2_random there. A client with another partitioner puts "
    "a case's revisions on different partitions, where their order is lost."
)


def _operation(action: str, title: str, channel: str, message: str) -> JsonObject:
    """An operation that sends or receives *message* of channel *channel* (by name)."""
    return {
        "action": action,
        "title": title,
        "channel": ref(f"#/channels/{channel}"),
        "messages": [ref(f"#/channels/{channel}/messages/{message}")],
    }


def _region_channel_names(region: Region) -> tuple[str, str]:
    """The names of *region*'s cases and dead-letter channels."""
    code = region.topic_code
    return f"{code}Cases", f"{code}Dlq"


def _region_channels(region: Region) -> JsonObject:
    """*region*'s cases topic and its aggregator's dead-letter topic."""
    code = region.topic_code
    cases, dlq = _region_channel_names(region)
    return {
        cases: {
            "address": f"dief.{code}.cases",
            "title": f"Cases for the {region.title}",
            "description": f"Sealed cases whose region is {region.value} (a case goes to its "
            "own region only; regions on its route learn of it through route tables). "
            "Readable only by that region's aggregator.",
            "messages": {"SealedCase": ref("#/components/messages/SealedCase")},
        },
        dlq: {
            "address": f"dief.{code}.dlq",
            "title": f"Dead letters of the {region.title} aggregator",
            "messages": {"DeadLetter": ref("#/components/messages/DeadLetter")},
        },
    }


def _region_operations(region: Region) -> JsonObject:
    """Posting, aggregating and dead-lettering *region*'s cases, and refusing its digests."""
    cases, dlq = _region_channel_names(region)
    name = region.value.title()
    return {
        f"publish{name}Case": _operation(
            "send", f"A national node posts a case to {region.value}", cases, "SealedCase"
        ),
        f"aggregate{name}Cases": _operation(
            "receive", f"The {region.value} aggregator applies cases", cases, "SealedCase"
        ),
        f"deadLetter{name}": _operation(
            "send",
            f"The {region.value} aggregator dead-letters a bad record",
            dlq,
            "DeadLetter",
        ),
        f"refuseDigest{name}": _operation(
            "send",
            f"The Secretariat dead-letters a refused digest claiming {region.value}",
            dlq,
            "DeadLetter",
        ),
    }


def _channels() -> JsonObject:
    """Every channel: each region's cases and dead letters, then digests and CSP reporting."""
    channels: JsonObject = {}
    for region in Region:
        channels.update(_region_channels(region))
    channels["digests"] = {
        "address": "dief.digests",
        "title": "Regional trend digests",
        "messages": {"SealedDigest": ref("#/components/messages/SealedDigest")},
    }
    channels["cspReporting"] = {
        "address": "csp.reporting",
        "title": "CSP reporting",
        "messages": {"CspSummary": ref("#/components/messages/CspSummary")},
    }
    channels["receipts"] = {
        "address": "dief.receipts",
        "title": "Receipts",
        "description": "Every aggregator's receipts. Every node reads all of it without a "
        "consumer group and opens only its own (the receipt ids it keeps).",
        "messages": {"SealedReceipt": ref("#/components/messages/SealedReceipt")},
    }
    channels.update(_exchange_channels())
    return _bind_topics(channels)


def _bind_topics(channels: JsonObject) -> JsonObject:
    """Each channel's Kafka binding: its partitions and topic configuration as DIEF creates
    the topic (:func:`dief.kafka.dief_topics`), so a client knows where a key's records go."""
    from dief.kafka import dief_topics  # noqa: PLC0415  dief.kafka (and aiokafka) loaded only when the AsyncAPI document is built

    specs = {spec.name: spec for spec in dief_topics(partitions=CASE_PARTITIONS)}
    for value in channels.values():
        channel = cast("JsonObject", value)
        spec = specs[str(channel["address"])]
        binding: JsonObject = {"partitions": spec.partitions, "bindingVersion": "0.5.0"}
        if spec.configs:
            binding["topicConfiguration"] = {
                name: [value] if name == "cleanup.policy" else value for name, value in spec.configs
            }
        channel["bindings"] = {"kafka": binding}
    return channels


def _exchange_channels() -> JsonObject:
    """The directory, route tables and the credential exchange."""
    return {
        "directory": {
            "address": "dief.directory",
            "title": "Forum directory",
            "description": "Compacted: the latest version under current and every version "
            "under its own key, so the history stays readable. Everyone reads it.",
            "messages": {"SignedDirectory": ref("#/components/messages/SignedDirectory")},
        },
        "routes": {
            "address": "dief.routes",
            "title": "Route tables between regions",
            "messages": {"SealedRouteTable": ref("#/components/messages/SealedRouteTable")},
        },
        "bulletins": {
            "address": "dief.bulletins",
            "title": "Bulletins and their group keys",
            "description": "Region aggregators write signed, sealed bulletin batches; the "
            "Secretariat writes each directory version's group key under "
            "group-key/v<version>. Every node reads all of it.",
            "messages": {
                "SealedBulletinBatch": ref("#/components/messages/SealedBulletinBatch"),
                "BulletinGroupKeyRelease": ref("#/components/messages/BulletinGroupKeyRelease"),
            },
        },
        "credentialRequests": {
            "address": "dief.credentials.requests",
            "title": "Contributor-credential requests",
            "description": "Every node writes; only the Secretariat's credential issuer "
            "reads (consumer group dief-issuer).",
            "messages": {
                "SealedCredentialRequest": ref("#/components/messages/SealedCredentialRequest")
            },
        },
        "credentialAnswers": {
            "address": "dief.credentials.answers",
            "title": "Contributor-credential answers",
            "description": "The issuer writes; every node reads all of it without a consumer "
            "group and opens only the answers keyed by its own requests' hashes.",
            "messages": {
                "SealedCredentialAnswer": ref("#/components/messages/SealedCredentialAnswer")
            },
        },
    }


def _operations() -> JsonObject:
    """Every operation: each region's, then publishing and reading digests and summaries."""
    operations: JsonObject = {}
    for region in Region:
        operations.update(_region_operations(region))
    operations["publishDigest"] = _operation(
        "send", "An aggregator publishes its digest", "digests", "SealedDigest"
    )
    operations["compileCycle"] = _operation(
        "receive", "The Secretariat reads the digests", "digests", "SealedDigest"
    )
    operations["publishCspSummary"] = _operation(
        "send", "The Secretariat publishes the CSP summary", "cspReporting", "CspSummary"
    )
    operations["publishReceipt"] = _operation(
        "send", "An aggregator says what it did with a record", "receipts", "SealedReceipt"
    )
    operations["readReceipts"] = _operation(
        "receive", "A national node reads its records' receipts", "receipts", "SealedReceipt"
    )
    operations.update(_exchange_operations())
    return operations


def _exchange_operations() -> JsonObject:
    """Publishing and following the directory, route tables and credentials."""
    return {
        "publishDirectory": _operation(
            "send", "The Secretariat publishes a directory version", "directory", "SignedDirectory"
        ),
        "followDirectory": _operation(
            "receive", "Every party follows the directory", "directory", "SignedDirectory"
        ),
        "publishRouteTable": _operation(
            "send", "An aggregator tells a region on the route", "routes", "SealedRouteTable"
        ),
        "readRouteTables": _operation(
            "receive", "An aggregator reads the tables sealed to it", "routes", "SealedRouteTable"
        ),
        "publishBulletins": _operation(
            "send",
            "An aggregator publishes a batch of bulletins",
            "bulletins",
            "SealedBulletinBatch",
        ),
        "readBulletins": _operation(
            "receive", "A national node reads the bulletins", "bulletins", "SealedBulletinBatch"
        ),
        "requestCredential": _operation(
            "send",
            "A national node asks for a contributor token",
            "credentialRequests",
            "SealedCredentialRequest",
        ),
        "issueCredentials": _operation(
            "receive",
            "The credential issuer reads the requests",
            "credentialRequests",
            "SealedCredentialRequest",
        ),
        "answerCredential": _operation(
            "send",
            "The credential issuer answers a request",
            "credentialAnswers",
            "SealedCredentialAnswer",
        ),
        "readCredentialAnswers": _operation(
            "receive",
            "A national node reads the answers to its requests",
            "credentialAnswers",
            "SealedCredentialAnswer",
        ),
    }


def _info() -> JsonObject:
    """Title, version (the case schema's) and description of the API."""
    return {
        "title": "DIEF Exchange",
        "version": f"{CASE_SCHEMA_VERSION}.0.0",
        "description": "Non-attributed exchange of diversion cases for the Arms Trade "
        "Treaty's Diversion Information Exchange Forum: national nodes post sealed "
        "cases per ATT regional group, regional aggregators publish sealed trend "
        "digests, the Secretariat publishes signed CSP summaries. "
        f"Envelope suites: {SUITE_HYBRID} (default), {SUITE_X25519}. {PARTITIONER} "
        "The contract document is docs/contracts.md.",
        "license": {"name": "Apache-2.0"},
    }


def _servers() -> JsonObject:
    """The embedded broker of the CLI and the production cluster."""
    return {
        "embedded": {
            "host": "127.0.0.1:9092",
            "protocol": "kafka",
            "description": "Embedded Tansu broker started by the CLI on a free local "
            "port (the port shown is an example).",
        },
        "production": {
            "host": "kafka-1:9093",
            "protocol": "kafka-secure",
            "description": "Apache Kafka (KRaft, three brokers), SASL/SCRAM over TLS, "
            "prefix ACLs per region (dief.<region>.).",
            "security": [ref("#/components/securitySchemes/scram")],
        },
    }


def asyncapi_document() -> JsonObject:
    """The AsyncAPI 3.0 description of every DIEF topic (DESIGN §2 ⚑)."""
    return {
        "asyncapi": "3.0.0",
        "info": _info(),
        "defaultContentType": "application/json",
        "servers": _servers(),
        "channels": _channels(),
        "operations": _operations(),
        "components": {
            "messages": messages(),
            "securitySchemes": {
                "scram": {
                    "type": "scramSha512",
                    "description": "SASL/SCRAM-SHA-512 over TLS",
                }
            },
        },
    }
