"""``dief summary`` (render and verify signed CSP summaries) and ``dief secretariat``.

- ``dief summary --cycle CSP12 [--format json|md|html|docx] [--out PATH]`` — the signed
  summary the Secretariat last published for the cycle, from its database (the one ``dief
  secretariat`` writes, :class:`SecretariatSettings`; if that file does not exist, the one
  ``dief run`` / ``dief demo`` leave in the work directory). ``--rebuild`` builds it anew
  from the stored digests and signs it with the Secretariat's signing key (its keyring, or
  a simulated forum, unlocked with the passphrase); ``--partial`` then allows regions
  without a digest yet.
- ``dief summary verify FILE`` — checks a summary JSON against the Secretariat signing keys
  of the **signed forum directory** only (DESIGN §4): a directory file verified under the
  pinned root fingerprint (``--directory``/``--root-fingerprint`` or ``DIEF_DIRECTORY__*``),
  or the directory of a simulated forum folder (``--keys``, ``DIEF_KEYRING__PATH``, else
  the one ``dief run`` left). Key files lying in a folder are never trusted (issue 12: a
  dropped public-key file must not make a forged summary verify). Prints ``valid`` and exits
  0, or prints the reason and exits 1.
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
from rich.text import Text

from dief._files import write_atomic
from dief.catalogue import load_catalogue
from dief.cli._console import (
    FORMAT_OPTION,
    BootstrapOpt,
    EmbeddedOpt,
    OutOpt,
    configure_logging,
    database_url_option,
    err_console,
    fail,
    kafka_options,
    keyring_passphrase,
    load_or_fail,
    run_service,
    stored_database,
)
from dief.cli._directory import (
    DirectoryOpt,
    RootFingerprintOpt,
    directory_overrides,
    trusted_directory,
)
from dief.exceptions import ConfigurationError, DiefError, DirectoryError
from dief.keyring import KeyRole
from dief.periods import CspCycle
from dief.settings import SECRETARIAT_DATABASE, SECRETARIAT_FILE, RunSettings, SecretariatSettings
from dief.vocab import Region
from dief.wire import CspSummary

__all__ = ["SummaryFormat", "register"]

summary_app = typer.Typer(
    name="summary",
    help="Render the Secretariat's signed CSP summaries, or verify one.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
)


class SummaryFormat(StrEnum):
    """The formats ``dief summary`` writes."""

    JSON = "json"
    MD = "md"
    HTML = "html"
    DOCX = "docx"


KeysOpt = Annotated[
    Path | None,
    typer.Option(
        "--keys",
        help="The Secretariat's keyring or a simulated forum (default: DIEF_KEYRING__PATH if "
        "it holds one, else the forum `dief run` leaves in DIEF_WORK_DIR/run/keys)",
    ),
]
VerifyKeysOpt = Annotated[
    Path | None,
    typer.Option(
        "--keys",
        help="A simulated forum folder whose signed directory to trust (default: "
        "DIEF_KEYRING__PATH, else the forum `dief run` leaves in DIEF_WORK_DIR/run/keys); "
        "ignored when a directory file is given",
    ),
]
PassFileOpt = Annotated[
    Path | None,
    typer.Option(
        "--passphrase-file",
        help="File holding the keyring passphrase (default: DIEF_KEYRING__PASSPHRASE, "
        "DIEF_KEYRING__PASSPHRASE_FILE, else a prompt)",
    ),
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


def _keys_dir(settings: SecretariatSettings, run: RunSettings) -> Path:
    """The keyring of *settings* (``--keys`` or ``DIEF_KEYRING__PATH``) if given or there,
    else the simulated forum the last ``dief run`` left."""
    keyring = settings.keyring
    path = keyring.path
    if (
        "path" in keyring.model_fields_set
        or (path / "keyring.json").is_file()
        or (path / "simulation.json").is_file()
    ):
        return path
    return run.run_dir / "keys"


def _render(summary_json: str, fmt: SummaryFormat) -> str | bytes:
    from dief.render import (  # noqa: PLC0415  loaded when the command runs (Kafka, SQL, rendering): the CLI starts without it
        dump_json,
        render_summary_docx,
        render_summary_html,
        render_summary_markdown,
    )

    summary = CspSummary.model_validate_json(summary_json)
    if fmt is SummaryFormat.JSON:
        return dump_json(summary)
    if fmt is SummaryFormat.MD:
        return render_summary_markdown(summary)
    if fmt is SummaryFormat.HTML:
        return render_summary_html(summary)
    return render_summary_docx(summary)


async def _published(url: str, cycle: str, expected: Sequence[Region]) -> str:
    from dief.secretariat import SecretariatStore  # noqa: PLC0415  loaded when the command runs (Kafka, SQL, rendering): the CLI starts without it

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
    settings: SecretariatSettings,
    keys: Path,
    passphrase: SecretStr,
    expected: Sequence[Region],
    partial: bool,
) -> str:
    from dief.secretariat import IncompleteCycleError, SecretariatStore, build_summary, sign_summary  # noqa: PLC0415  loaded when the command runs (Kafka, SQL, rendering): the CLI starts without it

    keyring = settings.keyring.model_copy(update={"path": keys})
    source = keyring.unlock(passphrase, "the Secretariat's signing key is", settings.directory)
    signer = source.signing_key(KeyRole.SECRETARIAT)
    k, start = settings.k_csp, settings.cycle_start_month
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
        str | None, database_url_option("Secretariat", SECRETARIAT_DATABASE, SECRETARIAT_FILE)
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

    settings = load_or_fail(
        SecretariatSettings,
        {
            "database_url": database_url or None,
            "k_csp": k_csp,
            "cycle_start_month": start_month,
            "keyring": {"path": keys},
        },
        connects=False,
    )
    run = load_or_fail(RunSettings)
    start = settings.cycle_start_month
    try:
        canonical = str(CspCycle.parse(cycle.upper(), start_month=start))
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--cycle") from exc
    if fmt is SummaryFormat.DOCX and out is None:
        raise typer.BadParameter("DOCX is binary: give --out FILE", param_hint="--out")
    try:  # noqa: PLW0717  each step may fail with a DiefError, reported as one line
        url = stored_database(
            settings.database_url,
            given="database_url" in settings.model_fields_set,
            last_run=run.run_dir / SECRETARIAT_FILE,
            what="Secretariat",
        )
        if rebuild:
            text = asyncio.run(
                _rebuild(
                    url,
                    canonical,
                    settings=settings,
                    keys=_keys_dir(settings, run),
                    passphrase=keyring_passphrase(settings.keyring, passphrase_file),
                    expected=settings.regions,
                    partial=partial,
                )
            )
        else:
            text = asyncio.run(_published(url, canonical, settings.regions))
        _emit(_render(text, fmt), out)
    except DiefError as exc:
        raise fail(exc) from exc


def _emit(content: str | bytes, out: Path | None) -> None:
    """Write *content* to the file *out* (atomically), else to standard output."""
    if out is not None:
        write_atomic(out, content)
        err_console.print(f"wrote {out}", highlight=False, markup=False)
    elif isinstance(content, bytes):  # pragma: no cover - refused above
        sys.stdout.buffer.write(content)
    else:
        sys.stdout.write(content)
        sys.stdout.flush()


@summary_app.command("verify")
def verify(
    file: Annotated[Path, typer.Argument(help="A summary JSON file (summary/<CYCLE>.json)")],
    directory: DirectoryOpt = None,
    root_fingerprint: RootFingerprintOpt = None,
    keys: VerifyKeysOpt = None,
) -> None:
    """Verify a CSP summary's signature with the Secretariat signing keys of the signed
    forum directory (never with key files lying in a folder)."""
    from dief.secretariat import verify_summary  # noqa: PLC0415  loaded when the command runs (Kafka, SQL, rendering): the CLI starts without it

    try:
        data = file.read_bytes()
    except OSError as exc:
        err_console.print(f"invalid: cannot read {escape(str(file))}: {exc.strerror or exc}")
        raise typer.Exit(1) from exc
    settings = load_or_fail(
        SecretariatSettings,
        {"keyring": {"path": keys}, "directory": directory_overrides(directory, root_fingerprint)},
        connects=False,
    )
    folder = keys
    if folder is None:
        keyring = settings.keyring
        given = "path" in keyring.model_fields_set
        folder = keyring.path if given else load_or_fail(RunSettings).run_dir / "keys"
    try:
        found = trusted_directory(settings.directory, folder)
    except DirectoryError as exc:
        err_console.print(
            Text.assemble(
                ("error", "bold red"),
                f": the forum directory is refused ({exc.code}): ",
                exc.message,
            ),
            soft_wrap=True,
        )
        raise typer.Exit(1) from exc
    except DiefError as exc:
        raise fail(exc) from exc
    trusted = found.verify_keys(KeyRole.SECRETARIAT)
    try:
        verified = verify_summary(data, trusted)
    except DiefError as exc:
        typer.echo(f"invalid: {exc.message}")
        raise typer.Exit(1) from exc
    kind = ", a SIMULATED forum" if found.simulation else ""
    typer.echo(
        f"valid: {verified.summary.cycle} signed by Secretariat key {verified.kid} "
        f"(forum directory v{found.version}{kind})"
    )


def secretariat(
    database_url: Annotated[
        str | None,
        typer.Option(
            "--database-url",
            help="SQLAlchemy URL of its database (default: DIEF_DATABASE_URL, else "
            f"{SECRETARIAT_DATABASE})",
        ),
    ] = None,
    keys: Annotated[
        Path | None, typer.Option("--keys", help="Keyring directory (default: DIEF_KEYRING__PATH)")
    ] = None,
    passphrase_file: PassFileOpt = None,
    bootstrap: BootstrapOpt = None,
    embedded: EmbeddedOpt = False,
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
    from consumers.secretariat import SecretariatService  # noqa: PLC0415  loaded when the command runs (Kafka, SQL, rendering): the CLI starts without it

    configure_logging(verbose)
    settings = load_or_fail(
        SecretariatSettings,
        {
            "database_url": database_url or None,
            "k_csp": k_csp,
            "cycle_start_month": start_month,
            "regions": list(dict.fromkeys(region)) if region else None,
            "keyring": {"path": keys},
            "kafka": kafka_options(bootstrap, embedded),
        },
    )
    passphrase = keyring_passphrase(settings.keyring, passphrase_file)

    run_service(
        lambda: SecretariatService(settings, passphrase),
        lambda: err_console.print("Secretariat running", highlight=False, markup=False),
    )


def register(app: typer.Typer) -> None:
    """Add ``summary`` (and ``summary verify``) and ``secretariat`` to *app*."""
    app.add_typer(summary_app, name="summary")
    app.command("secretariat")(secretariat)
