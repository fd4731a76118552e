"""The signed forum directory (DESIGN §4 ⚑), attacked: whoever holds the root and the
directory key tries to add a reader to a region, replace a region's signing key, list two
issuer keys for one (cycle, region); an old, expired, unsigned, wrongly signed directory; a
certificate that expired or is from another root. Each must be refused; the genuine
rotations and successions must pass, with a warning."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from dief.crypto import KemPrivateKey, SigningKey, b64url_encode, key_id
from dief.exceptions import DirectoryError
from dief.keyring import (
    ForumDirectory,
    Purpose,
    RootKeys,
    SecretariatKeys,
    SimulatedForum,
    verify_directory,
)
from dief.keyring._statements import endorse, sign_document
from dief.keyring._time import DAY, iso
from dief.testing import FakeClock
from dief.wire import (
    CONTEXT_DIRECTORY,
    DirectoryKey,
    DirectoryRole,
    EndorsementKind,
    ForumDirectoryDocument,
    KeyStatus,
)

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

PASS = "forum passphrase"
T0 = 1_790_000_000.0


@pytest.fixture(scope="module")
def forum(tmp_path_factory: pytest.TempPathFactory) -> SimulatedForum:
    clock = FakeClock(T0)
    return SimulatedForum.create(
        tmp_path_factory.mktemp("forum") / "f", PASS, nodes=["n1"], cycles=["CSP12"], clock=clock
    )


@pytest.fixture(scope="module")
def current(forum: SimulatedForum) -> ForumDirectory:
    return forum.directory


def _directory_key(forum: SimulatedForum) -> SigningKey:
    sec = forum.secretariat()
    cert = sec.ring.read_state("certificate.json", type(current_doc(forum).certificate))
    assert cert is not None
    return sec.ring.signing_key(cert.subject_kid)


def current_doc(forum: SimulatedForum) -> ForumDirectoryDocument:
    return forum.directory.document


def forged(
    forum: SimulatedForum,
    change: Callable[[list[DirectoryKey]], list[DirectoryKey]],
    *,
    rotations: tuple[str, ...] = (),
    signer: SigningKey | None = None,
) -> bytes:
    """The next version with *change* applied to its keys, signed with the real directory key
    (the attacker holds the root and the directory key)."""
    doc = current_doc(forum)
    doc = doc.model_copy(
        update={
            "version": doc.version + 1,
            "keys": tuple(change(list(doc.keys))),
            "kem_rotations": rotations,
            "signature": None,
        }
    )
    key = signer if signer is not None else _directory_key(forum)
    return sign_document(doc, key, context=CONTEXT_DIRECTORY).model_dump_json().encode()


def _refused(raw: bytes, forum: SimulatedForum, *, now: float = T0 + 60) -> DirectoryError:
    """The error verifying *raw* raises (a test asserts its code, and its message)."""
    with pytest.raises(DirectoryError) as caught:
        verify_directory(raw, forum.root_fingerprint, forum.directory, now)
    return caught.value


def _new_kem_entry(region: str, signer: SigningKey, by: EndorsementKind) -> DirectoryKey:
    kem = KemPrivateKey.generate()
    entry = DirectoryKey(
        role=DirectoryRole.REGION_KEM,
        region=region,
        kid=kem.kid,
        alg=kem.suite,
        public=b64url_encode(kem.public_key.public_bytes()),
        created=iso(T0),
    )
    return endorse(entry, signer, by)


def _root(forum: SimulatedForum) -> SigningKey:
    root = forum.root()
    return root.ring.signing_key(root.verify_key.kid)


# -- the genuine directory ------------------------------------------------------------------


def test_the_simulated_forum_directory_verifies_and_lists_every_party(
    current: ForumDirectory,
) -> None:
    assert current.version == 1
    assert current.simulation
    for region in current.parameters.regions:
        assert len(current.region_kem_keys(region)) == 1
        assert len(current.verify_keys(DirectoryRole.REGION_SIGN, region)) == 1
        assert current.issuer_key("CSP12", region) is not None
    assert len(current.secretariat_kem_keys()) == 1
    assert len(current.node_kem_keys()) == 1
    assert current.issuer_key("CSP13", "AFR") is None


# -- adding a reader to a region ------------------------------------------------------------


def test_a_second_kem_key_without_the_regions_signature_is_refused(
    forum: SimulatedForum,
) -> None:
    rogue = _new_kem_entry("AFR", _root(forum), EndorsementKind.REGION)  # the root signs it
    raw = forged(forum, lambda keys: [*keys, rogue], rotations=("AFR",))
    refusal = _refused(raw, forum)
    assert refusal.code == "rule", refusal.message
    assert "not signed by a signing key of AFR" in refusal.message


def test_a_kem_key_signed_by_another_regions_key_is_refused(forum: SimulatedForum) -> None:
    weog = forum.region("WEOG").signing_key()
    rogue = _new_kem_entry("AFR", weog, EndorsementKind.REGION)
    raw = forged(forum, lambda keys: [*keys, rogue], rotations=("AFR",))
    refusal = _refused(raw, forum)
    assert refusal.code == "rule", refusal.message


def test_a_second_active_kem_key_needs_a_declared_rotation(forum: SimulatedForum) -> None:
    genuine = _new_kem_entry("AFR", forum.region("AFR").signing_key(), EndorsementKind.REGION)
    raw = forged(forum, lambda keys: [*keys, genuine])  # signed by AFR, no rotation declared
    refusal = _refused(raw, forum)
    assert refusal.code == "rule", refusal.message
    assert "without a declared rotation" in refusal.message
    accepted = verify_directory(
        forged(forum, lambda keys: [*keys, genuine], rotations=("AFR",)),
        forum.root_fingerprint,
        forum.directory,
        T0 + 60,
    )
    assert len(accepted.region_kem_keys("AFR")) == 2
    assert any("AFR" in w and genuine.kid in w for w in accepted.warnings)


# -- replacing a region's signing key --------------------------------------------------------


def _new_sign_entry(region: str, *endorsers: tuple[SigningKey, EndorsementKind]) -> DirectoryKey:
    key = SigningKey.generate()
    entry = DirectoryKey(
        role=DirectoryRole.REGION_SIGN,
        region=region,
        kid=key.kid,
        alg=key.alg,
        public=b64url_encode(key.verify_key.public_bytes()),
        created=iso(T0),
    )
    for signer, by in endorsers:
        entry = endorse(entry, signer, by)
    return entry


def _replace_sign(
    region: str, new: DirectoryKey
) -> Callable[[list[DirectoryKey]], list[DirectoryKey]]:
    def change(keys: list[DirectoryKey]) -> list[DirectoryKey]:
        out = [
            k.model_copy(update={"status": KeyStatus.REVOKED})
            if k.role is DirectoryRole.REGION_SIGN and k.region == region
            else k
            for k in keys
        ]
        return [*out, new]

    return change


def test_the_root_alone_cannot_replace_a_regions_signing_key(forum: SimulatedForum) -> None:
    root = _root(forum)
    new = _new_sign_entry("AFR", (root, EndorsementKind.ROOT))
    raw = forged(forum, _replace_sign("AFR", new))
    refusal = _refused(raw, forum)
    assert refusal.code == "rule", refusal.message
    assert "root alone never suffices" in refusal.message


def test_a_root_made_recovery_key_cannot_start_a_second_chain(forum: SimulatedForum) -> None:
    root = _root(forum)
    fake_recovery = SigningKey.generate()
    recovery = DirectoryKey(
        role=DirectoryRole.REGION_RECOVERY,
        region="AFR",
        kid=fake_recovery.kid,
        alg=fake_recovery.alg,
        public=b64url_encode(fake_recovery.verify_key.public_bytes()),
        created=iso(T0),
    )
    recovery = endorse(
        endorse(recovery, fake_recovery, EndorsementKind.SELF), root, EndorsementKind.ROOT
    )
    new = _new_sign_entry(
        "AFR", (root, EndorsementKind.ROOT), (fake_recovery, EndorsementKind.RECOVERY)
    )

    def change(keys: list[DirectoryKey]) -> list[DirectoryKey]:
        return [*_replace_sign("AFR", new)(keys), recovery]

    refusal = _refused(forged(forum, change), forum)
    assert refusal.code == "rule", refusal.message
    assert "second recovery key" in refusal.message

    def without_the_old_chain(keys: list[DirectoryKey]) -> list[DirectoryKey]:
        return [
            k
            for k in change(keys)
            if not (k.role is DirectoryRole.REGION_RECOVERY and k.kid != recovery.kid)
        ]

    # dropping the genuine recovery key instead is refused too
    refusal = _refused(forged(forum, without_the_old_chain), forum)
    assert refusal.code == "rule", refusal.message


def test_a_region_key_dropped_from_the_directory_is_refused(forum: SimulatedForum) -> None:
    kem = forum.directory.region_kem_keys("GRULAC")[0].kid
    raw = forged(forum, lambda keys: [k for k in keys if k.kid != kem])
    refusal = _refused(raw, forum)
    assert refusal.code == "rule", refusal.message
    assert "is missing" in refusal.message


def test_a_signing_key_succeeded_by_its_predecessor_or_recovery_key_is_accepted(
    tmp_path: Path,
) -> None:
    clock = FakeClock(T0)
    sim = SimulatedForum.create(tmp_path / "f", PASS, clock=clock)
    region = sim.region("EEG")
    root = sim.root()
    sec = sim.secretariat()
    sec.add_region(root.certify_region_keys(region.succeed_signing_key()))
    v2 = sim.issue_directory()
    assert any("EEG" in w and "region-sign" in w for w in v2.warnings)
    assert len(v2.verify_keys(DirectoryRole.REGION_SIGN, "EEG")) == 2
    # the predecessor is lost: the recovery key signs the successor, the lost key is revoked
    lost = region.ring.active(Purpose.SIGN).kid
    bundle = region.succeed_signing_key(recovery_passphrase=PASS)
    sec.add_region(root.certify_region_keys(bundle))
    sec.set_status(lost, KeyStatus.REVOKED)
    v3 = sim.issue_directory()
    assert lost not in {k.kid for k in v3.verify_keys(DirectoryRole.REGION_SIGN, "EEG")}
    assert v3.region_kem_keys("EEG")  # re-signed by the new key


# -- issuer keys ------------------------------------------------------------------------------


def test_two_issuer_keys_for_one_cycle_and_region_are_refused(forum: SimulatedForum) -> None:
    doc = current_doc(forum)
    issuer = next(k for k in doc.keys if k.role is DirectoryRole.ISSUER and k.region == "AFR")

    public = (
        rsa.generate_private_key(65537, 2048)
        .public_key()
        .public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    second = issuer.model_copy(update={"kid": key_id(public), "public": b64url_encode(public)})
    raw = forged(forum, lambda keys: [*keys, second])
    refusal = _refused(raw, forum)
    assert refusal.code == "rule", refusal.message
    assert "exactly one per (cycle, region)" in refusal.message


# -- versions, time, signatures -----------------------------------------------------------------


def test_a_rolled_back_directory_is_refused(tmp_path: Path) -> None:
    sim = SimulatedForum.create(tmp_path / "f", PASS, clock=FakeClock(T0))
    v1 = sim.directory
    v2 = sim.issue_directory()
    with pytest.raises(DirectoryError) as caught:
        verify_directory(v1.raw, sim.root_fingerprint, v2, T0 + 60)
    assert caught.value.code == "rollback"
    assert verify_directory(v2.raw, sim.root_fingerprint, v2, T0 + 60) is v2


def test_the_same_version_with_other_bytes_is_refused(forum: SimulatedForum) -> None:
    doc = current_doc(forum).model_copy(update={"kem_rotations": (), "signature": None})
    raw = sign_document(doc, _directory_key(forum), context=CONTEXT_DIRECTORY).model_dump_json(
        indent=1
    )
    refusal = _refused(raw.encode(), forum)
    assert refusal.code == "conflict", refusal.message


def test_an_expired_directory_is_refused(forum: SimulatedForum) -> None:
    expires = forum.directory.expires
    with pytest.raises(DirectoryError) as caught:
        verify_directory(forum.directory.raw, forum.root_fingerprint, None, expires + 1)
    assert caught.value.code in {"expired", "certificate"}
    doc = current_doc(forum).model_copy(
        update={"version": 9, "expires": iso(T0 + 30), "signature": None}
    )
    raw = sign_document(doc, _directory_key(forum), context=CONTEXT_DIRECTORY).model_dump_json()
    refusal = _refused(raw.encode(), forum, now=T0 + 60)
    assert refusal.code == "expired", refusal.message


def test_an_unsigned_or_wrongly_signed_or_altered_directory_is_refused(
    forum: SimulatedForum,
) -> None:
    doc = current_doc(forum).model_copy(update={"version": 5, "signature": None})
    refusal = _refused(doc.model_dump_json().encode(), forum)
    assert refusal.code == "unsigned", refusal.message
    other = SigningKey.generate()
    raw = sign_document(doc, other, context=CONTEXT_DIRECTORY).model_dump_json().encode()
    refusal = _refused(raw, forum)
    assert refusal.code == "bad_signature", refusal.message
    genuine = forged(forum, lambda keys: keys)
    altered = json.loads(genuine)
    altered["parameters"]["k_csp"] = 1
    refusal = _refused(json.dumps(altered).encode(), forum)
    assert refusal.code == "bad_signature", refusal.message


def test_duplicate_json_keys_are_refused_before_verifying(forum: SimulatedForum) -> None:
    raw = forged(forum, lambda keys: keys).decode()
    doubled = raw.replace(
        '{"format":"dief-directory/1",', '{"format":"dief-directory/1","version":99,', 1
    )
    refusal = _refused(doubled.encode(), forum)
    assert refusal.code == "malformed", refusal.message


def test_a_certificate_from_another_root_or_expired_is_refused(
    forum: SimulatedForum, tmp_path: Path
) -> None:
    rogue_root = RootKeys.create(tmp_path / "rogue", PASS, simulation=True, clock=FakeClock(T0))
    sec = forum.secretariat()
    cert = rogue_root.certify_directory_key(sec.directory_key_request(), days=90)
    doc = current_doc(forum).model_copy(
        update={"version": 7, "certificate": cert, "signature": None}
    )
    raw = sign_document(doc, _directory_key(forum), context=CONTEXT_DIRECTORY).model_dump_json()
    refusal = _refused(raw.encode(), forum)
    assert refusal.code == "certificate", refusal.message
    assert "pinned forum root" in refusal.message
    # even a party that pinned the rogue root refuses it: the regions' keys carry the
    # genuine root's signatures, not the rogue one's
    with pytest.raises(DirectoryError) as caught:
        verify_directory(raw, rogue_root.fingerprint, None, T0 + 60)
    assert caught.value.code == "rule"
    # a certificate that expired: verified after its end (the directory itself still valid)
    short = forum.root().certify_directory_key(sec.directory_key_request(), days=1)
    doc = current_doc(forum).model_copy(
        update={
            "version": 8,
            "certificate": short,
            "expires": iso(T0 + 30 * DAY),
            "signature": None,
        }
    )
    raw = sign_document(doc, _directory_key(forum), context=CONTEXT_DIRECTORY).model_dump_json()
    refusal = _refused(raw.encode(), forum, now=T0 + 2 * DAY)
    assert refusal.code == "certificate", refusal.message


def test_nodes_are_unnamed_in_the_directory_and_the_registry(forum: SimulatedForum) -> None:
    raw = forum.directory.raw.decode()
    state = (forum.path / "secretariat" / "state.json").read_text()
    for text in (raw, state):
        assert '"n1"' not in text
    assert "n1" in (forum.path / "simulation.json").read_text()  # the local label, only here


def test_the_secretariat_refuses_to_issue_a_directory_that_breaks_a_rule(
    tmp_path: Path,
) -> None:
    sim = SimulatedForum.create(tmp_path / "f", PASS, clock=FakeClock(T0))
    sec = SecretariatKeys.load(sim.path / "secretariat", passphrase=PASS, clock=FakeClock(T0))
    state = sec.state()
    rogue = _new_kem_entry("APG", _root(sim), EndorsementKind.REGION)
    sec._write(state.model_copy(update={"keys": (*state.keys, rogue)}))  # a tampered state file
    with pytest.raises(DirectoryError) as caught:
        sec.issue_directory()
    assert caught.value.code == "rule"
