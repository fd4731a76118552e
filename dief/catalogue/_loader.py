"""The catalogue versions shipped in the package (``versions/<version>.json``).

Every version a record may name ships with the package (DESIGN §6), so an aggregator can
re-validate a record against the version it names. They are read lazily on the first call,
never at import, then cached; on that first read the rules between versions are checked
(:func:`check_succession`), so a release that removed or reused an id cannot load.
"""

from __future__ import annotations

import itertools
from functools import cache
from importlib import resources
from types import MappingProxyType
from typing import TYPE_CHECKING

from dief.catalogue._model import Catalogue, version_key
from dief.catalogue._parse import parse_catalogue
from dief.exceptions import ConfigurationError

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

__all__ = [
    "catalogue_version",
    "check_succession",
    "check_versions",
    "load_catalogue",
    "load_catalogues",
    "shipped_versions",
]

_VERSIONS_DIR = "versions"


@cache
def load_catalogues() -> Mapping[str, Catalogue]:
    """Every shipped catalogue version, oldest first (read on first call, then cached).

    :raises ConfigurationError: a version file is broken, is named after another version,
        or breaks the rules between versions.
    """
    folder = resources.files("dief.catalogue").joinpath(_VERSIONS_DIR)
    found: dict[str, Catalogue] = {}
    for item in folder.iterdir():
        if not item.name.endswith(".json"):
            continue
        catalogue = parse_catalogue(item.read_bytes())
        if item.name != f"{catalogue.version}.json":
            raise ConfigurationError(
                f"catalogue file {item.name} holds version {catalogue.version!r}"
            )
        found[catalogue.version] = catalogue
    if not found:
        raise ConfigurationError("no risk-indicator catalogue version is shipped")
    ordered = [found[v] for v in sorted(found, key=version_key)]
    check_versions(ordered)
    return MappingProxyType({c.version: c for c in ordered})


def shipped_versions() -> tuple[str, ...]:
    """The shipped versions, oldest first."""
    return tuple(load_catalogues())


def catalogue_version(version: str) -> Catalogue:
    """The shipped catalogue of *version*.

    :raises ConfigurationError: no such version ships with this package (the message lists
        the ones that do).
    """
    catalogues = load_catalogues()
    found = catalogues.get(version)
    if found is None:
        raise ConfigurationError(
            f"risk-indicator catalogue version {version!r} is not shipped here; "
            f"shipped versions: {', '.join(catalogues)}"
        )
    return found


@cache
def load_catalogue(version: str | None = None) -> Catalogue:
    """The latest shipped catalogue, or the one of *version* (read on first call, then
    cached; ``load_catalogue() is load_catalogues()[latest]``).

    :raises ConfigurationError: *version* is not shipped.
    """
    if version is None:
        return load_catalogues()[shipped_versions()[-1]]
    return catalogue_version(version)


def check_versions(catalogues: Sequence[Catalogue]) -> None:
    """Check each version (oldest first) against the one before it
    (:func:`check_succession`), and that the versions are in order and distinct."""
    for older, newer in itertools.pairwise(catalogues):
        if version_key(older.version) >= version_key(newer.version):
            raise ConfigurationError(
                f"catalogue versions out of order: {older.version} before {newer.version}"
            )
        check_succession(older, newer)


def check_succession(older: Catalogue, newer: Catalogue) -> None:
    """The rules between two consecutive versions (DESIGN §6): no id of *older* is removed
    from *newer* (ids are never removed or reused, so an id keeps its group); its title and
    question are unchanged unless *newer*'s ``changes`` lists the id (retitled, reworded)
    with why; ``changes.previous`` names *older* and ``changes.added`` lists exactly the
    new ids.

    :raises ConfigurationError: naming the version and the ids that break a rule.
    """
    where = f"catalogue {newer.version} (after {older.version})"
    removed = [i for i in older.ids if i not in newer]
    if removed:
        raise ConfigurationError(f"{where} removes ids {removed}: ids are never removed")
    changes = newer.changes
    retitled = [
        ind.id
        for ind in older
        if newer[ind.id].title != ind.title and ind.id not in changes.retitled
    ]
    reworded = [
        ind.id
        for ind in older
        if newer[ind.id].question != ind.question and ind.id not in changes.reworded
    ]
    if retitled or reworded:
        raise ConfigurationError(
            f"{where} changes the title of {retitled} / the question of {reworded} without "
            "listing them in 'changes' (retitled / reworded); a new meaning needs a new id"
        )
    if changes.previous != older.version:
        raise ConfigurationError(f"{where}: 'changes.previous' must be {older.version!r}")
    added = sorted(set(newer.ids) - set(older.ids))
    if sorted(changes.added) != added:
        raise ConfigurationError(f"{where}: 'changes.added' must list exactly {added}")
