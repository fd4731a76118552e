"""The word sets the detectors derive from dief.screening._words: each detector's own
additions still act (a person's "le", a company's "&" / "et" / "y" / "des", a vessel's
"Was" / "Customs") and the other detectors' do not (a person's months and Romance
articles stay part of a vessel's name; "and" does not join two persons)."""

from __future__ import annotations

import pytest

from dief.screening._entities_orgs import find_organizations
from dief.screening._entities_persons import find_persons
from dief.screening._entities_words import Words
from dief.screening._patterns_identifiers import identifiers
from dief.screening._words import NAME_PARTICLES, SENTENCE_WORDS


def _persons(text: str) -> list[str]:
    return [text[start:end] for start, end, _kind in find_persons(text, Words(text))]


def _organizations(text: str) -> list[str]:
    return [text[start:end] for start, end, _kind in find_organizations(text, Words(text))]


def _vessels(text: str) -> list[str]:
    return [text[start:end] for start, end, _kind in identifiers(text)]


def test_the_shared_sets_keep_their_case() -> None:
    assert all(w.islower() for w in NAME_PARTICLES)
    assert all(w[0].isupper() for w in SENTENCE_WORDS)


def test_a_persons_article_particle_stays_in_the_name() -> None:
    assert "John le Carré" in _persons("Broker John le Carré signed.")


def test_and_between_two_persons_names_joins_no_name() -> None:
    found = _persons("Broker John Smith and Peter Brown signed.")
    assert "Peter Brown" in found
    assert not any("and" in name for name in found)


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("paid to Smith & Sons Ltd.", "Smith & Sons Ltd."),
        ("paid to Dupont et Fils SARL.", "Dupont et Fils SARL"),
        ("paid to García y Hijos S.A.", "García y Hijos S.A."),
        ("paid to Compagnie des Indes SARL.", "Compagnie des Indes SARL"),
    ],
)
def test_a_companys_connectors_stay_in_its_name(text: str, name: str) -> None:
    assert name in _organizations(text)


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("the MV Ocean Star Was late", "Ocean Star"),  # a vessel's own stop word
        ("MV Ocean Star Customs inspected", "Ocean Star"),
        ("MV Ocean Star In port", "Ocean Star"),  # a shared sentence word
        (
            "The vessel MV El Faro sank.",
            "El Faro",
        ),  # a person's stop words: part of a vessel's name
        ("MV May Flower sailed", "May Flower"),
    ],
)
def test_a_vessels_name_ends_at_its_own_stop_words_only(text: str, name: str) -> None:
    assert name in _vessels(text)
