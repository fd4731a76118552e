"""A name the screener finds is refused over its whole span, not only its last words.

Found in session 8: a company's name was cut at "la" ("Société Générale de la Banque
Ltd" gave "Banque Ltd"), a person's at a run of particles ("Broker Juan de la Cruz" gave
"Juan"), and two overlapping findings of one name kept only one of them ("Mr José Luis
Rodríguez Zapatero": the title's three names and the given name's three, "José"
dropped). The rest of the name was published. Each case below redacts the refused spans
and checks that no part of the name is left.
"""

from __future__ import annotations

import itertools

import pytest

from dief.screening import FindingKind, screen_text
from dief.screening._findings import resolve_overlaps


def _redacted(text: str) -> str:
    """*text* with every refused span blacked out (what a reader of the refusal can keep)."""
    out = list(text)
    for f in screen_text("summary", text):
        out[f.start : f.end] = ["█"] * (f.end - f.start)
    return "".join(out)


def _assert_whole_name_refused(text: str, name: str) -> None:
    start = text.index(name)
    redacted = _redacted(text)
    assert redacted[start : start + len(name)] == "█" * len(name), redacted
    assert redacted[:start] == text[:start]  # what precedes the name is not refused


_ORGANIZATIONS = [
    ("Société Générale de la Banque Ltd shipped the cargo.", "Société Générale de la Banque Ltd"),
    ("The fee was paid to Banco de la Plata S.A. in cash.", "Banco de la Plata S.A."),
    ("Compañía Minera de los Andes S.A. was the consignee.", "Compañía Minera de los Andes S.A."),
    ("Payment went through Banco do Nordeste S.A. again.", "Banco do Nordeste S.A."),
    (
        "The broker used Handelmaatschappij van der Berg B.V. twice.",
        "Handelmaatschappij van der Berg B.V.",
    ),
    ("The end user was Dar al-Salam Trading LLC in the end.", "Dar al-Salam Trading LLC"),
    (
        "Funds passed via Banque du Commerce et des Mines SARL.",
        "Banque du Commerce et des Mines SARL",
    ),
    (
        "The insurer was Lloyd of the Levant Insurance Ltd then.",
        "Lloyd of the Levant Insurance Ltd",
    ),
    (
        "The guarantee came from Banco Nacional de Fomento de la Industria del Sur S.A. late.",
        "Banco Nacional de Fomento de la Industria del Sur S.A.",
    ),
]

_PERSONS = [
    ("Broker Juan de la Cruz signed.", "Juan de la Cruz"),
    ("Mr Juan de la Cruz signed.", "Juan de la Cruz"),
    ("The contract was signed by Juan de la Cruz in person.", "Juan de la Cruz"),
    ("Broker João dos Santos Pereira signed.", "João dos Santos Pereira"),
    ("Broker Pieter van der Berg signed.", "Pieter van der Berg"),
    ("Mr. van der Berg signed.", "van der Berg"),
    ("Agent Hans von der Heide called.", "Hans von der Heide"),
    ("Broker Ahmed ibn Rashid al-Maktoum signed.", "Ahmed ibn Rashid al-Maktoum"),
    (
        "Sheikh Hamdan bin Mohammed bin Rashid al-Maktoum signed.",
        "Hamdan bin Mohammed bin Rashid al-Maktoum",
    ),
    ("Broker José Ortega y Gasset signed.", "José Ortega y Gasset"),
    ("le courtier Louis du Pont de Nemours a signé.", "Louis du Pont de Nemours"),
    ("Capitaine Jean des Roches a signé.", "Jean des Roches"),
    (
        "Broker María del Carmen Rodríguez de la Fuente signed.",
        "María del Carmen Rodríguez de la Fuente",
    ),
    ("Mr José Luis Rodríguez Zapatero signed.", "José Luis Rodríguez Zapatero"),
    ("Broker João Pedro dos Santos Silva Pereira signed.", "João Pedro dos Santos Silva Pereira"),
]


@pytest.mark.parametrize(("text", "name"), _ORGANIZATIONS)
def test_a_companys_whole_name_is_refused(text: str, name: str) -> None:
    _assert_whole_name_refused(text, name)


@pytest.mark.parametrize(("text", "name"), _PERSONS)
def test_a_persons_whole_name_is_refused(text: str, name: str) -> None:
    _assert_whole_name_refused(text, name)


def _covered(spans: list[tuple[int, int, FindingKind]]) -> set[int]:
    return {i for start, end, _kind in spans for i in range(start, end)}


@pytest.mark.parametrize(
    "spans",
    [
        # one name found twice, in overlapping pieces (a title's names, a given name's)
        [(3, 22, FindingKind.PERSON), (8, 31, FindingKind.PERSON)],
        # a company over a person's name that runs on past it
        [(0, 20, FindingKind.ORGANIZATION), (15, 28, FindingKind.PERSON)],
        # a shorter span bridging two longer ones
        [
            (0, 10, FindingKind.PERSON),
            (20, 30, FindingKind.ORGANIZATION),
            (8, 22, FindingKind.CITY),
        ],
    ],
)
def test_overlapping_findings_refuse_all_they_cover(
    spans: list[tuple[int, int, FindingKind]],
) -> None:
    kept = resolve_overlaps("summary", spans)
    assert _covered([(f.start, f.end, f.kind) for f in kept]) == _covered(spans)
    assert all(a.end <= b.start for a, b in itertools.pairwise(kept))  # no overlaps


def test_a_finding_inside_another_is_still_dropped() -> None:
    kept = resolve_overlaps(
        "summary", [(0, 14, FindingKind.ORGANIZATION), (5, 10, FindingKind.PLACE)]
    )
    assert [(f.start, f.end, f.kind) for f in kept] == [(0, 14, FindingKind.ORGANIZATION)]


def test_the_rest_of_a_name_found_twice_joins_the_finding() -> None:
    kept = resolve_overlaps("summary", [(3, 22, FindingKind.PERSON), (8, 31, FindingKind.PERSON)])
    assert [(f.start, f.end) for f in kept] == [(3, 31)]


def _found(text: str) -> list[tuple[str, str]]:
    return [(text[f.start : f.end], f.kind.value) for f in screen_text("summary", text)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # words that join a name inside it start none
        ("the cargo of the Acme Trading Ltd ship", [("Acme Trading Ltd", "organization")]),
        ("shipped by la Banque Ltd in May", [("Banque Ltd", "organization")]),
        # a particle before a lower-case word ends the name
        ("Broker John Smith de la société signed.", [("John Smith", "person")]),
        ("el señor García y su hermano firmaron", [("García", "person")]),
        ("Broker Pieter van der wal signed.", [("Pieter", "person")]),
        # a given name and particles with no name after them are no person
        ("They met Juan de la mañana.", []),
        # generic words, and the words that join them, start no company's name
        ("The Department of the Treasury Ltd", [("Treasury Ltd", "organization")]),
    ],
)
def test_particles_join_names_only_between_their_words(
    text: str, expected: list[tuple[str, str]]
) -> None:
    assert _found(text) == expected


@pytest.mark.parametrize("particle", ["du", "dos", "das", "de", "van", "von", "bin", "al"])
def test_a_title_takes_every_shared_particle(particle: str) -> None:
    # the title regex of the persons' module kept a third copy of the particles without
    # du/dos/das; it was never used (the word walk is) and is gone
    assert _found(f"Mr Louis {particle} Martel signed.") == [(f"Louis {particle} Martel", "person")]
