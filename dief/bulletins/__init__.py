"""Bulletins and watches (DESIGN §13 ⚑): alerts reach practitioners.

Aggregator side: :class:`BulletinCollector` is told of every applied revision
(``RegionAggregator(applied=collector.offer)``), turns alerts at TLP clear or green into
generalised :class:`~dief.wire.BulletinEntry` values under random ids (retractions when
revised or withdrawn) and hands them over in batches every 10 to 15 minutes with jitter, each
bulletin only when the :class:`~dief.seams.BulletinRelease` rule lets it
(:class:`ContributorRelease`: at least 3 distinct contributors in the current cycle, then
the joint audit if given). :class:`BulletinSealer` signs a batch with the region's signing
key and seals it to the bulletin group key (:mod:`dief.keyring`:
:func:`~dief.keyring.issue_bulletin_group_key`); :class:`BulletinPublisher` sends it to
:data:`BULLETINS_TOPIC`.

Node side: :class:`BulletinReader` opens with the node's group keys and verifies the
region's signature (anything else is ignored and counted); :class:`BulletinBoard` keeps the
bulletins in force; :func:`read_bulletins` reads the topic; :class:`WatchStore` keeps the
node's :class:`Watch` es, evaluated locally (:func:`match_watches`);
:func:`alert_listing` is what ``dief alerts`` (and the portal) shows.
"""

from __future__ import annotations

from dief.bulletins._audit import Documents, bulletin_audit_check, folder_documents
from dief.bulletins._board import AlertLine, BulletinBoard, alert_listing, questions_of
from dief.bulletins._collector import (
    DEFAULT_INTERVAL,
    DEFAULT_JITTER,
    BulletinCollector,
    BulletinMemory,
    FileBulletinMemory,
    MemoryBulletinMemory,
)
from dief.bulletins._documents import HeldSummaries, StoreDocuments, SummaryRead, own_digests
from dief.bulletins._follow import BulletinFollower, node_follower
from dief.bulletins._generalise import (
    BULLETIN_TLPS,
    eligible,
    generalise,
    new_bulletin_id,
    retraction,
)
from dief.bulletins._ledger import BulletinLedger, KeptBulletin, MemoryLedger
from dief.bulletins._region import RegionBulletins
from dief.bulletins._release import MIN_CONTRIBUTORS, CellCounts, ContributorRelease
from dief.bulletins._seal import (
    BULLETINS_TOPIC,
    GROUP_KEY_PREFIX,
    BulletinReader,
    BulletinSealer,
    OpenedBulletins,
    RegionKeys,
    record_key,
)
from dief.bulletins._service import (
    BulletinPublisher,
    BulletinsRead,
    publish_group_key,
    read_bulletins,
)
from dief.bulletins._store import (
    BULLETIN_SCHEMA,
    BulletinCounts,
    BulletinStore,
    StoredBulletin,
    StoredMatch,
)
from dief.bulletins._watches import FACETS, Watch, WatchMatch, WatchStore, match_watches

__all__ = [
    "BULLETINS_TOPIC",
    "BULLETIN_SCHEMA",
    "BULLETIN_TLPS",
    "DEFAULT_INTERVAL",
    "DEFAULT_JITTER",
    "FACETS",
    "GROUP_KEY_PREFIX",
    "MIN_CONTRIBUTORS",
    "AlertLine",
    "BulletinBoard",
    "BulletinCollector",
    "BulletinCounts",
    "BulletinFollower",
    "BulletinLedger",
    "BulletinMemory",
    "BulletinPublisher",
    "BulletinReader",
    "BulletinSealer",
    "BulletinStore",
    "BulletinsRead",
    "CellCounts",
    "ContributorRelease",
    "Documents",
    "FileBulletinMemory",
    "HeldSummaries",
    "KeptBulletin",
    "MemoryBulletinMemory",
    "MemoryLedger",
    "OpenedBulletins",
    "RegionBulletins",
    "RegionKeys",
    "StoreDocuments",
    "StoredBulletin",
    "StoredMatch",
    "SummaryRead",
    "Watch",
    "WatchMatch",
    "WatchStore",
    "alert_listing",
    "bulletin_audit_check",
    "eligible",
    "folder_documents",
    "generalise",
    "match_watches",
    "new_bulletin_id",
    "node_follower",
    "own_digests",
    "publish_group_key",
    "questions_of",
    "read_bulletins",
    "record_key",
    "retraction",
]
