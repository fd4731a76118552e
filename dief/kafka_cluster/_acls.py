"""The ACL matrix (DESIGN §2, §11): who may do what on which topic and consumer group.

One source for production and the tests: ``deploy/kafka/setup.sh`` is generated from
:func:`acl_matrix` (:func:`dief.kafka_cluster.render_setup_script`; a test fails on
drift), and :class:`~dief.kafka_cluster.KafkaCluster` applies the same grants to every
cluster it starts (:func:`dief.kafka_cluster.create_acls`).

Grants are written per region with the placeholder :data:`REGION` (``{region}``) in
principals and names, which :func:`acl_matrix` expands for every region (the setup script
keeps them as one loop). Kafka has no wildcard patterns: literal names or prefixes only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

from dief.kafka import (
    BULLETINS_TOPIC,
    CREDENTIAL_ANSWERS_TOPIC,
    CREDENTIAL_REQUESTS_TOPIC,
    CSP_TOPIC,
    DIGESTS_TOPIC,
    DIRECTORY_TOPIC,
    RECEIPTS_TOPIC,
    ROUTES_TOPIC,
)
from dief.vocab import Region

__all__ = [
    "NODE_PRINCIPAL",
    "REGION",
    "SECRETARIAT_PRINCIPAL",
    "AclGrant",
    "Operation",
    "acl_matrix",
    "aggregator_principal",
    "principals",
    "region_template",
    "shared_template",
]

Operation = Literal["Read", "Write", "Describe"]
ResourceType = Literal["topic", "group"]
PatternType = Literal["literal", "prefixed"]

#: Placeholder for the region's lower-case code in :func:`region_template`.
REGION: Final = "{region}"
#: Every national node authenticates as this one principal (DESIGN §11: the party that
#: authenticates nodes may tie a connection to a State; the ACLs do not name States).
NODE_PRINCIPAL: Final = "User:node"
SECRETARIAT_PRINCIPAL: Final = "User:secretariat"
_AGGREGATOR = f"User:aggregator-{REGION}"


def aggregator_principal(region: Region) -> str:
    """``User:aggregator-<region>``: one principal per regional aggregator."""
    return _AGGREGATOR.replace(REGION, region.topic_code)


@dataclass(frozen=True, slots=True)
class AclGrant:
    """ALLOW *operations* on one resource (a topic or consumer group, by literal name or
    prefix) to *principal*, from any host."""

    principal: str
    resource: ResourceType
    name: str
    operations: tuple[Operation, ...]
    pattern: PatternType = "literal"

    def for_region(self, region: Region) -> AclGrant:
        """The grant with :data:`REGION` replaced by *region*'s lower-case code."""
        code = region.topic_code
        return AclGrant(
            self.principal.replace(REGION, code),
            self.resource,
            self.name.replace(REGION, code),
            self.operations,
            self.pattern,
        )


def _topic(
    principal: str, name: str, *ops: Operation, pattern: PatternType = "literal"
) -> AclGrant:
    return AclGrant(principal, "topic", name, ops, pattern)


def _group(principal: str, name: str) -> AclGrant:
    return AclGrant(principal, "group", name, ("Read",))


def region_template() -> tuple[AclGrant, ...]:
    """The grants repeated for every region (with :data:`REGION` in them)."""
    agg = _AGGREGATOR
    return (
        # The region's aggregator: its own prefix only, its own consumer groups.
        _topic(agg, f"dief.{REGION}.", "Read", "Describe", pattern="prefixed"),
        _topic(agg, f"dief.{REGION}.dlq", "Write"),
        _group(agg, f"dief-aggregator-{REGION}"),
        _group(agg, f"dief-routes-{REGION}"),
        _topic(agg, DIGESTS_TOPIC, "Write"),
        _topic(agg, RECEIPTS_TOPIC, "Write"),
        _topic(agg, ROUTES_TOPIC, "Write", "Read", "Describe"),
        _topic(agg, DIRECTORY_TOPIC, "Read", "Describe"),
        _topic(agg, CSP_TOPIC, "Read", "Describe"),
        # Bulletin batches out; the group key releases read back (DESIGN §13).
        _topic(agg, BULLETINS_TOPIC, "Write", "Read", "Describe"),
        # National nodes write cases and read nothing of them.
        _topic(NODE_PRINCIPAL, f"dief.{REGION}.cases", "Write", "Describe"),
        # The Secretariat dead-letters a refused digest to the region it claims.
        _topic(SECRETARIAT_PRINCIPAL, f"dief.{REGION}.dlq", "Write"),
    )


def shared_template() -> tuple[AclGrant, ...]:
    """The grants that name no region."""
    node, sec = NODE_PRINCIPAL, SECRETARIAT_PRINCIPAL
    return (
        # Every node reads every receipt, credential answer and bulletin (assigned
        # partitions, no group) and opens only its own; it reads the directory and asks for
        # credentials.
        _topic(node, RECEIPTS_TOPIC, "Read", "Describe"),
        _topic(node, DIRECTORY_TOPIC, "Read", "Describe"),
        _topic(node, CREDENTIAL_REQUESTS_TOPIC, "Write", "Describe"),
        _topic(node, CREDENTIAL_ANSWERS_TOPIC, "Read", "Describe"),
        _topic(node, BULLETINS_TOPIC, "Read", "Describe"),
        # The Secretariat: digests in, summaries out, the signed directory, the issuer.
        _topic(sec, DIGESTS_TOPIC, "Read", "Describe"),
        _group(sec, "dief-secretariat"),
        _topic(sec, CSP_TOPIC, "Write"),
        _topic(sec, DIRECTORY_TOPIC, "Write", "Read", "Describe"),
        _topic(sec, CREDENTIAL_REQUESTS_TOPIC, "Read", "Describe"),
        _group(sec, "dief-issuer"),
        _topic(sec, CREDENTIAL_ANSWERS_TOPIC, "Write"),
        # The directory signer's bulletin group key release per directory version.
        _topic(sec, BULLETINS_TOPIC, "Write"),
    )


def acl_matrix(regions: tuple[Region, ...] = tuple(Region)) -> tuple[AclGrant, ...]:
    """Every grant, the per-region ones expanded for *regions* (default: all five)."""
    expanded = [grant.for_region(region) for region in regions for grant in region_template()]
    return (*expanded, *shared_template())


def principals(regions: tuple[Region, ...] = tuple(Region)) -> tuple[str, ...]:
    """The principals the matrix names (SCRAM users to create), in a stable order."""
    seen: dict[str, None] = {}
    for grant in acl_matrix(regions):
        seen.setdefault(grant.principal, None)
    return tuple(seen)
