"""``dief digest``: one region's trend digest for one period, as JSON, Markdown or HTML.

Reads the cell counts of a running or stopped aggregator's database: the one ``dief
aggregate`` writes (``DIEF_DATABASE_URL``, else ``.dief/aggregator.sqlite``: the same
:class:`AggregatorSettings`), else, if that file does not exist, the one the last ``dief
run`` / ``dief demo`` left under the work directory. Lessons need the region's private key:
with ``--keys`` or ``DIEF_KEYRING__PATH`` (the region's own keyring with the signed
directory, ``--directory`` or ``DIEF_DIRECTORY__*``, or a simulated forum) and the
passphrase they are opened from the stored sealed cases; without, the digest says they were
omitted.
"""

from __future__ import annotations

import asyncio
import sys
import time
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from pydantic import SecretStr

from dief._files import write_atomic
from dief.catalogue import load_catalogue
from dief.cli import publish
from dief.cli._console import (
    FORMAT_OPTION,
    OutOpt,
    database_url_option,
    err_console,
    fail,
    keyring_passphrase,
    load_or_fail,
    stored_database,
)
from dief.cli._directory import (
    DirectoryOpt,
    RootFingerprintOpt,
    directory_overrides,
    unlock_keys,
)
from dief.crypto import Opener
from dief.exceptions import DiefError
from dief.keyring import KeyRole
from dief.periods import parse_period
from dief.settings import (
    AGGREGATOR_DATABASE,
    AGGREGATOR_FILE,
    AggregatorSettings,
    KeyringSettings,
    RunSettings,
)
from dief.vocab import Region

if TYPE_CHECKING:
    from dief.keyring import KeySource

__all__ = ["DigestFormat", "register"]


class DigestFormat(StrEnum):
    """The formats ``dief digest`` renders."""

    JSON = "json"
    MD = "md"
    HTML = "html"


async def _render(
    *,
    url: str,
    region: Region,
    period: str,
    fmt: DigestFormat,
    k: int,
    start_month: int,
    keys: KeySource | None,
) -> tuple[str, dict[str, float]]:
    from dief.aggregator.store import CaseStore  # noqa: PLC0415  loaded when the command runs (Kafka, SQL, rendering): the CLI starts without it
    from dief.digests import CaseLesson, build_digest, load_lessons, load_series  # noqa: PLC0415  loaded when the command runs (Kafka, SQL, rendering): the CLI starts without it
    from dief.render import dump_json, render_digest_html, render_digest_markdown  # noqa: PLC0415  loaded when the command runs (Kafka, SQL, rendering): the CLI starts without it

    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    lessons: list[CaseLesson] | None = None
    async with CaseStore(url) as store:
        if keys is not None:
            opener = Opener(keys.opening_keys(KeyRole.REGION, region.value))
            t = time.perf_counter()
            lessons = list((await load_lessons(store, region, opener)).lessons)
            timings["lessons"] = time.perf_counter() - t
        t = time.perf_counter()
        digest = await build_digest(
            store,
            region,
            period,
            k=k,
            catalogue=load_catalogue(),
            start_month=start_month,
            lessons=lessons,
        )
        timings["digest"] = time.perf_counter() - t
        if fmt is DigestFormat.JSON:
            text = dump_json(digest)
        elif fmt is DigestFormat.MD:
            text = render_digest_markdown(digest)
        else:
            t = time.perf_counter()
            series = await load_series(store, region, period, k=k, start_month=start_month)
            timings["series"] = time.perf_counter() - t
            t = time.perf_counter()
            text = render_digest_html(digest, series, start_month=start_month)
            timings["render"] = time.perf_counter() - t
    timings["total"] = time.perf_counter() - t0
    return text, timings


