"""Four eyes at the command line (DESIGN §13): with ``DIEF_FOUR_EYES=true``, ``dief post``
holds its cases awaiting approval in the node portal's database (the author signs in with
password and authenticator code), and ``dief approve DRAFT --by NAME`` releases them: a
second officer who holds the approver role and is not the author signs in, and only then is
the case sealed and queued. The portal lists the same drafts (one store, one rule:
:func:`dief.portal.check_four_eyes`).

The portal's database is ``DIEF_PORTAL_DATABASE_URL``, else ``.dief/portal-node.sqlite``
(:class:`dief.settings.PortalSettings`), as for ``dief web --party node``.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncGenerator, Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape

from dief.cli._console import (
    BootstrapOpt,
    EmbeddedOpt,
    kafka_options,
    keyring_passphrase,
    load_or_fail,
    run_or_fail,
)
from dief.exceptions import BrokerError, ConfigurationError, ReleaseRefusedError, ValidationError
from dief.portal import (
    AccountStore,
    DraftState,
    DraftStore,
    LocalLogin,
    NodeServiceGateway,
    PortalDatabase,
    Role,
    check_four_eyes,
    hold_cases,
    hold_file,
    private_folder,
    release_draft,
)
from dief.screening import Screener, default_screener
from dief.settings import NodeSettings, PortalSettings
from dief.wire import load_cases

if TYPE_CHECKING:
    from dief.node import FileResult
    from dief.portal import Account, Draft, LoginMethod, NodeGateway
    from dief.screening import TextScreener

__all__ = [
    "approve_drafts",
    "intake_hold",
    "open_desk",
    "open_node",
    "post_for_approval",
    "register",
]

console = Console(highlight=False, soft_wrap=True)  # one line per case, for scripts

#: Publish what waits in the outbox within so many seconds; the number of records sent.
Publish = Callable[[float], Awaitable[int]]
#: The node, started for a release: its gateway and its :data:`Publish`.
NodeFactory = Callable[[], AbstractAsyncContextManager[tuple["NodeGateway", Publish]]]


@contextlib.asynccontextmanager
async def open_desk() -> AsyncGenerator[tuple[DraftStore, LoginMethod], None]:
    """The portal's drafts and its login (the node portal's database)."""
    settings = load_or_fail(PortalSettings, {"party": "node"}, connects=False)
    if settings.database_url is None:
        settings.work_dir.mkdir(parents=True, exist_ok=True)
    db = PortalDatabase(settings.accounts_url())
    await db.start()
    try:
        yield DraftStore(db), LocalLogin(AccountStore(db, time.time))
    finally:
        await db.stop()


def _credentials(name: str) -> tuple[str, str]:
    password = typer.prompt(f"{name}'s password", hide_input=True)
    code = typer.prompt(f"{name}'s authenticator code")
    return str(password), str(code).strip()


async def _sign_in(login: LoginMethod, name: str) -> Account:
    """*name* signs in with password and authenticator code (prompted; never echoed).

    :raises ReleaseRefusedError: the sign-in failed (``approver_login``) or the account
        may neither draft nor approve cases.
    """
    password, code = _credentials(name)
    account = await login.login(name, password, code)
    if account is None:
        raise ReleaseRefusedError(
            f"{name} could not be signed in (name, password or code)", code="approver_login"
        )
    if not (account.has(Role.OFFICER) or account.has(Role.APPROVER)):
        raise ReleaseRefusedError(f"{name} is not an officer of this node", code="not_officer")
    return account


def _screener(settings: NodeSettings) -> TextScreener:
    """The node's screener (with the forum's own terms, DIEF_SCREENING_TERMS_FILE)."""
    if settings.screening_terms_file is None:
        return default_screener()
    return Screener(extra_terms=settings.screening_terms_file)


async def post_for_approval(files: Sequence[Path], by: str | None, settings: NodeSettings) -> int:
    """``dief post`` under four eyes: *by* signs in, each file's valid, screened cases are
    held awaiting a second officer's approval (nothing sealed, the node is not started);
    prints one line per input line and returns how many were refused."""
    if not by:
        raise ConfigurationError(
            "four eyes are on (DIEF_FOUR_EYES): give --by NAME, your portal account; a "
            "second officer then releases the cases with `dief approve`"
        )
    today = datetime.now(UTC).date()
    refused = 0
    async with open_desk() as (drafts, login):
        author = await _sign_in(login, by)
        screener = _screener(settings)
        for path in files:
            try:
                items = list(load_cases(path, today=today))
            except ConfigurationError as exc:
                console.print(f"[red]{escape(str(path))}: refused[/] {escape(exc.message)}")
                refused += 1
                continue
            for row in await hold_cases(drafts, author.username, items, screener, today=today):
                where = f"{escape(str(path))}:{row.line}"
                if row.ok:
                    console.print(
                        f"{where}: awaiting approval as draft {row.draft} "
                        f"(a second officer: dief approve {row.draft} --by NAME, or the portal)"
                    )
                else:
                    refused += 1
                    console.print(f"[red]{where}: refused ({row.reason})[/] {row.describe()}")
    return refused


def intake_hold(settings: NodeSettings) -> Callable[[Path], Awaitable[FileResult]]:
    """The intake folder under four eyes: each file's cases held in the portal's drafts."""
    screener = _screener(settings)

    async def hold(path: Path) -> FileResult:
        async with open_desk() as (drafts, _login):
            return await hold_file(drafts, path, screener)

    return hold


def _list(drafts: Sequence[Draft]) -> None:

    shown = 0
    for d in drafts:
        if d.state is not DraftState.SUBMITTED:
            continue
        body = d.body
        console.print(
            f"draft {d.id}: by {d.author}, {body.get('kind', 'case')} in "
            f"{body.get('region', '?')}, detected {body.get('detected', '?')}"
            f"{' (withdrawal)' if body.get('status') == 'withdrawn' else ''}"
        )
        shown += 1
    if not shown:
        console.print("no case awaits approval")


@contextlib.asynccontextmanager
async def open_node(
    settings: NodeSettings, passphrase_file: Path | None
) -> AsyncGenerator[tuple[NodeGateway, Publish], None]:
    """The node, started for the release: its gateway, and a way to publish what waits."""
    from producers.node import NodeService  # noqa: PLC0415  loaded when the command runs (Kafka, SQL, rendering): the CLI starts without it

    passphrase = keyring_passphrase(settings.keyring, passphrase_file)
    service = NodeService(settings, passphrase)
    await service.start()
    work = load_or_fail(PortalSettings, {"party": "node"}, connects=False).work_dir
    try:
        gateway = NodeServiceGateway(service, settings.outbox, private_folder(work))
        yield gateway, service.publish_pending
    finally:
        await service.stop()


async def approve_drafts(ids: Sequence[int], by: str, node: NodeFactory) -> int:
    """Release drafts *ids* by *by* (signed in); returns how many were not released."""
    async with open_desk() as (drafts, login):
        found = [await drafts.get(i) for i in ids]
        missing = [i for i, d in zip(ids, found, strict=True) if d is None]
        if missing:
            raise ValidationError(f"no draft {missing[0]}", code="unknown_draft")
        approver = await _sign_in(login, by)
        drafts_found = [d for d in found if d is not None]  # all of them (none missing)
        for draft in drafts_found:  # the rule before the node is started: nothing is sealed
            check_four_eyes(draft.author, approver.username,
                            approver_may_approve=approver.has(Role.APPROVER))  # fmt: skip
        failed = 0
        async with node() as (gateway, publish):
            for draft in drafts_found:
                try:
                    after, outcome = await release_draft(drafts, gateway, draft, approver)
                except ValidationError as exc:
                    console.print(f"[red]draft {draft.id}: not released[/] ({exc.message})")
                    failed += 1
                    continue
                if after.state is DraftState.RELEASED:
                    how = "held for its contributor token" if outcome.held else "queued"
                    console.print(
                        f"draft {draft.id}: released by {approver.username}: case "
                        f"{outcome.case_id} revision {outcome.revision} ({how})"
                    )
                else:
                    failed += 1
                    console.print(
                        f"[red]draft {draft.id}: refused by the node ({outcome.reason})[/] "
                        f"{escape(outcome.message or '')}; back to its author as a draft"
                    )
            await _publish(publish)
    return failed


async def _publish(publish: Publish) -> None:
    try:
        sent = await publish(15.0)
        console.print(f"published {sent} records")
    except BrokerError as exc:
        console.print(
            f"[yellow]not published yet[/] ({escape(exc.message)}): the records wait in the "
            "outbox; `dief node` (or `dief web --party node`) publishes them"
        )


def approve(
    drafts: Annotated[
        list[int] | None, typer.Argument(help="The drafts to release (see --list)")
    ] = None,
    by: Annotated[
        str | None, typer.Option("--by", help="The approver's portal account (signs in)")
    ] = None,
    list_them: Annotated[
        bool, typer.Option("--list", help="List the cases awaiting approval")
    ] = False,
    keys: Annotated[
        Path | None,
        typer.Option("--keys", help="Keyring directory (default: DIEF_KEYRING__PATH)"),
    ] = None,
    passphrase_file: Annotated[
        Path | None, typer.Option("--passphrase-file", help="File holding the keyring passphrase")
    ] = None,
    bootstrap: BootstrapOpt = None,
    embedded: EmbeddedOpt = False,
) -> None:
    """Four eyes: release cases held awaiting approval (DIEF_FOUR_EYES, `dief post --by`,
    the intake folder, the portal). The approver signs in with password and authenticator
    code, must hold the approver role and cannot be a case's author; only then is the case
    validated again, screened, sealed and queued. Exit 1 if any case was not released."""

    async def listing() -> int:
        async with open_desk() as (store, _login):
            _list(await store.all())
        return 0

    if list_them or not drafts:
        raise typer.Exit(run_or_fail(listing()))
    if not by:
        raise typer.BadParameter("give --by NAME: the approver's portal account")
    settings = load_or_fail(
        NodeSettings,
        {"keyring": {"path": keys}, "kafka": kafka_options(bootstrap, embedded)},
    )

    def node() -> AbstractAsyncContextManager[tuple[NodeGateway, Publish]]:
        return open_node(settings, passphrase_file)

    raise typer.Exit(1 if run_or_fail(approve_drafts(drafts, by, node)) else 0)


def register(app: typer.Typer) -> None:
    """Add ``approve`` to *app*."""
    app.command("approve")(approve)
