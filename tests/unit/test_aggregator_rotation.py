"""A region KEM rotation seen by a node before its aggregator (DESIGN §4 ⚑: services pick up
a new directory version "without losing or dead-lettering a record").

The region makes a new KEM key, the Secretariat lists it, a node seals to it at once; the
aggregator still holds the previous directory and its keys. The record must open (the
region's own keyring is read again for the missing key), a key the directory revoked must
never be taken, and a stream of records naming unknown keys must not reread the keyring
each time.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from dief.aggregator import RegionOpeners
from dief.crypto import KemPrivateKey
from dief.crypto.envelope import Opener, Sealer
from dief.exceptions import NoRecipientKeyError
from dief.keyring import KeyRole, SimulatedForum
from dief.testing import FakeClock
from dief.vocab import Region
from dief.wire import TYPE_DIGEST

if TYPE_CHECKING:
    from pathlib import Path

AFR = Region.AFR
PASSPHRASE = "a test passphrase"


def _rotate(path: Path) -> str:
    """The region makes a second KEM key (a declared rotation), the Secretariat lists it in a
    new directory; returns the new key's id."""
    forum = SimulatedForum.load(path, PASSPHRASE)
    before = {k.kid for k in forum.sealing_keys(KeyRole.REGION, AFR.value)}
    bundle = forum.region(AFR.value).endorse_kem()
    forum.secretariat().add_region(forum.root().certify_region_keys(bundle))
    forum.issue_directory()
    (new,) = {k.kid for k in forum.sealing_keys(KeyRole.REGION, AFR.value)} - before
    return new


def _sealed_to(path: Path, kid: str) -> bytes:
    """A record sealed by a node that already follows the new directory, to *kid* only."""
    forum = SimulatedForum.load(path, PASSPHRASE)
    (key,) = [k for k in forum.sealing_keys(KeyRole.REGION, AFR.value) if k.kid == kid]
    sealer = Sealer(type=TYPE_DIGEST, region=AFR.value, recipients=[key])
    return sealer.seal(b'{"note": "sealed after the rotation"}')


def _openers(path: Path, clock: FakeClock) -> tuple[RegionOpeners, list[int]]:
    """The aggregator's openers, started before the rotation (its directory is the old one);
    counts the keyring reads."""
    service_view = SimulatedForum.load(path, PASSPHRASE)
    assert service_view.directory.version >= 1  # read now: the service holds this version
    reads: list[int] = []

    def reload(region: Region) -> list[KemPrivateKey]:
        reads.append(1)
        return SimulatedForum.load(path, PASSPHRASE).region(region.value).kem_keys()

    return RegionOpeners(service_view, reload, clock=clock), reads


@pytest.fixture
def forum_path(tmp_path: Path) -> Path:
    SimulatedForum.create(tmp_path / "forum", PASSPHRASE)
    return tmp_path / "forum"


def test_a_record_sealed_to_a_key_published_after_the_aggregator_started_opens(
    forum_path: Path,
) -> None:
    openers, reads = _openers(forum_path, FakeClock(1000.0))
    opener = openers.make(AFR)
    other = openers.make(AFR)  # the digests' opener of the same region
    new = _rotate(forum_path)
    assert new not in opener.kids
    opened = opener.open(_sealed_to(forum_path, new))
    assert opened.kid == new
    assert new in other.kids  # every opener of the region holds it from now on
    assert reads == [1]


def test_without_the_reload_the_record_would_be_dead_lettered(forum_path: Path) -> None:
    """The attack's other half: an opener given only the keys it started with refuses the
    record (what happened before RegionOpeners asked for missing keys)."""
    service_view = SimulatedForum.load(forum_path, PASSPHRASE)

    plain = Opener(service_view.opening_keys(KeyRole.REGION, AFR.value))
    new = _rotate(forum_path)
    with pytest.raises(NoRecipientKeyError):
        plain.open(_sealed_to(forum_path, new))


def test_unknown_keys_reread_the_keyring_at_most_once_per_interval(forum_path: Path) -> None:
    clock = FakeClock(1000.0)
    openers, reads = _openers(forum_path, clock)
    opener = openers.make(AFR)
    stranger = Sealer(
        type=TYPE_DIGEST, region=AFR.value, recipients=[KemPrivateKey.generate().public_key]
    ).seal(b'{"note": "to nobody here"}')
    for _ in range(5):
        with pytest.raises(NoRecipientKeyError):
            opener.open(stranger)
    assert reads == [1]
    clock.advance(31.0)
    with pytest.raises(NoRecipientKeyError):
        opener.open(stranger)
    assert reads == [1, 1]
