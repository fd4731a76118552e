"""Contributor credentials (DESIGN §5 ⚑), written as the attacks they stop: a token used for
another (cycle, region), an invented pseudonym, a restored node, verification cost, weak keys
and secrets in reprs."""

from __future__ import annotations

import dataclasses
import pickle  # noqa: S403  the test checks that pickling a key is refused
from itertools import starmap
from random import Random
from typing import TYPE_CHECKING

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from dief.credentials import (
    TOKEN_VARIANT,
    Issuer,
    IssuerKey,
    MemoryLedger,
    TokenVerifier,
    TokenWallet,
    contributor_message,
    cycles_to_request,
    plan_requests,
    pseudonym,
)
from dief.exceptions import ConfigurationError, CredentialError
from dief.seams import ContributorCredential, CredentialCheck, CredentialSource
from dief.testing import FakeCredentials
from tests.unit.test_credentials_support import (
    PAIRS,
    Registry,
    issuer_key,
    node_secret,
    public_lookup,
)

if TYPE_CHECKING:
    from pathlib import Path

    from dief.crypto import SigningKey


async def _issue(
    wallet: TokenWallet, issuer: Issuer, reg: SigningKey, cycle: str, region: str
) -> ContributorCredential:
    request = wallet.request(cycle, region)
    blind = await issuer.sign(reg.kid, request.issuer_kid, cycle, region, request.blinded)
    return wallet.accept(request.issuer_kid, blind)


def _forum() -> tuple[Issuer, Registry]:
    registry = Registry()
    issuer = Issuer(list(starmap(issuer_key, PAIRS)), registry, MemoryLedger())
    return issuer, registry


# -- derivation ---------------------------------------------------------------------------


def test_pseudonym_is_the_formula_the_fake_uses() -> None:
    secret = node_secret(7)
    fake = FakeCredentials(secret.secret_bytes())
    for cycle, region in PAIRS:
        assert pseudonym(secret, cycle, region) == fake.pseudonym(cycle, region)
    assert len(pseudonym(secret, "CSP12", "AFR")) == 32
    assert pseudonym(secret, "CSP12", "AFR") != pseudonym(secret, "CSP12", "WEOG")
    assert pseudonym(secret, "CSP12", "AFR") != pseudonym(node_secret(8), "CSP12", "AFR")
    assert contributor_message("CSP12", "AFR", "ab" * 16) == (
        b"dief/contributor/v2/CSP12/AFR/" + b"ab" * 16
    )


@pytest.mark.parametrize(
    ("cycle", "region"), [("CSP12/x", "AFR"), ("CSP12", "AFR/x"), ("12", "AFR"), ("CSP12", "XX")]
)
def test_labels_are_checked(cycle: str, region: str) -> None:
    with pytest.raises(ConfigurationError):
        pseudonym(node_secret(1), cycle, region)


def test_the_request_is_the_same_every_time_and_after_a_restore() -> None:
    lookup = public_lookup()
    first = TokenWallet(node_secret(3), lookup, simulation=True).request("CSP12", "AFR")
    again = TokenWallet(node_secret(3), lookup, simulation=True).request("CSP12", "AFR")
    other = TokenWallet(node_secret(4), lookup, simulation=True).request("CSP12", "AFR")
    assert first.blinded == again.blinded
    assert first.issuer_kid == issuer_key("CSP12", "AFR").kid
    assert first.blinded != other.blinded
    assert len(first.blinded) == 256


# -- the whole flow ------------------------------------------------------------------------


async def test_a_token_verifies_for_its_own_pair_only_claim_another_pair() -> None:
    """A State holds tokens for several (cycle, region) pairs; none of them counts in a pair
    it was not issued for, whether the pair is rewritten or the pseudonym copied over."""
    issuer, registry = _forum()
    reg = registry.register()
    wallet = TokenWallet(node_secret(5), public_lookup(), simulation=True)
    token = await _issue(wallet, issuer, reg, "CSP12", "AFR")
    verifier = TokenVerifier(public_lookup(), simulation=True)
    assert verifier.verify(token)
    for cycle, region in (("CSP12", "WEOG"), ("CSP13", "AFR")):
        moved = dataclasses.replace(token, cycle=cycle, region=region)
        assert not verifier.verify(moved)
    other = await _issue(wallet, issuer, reg, "CSP12", "WEOG")
    spliced = dataclasses.replace(other, region="AFR")
    assert not verifier.verify(spliced)
    assert verifier.verify(other)


