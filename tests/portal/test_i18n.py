"""Every interface string and every vocabulary label exists in English, French and Spanish
(catalogue completeness), and a reader gets the language they chose."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pytest
from babel.messages.pofile import read_po

from dief.labels import FIELD_LABELS, VALUE_LABELS, vocabularies
from dief.portal import case_fields, extract_messages, negotiate, translator
from dief.portal._i18n import LOCALE_DIR, catalogue_path
from tests.portal.conftest import Site, csrf_of

if TYPE_CHECKING:
    from dief.portal._form import FormField

_PLACEHOLDER = re.compile(r"%\(\w+\)s")


def _walk(fields: tuple[FormField, ...]) -> list[FormField]:
    found: list[FormField] = []
    for f in fields:
        found.append(f)
        found += _walk(f.children)
    return found


def test_every_vocabulary_value_has_a_label() -> None:
    missing = [f"{vocab.__name__}.{v.value}" for vocab in vocabularies() for v in vocab
               if v.value not in VALUE_LABELS]  # fmt: skip
    assert missing == []


def test_every_field_of_the_case_form_has_a_label() -> None:
    missing = sorted({f.key for f in _walk(case_fields()) if f.key not in FIELD_LABELS})
    assert missing == []


@pytest.mark.parametrize("language", ["fr", "es"])
def test_every_interface_string_is_translated(language: str) -> None:
    with catalogue_path(language).open("rb") as fh:
        catalogue = {str(m.id): str(m.string or "") for m in read_po(fh) if m.id}
    messages = extract_messages()
    untranslated = [m for m in messages if not catalogue.get(m)]
    assert untranslated == [], f"run python -m dief.portal._catalogues, then translate ({language})"
    for message in messages:
        assert sorted(_PLACEHOLDER.findall(catalogue[message])) == sorted(
            _PLACEHOLDER.findall(message)
        ), message


def test_the_template_catalogue_is_up_to_date() -> None:
    with (LOCALE_DIR / "messages.pot").open("rb") as fh:
        ids = sorted(str(m.id) for m in read_po(fh) if m.id)
    assert ids == extract_messages()


def test_translations_are_used() -> None:
    assert translator("fr")("Sign in") == "Se connecter"
    assert translator("es")("Small arms") == "Armas pequeñas"
    assert translator("de")("Sign in") == "Sign in"  # not a portal language: English
    assert negotiate("es-ES,es;q=0.9,en;q=0.5") == "es"
    assert negotiate("de-DE,fr;q=0.4") == "fr"
    assert negotiate(None) == "en"


def test_a_reader_gets_the_language_they_chose(node_site: Site) -> None:
    client = node_site.fresh_client()
    assert "Se connecter" in client.get("/login", headers={"accept-language": "fr"}).text
    token = csrf_of(client.get("/login").text)
    client.post("/language", data={"lang": "es", "next": "/login", "csrf_token": token})
    assert "Iniciar sesión" in client.get("/login").text
    # signed in, the account's language wins and is kept
    node_site.login("ana", client=client)
    token = csrf_of(client.get("/cases").text)
    client.post("/language", data={"lang": "fr", "next": "/cases/new", "csrf_token": token})
    page = client.get("/cases/new").text
    assert "Nouveau cas" in page
    assert "Armes légères de petit calibre" in page
    assert '<html lang="fr">' in page
