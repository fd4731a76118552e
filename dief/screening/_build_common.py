"""What the data builder's parts share (:mod:`dief.screening._build`, run by hand): the
thresholds and languages, the curated files and the domain stop-list."""

from __future__ import annotations

import importlib.metadata
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from dief.screening._normalize import ar_key, fold_text

if TYPE_CHECKING:
    from collections.abc import Iterator

__all__ = [
    "CITY_POPULATION",
    "CITY_POPULATION_CJK",
    "CURATED",
    "DATA",
    "LANGS",
    "WORD_LANGS",
    "Row",
    "curated_lines",
    "split_forms",
    "stop_key",
    "stoplist",
    "version",
]

#: Cities at or above this population (GeoNames) are listed, with every national capital.
CITY_POPULATION = 250_000
#: CJK names of cities are kept for capitals, ports and cities at or above this size.
CITY_POPULATION_CJK = 1_000_000
LANGS = ("en", "fr", "es", "ru", "ar", "zh", "zh_Hant", "de")
WORD_LANGS = ("en", "fr", "es", "de", "ru", "ar")

DATA = Path(str(resources.files("dief.screening").joinpath("data")))
CURATED = DATA / "curated"


def version(package: str) -> str:
    return importlib.metadata.version(package)


def curated_lines(name: str) -> Iterator[list[str]]:
    for raw in (CURATED / name).read_text("utf-8").splitlines():
        if not raw.strip() or raw.startswith("#"):
            continue
        yield raw.split("\t")


def split_forms(forms: str) -> list[str]:
    return [f.strip() for f in forms.split(";") if f.strip() and f.strip() != "-"]


Row = tuple[str, str, str, str, str, str]  # code, lang, kind, flags, form, source


def stoplist() -> dict[tuple[str, str], tuple[str, str]]:
    """(folded form, lang) -> (action, reason) from the curated domain stop-list."""
    out: dict[tuple[str, str], tuple[str, str]] = {}
    for form, lang, action, reason in curated_lines("stoplist.tsv"):
        out[stop_key(form), lang] = (action, reason)
    return out


def stop_key(form: str) -> str:
    key = fold_text(form)
    return ar_key(key) if key[:1] and "\u0600" <= key[0] <= "\u06ff" else key