async def test_an_invented_pseudonym_with_a_made_up_token_is_refused() -> None:
    issuer, registry = _forum()
    wallet = TokenWallet(node_secret(5), public_lookup(), simulation=True)
    real = await _issue(wallet, issuer, registry.register(), "CSP12", "AFR")
    verifier = TokenVerifier(public_lookup(), simulation=True)
    invented = [
        ContributorCredential("CSP12", "AFR", "0" * 32, b"\x00" * (32 + 256)),
        ContributorCredential("CSP12", "AFR", "1" * 32, real.token),  # a real token, reused
        ContributorCredential("CSP12", "AFR", real.contributor, real.token[:-1]),
        ContributorCredential("CSP12", "AFR", real.contributor, b"\x01" * 32 + real.token[32:]),
        ContributorCredential("CSP12", "AFR", "XYZ", real.token),
        ContributorCredential("CSP99", "AFR", real.contributor, real.token),  # no key known
    ]
    for credential in invented:
        assert not verifier.verify(credential)
    assert verifier.pseudonym_counts() == {}


async def test_the_fake_and_the_real_meet_the_seam() -> None:
    wallet: CredentialSource = TokenWallet(node_secret(5), public_lookup(), simulation=True)
    check: CredentialCheck = TokenVerifier(public_lookup(), simulation=True)
    assert wallet.credential("CSP12", "AFR") is None
    assert check.verify(FakeCredentials().credential("CSP12", "AFR")) is False  # type: ignore[arg-type]  # a fake's credential given to the real check, on purpose


async def test_a_restored_node_gets_its_token_again(tmp_path: Path) -> None:
    issuer, registry = _forum()
    reg = registry.register()
    with TokenWallet(
        node_secret(9), public_lookup(), path=tmp_path / "w.db", simulation=True
    ) as wallet:
        original = await _issue(wallet, issuer, reg, "CSP12", "AFR")
    # The backup held the secret but the wallet file is lost: an empty wallet asks again,
    # identically, and the issuer answers again (same blinded message).
    with TokenWallet(
        node_secret(9), public_lookup(), path=tmp_path / "new.db", simulation=True
    ) as restored:
        assert restored.credential("CSP12", "AFR") is None
        again = await _issue(restored, issuer, reg, "CSP12", "AFR")
    assert again == original
    counts = await issuer.counts()
    assert counts[issuer_key("CSP12", "AFR").kid].total == 1


async def test_tokens_come_back_from_a_backup_only_if_they_are_the_nodes_own() -> None:
    issuer, registry = _forum()
    reg = registry.register()
    wallet = TokenWallet(node_secret(9), public_lookup(), simulation=True)
    afr = await _issue(wallet, issuer, reg, "CSP12", "AFR")
    someone_else = await _issue(
        TokenWallet(node_secret(10), public_lookup(), simulation=True),
        issuer,
        registry.register(),
        "CSP12",
        "WEOG",
    )
    forged = dataclasses.replace(afr, token=afr.token[:-1] + bytes([afr.token[-1] ^ 1]))
    restored = TokenWallet(node_secret(9), public_lookup(), simulation=True)
    assert restored.restore([forged, someone_else]) == 0
    assert restored.credentials() == []
    assert restored.restore([afr]) == 1
    assert restored.credential("CSP12", "AFR") == afr


