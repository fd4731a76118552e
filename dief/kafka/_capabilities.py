"""What a Kafka-protocol broker supports, found by asking it (DESIGN §9): ApiVersions, then
an InitProducerId probe, never the broker's name or cluster id.

Apache Kafka answers InitProducerId with a producer id: idempotent producers (``acks=all``)
work. The embedded Tansu lists the API but answers it with an error: clients turn
idempotence off there. A broker that cannot be reached is reported with what was tried
(each bootstrap address, the security protocol, the SASL mechanism and user, the CA file)
and the likely fix.
"""

from __future__ import annotations

import asyncio
import ssl
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from aiokafka.conn import create_conn
from aiokafka.errors import (
    ClusterAuthorizationFailedError,
    KafkaError,
    TransactionalIdAuthorizationFailed,
    for_code,
)
from aiokafka.protocol.admin import ApiVersionRequest
from aiokafka.protocol.transaction import InitProducerIdRequest

from dief.exceptions import BrokerError

if TYPE_CHECKING:
    from collections.abc import Sequence

    from dief.settings import KafkaSettings

__all__ = ["BrokerCapabilities", "explain_connection_failure", "probe_capabilities"]

_INIT_PRODUCER_ID: Final = 22
_TRANSACTION_APIS: Final = frozenset(
    {24, 25, 26, 28}
)  # AddPartitions/Offsets, EndTxn, TxnOffsetCommit
_REFUSED: Final = (
    ClusterAuthorizationFailedError.errno,
    TransactionalIdAuthorizationFailed.errno,
)


@dataclass(frozen=True, slots=True)
class BrokerCapabilities:
    """What the broker at *address* answered: whether idempotent producers (and so
    ``enable_idempotence``) and transactions work, and why not where they do not."""

    address: str
    idempotence: bool
    transactions: bool
    notes: tuple[str, ...] = ()


def _tried(settings: KafkaSettings) -> str:
    parts = [f"bootstrap {settings.bootstrap}", f"security {settings.security_protocol}"]
    if settings.security_protocol.startswith("SASL"):
        mechanism = settings.sasl_mechanism or "SCRAM-SHA-256"
        parts.append(f"SASL {mechanism} as {settings.username or '(no user)'}")
    if settings.security_protocol in {"SSL", "SASL_SSL"}:
        parts.append(f"CA file {settings.ca_file or '(the system CAs)'}")
    return ", ".join(parts)


def _fix(errors: Sequence[BaseException]) -> str:
    text = " ".join(f"{type(e).__name__} {e}" for e in errors)
    if "Authentication" in text or ("SASL" in text.upper() and "auth" in text.lower()):
        return (
            "Fix: check DIEF_KAFKA__USERNAME, DIEF_KAFKA__PASSWORD and "
            "DIEF_KAFKA__SASL_MECHANISM against the broker's SCRAM users."
        )
    if any(isinstance(e, ssl.SSLError) for e in errors) or "SSL" in text or "certificate" in text:
        return (
            "Fix: check DIEF_KAFKA__SECURITY_PROTOCOL and DIEF_KAFKA__CA_FILE (the CA that "
            "signed the broker's certificate)."
        )
    return (
        "Fix: start a broker there (`dief broker` runs the embedded one, `dief kafka` a "
        "real Apache Kafka) or correct --bootstrap / DIEF_KAFKA__BOOTSTRAP; a TLS or SASL "
        "listener also needs DIEF_KAFKA__SECURITY_PROTOCOL and its credentials."
    )


def _reason(exc: BaseException) -> str:
    text = str(exc)
    name = type(exc).__name__
    if not text or text == name:
        return name
    return text if text.startswith(name) else f"{name}: {text}"


def explain_connection_failure(
    settings: KafkaSettings, errors: Sequence[BaseException], *, doing: str = "connect"
) -> str:
    """A message for a failure to *doing* the broker of *settings*: what was tried, what
    each address answered, and the fix. Never a password."""
    reasons = "; ".join(_reason(e) for e in errors) or "no answer"
    return f"cannot {doing} the broker ({_tried(settings)}): {reasons}. {_fix(errors)}"


def _addresses(bootstrap: str) -> list[tuple[str, int]]:
    found: list[tuple[str, int]] = []
    for item in bootstrap.split(","):
        host, _, port = item.strip().rpartition(":")
        if host and port.isdigit():
            found.append((host.strip("[]"), int(port)))
    return found


async def _api_versions(conn: Any) -> dict[int, tuple[int, int]]:  # noqa: ANN401  aiokafka's connection and records are untyped
    """The APIs the broker lists, by key, with their lowest and highest versions: asked
    with an ApiVersions request of its own through the connection's public ``send``. The
    connection asked the same when it opened, but keeps the answer in a private attribute
    (``_versions``); one more round trip on an open connection reads it publicly."""
    response = await conn.send(ApiVersionRequest())
    return {int(key): (int(low), int(high)) for key, low, high in response.api_versions}


async def _probe_idempotence(conn: Any, versions: dict[int, Any]) -> tuple[bool, str | None]:  # noqa: ANN401  aiokafka's connection and records are untyped
    if _INIT_PRODUCER_ID not in versions:
        return False, "the broker lists no InitProducerId API: no idempotent producers"
    delay = 0.1
    while True:  # bounded by the caller's timeout
        response = await conn.send(InitProducerIdRequest(None, 60_000))  # null id: idempotence
        code = int(response.error_code)
        if code == 0 and int(response.producer_id) >= 0:
            return True, None
        if code == 0 or not for_code(code).retriable:
            break
        await asyncio.sleep(delay)  # a broker still loading its producer-id block
        delay = min(delay * 2, 1.0)
    if code in _REFUSED:
        return False, (
            f"idempotent producers are refused to this principal ({for_code(code).__name__}): "
            "publishing without idempotence"
        )
    return False, (
        f"the broker answers InitProducerId with {for_code(code).__name__}: "
        "publishing without idempotent producers"
    )


async def probe_capabilities(
    settings: KafkaSettings, *, time_limit: float = 15.0
) -> BrokerCapabilities:
    """Ask the broker of *settings* what it supports (first bootstrap address that answers).

    :raises BrokerError: no address answered within *time_limit* seconds each; the message
        names what was tried and the fix (:func:`explain_connection_failure`).
    :raises ConfigurationError: the CA file cannot be used.
    """
    from dief.kafka._clients import security_options  # the one security mapping  # noqa: PLC0415  dief.kafka._clients imports this module: imported when first used

    options = security_options(settings)
    errors: list[BaseException] = []
    addresses = _addresses(settings.bootstrap)
    if not addresses:
        raise BrokerError(f"no host:port in the bootstrap {settings.bootstrap!r}")
    for host, port in addresses:
        try:
            async with asyncio.timeout(time_limit):
                conn = await create_conn(
                    host,
                    port,
                    client_id="dief-probe",
                    request_timeout_ms=int(time_limit * 1000),
                    **options,
                )
        except (OSError, KafkaError, TimeoutError) as exc:
            errors.append(exc)
            continue
        try:
            async with asyncio.timeout(time_limit):
                versions = await _api_versions(conn)
                idempotence, note = await _probe_idempotence(conn, versions)
        except (OSError, KafkaError, TimeoutError) as exc:
            errors.append(exc)
            continue
        finally:
            conn.close()
        transactions = idempotence and set(versions) >= _TRANSACTION_APIS
        return BrokerCapabilities(
            f"{host}:{port}", idempotence, transactions, (note,) if note else ()
        )
    raise BrokerError(explain_connection_failure(settings, errors, doing="reach"))
