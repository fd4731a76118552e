"""The Secretariat's registry of nodes and its directory versions, as the portal sees them.

The registry holds registration key ids and node KEM keys, never a State's name (DESIGN §4,
§11: the Secretariat keeps which State registered which kid offline); the portal shows no
more than that. :class:`KeyringRegistry` calls the same library functions as ``dief keys
register``, ``revoke-node`` and ``directory issue`` (:class:`~dief.keyring.SecretariatKeys`),
then publishes the version on ``dief.directory`` (:func:`~dief.keyring.publish_directory`)
when it has a sink, then runs its ``on_issued`` hooks (the Secretariat's bulletin group key
release for the version, :class:`~dief.secretariat.GroupKeyIssuer`, is one), so what follows
an issued version happens the same way from the portal as from the service.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from dief.exceptions import DirectoryError
from dief.keyring import DEFAULT_DIRECTORY_DAYS, SecretariatKeys, parse_strict, publish_directory
from dief.wire import NodeRegistration

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable
    from pathlib import Path

    from pydantic import SecretStr

    from dief.keyring import ForumDirectory
    from dief.seams import RecordSink

__all__ = ["DirectoryVersion", "KeyringRegistry", "NodeEntry", "NodeRegistry"]

#: The largest registration file the portal takes (a signed registration is about 4 KiB).
MAX_REGISTRATION_BYTES = 64 * 1024


@dataclass(frozen=True, slots=True)
class NodeEntry:
    """One registry entry: key ids and dates only."""

    registration_kid: str
    kem_kid: str
    registered: str
    status: str
    replaces: str | None


@dataclass(frozen=True, slots=True)
class DirectoryVersion:
    version: int
    issued_at: str
    expires: str


class NodeRegistry(Protocol):
    """The Secretariat's registry and directory (synchronous work runs off the loop)."""

    async def nodes(self) -> list[NodeEntry]: ...

    async def register(self, raw: bytes, *, replaces: str | None = None) -> str: ...

    async def revoke(self, registration_kid: str) -> None: ...

    async def current(self) -> DirectoryVersion | None: ...

    async def history(self) -> list[int]: ...

    async def issue(self) -> DirectoryVersion: ...


class KeyringRegistry:
    """:class:`NodeRegistry` over the Secretariat's keyring folder (loaded per call: the
    CLI may change it between two requests). Issuing signs with the directory key, so it
    needs the keyring's passphrase; listing, registering and revoking do not."""

    def __init__(
        self,
        path: Path,
        passphrase: SecretStr | None,
        *,
        sink: RecordSink | None = None,
        days: float | None = None,
        on_issued: tuple[Callable[[ForumDirectory], Awaitable[object]], ...] = (),
    ) -> None:
        self._path = path
        self._passphrase = passphrase
        self._sink = sink
        self._days = days
        self._on_issued = on_issued

    def __repr__(self) -> str:
        return f"KeyringRegistry(publishes={self._sink is not None})"

    def _keys(self, *, unlock: bool = False) -> SecretariatKeys:
        secret = self._passphrase.get_secret_value() if unlock and self._passphrase else None
        return SecretariatKeys.load(self._path, passphrase=secret)

    async def nodes(self) -> list[NodeEntry]:
        state = await asyncio.to_thread(lambda: self._keys().state())
        return [
            NodeEntry(r.registration_kid, r.kem.kid, r.registered, r.status.value, r.replaces)
            for r in state.registry
        ]

    async def register(self, raw: bytes, *, replaces: str | None = None) -> str:
        if len(raw) > MAX_REGISTRATION_BYTES:
            raise DirectoryError("the registration file is too large", code="malformed")
        document = parse_strict(raw, NodeRegistration, what="registration")
        kid: str = await asyncio.to_thread(
            lambda: self._keys().register(document, replaces=replaces)
        )
        return kid

    async def revoke(self, registration_kid: str) -> None:
        await asyncio.to_thread(lambda: self._keys().revoke_node(registration_kid))

    async def current(self) -> DirectoryVersion | None:
        found = await asyncio.to_thread(lambda: self._keys().current_directory())
        if found is None:
            return None
        doc = found.document
        return DirectoryVersion(found.version, doc.issued_at, doc.expires)

    async def history(self) -> list[int]:
        found: list[int] = await asyncio.to_thread(lambda: self._keys().history())
        return found

    async def issue(self) -> DirectoryVersion:
        days = self._days if self._days is not None else DEFAULT_DIRECTORY_DAYS
        issued = await asyncio.to_thread(lambda: self._keys(unlock=True).issue_directory(days=days))
        if self._sink is not None:
            await publish_directory(self._sink, issued)
        for hook in self._on_issued:
            await hook(issued)
        doc = issued.document
        return DirectoryVersion(issued.version, doc.issued_at, doc.expires)