async def test_the_wallet_file_keeps_tokens_and_pending_requests(tmp_path: Path) -> None:
    issuer, registry = _forum()
    reg = registry.register()
    path = tmp_path / "wallet.db"
    with TokenWallet(node_secret(9), public_lookup(), path=path, simulation=True) as wallet:
        token = await _issue(wallet, issuer, reg, "CSP12", "AFR")
        pending = wallet.request("CSP13", "AFR")
        assert wallet.missing(["CSP12", "CSP13"], ["AFR", "WEOG"]) == [
            ("CSP12", "WEOG"),
            ("CSP13", "AFR"),
            ("CSP13", "WEOG"),
        ]
    blind = await issuer.sign(reg.kid, pending.issuer_kid, "CSP13", "AFR", pending.blinded)
    with TokenWallet(node_secret(9), public_lookup(), path=path, simulation=True) as reopened:
        assert reopened.credential("CSP12", "AFR") == token
        later = reopened.accept(pending.issuer_kid, blind)  # answered after a restart
        assert later.cycle == "CSP13"
        assert reopened.missing(["CSP12", "CSP13"], ["AFR"]) == []
    assert path.stat().st_mode & 0o077 == 0


async def test_a_tampered_answer_is_caught_and_nothing_is_stored() -> None:
    issuer, registry = _forum()
    reg = registry.register()
    wallet = TokenWallet(node_secret(5), public_lookup(), simulation=True)
    request = wallet.request("CSP12", "AFR")
    blind = bytearray(
        await issuer.sign(reg.kid, request.issuer_kid, "CSP12", "AFR", request.blinded)
    )
    blind[10] ^= 0x40
    with pytest.raises(CredentialError) as caught:
        wallet.accept(request.issuer_kid, bytes(blind))
    assert caught.value.code == "bad_signature"
    assert wallet.credential("CSP12", "AFR") is None
    with pytest.raises(CredentialError) as unknown:
        wallet.accept("a" * 20, bytes(blind))
    assert unknown.value.code == "bad_answer"


async def test_the_wallet_refuses_an_answer_under_a_key_the_directory_replaced() -> None:
    issuer, registry = _forum()
    reg = registry.register()
    keys: dict[tuple[str, str], rsa.RSAPublicKey] = {
        ("CSP12", "AFR"): issuer_key("CSP12", "AFR").public_key
    }
    wallet = TokenWallet(node_secret(5), lambda c, r: keys.get((c, r)), simulation=True)
    request = wallet.request("CSP12", "AFR")
    blind = await issuer.sign(reg.kid, request.issuer_kid, "CSP12", "AFR", request.blinded)
    keys["CSP12", "AFR"] = issuer_key("CSP13", "AFR").public_key
    with pytest.raises(CredentialError) as caught:
        wallet.accept(request.issuer_kid, blind)
    assert caught.value.code == "bad_answer"


# -- the verifier ---------------------------------------------------------------------------


async def test_the_verifier_verifies_once_per_pseudonym() -> None:
    issuer, registry = _forum()
    verifier = TokenVerifier(public_lookup(), simulation=True)
    tokens = []
    for byte in (1, 2, 3):
        wallet = TokenWallet(node_secret(byte), public_lookup(), simulation=True)
        tokens.append(await _issue(wallet, issuer, registry.register(), "CSP12", "AFR"))
    for _ in range(20):
        for token in tokens:
            assert verifier.verify(token)
    assert verifier.rsa_verifications == 3
    bad = dataclasses.replace(tokens[0], token=tokens[0].token[:-1] + b"\x00")
    assert not verifier.verify(bad)
    assert not verifier.verify(bad)  # failures are not cached as successes
    assert verifier.rsa_verifications == 5


async def test_the_cache_is_bounded_and_follows_key_changes() -> None:
    issuer, registry = _forum()
    keys = {pair: issuer_key(*pair).public_key for pair in PAIRS}
    verifier = TokenVerifier(lambda c, r: keys.get((c, r)), cache_size=2, simulation=True)
    tokens = []
    for byte in (1, 2, 3):
        wallet = TokenWallet(node_secret(byte), public_lookup(), simulation=True)
        tokens.append(await _issue(wallet, issuer, registry.register(), "CSP12", "AFR"))
        assert verifier.verify(tokens[-1])
    assert verifier.cache_len == 2
    assert verifier.verify(tokens[0])  # evicted: verified again
    assert verifier.rsa_verifications == 4
    del keys["CSP12", "AFR"]  # the key was revoked in a new directory
    assert not verifier.verify(tokens[0])


