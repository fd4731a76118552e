"""Data versions (docs/audit.md "Issue linking"): the store counts the changes applied to
each (region, period); documents state a token renewed on each as ``data_version``; the
audit links two issues' tables only where they state the same one."""

from __future__ import annotations

import dataclasses
import json
import uuid
from typing import TYPE_CHECKING, Any

from dief.aggregator.store import CaseStore
from dief.audit import audit_folder
from dief.catalogue import load_catalogue
from dief.database import sqlite_url
from dief.render import write_outputs
from tests.unit.reporting_support import make_facts

if TYPE_CHECKING:
    from pathlib import Path

    from dief.aggregator import CaseFacts

CATALOGUE = load_catalogue()

VALUES = (("kind", "case"), ("transfer_stage", "pre_transfer"))


async def test_the_store_counts_the_changes_of_each_period(tmp_path: Path) -> None:
    async with CaseStore(sqlite_url(tmp_path / "cases.db")) as store:
        first = [make_facts(region="AFR", month="2025-10", node=n, values=VALUES) for n in range(3)]
        await store.apply_batch("AFR", first)
        one = await store.data_versions("AFR")
        assert {"2025-10", "2025-Q4", "CSP12"} <= set(one)
        assert all(n == 1 for n, _ in one.values())
        # a batch in another quarter leaves October's version alone
        later = [make_facts(region="AFR", month="2026-04", node=7, values=VALUES)]
        await store.apply_batch("AFR", later)
        two = await store.data_versions("AFR")
        assert two["2025-10"] == one["2025-10"]
        assert two["2025-Q4"] == one["2025-Q4"]
        assert two["CSP12"][0] == 2
        assert two["CSP12"][1] != one["CSP12"][1]
        assert "2026-04" in two
        assert "2026-04" not in one
        # a duplicate changes nothing
        await store.apply_batch("AFR", later)
        assert await store.data_versions("AFR") == two


async def test_the_token_is_the_data_s_however_it_was_batched(tmp_path: Path) -> None:
    """The same cases in one batch or in three give the same tokens (a run on another
    broker batches differently and must state the same data_version); a revision, or a
    withdrawal, of one case changes its periods' tokens and no other's."""
    cases = [
        make_facts(region="AFR", month=month, node=n, values=VALUES)
        for n, month in enumerate(("2025-10", "2025-10", "2025-11", "2026-04"))
    ]
    async with (
        CaseStore(sqlite_url(tmp_path / "one.db")) as one,
        CaseStore(sqlite_url(tmp_path / "three.db")) as three,
    ):
        await one.apply_batch("AFR", cases)
        for part in (cases[:1], cases[1:3], cases[3:]):
            await three.apply_batch("AFR", part)
        tokens = {p: token for p, (_, token) in (await one.data_versions("AFR")).items()}
        assert tokens == {p: token for p, (_, token) in (await three.data_versions("AFR")).items()}
        revised = dataclasses.replace(
            cases[3], record_id=str(uuid.uuid4()), revision=cases[3].revision + 1
        )
        await one.apply_batch("AFR", [revised])
        after = {p: token for p, (_, token) in (await one.data_versions("AFR")).items()}
        assert after["2026-04"] != tokens["2026-04"]
        assert after["CSP12"] != tokens["CSP12"]
        assert after["2025-10"] == tokens["2025-10"]


COMMON = (
    ("kind", "case"),
    ("confidence", "suspected"),
    ("end_user_type", "unknown"),
    ("detection_source", "customs_border_control"),
    ("item_category", "small_arms"),
)


def _case(node: int, month: str, stage: str) -> CaseFacts:
    values = (*COMMON, ("transfer_stage", stage))
    return make_facts(region="AFR", month=month, node=node, values=values)


async def _issue(store: CaseStore, out: Path) -> None:
    await write_outputs(
        out,
        store,
        regions=["AFR"],
        k_meeting=2,
        k_csp=3,
        catalogue=CATALOGUE,
        html=False,
        docx=False,
    )


