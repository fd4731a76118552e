"""Digest versions and the Secretariat's store on SQLite and PostgreSQL (real databases).

The aggregator's ``digest_versions`` (migration 0002) and the Secretariat's tables work the
same on both: re-issues get the next version, the Secretariat keeps the latest one, a summary
built from the digests equals the one built from the aggregator's store, a refused record
without a region is kept once, whatever its (64-bit) offset, and a withheld cycle is kept
with its reason until it builds again.
"""

from __future__ import annotations

import random
import uuid
from typing import TYPE_CHECKING

import pytest

from dief.aggregator import CaseFacts
from dief.aggregator.store import CaseStore, DigestVersions
from dief.catalogue import load_catalogue
from dief.crypto import KemPrivateKey, Opener, SigningKey
from dief.digests import DigestIssuer, RegionDigests, publish_digests
from dief.kafka import CSP_TOPIC, DIGESTS_TOPIC
from dief.seams import InboundRecord
from dief.secretariat import (
    Secretariat,
    SecretariatConfig,
    SecretariatStore,
    build_summary,
    verify_summary,
)
from dief.testing import MemoryDeadLetterSink, MemoryRecordSink
from dief.vocab import Region
from tests.integration._pipeline_helpers import DATABASE_KINDS, database_url

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.integration

CATALOGUE = load_catalogue()
REGION_KEYS = {r: SigningKey.generate() for r in Region}
SECRETARIAT_SIGN = SigningKey.generate()
SECRETARIAT_KEM = KemPrivateKey.generate()
MONTHS = ("2025-06", "2025-10", "2026-01", "2026-04", "2026-07")
VALUES = {
    "kind": ("case", "alert"),
    "confidence": ("suspected", "confirmed"),
    "transfer_stage": ("in_transit", "at_import", "post_delivery"),
    "method": ("falsified_documents", "shell_company", "complex_routing"),
}


def _facts(region: Region, rng: random.Random) -> list[CaseFacts]:
    out = []
    for _ in range(40):
        month = rng.choice(MONTHS)
        year, mm = int(month[:4]), int(month[5:])
        cycle = f"CSP{year - 2013 if mm >= 9 else year - 2014}"
        values = tuple(sorted((d, rng.choice(v)) for d, v in VALUES.items()))
        out.append(
            CaseFacts(
                record_id=str(uuid.uuid4()),
                case_id=str(uuid.uuid4()),
                revision=1,
                region=region.value,
                status="active",
                contributor=f"{rng.randrange(5):032x}{cycle}"[-32:],
                owner_key="A" * 43,
                month=month,
                cycle=cycle,
                tlp=rng.choice(["green", "amber", "red"]),
                values=values,
                sealed=b"{}",
            )
        )
    return out


@pytest.mark.parametrize("kind", DATABASE_KINDS)
async def test_versions_and_summaries_on_a_real_database(kind: str, tmp_path: Path) -> None:
    async with database_url(kind, tmp_path) as url:
        rng = random.Random(21)
        sink = MemoryRecordSink()
        async with CaseStore(url) as cases:
            for region in Region:
                await cases.apply_batch(region.value, _facts(region, rng))
                issuer = DigestIssuer(
                    region=region,
                    signer=REGION_KEYS[region],
                    recipients=(SECRETARIAT_KEM.public_key,),
                    sink=sink,
                    catalogue=CATALOGUE,
                )
                await publish_digests(cases, region, ["CSP12", "CSP11"], issuer=issuer)
                again = await publish_digests(cases, region, ["CSP12"], issuer=issuer)
                assert [d.version for d in again] == [2]
            state = await DigestVersions(cases).of_region("AFR")
            assert (state["CSP12"].version, state["CSP11"].version) == (2, 1)
            # one protected system: what each region's joint pattern required of its row
            patterns = {
                r: (
                    await RegionDigests.load(
                        cases, r, k=2, k_csp=3, earlier=await cases.published_suppressions(r)
                    )
                ).pattern
                for r in Region
            }
            prior = await build_summary(
                cases,
                "CSP11",
                k=3,
                catalogue=CATALOGUE,
                rows={r: p.rows["CSP11"] for r, p in patterns.items() if "CSP11" in p.rows},
            )
            expected = await build_summary(
                cases,
                "CSP12",
                k=3,
                catalogue=CATALOGUE,
                prior_cycle=prior,
                rows={r: p.rows["CSP12"] for r, p in patterns.items() if "CSP12" in p.rows},
            )

        async with SecretariatStore(url) as inbox:
            out, dlq = MemoryRecordSink(), MemoryDeadLetterSink()
            secretariat = Secretariat(
                inbox,
                Opener([SECRETARIAT_KEM]),
                lambda region: [REGION_KEYS[region].verify_key],
                SECRETARIAT_SIGN,
                dead_letters=lambda _region: dlq,
                sink=out,
                config=SecretariatConfig(catalogue=CATALOGUE),
            )
            # newest first: the older CSP12 versions that follow are stale
            records = [
                InboundRecord(DIGESTS_TOPIC, 0, i, key, value)
                for i, (_, key, value) in enumerate(reversed(sink.sent))
            ]
            report = await secretariat.handle(records)
            assert report.outcomes == {"stored": 10, "stale": 5}
            assert await inbox.versions("CSP12") == {r.value: 2 for r in Region}
            published = {key: value for topic, key, value in out.sent if topic == CSP_TOPIC}
            summary = verify_summary(published[b"CSP12"], [SECRETARIAT_SIGN.verify_key]).summary
            # issued_at is when it was signed, not what it reports
            unsigned = summary.model_copy(update={"signature": None, "issued_at": None})
            assert unsigned == expected

            for _ in range(2):  # kept once per source offset, even past 2**31
                await inbox.record_refused(
                    reason="malformed",
                    detail="not JSON",
                    topic=DIGESTS_TOPIC,
                    partition=0,
                    offset=2**40,
                    value=b"garbage",
                )
            assert await inbox.refused_counts() == {"malformed": 1}
            assert dlq.reasons() == []

            # a withheld cycle: its reason kept, its first day kept, cleared when it builds
            await inbox.record_withheld("CSP13", "a cell no suppression can protect")
            first = (await inbox.withheld())["CSP13"]
            await inbox.record_withheld("CSP13", "its trends compare with CSP12, withheld")
            held = await inbox.withheld()
            assert list(held) == ["CSP13"]
            assert held["CSP13"].reason == "its trends compare with CSP12, withheld"
            assert held["CSP13"].since == first.since
            assert held["CSP13"].since.utcoffset() is not None
            await inbox.clear_withheld("CSP13")
            assert await inbox.withheld() == {}