async def test_more_pseudonyms_than_tokens_issued_are_flagged() -> None:
    issuer, registry = _forum()
    issued = {("CSP12", "AFR"): 1}
    verifier = TokenVerifier(
        public_lookup(), issued=lambda c, r: issued.get((c, r)), simulation=True
    )
    for byte in (1, 2):
        wallet = TokenWallet(node_secret(byte), public_lookup(), simulation=True)
        assert verifier.verify(await _issue(wallet, issuer, registry.register(), "CSP12", "AFR"))
    assert verifier.pseudonym_counts() == {("CSP12", "AFR"): 2}
    [excess] = verifier.over_issued()
    assert (excess.cycle, excess.region, excess.pseudonyms, excess.issued) == ("CSP12", "AFR", 2, 1)
    issued["CSP12", "AFR"] = 2
    assert verifier.over_issued() == []


# -- keys -----------------------------------------------------------------------------------


def test_a_2048_bit_issuer_key_needs_the_simulation_flag() -> None:
    weak = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    with pytest.raises(ConfigurationError):
        IssuerKey("CSP12", "AFR", weak)
    with pytest.raises(ConfigurationError):
        IssuerKey.generate("CSP12", "AFR", bits=2048)
    with pytest.raises(ConfigurationError):
        IssuerKey.generate("CSP12", "AFR", bits=1024, simulation=True)
    assert IssuerKey("CSP12", "AFR", weak, simulation=True).key_size == 2048
    # nodes and aggregators hold the same line
    lookup = lambda c, r: weak.public_key()  # noqa: E731, ARG005  the lookup seam's signature (cycle, region); this fake answers the same key
    with pytest.raises(CredentialError) as caught:
        TokenWallet(node_secret(1), lookup).request("CSP12", "AFR")
    assert caught.value.code == "weak_key"
    token = ContributorCredential("CSP12", "AFR", "0" * 32, b"\x00" * 288)
    assert not TokenVerifier(lookup).verify(token)


def test_issuer_keys_are_3072_bit_by_default_and_round_trip() -> None:
    key = IssuerKey.generate("CSP12", "AFR")
    assert key.key_size == 3072
    again = IssuerKey.from_secret_bytes("CSP12", "AFR", key.secret_bytes())
    assert again.kid == key.kid
    assert len(key.kid) == 20


def test_reprs_show_no_secret() -> None:
    secret = node_secret(0xAB)
    key = issuer_key("CSP12", "AFR")
    wallet = TokenWallet(secret, public_lookup(), simulation=True)
    request = wallet.request("CSP12", "AFR")
    texts = [repr(key), str(key), repr(wallet), repr(request), repr(TokenVerifier(public_lookup()))]
    private = key.private_key.private_numbers()
    for text in texts:
        assert secret.secret_bytes().hex() not in text
        assert "node-a" not in text
        assert request.blinded.hex()[:16] not in text
        assert format(private.d, "x")[:16] not in text
        assert format(private.p, "x")[:16] not in text
    credential = ContributorCredential("CSP12", "AFR", "0" * 32, b"\x07" * 40)
    assert "\\x07" not in repr(credential)
    with pytest.raises(TypeError):
        pickle.dumps(key)


def test_token_variant_is_pss_randomized() -> None:
    assert TOKEN_VARIANT.name == "RSABSSA-SHA384-PSS-Randomized"


def test_a_node_plans_every_region_of_this_and_the_previous_cycle() -> None:
    """Whether or not it will post there, so the issuer's log tells nothing."""
    assert cycles_to_request("CSP13") == ("CSP12", "CSP13")
    assert cycles_to_request("CSP1") == ("CSP1",)
    lookup = public_lookup()
    wallet = TokenWallet(node_secret(2), lookup, simulation=True)
    plan = plan_requests(wallet, cycles_to_request("CSP13"), max_delay=3600.0, rng=Random(1))
    assert len(plan) == 10
    assert {p.region for p in plan} == {"AFR", "APG", "EEG", "GRULAC", "WEOG"}
    assert [p.delay for p in plan] == sorted(p.delay for p in plan)
    assert all(0 <= p.delay < 3600 for p in plan)
    assert len({p.delay for p in plan}) == 10  # independent delays
    assert {p.delay for p in plan_requests(wallet, ["CSP13"], max_delay=0)} == {0.0}
