"""Every shipped catalogue version, the rules between versions, the bibliography, the
themes the Working Group asks for (issue 14) and the checklist filter."""

from __future__ import annotations

import hashlib
import itertools
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from dief.catalogue import (
    Catalogue,
    CitationStyle,
    IndicatorGroup,
    Source,
    catalogue_version,
    check_succession,
    is_well_formed_id,
    load_catalogue,
    load_catalogues,
    parse_catalogue,
    shipped_versions,
    stage_count_table,
)
from dief.exceptions import ConfigurationError
from dief.vocab import TransferStage, TransferType

DOCS = Path(__file__).resolve().parents[2] / "docs" / "catalogue.md"

#: (id, title, question, stages) of version 2026.1 as first shipped: it never changes.
V2026_1_FINGERPRINT = "3954905873d2128fcd6411fd8a121991fe3c79ab19461b5fef6423d46db1600a"

#: Sources without one edition year (documents maintained online, a series of reports):
#: their year is null rather than guessed.
UNDATED = {
    "wa-euas",
    "wa-reexport",
    "wa-brokering",
    "wa-transit",
    "wa-surplus",
    "bis-red-flags",
    "mosaic-stockpile",
    "iatg",
    "ti-gdi",
    "un-panels",
}

#: Every pinpoint below article level was checked against its document; a new one is
#: added here only after checking it (ATT articles are matched by the pattern).
CHECKED_PINPOINTS = {
    ("osce-euc", "verification procedures"),
    ("solas", "Chapter V, Regulation 19"),
    *(("eu-cp", f"Art. 2, Criterion Seven ({x})") for x in "abcde"),
    *(
        ("osce-handbook", f"Best Practice Guide on {chapter}")
        for chapter in (
            "Export Control of SALW",
            "National Controls over Brokering Activities",
            "National Procedures for Stockpile Management and Security",
            "Marking, Record-Keeping and Traceability of SALW",
            "the Definition and Indicators of a Surplus of SALW",
            "National Procedures for the Destruction of SALW",
        )
    ),
}
_ATT_ARTICLE = r"Art\. \d{1,2}(\(\d\))?( \([a-z ]+\))?"
ATT_PINPOINT = re.compile(rf"^{_ATT_ARTICLE}( and {_ATT_ARTICLE})*$")


def all_versions() -> list[Catalogue]:
    return list(load_catalogues().values())


@pytest.fixture(scope="module")
def latest() -> Catalogue:
    return load_catalogue()


@pytest.fixture(scope="module")
def first() -> Catalogue:
    return catalogue_version("2026.1")


# --- versions -------------------------------------------------------------------------


def test_every_version_ships_oldest_first(latest: Catalogue) -> None:
    catalogues = load_catalogues()
    assert list(catalogues)[:2] == ["2026.1", "2026.2"]
    assert shipped_versions() == tuple(catalogues)
    assert load_catalogues() is catalogues
    assert latest is catalogues[shipped_versions()[-1]] is load_catalogue()
    assert load_catalogue("2026.1") is catalogues["2026.1"] is catalogue_version("2026.1")
    assert all(version == c.version for version, c in catalogues.items())


def test_unknown_version_is_refused_with_the_shipped_ones() -> None:
    with pytest.raises(ConfigurationError, match=r"'1999\.1' is not shipped.*2026\.1, 2026\.2"):
        catalogue_version("1999.1")
    with pytest.raises(ConfigurationError, match="not shipped"):
        load_catalogue("2026.1-rc1")


