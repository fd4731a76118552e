"""``dief summary`` (render and verify signed CSP summaries) and ``dief secretariat``.

- ``dief summary --cycle CSP12 [--format json|md|html|docx] [--out PATH]`` — the signed
  summary the Secretariat last published for the cycle, from its database (by default the
  one ``dief run`` / ``dief demo`` leave in the work directory). ``--rebuild`` builds it
  anew from the stored digests and signs it with the Secretariat key (needs the keyring
  passphrase); ``--partial`` then allows regions without a digest yet.
- ``dief summary verify FILE [--keys DIR]`` — checks a summary JSON against the
  Secretariat's public signing keys (a keyring, or a directory from ``dief keys export``):
  prints ``valid`` and exits 0, or prints the reason and exits 1.
- ``dief secretariat`` — the Secretariat reporter service (stops cleanly on SIGTERM).
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Sequence
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from pydantic import SecretStr
from rich.markup import escape

from dief._files import write_atomic
from dief.cli._console import (
    FORMAT_OPTION,
    OutOpt,
    configure_logging,
    database_url_option,
    err_console,
    fail,
    kafka_overrides,
    passphrase_from_file,
    prompt_passphrase,
    run_service,
)
from dief.exceptions import ConfigurationError, DiefError, KeyringError
from dief.settings import KeyringSettings, RunSettings, SecretariatSettings
from dief.vocab import Region

__all__ = ["SummaryFormat", "register"]

summary_app = typer.Typer(
    name="summary",
    help="Render the Secretariat's signed CSP summaries, or verify one.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
)


class SummaryFormat(StrEnum):
    JSON = "json"
    MD = "md"
    HTML = "html"
    DOCX = "docx"


KeysOpt = Annotated[
    Path | None,
    typer.Option(
        "--keys",
        help="Keyring or exported public directory (default: DIEF_KEYRING__PATH, else the "
        "keyring `dief run` leaves in DIEF_WORK_DIR/run/keys)",
    ),
]
PassFileOpt = Annotated[
    Path | None, typer.Option("--passphrase-file", help="File holding the keyring passphrase")
]
StartMonthOpt = Annotated[
    int | None,
    typer.Option(
        "--cycle-start-month",
        min=1,
        max=12,
        help="First month of a CSP cycle (default: DIEF_CYCLE_START_MONTH, else 9)",
    ),
]


def _sqlite_file(url: str) -> Path | None:
    prefix = "sqlite+aiosqlite:///"
    return Path(url[len(prefix) :]) if url.startswith(prefix) else None


def _database(url: str | None) -> str:
    """--database-url, else DIEF_DATABASE_URL / the service default if that file exists,
    else the Secretariat database of the last ``dief run``."""
    from dief.aggregator.store import sqlite_url

    if url:
        return url
    configured = SecretariatSettings().database_url.get_secret_value()
    path = _sqlite_file(configured)
    if path is None or path.is_file():
        return configured
    run_db = RunSettings().work_dir / "run" / "secretariat.sqlite"
    if run_db.is_file():
        return sqlite_url(run_db)
    raise ConfigurationError(
        f"no Secretariat database at {path} or {run_db}: run `dief secretariat`, "
        "`dief run` or `dief demo` first, or pass --database-url"
    )


def _keys_dir(keys: Path | None) -> Path:
    if keys is not None:
        return keys
    configured = KeyringSettings().path
    if (configured / "keyring.json").is_file():
        return configured
    return RunSettings().work_dir / "run" / "keys"


def _passphrase(pass_file: Path | None) -> SecretStr:
    if pass_file is not None:
        return passphrase_from_file(pass_file)
    configured = SecretariatSettings().keyring.read_passphrase()
    if configured is not None:
        return configured
    return prompt_passphrase()


def _render(summary_json: str, fmt: SummaryFormat) -> str | bytes:
    from dief.render import (
        dump_json,
        render_summary_docx,
        render_summary_html,
        render_summary_markdown,
    )
    from dief.wire import CspSummary

    summary = CspSummary.model_validate_json(summary_json)
    if fmt is SummaryFormat.JSON:
        return dump_json(summary)
    if fmt is SummaryFormat.MD:
        return render_summary_markdown(summary)
    if fmt is SummaryFormat.HTML:
        return render_summary_html(summary)
    return render_summary_docx(summary)


async def _published(url: str, cycle: str, expected: Sequence[Region]) -> str:
    from dief.secretariat import SecretariatStore

    async with SecretariatStore(url) as store:
        held = await store.summary(cycle)
        if held is not None:
            return held[1]
        versions = await store.versions(cycle)
    missing = ", ".join(r.value for r in expected if r.value not in versions)
    why = f"no digest from {missing} yet" if missing else "none was published"
    raise ConfigurationError(
        f"no signed {cycle} summary in the Secretariat database ({why}); "
        "--rebuild --partial builds one from the digests there"
    )


async def _rebuild(
    url: str,
    cycle: str,
    *,
    keys: Path,
    passphrase: SecretStr,
    k: int,
    start: int,
    expected: Sequence[Region],
    partial: bool,
) -> str:
    from dief.catalogue import load_catalogue
    from dief.keyring import Keyring, KeyRole
    from dief.secretariat import IncompleteCycleError, SecretariatStore, build_summary, sign_summary

    ring = Keyring.load(keys, passphrase=passphrase.get_secret_value())
    signer = ring.signing_key(KeyRole.SECRETARIAT)
    async with SecretariatStore(url) as store:
        held = await store.versions(cycle)
        regions = [r for r in expected if r.value in held]
        missing = [r.value for r in expected if r.value not in held]
        if missing and (not partial or not regions):
            raise IncompleteCycleError(f"no {cycle} digest from {', '.join(missing)} yet")
        summary = await build_summary(
            store, cycle, k=k, catalogue=load_catalogue(), start_month=start, regions=regions
        )
    return sign_summary(summary, signer).to_json()


@summary_app.callback(invoke_without_command=True)
def summary(
    ctx: typer.Context,
    cycle: Annotated[str | None, typer.Option("--cycle", help="CSP cycle, e.g. CSP12")] = None,
    fmt: Annotated[SummaryFormat, FORMAT_OPTION] = SummaryFormat.JSON,
    out: OutOpt = None,
    database_url: Annotated[
        str | None, database_url_option("Secretariat", "secretariat.sqlite")
    ] = None,
    rebuild: Annotated[
        bool,
        typer.Option(
            "--rebuild", help="Build and sign anew from the stored digests (needs the key)"
        ),
    ] = False,
    partial: Annotated[
        bool,
        typer.Option("--partial", help="With --rebuild: cover only the regions with a digest"),
    ] = False,
    keys: KeysOpt = None,
    passphrase_file: PassFileOpt = None,
    k_csp: Annotated[
        int | None, typer.Option("--k-csp", min=1, help="With --rebuild: minimum contributors")
    ] = None,
    start_month: StartMonthOpt = None,
) -> None:
    """Write the signed CSP summary of a cycle (``dief summary verify FILE`` checks one)."""
    if ctx.invoked_subcommand is not None:
        return
    if cycle is None:
        raise typer.BadParameter("give --cycle (e.g. CSP12)", param_hint="--cycle")
    from dief.periods import CspCycle

    settings = SecretariatSettings()
    start = start_month or settings.cycle_start_month
    try:
        canonical = str(CspCycle.parse(cycle.upper(), start_month=start))
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--cycle") from exc
    if fmt is SummaryFormat.DOCX and out is None:
        raise typer.BadParameter("DOCX is binary: give --out FILE", param_hint="--out")
    try:
        url = _database(database_url)
        if rebuild:
            text = asyncio.run(
                _rebuild(
                    url,
                    canonical,
                    keys=_keys_dir(keys),
                    passphrase=_passphrase(passphrase_file),
                    k=k_csp or settings.k_csp,
                    start=start,
                    expected=settings.regions,
                    partial=partial,
                )
            )
        else:
            text = asyncio.run(_published(url, canonical, settings.regions))
        content = _render(text, fmt)
        if out is not None:
            write_atomic(out, content)
            err_console.print(f"wrote {out}", highlight=False, markup=False)
        elif isinstance(content, bytes):  # pragma: no cover - refused above
            sys.stdout.buffer.write(content)
        else:
            sys.stdout.write(content)
            sys.stdout.flush()
    except DiefError as exc:
        raise fail(exc) from exc


@summary_app.command("verify")
def verify(
    file: Annotated[Path, typer.Argument(help="A summary JSON file (summary/<CYCLE>.json)")],
    keys: KeysOpt = None,
) -> None:
    """Verify a CSP summary's signature with the Secretariat's public signing keys."""
    from dief.keyring import Keyring, KeyRole
    from dief.secretariat import verify_summary

    try:
        data = file.read_bytes()
    except OSError as exc:
        err_console.print(f"invalid: cannot read {escape(str(file))}: {exc.strerror or exc}")
        raise typer.Exit(1) from exc
    try:
        ring = Keyring.load(_keys_dir(keys))
        trusted = ring.verify_keys(KeyRole.SECRETARIAT)
        if not trusted:
            raise KeyringError(f"{ring.path} holds no Secretariat signing key")
    except DiefError as exc:
        raise fail(exc) from exc
    try:
        verified = verify_summary(data, trusted)
    except DiefError as exc:
        typer.echo(f"invalid: {exc.message}")
        raise typer.Exit(1) from exc
    typer.echo(f"valid: {verified.summary.cycle} signed by Secretariat key {verified.kid}")


def secretariat(
    database_url: Annotated[
        str | None, typer.Option("--database-url", help="SQLAlchemy URL of its database")
    ] = None,
    keys: Annotated[Path | None, typer.Option("--keys", help="Keyring directory")] = None,
    passphrase_file: PassFileOpt = None,
    bootstrap: Annotated[str | None, typer.Option("--bootstrap", help="Broker HOST:PORT")] = None,
    embedded: Annotated[
        bool, typer.Option("--embedded", help="The broker is the embedded Tansu (no idempotence)")
    ] = False,
    k_csp: Annotated[
        int | None, typer.Option("--k-csp", min=1, help="Minimum distinct contributors")
    ] = None,
    region: Annotated[
        list[Region] | None,
        typer.Option(
            "--region",
            help="Region whose digest a summary waits for (repeatable; default: DIEF_REGIONS, "
            "else all five)",
        ),
    ] = None,
    start_month: StartMonthOpt = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log more")] = False,
) -> None:
    """Run the Secretariat reporter: verify digests, publish signed CSP summaries."""
    from consumers.secretariat import SecretariatService
    from dief.cli.services import _keyring

    configure_logging(verbose)
    settings = SecretariatSettings()
    if database_url:
        settings.database_url = SecretStr(database_url)
    if k_csp:
        settings.k_csp = k_csp
    if start_month:
        settings.cycle_start_month = start_month
    if region:
        settings.regions = list(dict.fromkeys(region))
    kafka_overrides(settings.kafka, bootstrap, embedded)
    passphrase = _keyring(settings.keyring, keys, passphrase_file)

    run_service(
        lambda: SecretariatService(settings, passphrase),
        lambda: err_console.print("Secretariat running", highlight=False, markup=False),
    )


def register(app: typer.Typer) -> None:
    """Add ``summary`` (and ``summary verify``) and ``secretariat`` to *app*."""
    app.add_typer(summary_app, name="summary")
    app.command("secretariat")(secretariat)
