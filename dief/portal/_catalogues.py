"""Keeping the gettext catalogues in step with the interface: ``python -m
dief.portal._catalogues`` writes ``locale/messages.pot`` from :func:`extract_messages` and
adds every new string (untranslated) to each language's ``messages.po``, keeping the
translations it has; the catalogue-completeness test then names what is left to translate.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po

from dief.portal._i18n import LOCALE_DIR, catalogue_path, extract_messages

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = ["TRANSLATED", "update_catalogues"]

#: The languages with a catalogue (English is the source).
TRANSLATED = ("fr", "es")


def _existing(language: str) -> dict[str, str]:
    path = catalogue_path(language)
    if not path.exists():
        return {}
    with path.open("rb") as fh:
        return {str(m.id): str(m.string or "") for m in read_po(fh) if m.id}


def update_catalogues(seed: Mapping[str, Mapping[str, str]] | None = None) -> dict[str, int]:
    """Rewrite the template and the catalogues; *seed* gives translations to add (language →
    message → text). Returns how many strings each language still lacks."""
    messages = extract_messages()
    template = Catalog(project="DIEF portal", fuzzy=False)
    for message in messages:
        template.add(message)
    with (LOCALE_DIR / "messages.pot").open("wb") as fh:
        write_po(fh, template, width=100, omit_header=False)
    missing: dict[str, int] = {}
    for language in TRANSLATED:
        known = _existing(language)
        known.update((seed or {}).get(language, {}))
        catalogue = Catalog(locale=language, project="DIEF portal", fuzzy=False)
        for message in messages:
            catalogue.add(message, known.get(message, ""))
        path = catalogue_path(language)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as fh:
            write_po(fh, catalogue, width=100)
        missing[language] = sum(1 for m in messages if not known.get(m))
    return missing


if __name__ == "__main__":
    print(update_catalogues())  # noqa: T201  run as a script: it reports on standard output
