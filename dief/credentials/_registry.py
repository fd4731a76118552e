"""The Secretariat's registry as the issuer reads it: registration key id → what the issuer
may know of that node (its registration verify key, whether it is revoked, whether it
registered again after losing its secret). Never a name: the registry holds key ids only."""

from __future__ import annotations

from typing import TYPE_CHECKING

from dief.credentials._issuer import Registration, RegistrationLookup
from dief.crypto import VerifyKey, b64url_decode
from dief.wire import KeyStatus

if TYPE_CHECKING:
    from dief.keyring import SecretariatKeys

__all__ = ["registrations_of"]


def registrations_of(secretariat: SecretariatKeys, *, live: bool = True) -> RegistrationLookup:
    """A lookup over the Secretariat's registry: *live*, as it is on disk at each call (a
    node registered or revoked while the issuer service runs is seen at its next request);
    otherwise as it is now (a simulation that issues every token at once)."""

    def read() -> dict[str, Registration]:
        return {
            entry.registration_kid: Registration(
                kid=entry.registration_kid,
                verify_key=VerifyKey(b64url_decode(entry.registration_public)),
                revoked=entry.status is KeyStatus.REVOKED,
                reregistration=entry.replaces is not None,
            )
            for entry in secretariat.state().registry
        }

    if live:
        return lambda registration_kid: read().get(registration_kid)
    snapshot = read()
    return snapshot.get
