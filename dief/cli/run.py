"""``dief run`` and ``dief demo``: the pipeline end to end in one process."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from dief.catalogue import load_catalogue
from dief.cli._console import (
    RichProgress,
    configure_logging,
    fail,
    keyring_passphrase,
    load_or_fail,
)
from dief.exceptions import DiefError
from dief.settings import RunSettings
from dief.synthetic import generate_cases, write_jsonl

if TYPE_CHECKING:
    from dief.pipeline import RunOptions, RunResult

__all__ = ["register"]

console = Console()

OutOpt = Annotated[Path, typer.Option("--out", help="Output directory")]
BootstrapOpt = Annotated[
    str | None,
    typer.Option("--bootstrap", help="Use this broker (HOST:PORT) instead of the embedded one"),
]
KMeetingOpt = Annotated[
    int | None,
    typer.Option("--k-meeting", min=1, help="Minimum distinct contributors per meeting cell"),
]
KCspOpt = Annotated[
    int | None, typer.Option("--k-csp", min=1, help="Minimum distinct contributors per CSP cell")
]
DbOpt = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        help="Aggregator database of the run (default: DIEF_DATABASE_URL, else a new SQLite "
        "file in DIEF_WORK_DIR/run/)",
    ),
]
VerboseOpt = Annotated[bool, typer.Option("--verbose", "-v", help="Log broker client details")]


def _today() -> date:
    return datetime.now(UTC).date()


def _execute(options: RunOptions) -> RunResult:
    from dief.pipeline import run_pipeline  # noqa: PLC0415  the pipeline pulls in Kafka and SQL: load on use

    try:
        with RichProgress.bars() as bars:
            try:
                return asyncio.run(run_pipeline(options, RichProgress(bars)))
            except DiefError:
                bars.live.transient = True  # a failure is one line: its bars are not kept
                raise
    except DiefError as exc:  # after the bars are gone, so the reason is the only line
        raise fail(exc) from exc


def _print_result(result: RunResult, out: Path) -> None:
    console.print(
        f"[bold]{result.read}[/] lines read, [green]{result.accepted}[/] accepted, "
        f"[yellow]{result.rejected}[/] rejected; {result.published} records published, "
        f"{result.applied} applied, {result.dead_lettered} dead-lettered "
        f"in {result.timings.get('total', 0):.1f}s"
    )
    console.print(result.records_explained(), highlight=False, markup=False)
    console.print(f"Open:      {out / 'index.html'} (every digest and summary, by format)")
    console.print(f"Digests:   {out / 'digests'}")
    console.print(f"Summaries: {out / 'summary'}")
    console.print(f"Accepted:  {out / 'accepted.jsonl'} (the case id of each accepted line)")
    console.print(f"Rejected:  {out / 'rejected.jsonl'}")
    console.print(f"Run facts: {out / 'run.json'}")


def _options(
    settings: RunSettings, input_path: Path, out: Path, bootstrap: str | None
) -> RunOptions:
    from dief.pipeline import RunOptions  # noqa: PLC0415  loaded when the command runs (Kafka, SQL, rendering): the CLI starts without it

    return RunOptions(
        input=input_path,
        out=out,
        work_dir=settings.work_dir,
        bootstrap=bootstrap,
        database_url=settings.database_url.get_secret_value() if settings.database_url else None,
        broker_bin=settings.broker_bin,
        k_meeting=settings.k_meeting,
        k_csp=settings.k_csp,
        start_month=settings.cycle_start_month,
        timeout=settings.timeout,
        today=_today(),
    )


def run(
    input_path: Annotated[
        Path, typer.Option("--input", help="JSON Lines file of cases, each with submitted_by")
    ],
    out: OutOpt = Path("dief-out"),
    bootstrap: BootstrapOpt = None,
    k_meeting: KMeetingOpt = None,
    k_csp: KCspOpt = None,
    database_url: DbOpt = None,
    keys: Annotated[
        Path | None,
        typer.Option(
            "--keys",
            help="Use this forum keyring (dief keys init) instead of a throw-away one "
            "(default: DIEF_KEYRING__PATH if set)",
        ),
    ] = None,
    passphrase_file: Annotated[
        Path | None,
        typer.Option(
            "--passphrase-file",
            help="File holding its passphrase (default: DIEF_KEYRING__PASSPHRASE, "
            "DIEF_KEYRING__PASSPHRASE_FILE, else a prompt)",
        ),
    ] = None,
    verbose: VerboseOpt = False,
) -> None:
    """Run the pipeline on the cases in a file and write every output.

    Exit status 0 when every line was accepted, 1 when any line was refused (see
    rejected.jsonl; the accepted ones are processed and every output is written) or an
    error stopped the run.
    """
    configure_logging(verbose)
    settings = load_or_fail(
        RunSettings,
        {
            "k_meeting": k_meeting,
            "k_csp": k_csp,
            "database_url": database_url or None,
            "keyring": {"path": keys},
        },
    )
    options = _options(settings, input_path, out, bootstrap)
    if "path" in settings.keyring.model_fields_set:  # --keys or DIEF_KEYRING__PATH
        secret = keyring_passphrase(settings.keyring, passphrase_file)
        options = dataclasses.replace(options, keys=settings.keyring.path, passphrase=secret)
    result = _execute(options)
    _print_result(result, out)
    if result.rejected:
        raise typer.Exit(code=1)


def demo(
    cases: Annotated[int, typer.Option("--cases", min=1, help="How many synthetic cases")] = 2500,
    seed: Annotated[int, typer.Option("--seed", help="Random seed of the synthetic set")] = 7,
    out: OutOpt = Path("dief-out"),
    bootstrap: BootstrapOpt = None,
    database_url: DbOpt = None,
    verbose: VerboseOpt = False,
) -> None:
    """Run a whole local forum on a realistic synthetic set of cases."""
    configure_logging(verbose)
    settings = load_or_fail(RunSettings, {"database_url": database_url or None})
    settings.work_dir.mkdir(parents=True, exist_ok=True)
    input_path = settings.work_dir / "demo-cases.jsonl"
    n = write_jsonl(
        generate_cases(cases, seed=seed, indicator_ids=list(load_catalogue().ids), today=_today()),
        input_path,
    )
    console.print(f"Generated {n} synthetic cases from simulated national nodes: {input_path}")
    options = _options(settings, input_path, out, bootstrap)
    result = _execute(options)
    _print_result(result, out)
    if result.rejected:  # a synthetic line refused is a bug worth a non-zero exit
        raise typer.Exit(code=1)


def register(app: typer.Typer) -> None:
    """Add ``run`` and ``demo`` to *app*."""
    app.command("run")(run)
    app.command("demo")(demo)
