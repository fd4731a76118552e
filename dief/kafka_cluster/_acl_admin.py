"""Applying and reading ACLs over the Kafka protocol (CreateAcls v1, DescribeAcls v1).

aiokafka's admin client has no ACL calls; its protocol module has the requests, sent here
to any broker through the public :class:`aiokafka.AIOKafkaClient` (``send(node_id,
request)``), which the caller opens with the admin's options.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from aiokafka.errors import KafkaError, for_code
from aiokafka.protocol.admin import CreateAclsRequest, DescribeAclsRequest

from dief.exceptions import BrokerError

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from aiokafka import AIOKafkaClient

    from dief.kafka_cluster._acls import AclGrant, Operation

__all__ = ["create_acls", "describe_acls", "expected_acls"]

_RESOURCE: Final = {"topic": 2, "group": 3}
_RESOURCE_NAME: Final = {code: name for name, code in _RESOURCE.items()}
_PATTERN: Final = {"literal": 3, "prefixed": 4}
_PATTERN_NAME: Final = {code: name for name, code in _PATTERN.items()}
_OPERATION: Final[dict[Operation, int]] = {"Read": 3, "Write": 4, "Describe": 8}
_OPERATION_NAME: Final = {code: name for name, code in _OPERATION.items()}
_ANY, _ALLOW = 1, 3


async def _send(client: AIOKafkaClient, request: Any) -> Any:  # noqa: ANN401  aiokafka's admin requests and client are untyped
    """*request* to any broker through *client* (aiokafka's structs are untyped: the
    response is ``Any``)."""
    return await client.send(client.get_random_node(), request)


class _CreateManyAcls(CreateAclsRequest):  # type: ignore[misc]  # aiokafka ships no types
    """CreateAcls with many creations in one request (aiokafka's carries one): the broker
    commits them to the metadata log at once, not one round trip each."""

    def __init__(self, creations: list[tuple[int, str, int, str, str, int, int]]) -> None:
        self._creations = creations

    def build(self, request_struct_class: type[Any]) -> Any:  # noqa: ANN401  aiokafka's admin requests and client are untyped
        if request_struct_class.API_VERSION < 1:  # v0 has no pattern type (prefixes)
            raise BrokerError("the broker does not support prefixed ACLs (CreateAcls v1)")
        return request_struct_class(self._creations)


async def create_acls(client: AIOKafkaClient, grants: Iterable[AclGrant]) -> int:
    """ALLOW every operation of every grant (from any host), in one request through
    *client* (bootstrapped, with an admin's credentials); returns the number of ACL
    entries. Creating an ACL that exists is a no-op on the broker.

    :raises BrokerError: the broker refused one (its error named).
    """
    entries = [(grant, operation) for grant in grants for operation in grant.operations]
    if not entries:
        return 0
    creations = [
        (
            _RESOURCE[grant.resource],
            grant.name,
            _PATTERN[grant.pattern],
            grant.principal,
            "*",
            _OPERATION[operation],
            _ALLOW,
        )
        for grant, operation in entries
    ]
    try:
        response = await _send(client, _CreateManyAcls(creations))
    except KafkaError as exc:
        raise BrokerError(f"creating {len(entries)} ACLs failed: {type(exc).__name__}") from exc
    for (grant, operation), (code, message) in zip(
        entries, response.creation_responses, strict=True
    ):
        if code:
            raise BrokerError(
                f"the broker refused the ACL {operation} {grant.resource} {grant.name} for "
                f"{grant.principal}: {for_code(code).__name__} {message or ''}".rstrip()
            )
    return len(entries)


async def describe_acls(client: AIOKafkaClient) -> set[tuple[str, str, str, str, str]]:
    """Every ALLOW ACL on topics and groups as (principal, resource, pattern, name,
    operation) tuples, asked through *client* (bootstrapped, with an admin's credentials).

    :raises BrokerError: the broker refused the request.
    """
    found: set[tuple[str, str, str, str, str]] = set()
    for resource in _RESOURCE.values():
        request = DescribeAclsRequest(
            resource, None, _ANY, None, None, _ANY, _ALLOW
        )  # None: any (nullable strings)
        try:
            response = await _send(client, request)
        except KafkaError as exc:
            raise BrokerError(f"describing the ACLs failed: {type(exc).__name__}") from exc
        if response.error_code:
            raise BrokerError(
                f"describing the ACLs failed: {for_code(response.error_code).__name__}"
            )
        for kind, name, pattern, acls in response.resources:
            found.update(
                (
                    principal,
                    _RESOURCE_NAME[kind],
                    _PATTERN_NAME.get(pattern, str(pattern)),
                    name,
                    _OPERATION_NAME.get(operation, str(operation)),
                )
                for principal, _host, operation, _permission in acls
            )
    return found


def expected_acls(grants: Sequence[AclGrant]) -> set[tuple[str, str, str, str, str]]:
    """*grants* in :func:`describe_acls`' shape."""
    return {(g.principal, g.resource, g.pattern, g.name, op) for g in grants for op in g.operations}
