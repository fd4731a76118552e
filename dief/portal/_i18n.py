"""Interface languages: English (the source strings), French and Spanish, from the gettext
catalogues in ``locale/<lang>/LC_MESSAGES/messages.po`` (read with Babel on first use).

Strings are marked with ``_`` in templates and ``N_`` (:func:`dief.labels.N_`, or ``_``)
in the portal's and the labels' Python modules, around a string literal;
:func:`extract_messages` finds them all (the catalogue-completeness test and
``python -m dief.portal._catalogues`` use it).
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from babel.messages.pofile import read_po

from dief import labels
from dief.labels import N_, all_label_messages
from dief.portal._accounts import LANGUAGES

if TYPE_CHECKING:
    from collections.abc import Iterable

__all__ = [
    "LOCALE_DIR",
    "N_",
    "Translator",
    "catalogue_path",
    "extract_messages",
    "negotiate",
    "translator",
]

_HERE = Path(__file__).parent
LOCALE_DIR = _HERE / "locale"
_TEMPLATES = _HERE / "templates"
#: The labels' own modules (their strings are marked there, :mod:`dief.labels`).
_LABELS = Path(labels.__file__).parent
#: The marker ``_`` or ``N_`` around one string literal (no concatenation).
_MARKED = re.compile(r"""\bN?_\(\s*(?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)')\s*[,)]""")


def catalogue_path(language: str) -> Path:
    return LOCALE_DIR / language / "LC_MESSAGES" / "messages.po"


class Translator:
    """One language's messages; a missing or empty translation falls back to English."""

    def __init__(self, language: str, messages: dict[str, str]) -> None:
        self.language = language
        self._messages = messages

    def __repr__(self) -> str:
        return f"Translator({self.language!r})"

    def gettext(self, message: str) -> str:
        return self._messages.get(message) or message

    __call__ = gettext


@cache
def translator(language: str) -> Translator:
    """The translator of *language* (English when it is not one of :data:`LANGUAGES`)."""
    if language not in LANGUAGES or language == "en":
        return Translator("en", {})
    with catalogue_path(language).open("rb") as fh:
        catalogue = read_po(fh, locale=language)
    messages = {
        str(m.id): str(m.string)
        for m in catalogue
        if m.id and isinstance(m.id, str) and m.string and not m.fuzzy
    }
    return Translator(language, messages)


def negotiate(accept_language: str | None) -> str:
    """The best of :data:`LANGUAGES` for an ``Accept-Language`` header (default English)."""
    if not accept_language:
        return "en"
    weighted: list[tuple[float, str]] = []
    for part in accept_language.split(","):
        tag, _, params = part.strip().partition(";")
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        weighted.append((q, tag.strip().lower()[:2]))
    for _, lang in sorted(weighted, key=lambda w: -w[0]):
        if lang in LANGUAGES:
            return lang
    return "en"


def _unescape(text: str) -> str:
    return text.replace('\\"', '"').replace("\\'", "'").replace("\\\\", "\\")


def _marked(files: Iterable[Path]) -> set[str]:
    found: set[str] = set()
    for path in files:
        found.update(
            _unescape(match[1] if match[1] is not None else match[2])
            for match in _MARKED.finditer(path.read_text(encoding="utf-8"))
        )
    return found


def extract_messages() -> list[str]:
    """Every interface string of the portal: marked in its templates and modules, and every
    vocabulary label and help text."""
    files = [
        *sorted(_TEMPLATES.glob("*.html")),
        *sorted(_HERE.glob("*.py")),
        *sorted(_LABELS.glob("*.py")),
    ]
    found = _marked(files) | set(all_label_messages())
    return sorted(m for m in found if m)