_RegionOpt = Annotated[
    Region, typer.Option("--region", case_sensitive=False, help="Regional group")
]
_PeriodOpt = Annotated[
    str,
    typer.Option(
        "--period",
        help="Month 2026-05, quarter 2026-Q2, half-cycle CSP12-H1 (since the last "
        "meeting) or cycle CSP12",
    ),
]
_DatabaseOpt = Annotated[
    str | None, database_url_option("Aggregator", AGGREGATOR_DATABASE, AGGREGATOR_FILE)
]
_KeysOpt = Annotated[
    Path | None,
    typer.Option(
        "--keys",
        help="The region's keyring (or a simulated forum), to include lessons (default: "
        "DIEF_KEYRING__PATH if set, else lessons are omitted)",
    ),
]
_PassphraseFileOpt = Annotated[
    Path | None,
    typer.Option(
        "--passphrase-file",
        help="File holding the keyring passphrase (default: DIEF_KEYRING__PASSPHRASE, "
        "DIEF_KEYRING__PASSPHRASE_FILE, else a prompt)",
    ),
]
_KMeetingOpt = Annotated[
    int | None,
    typer.Option("--k-meeting", min=1, help="Minimum distinct contributors per cell"),
]
_TimingsOpt = Annotated[
    bool, typer.Option("--timings", help="Print how long each step took (stderr)")
]


def digest(
    region: _RegionOpt,
    period: _PeriodOpt,
    fmt: Annotated[DigestFormat, FORMAT_OPTION] = DigestFormat.MD,
    out: OutOpt = None,
    database_url: _DatabaseOpt = None,
    keys: _KeysOpt = None,
    directory: DirectoryOpt = None,
    root_fingerprint: RootFingerprintOpt = None,
    passphrase_file: _PassphraseFileOpt = None,
    k_meeting: _KMeetingOpt = None,
    timings: _TimingsOpt = False,
) -> None:
    """Render one region's trend digest for one period from an aggregator's database."""
    settings = load_or_fail(
        AggregatorSettings,
        {
            "database_url": database_url or None,
            "k_meeting": k_meeting,
            "keyring": {"path": keys},
            "directory": directory_overrides(directory, root_fingerprint),
        },
        connects=False,
    )
    canonical = _canonical_period(period, settings.cycle_start_month)
    passphrase = _passphrase(settings.keyring, passphrase_file)
    try:
        source = (
            unlock_keys(settings.keyring, passphrase, "the region's keys are", settings.directory)
            if passphrase is not None
            else None
        )
        text, spent = asyncio.run(
            _render(
                url=_database(settings),
                region=region,
                period=canonical,
                fmt=fmt,
                k=settings.k_meeting,
                start_month=settings.cycle_start_month,
                keys=source,
            )
        )
        _emit(text, out)
    except DiefError as exc:
        raise fail(exc) from exc
    _notes(spent if timings else None, lessons=passphrase is not None)


def _canonical_period(period: str, start_month: int) -> str:
    """*period* as the digests name it; a bad one is the ``--period`` option's error."""
    try:
        return str(parse_period(period, start_month=start_month))
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--period") from exc


def _passphrase(keyring: KeyringSettings, passphrase_file: Path | None) -> SecretStr | None:
    """The keyring passphrase when keys are asked for (``--keys`` or
    ``DIEF_KEYRING__PATH``, or a passphrase file given), else None (no lessons)."""
    if "path" in keyring.model_fields_set or passphrase_file is not None:
        return keyring_passphrase(keyring, passphrase_file)
    return None


def _database(settings: AggregatorSettings) -> str:
    """The aggregator's database: the one given, else the service's, else the last run's."""
    return stored_database(
        settings.database_url,
        given="database_url" in settings.model_fields_set,
        last_run=load_or_fail(RunSettings).run_dir / AGGREGATOR_FILE,
        what="aggregator",
    )


def _emit(text: str, out: Path | None) -> None:
    """Write *text* to the file *out* (atomically), else to standard output."""
    if out is not None:
        write_atomic(out, text)
        err_console.print(f"wrote {out}", highlight=False, markup=False)
    else:
        sys.stdout.write(text)
        sys.stdout.flush()


def _notes(spent: dict[str, float] | None, *, lessons: bool) -> None:
    """On standard error: the time each step took (*spent*, ``--timings``), and that the
    lessons were left out when no keys opened them."""
    if spent is not None:
        err_console.print(
            ", ".join(f"{name} {seconds * 1000:.0f} ms" for name, seconds in spent.items()),
            highlight=False,
            markup=False,
        )
    if not lessons:
        err_console.print(
            "lessons omitted: pass --keys (or set DIEF_KEYRING__PATH) to include them",
            highlight=False,
            markup=False,
            style="yellow",
        )


def register(app: typer.Typer) -> None:
    """Add ``digest`` and ``publish-digests`` (:mod:`dief.cli.publish`) to *app*."""
    app.command("digest")(digest)
    publish.register(app)
