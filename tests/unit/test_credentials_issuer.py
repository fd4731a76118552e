"""The credential issuer (DESIGN §5 ⚑): one blinded message per registration and issuer key,
the identical one answered again, a different one refused; unknown and revoked registrations
refused; re-registrations counted apart; the ledger in memory and in SQLite."""

from __future__ import annotations

from itertools import starmap
from typing import TYPE_CHECKING

import pytest

from dief.credentials import (
    Issuance,
    IssuanceLedger,
    IssuanceStore,
    IssuedCount,
    Issuer,
    MemoryLedger,
    TokenWallet,
)
from dief.exceptions import ConfigurationError, CredentialError, StorageError
from tests.unit.test_credentials_support import (
    PAIRS,
    Registry,
    issuer_key,
    node_secret,
    public_lookup,
)

if TYPE_CHECKING:
    from collections.abc import Awaitable
    from pathlib import Path

AFR = issuer_key("CSP12", "AFR")


def _issuer(ledger: IssuanceLedger | None = None) -> tuple[Issuer, Registry]:
    registry = Registry()
    keys = list(starmap(issuer_key, PAIRS))
    return Issuer(keys, registry, ledger if ledger is not None else MemoryLedger()), registry


def _blinded(byte: int) -> bytes:
    return (
        TokenWallet(node_secret(byte), public_lookup(), simulation=True)
        .request("CSP12", "AFR")
        .blinded
    )


async def _expect(code: str, coro: Awaitable[object]) -> None:
    with pytest.raises(CredentialError) as caught:
        await coro
    assert caught.value.code == code


async def test_a_second_different_blinded_message_is_refused_the_identical_one_answered() -> None:
    """The attack: a State asks twice for one (cycle, region) with two different blinded
    messages to get two pseudonyms there."""
    issuer, registry = _issuer()
    reg = registry.register()
    first = await issuer.sign(reg.kid, AFR.kid, "CSP12", "AFR", _blinded(1))
    again = await issuer.sign(reg.kid, AFR.kid, "CSP12", "AFR", _blinded(1))
    assert first == again  # a lost answer is answered again
    await _expect("already_issued", issuer.sign(reg.kid, AFR.kid, "CSP12", "AFR", _blinded(2)))
    # another issuer key (another pair) is a separate allowance
    weog = issuer_key("CSP12", "WEOG")
    blinded = TokenWallet(node_secret(2), public_lookup(), simulation=True).request("CSP12", "WEOG")
    await issuer.sign(reg.kid, weog.kid, "CSP12", "WEOG", blinded.blinded)
    counts = await issuer.counts()
    assert counts[AFR.kid] == IssuedCount(AFR.kid, regular=1, reregistration=0)
    assert counts[weog.kid].total == 1
    assert counts[issuer_key("CSP13", "AFR").kid].total == 0


async def test_unknown_and_revoked_registrations_are_refused() -> None:
    issuer, registry = _issuer()
    await _expect(
        "unknown_registration", issuer.sign("b" * 20, AFR.kid, "CSP12", "AFR", _blinded(1))
    )
    reg = registry.register()
    registry.revoke(reg.kid)
    await _expect(
        "revoked_registration", issuer.sign(reg.kid, AFR.kid, "CSP12", "AFR", _blinded(1))
    )
    assert (await issuer.counts())[AFR.kid].total == 0


async def test_a_reregistered_node_gets_one_more_token_counted_apart() -> None:
    issuer, registry = _issuer()
    lost = registry.register()
    await issuer.sign(lost.kid, AFR.kid, "CSP12", "AFR", _blinded(1))
    registry.revoke(lost.kid)
    renewed = registry.register(reregistration=True)
    await issuer.sign(renewed.kid, AFR.kid, "CSP12", "AFR", _blinded(2))
    await _expect("already_issued", issuer.sign(renewed.kid, AFR.kid, "CSP12", "AFR", _blinded(3)))
    count = (await issuer.counts())[AFR.kid]
    assert (count.regular, count.reregistration, count.total) == (1, 1, 2)
    assert await issuer.issued("CSP12", "AFR") == 2