def test_no_version_is_read_at_import() -> None:
    code = (
        "import dief.catalogue, dief.cli\n"
        "from dief.catalogue import load_catalogue, load_catalogues\n"
        "assert load_catalogues.cache_info().currsize == 0\n"
        "assert load_catalogue.cache_info().currsize == 0\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr


def test_version_2026_1_is_unchanged(first: Catalogue) -> None:
    rows = [[i.id, i.title, i.question, [s.value for s in i.stages]] for i in first]
    digest = hashlib.sha256(json.dumps(rows, ensure_ascii=False).encode()).hexdigest()
    assert digest == V2026_1_FINGERPRINT
    assert len(first) == 52


def test_latest_has_at_least_80_indicators(latest: Catalogue) -> None:
    assert latest.version == "2026.2"
    assert len(latest) >= 80


@pytest.mark.parametrize("catalogue", all_versions(), ids=lambda c: c.version)
def test_ids_unique_well_formed_and_numbered_in_order(catalogue: Catalogue) -> None:
    ids = catalogue.ids
    assert len(set(ids)) == len(ids)
    assert all(is_well_formed_id(i) for i in ids)
    for group in IndicatorGroup:
        numbers = [int(ind.id.split("-")[1]) for ind in catalogue.in_group(group)]
        assert numbers == list(range(1, len(numbers) + 1)), group
        assert all(ind.id.startswith(f"{group.value}-") for ind in catalogue.in_group(group))


@pytest.mark.parametrize("catalogue", all_versions(), ids=lambda c: c.version)
def test_every_entry_is_complete(catalogue: Catalogue) -> None:
    for ind in catalogue:
        assert ind.title[:1].isupper(), ind.id
        assert ind.question.endswith("?"), ind.id
        assert "\n" not in ind.question, ind.id
        assert 20 <= len(ind.question) <= 250, ind.id
        assert ind.stages, ind.id
        assert len(set(ind.stages)) == len(ind.stages), ind.id
        assert ind.transfer_types, ind.id
        assert TransferType.UNKNOWN not in ind.transfer_types, ind.id
        assert len(set(ind.transfer_types)) == len(ind.transfer_types), ind.id
        assert ind.sources, ind.id
        assert len({ref.key for ref in ind.sources}) == len(ind.sources), ind.id
        for ref in ind.sources:
            assert catalogue.sources[ref.key] is ref.source, (ind.id, ref.key)
            assert ref.source.title, ref.key
            assert ref.source.body, ref.key


def test_latest_names_transfer_types_for_every_entry() -> None:
    """2026.1's file predates transfer types (so all apply); 2026.2 writes them out."""
    raw = json.loads(
        (Path(__file__).resolve().parents[2] / "dief/catalogue/versions/2026.2.json").read_text()
    )
    assert all(entry.get("transfer_types") for entry in raw["indicators"])
    every = set(TransferType) - {TransferType.UNKNOWN}
    narrower = [i for i in load_catalogue() if set(i.transfer_types) != every]
    assert len(narrower) > len(load_catalogue()) // 2, "types are chosen, not defaulted"


# --- the rules between versions -------------------------------------------------------


def test_ids_are_never_removed_and_keep_their_meaning() -> None:
    catalogues = all_versions()
    for n, older in enumerate(catalogues):
        for newer in catalogues[n + 1 :]:
            assert set(older.ids) <= set(newer.ids), (older.version, newer.version)
            for ind in older:
                now = newer[ind.id]
                assert now.group is ind.group
                assert now.title == ind.title or ind.id in newer.changes.retitled
                assert now.question == ind.question or ind.id in newer.changes.reworded
    for older, newer in itertools.pairwise(catalogues):
        assert newer.changes.previous == older.version
        assert sorted(newer.changes.added) == sorted(set(newer.ids) - set(older.ids))


def _version(version: str, entries: dict[str, tuple[str, str]], **changes: object) -> Catalogue:
    return parse_catalogue(
        json.dumps(
            {
                "version": version,
                "changes": changes or None,
                "groups": {g.value: g.value for g in IndicatorGroup},
                "sources": {"s": {"title": "T", "body": "B", "year": 2020}},
                "indicators": [
                    {
                        "id": ind_id,
                        "title": title,
                        "question": question,
                        "stages": ["pre_transfer"],
                        "sources": [{"ref": "s"}],
                    }
                    for ind_id, (title, question) in entries.items()
                ],
            }
        )
    )


OLD = {"DOC-01": ("Old title", "Old question?"), "EU-01": ("E", "E?")}


@pytest.mark.parametrize(
    ("entries", "changes", "fragment"),
    [
        ({"DOC-01": OLD["DOC-01"]}, {"previous": "2026.1"}, "removes ids ['EU-01']"),
        ({**OLD, "DOC-01": ("New title", "Old question?")}, {"previous": "2026.1"}, "title"),
        ({**OLD, "DOC-01": ("Old title", "Another?")}, {"previous": "2026.1"}, "question"),
        (OLD, {"previous": "2025.9"}, "'changes.previous' must be '2026.1'"),
        (OLD, {}, "'changes.previous' must be '2026.1'"),
        ({**OLD, "DOC-02": ("N", "N?")}, {"previous": "2026.1"}, "exactly ['DOC-02']"),
    ],
)
def test_succession_refusals(
    entries: dict[str, tuple[str, str]], changes: dict[str, object], fragment: str
) -> None:
    older = _version("2026.1", OLD)
    newer = _version("2026.2", entries, **changes)
    with pytest.raises(ConfigurationError, match=re.escape(fragment)):
        check_succession(older, newer)


def test_succession_accepts_a_listed_rewording() -> None:
    older = _version("2026.1", OLD)
    entries = {**OLD, "DOC-01": ("Clearer title", "Old question?"), "DOC-02": ("N", "N?")}
    why = {"DOC-01": "clearer wording, same meaning"}
    newer = _version("2026.2", entries, previous="2026.1", added=["DOC-02"], retitled=why)
    check_succession(older, newer)  # accepted: it raises nothing
    assert newer["DOC-01"].title == "Clearer title"
    # the listing is what makes it acceptable: the same change unlisted is refused
    unlisted = _version("2026.2", entries, previous="2026.1", added=["DOC-02"])
    with pytest.raises(ConfigurationError, match=re.escape("the title of ['DOC-01']")):
        check_succession(older, unlisted)


# --- the bibliography -----------------------------------------------------------------


@pytest.mark.parametrize("catalogue", all_versions(), ids=lambda c: c.version)
def test_bibliography_is_structured(catalogue: Catalogue) -> None:
    used = {ref.key for ind in catalogue for ref in ind.sources}
    assert used == set(catalogue.sources), "every source is cited, every cited one exists"
    for key, source in catalogue.sources.items():
        assert source.key == key
        assert source.title.strip()
        assert source.body.strip()
        if key in UNDATED:
            assert source.year is None
        else:
            assert isinstance(source.year, int), key
            assert 1970 <= source.year <= 2026, key
        assert source.citation.startswith(
            source.title
            if source.style is CitationStyle.INSTRUMENT
            else source.authors or source.body
        )
        if source.url is not None:
            assert source.url.startswith("https://"), key
    dated = [s for s in catalogue.sources.values() if s.year is not None]
    assert len(dated) >= 2 * len(catalogue.sources) // 3


@pytest.mark.parametrize("catalogue", all_versions(), ids=lambda c: c.version)
def test_pinpoints_only_where_checked(catalogue: Catalogue) -> None:
    for ind in catalogue:
        for ref in ind.sources:
            if ref.pinpoint is None:
                continue
            if ref.key == "att":
                assert ATT_PINPOINT.match(ref.pinpoint), (ind.id, ref.pinpoint)
            else:
                assert (ref.key, ref.pinpoint) in CHECKED_PINPOINTS, (ind.id, ref.pinpoint)


def test_known_document_symbols(latest: Catalogue) -> None:
    symbols = {k: s.symbol for k, s in latest.sources.items() if s.symbol}
    assert symbols == {
        "wgeti-diversion": "ATT/CSP4.WGETI/2018/CHAIR/355/Conf.Rep",
        "osce-euc": "FSC.DEC/5/04",
        "bis-red-flags": "Supplement No. 3 to 15 CFR Part 732",
        "iti": "A/60/88",
        "gge-brokering": "A/62/163",
        "imo-ais": "Resolution A.1106(29)",
        "firearms-protocol": "A/RES/55/255",
        "poa": "A/CONF.192/15",
    }


def test_citation_styles() -> None:
    work = Source("k", "Title", "Body", 2018, series="Issue Brief No. 1", note="as amended")
    assert work.citation == "Body, 'Title', Issue Brief No. 1 (2018, as amended)"
    authored = Source("k", "Title", "Body", 2020, authors="A. B and C. D")
    assert authored.citation == "A. B and C. D, 'Title' (Body, 2020)"
    treaty = Source(
        "k", "Treaty", "UNGA", 2001, symbol="A/RES/55/255", style=CitationStyle.INSTRUMENT
    )
    assert treaty.citation == "Treaty (2001), UN doc. A/RES/55/255"
    series = Source(
        "k", "reports", "Council", None, note="various years", style=CitationStyle.DESCRIPTIVE
    )
    assert series.citation == "Council, reports (various years)"
    assert Source("k", "T", "B", None).citation == "B, 'T'"
    assert (
        Source("k", "T", "B", 2004, symbol="FSC.DEC/5/04").citation == "B, 'T' (2004), FSC.DEC/5/04"
    )


# --- what the Working Group asks for (issue 14) ---------------------------------------


def _text(catalogue: Catalogue) -> str:
    return " ".join(f"{i.title} {i.question}" for i in catalogue)


THEMES = {
    "maritime": [
        r"\bvessel",
        r"\bmaritime\b",
        r"\bfloating\b",
        r"\bAIS\b",
        r"\bflag\b",
        r"ship-to-ship",
        r"\bport calls?\b",
        r"\bfree zone\b",
    ],
    "brokers": [
        r"\bthird jurisdiction\b",
        r"\bbrokering licence\b",
        r"\bshipping agent\b",
        r"\bfreight forwarder\b",
    ],
    "corruption": [r"\bcommissions?\b", r"\bunrelated\b", r"\bskip a check\b", r"\bgift\b"],
    "conversion": [r"\bblank-firing\b", r"\bconver(ted|sion)\b", r"\balarm\b"],
    "instability": [r"\bcoup\b", r"\barms embargo\b", r"\bunrest\b"],
    "import": [r"\bimport (licence|marking)\b", r"\bAt import\b", r"\bcustoms declaration\b"],
    "post-delivery": [
        r"\bpost-shipment\b",
        r"\bre-export\b",
        r"\bitems missing\b",
        r"\bphysical inventory\b",
        r"\brecords?\b",
    ],
}


@pytest.mark.parametrize("theme", sorted(THEMES))
def test_latest_covers_each_theme(latest: Catalogue, theme: str) -> None:
    text = _text(latest)
    missing = [word for word in THEMES[theme] if not re.search(word, text, re.IGNORECASE)]
    assert missing == [], theme


def test_the_words_the_issue_found_missing(first: Catalogue, latest: Catalogue) -> None:
    words = [r"\bvessel", r"\bmaritime\b", r"\bfloating\b", r"\bAIS\b"]
    assert [w for w in words if re.search(w, _text(first), re.IGNORECASE)] == []
    assert [w for w in words if not re.search(w, _text(latest))] == []


def test_stages_rebalanced(first: Catalogue, latest: Catalogue) -> None:
    for stage in (
        TransferStage.AT_IMPORT,
        TransferStage.IN_TRANSIT,
        TransferStage.POST_DELIVERY,
        TransferStage.STOCKPILE,
    ):
        assert len(latest.for_stage(stage)) >= 2 * len(first.for_stage(stage)), stage
    pre = len(latest.for_stage(TransferStage.PRE_TRANSFER))
    assert len(latest.for_stage(TransferStage.AT_IMPORT)) * 2 >= pre


# --- the checklist filter -------------------------------------------------------------


def test_checklist_for_an_export_assessment(latest: Catalogue) -> None:
    chosen = latest.checklist(stage=TransferStage.PRE_TRANSFER, transfer_type=TransferType.EXPORT)
    expected = [
        i
        for i in latest
        if TransferStage.PRE_TRANSFER in i.stages and TransferType.EXPORT in i.transfer_types
    ]
    assert list(chosen) == expected
    ids = {i.id for i in chosen}
    assert {"DOC-02", "EU-08", "TRX-05", "CTX-09"} <= ids
    assert not ids & {"PDV-11", "RTE-10", "ITM-14", "DOC-11"}


@pytest.mark.parametrize(
    ("stage", "transfer_type", "present", "absent"),
    [
        (TransferStage.IN_TRANSIT, TransferType.TRANS_SHIPMENT, {"RTE-08", "RTE-10"}, {"TRX-05"}),
        (TransferStage.STOCKPILE, TransferType.INTERNAL, {"PDV-11", "CTX-01"}, {"RTE-14"}),
        (TransferStage.AT_IMPORT, TransferType.IMPORT, {"ITM-14", "EU-09"}, {"EU-08"}),
        (None, TransferType.BROKERING, {"ACT-07", "ACT-08"}, {"PDV-11"}),
        (TransferStage.POST_DELIVERY, None, {"PDV-07", "CTX-09"}, {"DOC-02"}),
    ],
)
def test_checklist_filters(
    latest: Catalogue,
    stage: TransferStage | None,
    transfer_type: TransferType | None,
    present: set[str],
    absent: set[str],
) -> None:
    ids = {i.id for i in latest.checklist(stage, transfer_type)}
    assert present <= ids
    assert not ids & absent


def test_checklist_without_filter_or_unknown_type_is_everything(
    first: Catalogue, latest: Catalogue
) -> None:
    assert latest.checklist() == latest.indicators
    assert latest.checklist(transfer_type=TransferType.UNKNOWN) == latest.indicators
    # 2026.1 named no transfer types: every entry applies to every type.
    assert first.checklist(transfer_type=TransferType.BROKERING) == first.indicators


def test_docs_carry_the_count_table(latest: Catalogue) -> None:
    table = stage_count_table(latest)
    assert table in DOCS.read_text("utf-8"), "paste stage_count_table(load_catalogue())"
    total = table.splitlines()[-1]
    assert total.endswith(f"| {len(latest)} |")