def _doc(out: Path, name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((out / name).read_text(encoding="utf-8"))
    return data


async def _two_issues(tmp_path: Path) -> tuple[Path, Path]:
    """October's cases (a stockpile cell of one contributor, hidden in 2025-Q4), then a
    later batch in April: 2025-Q4 is unchanged between the issues, CSP12 is not."""
    one, two = tmp_path / "one", tmp_path / "two"
    async with CaseStore(sqlite_url(tmp_path / "cases.db")) as store:
        october = [
            *(_case(n % 4, "2025-10", "pre_transfer") for n in range(8)),
            *(_case(4 + n % 3, "2025-10", "post_delivery") for n in range(6)),
            _case(9, "2025-10", "stockpile"),
        ]
        await store.apply_batch("AFR", october)
        await _issue(store, one)
        april = [_case(n % 4, "2026-04", "pre_transfer") for n in range(5)]
        await store.apply_batch("AFR", april)
        await _issue(store, two)
    return one, two


async def test_documents_state_their_data_version(tmp_path: Path) -> None:
    one, two = await _two_issues(tmp_path)
    q4 = "digests/AFR/2025-Q4.json"
    cycle = "digests/AFR/CSP12.json"
    v1, v2 = (_doc(o, q4)["notes"].get("data_version") for o in (one, two))
    assert v1 is not None
    assert v1 == v2, "an unchanged period states the same version"
    c1, c2 = (_doc(o, cycle)["notes"].get("data_version") for o in (one, two))
    assert c1 is not None
    assert c2 is not None
    assert c1 != c2, "a changed period states another"
    s1, s2 = (_doc(o, "summary/CSP12.json") for o in (one, two))
    assert s1["regions"]["AFR"]["data_version"] != s2["regions"]["AFR"]["data_version"]
    assert s1["global"]["data_version"] != s2["global"]["data_version"]


def _publish_hidden(out: Path, name: str, truth: dict[str, int], version: object) -> None:
    """The protection forgetting its pattern in a re-issue: every hidden stage published."""
    path = out / name
    doc = _doc(out, name)
    for cell in doc["dimensions"]["transfer_stage"]:
        if cell["count"] is None and cell["value"] in truth:
            cell.update(count=truth[cell["value"]], contributors=1, suppressed=False)
    doc["notes"]["data_version"] = version
    path.write_text(json.dumps(doc), encoding="utf-8")


async def test_the_audit_links_an_unchanged_table_across_issues(tmp_path: Path) -> None:
    one, two = await _two_issues(tmp_path)
    q4 = "digests/AFR/2025-Q4.json"
    hidden = [c for c in _doc(one, q4)["dimensions"]["transfer_stage"] if c["count"] is None]
    assert hidden, "issue 1 hides the one-contributor stockpile cell (and a partner)"
    truth = {"pre_transfer": 8, "post_delivery": 6, "stockpile": 1}
    alone = audit_folder(one, "AFR")
    assert not [c for c in alone.determined if c.table.endswith("2025-Q4")]
    # issue 2 states the same data version for 2025-Q4: the audit links the two, and
    # issue 2's published counts give issue 1's hidden ones away
    _publish_hidden(two, q4, truth, _doc(one, q4)["notes"]["data_version"])
    linked = audit_folder([one, two], "AFR")
    caught = {c.cell for c in linked.determined if c.issue == "issue1" and "2025-Q4" in c.table}
    assert "transfer_stage/stockpile" in caught
    # stating other versions (the data changed), nothing links them (2025-Q4, and
    # CSP12-H1, also unchanged, which equals 2025-Q4 in both issues: every digest)
    _publish_hidden(two, q4, truth, "another")
    for path in (two / "digests" / "AFR").glob("*.json"):
        doc = json.loads(path.read_text(encoding="utf-8"))
        doc["notes"]["data_version"] = f"another-{path.stem}"
        path.write_text(json.dumps(doc), encoding="utf-8")
    apart = audit_folder([one, two], "AFR")
    assert not [c for c in apart.determined if c.issue == "issue1" and "2025-Q4" in c.table]