async def test_requests_that_do_not_fit_the_key_are_refused_before_they_count() -> None:
    issuer, registry = _issuer()
    reg = registry.register()
    await _expect("unknown_issuer_key", issuer.sign(reg.kid, "c" * 20, "CSP12", "AFR", _blinded(1)))
    await _expect("bad_request", issuer.sign(reg.kid, AFR.kid, "CSP12", "WEOG", _blinded(1)))
    await _expect("bad_request", issuer.sign(reg.kid, AFR.kid, "CSP12", "AFR", b"\x00" * 10))
    await _expect("bad_request", issuer.sign(reg.kid, AFR.kid, "CSP12", "AFR", b"\xff" * 256))
    # none of these used up the registration's allowance
    assert await issuer.sign(reg.kid, AFR.kid, "CSP12", "AFR", _blinded(1))


def test_one_issuer_key_per_pair() -> None:
    issuer, _ = _issuer()
    other = issuer_key("CSP13", "AFR")
    with pytest.raises(ConfigurationError):
        issuer.add_key(type(other)("CSP12", "AFR", other.private_key, simulation=True))
    issuer.add_key(AFR)  # the same key again is no change
    assert issuer.public_keys()["CSP12", "AFR"] is AFR.public_key
    assert "CSP12" in repr(issuer) or "Issuer(" in repr(issuer)


async def test_the_sqlite_ledger_keeps_the_first_message_across_restarts(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'issuer.db'}"
    async with IssuanceStore(url) as store:
        issuer, registry = _issuer(store)
        reg = registry.register()
        renewed = registry.register(reregistration=True)
        answer = await issuer.sign(reg.kid, AFR.kid, "CSP12", "AFR", _blinded(1))
        await issuer.sign(renewed.kid, AFR.kid, "CSP12", "AFR", _blinded(4))
    async with IssuanceStore(url) as store:
        again = Issuer([AFR], registry, store)
        assert await again.sign(reg.kid, AFR.kid, "CSP12", "AFR", _blinded(1)) == answer
        await _expect("already_issued", again.sign(reg.kid, AFR.kid, "CSP12", "AFR", _blinded(2)))
        assert await store.counts() == {AFR.kid: IssuedCount(AFR.kid, regular=1, reregistration=1)}


async def test_ledger_claims_agree_between_memory_and_sqlite(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'ledger.db'}"
    entries = [
        Issuance("a" * 20, "k" * 20, b"\x01" * 32, reregistration=False),
        Issuance("a" * 20, "k" * 20, b"\x02" * 32, reregistration=False),
        Issuance("b" * 20, "k" * 20, b"\x03" * 32, reregistration=True),
        Issuance("a" * 20, "j" * 20, b"\x04" * 32, reregistration=False),
    ]
    memory = MemoryLedger()
    async with IssuanceStore(url) as store:
        for entry in entries:
            assert await memory.claim(entry) == await store.claim(entry)
        assert await memory.counts() == await store.counts()
        assert await store.claim(entries[1]) == b"\x01" * 32


@pytest.mark.postgres
async def test_the_postgresql_ledger_agrees_with_memory(postgres_url: str) -> None:
    entries = [
        Issuance("a" * 20, "k" * 20, b"\x01" * 32, reregistration=False),
        Issuance("a" * 20, "k" * 20, b"\x02" * 32, reregistration=False),
        Issuance("b" * 20, "k" * 20, b"\x03" * 32, reregistration=True),
    ]
    memory = MemoryLedger()
    async with IssuanceStore(postgres_url) as store:
        for entry in entries:
            assert await memory.claim(entry) == await store.claim(entry)
        assert await store.counts() == await memory.counts()
        issuer, registry = _issuer(store)
        reg = registry.register()
        await issuer.sign(reg.kid, AFR.kid, "CSP12", "AFR", _blinded(1))
        await _expect("already_issued", issuer.sign(reg.kid, AFR.kid, "CSP12", "AFR", _blinded(2)))


async def test_the_store_must_be_started() -> None:
    store = IssuanceStore("sqlite+aiosqlite:///:memory:")
    with pytest.raises(StorageError):
        await store.counts()
    assert "sqlite" in repr(store)
