"""``dief web-account``: the accounts of one party's portal, and what ``dief web`` shares
with it (the portal's settings and objects, the demo accounts)."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import time
from collections.abc import AsyncGenerator
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from dief.cli._console import fail, load_or_fail, passphrase_from_file, prompt_passphrase
from dief.exceptions import DiefError
from dief.portal import (
    LoginLimiter,
    Party,
    Portal,
    PortalDatabase,
    Role,
    SessionCodec,
    totp_code,
    totp_uri,
)
from dief.settings import PortalSettings
from dief.vocab import Region

__all__ = [
    "DEMO_ACCOUNTS",
    "DbOpt",
    "PartyOpt",
    "account_app",
    "demo_accounts",
    "make_portal",
    "portal_settings",
]


console = Console(highlight=False)
account_app = typer.Typer(help="The portal's accounts (per party).", no_args_is_help=True)

PartyOpt = Annotated[
    Party, typer.Option("--party", help="Whose portal: node, region or secretariat")
]
DbOpt = Annotated[
    str | None,
    typer.Option(
        "--database-url", help="The portal's accounts database (DIEF_PORTAL_DATABASE_URL)"
    ),
]


def portal_settings(overrides: dict[str, Any]) -> PortalSettings:
    return load_or_fail(PortalSettings, overrides, connects=False)


def make_portal(settings: PortalSettings) -> Portal:
    if settings.database_url is None:
        settings.work_dir.mkdir(parents=True, exist_ok=True)
    return Portal(
        party=Party(settings.party),
        db=PortalDatabase(settings.accounts_url()),
        codec=SessionCodec(
            settings.session_secret.get_secret_value(),
            idle_seconds=settings.idle_minutes * 60,
            secure=settings.cookie_secure,
        ),
        limiter=LoginLimiter(settings.login_attempts, settings.login_window_minutes * 60),
        regions=tuple(settings.regions or list(Region)),
        cycle_start_month=settings.cycle_start_month,
    )


DEMO_ACCOUNTS: dict[Party, list[tuple[str, tuple[Role, ...], Region | None]]] = {
    Party.NODE: [
        ("officer", (Role.OFFICER,), None),
        ("approver", (Role.OFFICER, Role.APPROVER), None),
        ("admin", (Role.ADMINISTRATOR,), None),
    ],
    Party.REGION: [
        *((f"member-{r.value.lower()}", (Role.MEETING_MEMBER,), r) for r in Region),
        ("admin", (Role.ADMINISTRATOR,), None),
    ],
    Party.SECRETARIAT: [  # two of each: every release is a second person's
        ("editor", (Role.SECRETARIAT_EDITOR,), None),
        ("editor2", (Role.SECRETARIAT_EDITOR,), None),
        ("admin", (Role.ADMINISTRATOR,), None),
        ("admin2", (Role.ADMINISTRATOR,), None),
    ],
}


async def demo_accounts(portal: Portal) -> None:
    """Make the party's demo accounts that do not exist yet and print how to sign in."""
    await portal.db.start()
    try:
        for name, roles, region in DEMO_ACCOUNTS[portal.party]:
            if await portal.accounts.by_name(name) is not None:
                continue
            password = secrets.token_urlsafe(12)
            secret = await portal.accounts.create(name, password, roles, region=region)
            console.print(  # one line each, whatever the terminal's width (copy, scripts)
                f"demo account [bold]{name}[/bold] password {password} authenticator {secret}",
                soft_wrap=True,
            )
    finally:
        await portal.db.stop()
    console.print("a sign-in code: dief web-account code NAME --party " + portal.party.value)


@contextlib.asynccontextmanager
async def _accounts(party: Party, database_url: str | None) -> AsyncGenerator[Portal, None]:
    portal = make_portal(portal_settings({"party": party.value, "database_url": database_url}))
    await portal.db.start()
    try:
        yield portal
    finally:
        await portal.db.stop()


@account_app.command("add")
def add_account(
    name: Annotated[str, typer.Argument(help="User name")],
    party: PartyOpt = Party.NODE,
    role: Annotated[list[Role], typer.Option("--role", help="A role (repeatable)")] = [],  # noqa: B006 - typer's list option
    region: Annotated[
        Region | None, typer.Option("--region", help="A meeting member's region")
    ] = None,
    language: Annotated[str, typer.Option("--language", help="en, fr or es")] = "en",
    password_file: Annotated[
        Path | None, typer.Option("--password-file", help="First line: the password")
    ] = None,
    database_url: DbOpt = None,
) -> None:
    """Create an account; prints its authenticator secret (shown once)."""
    password = (
        passphrase_from_file(password_file) if password_file else prompt_passphrase()
    ).get_secret_value()

    async def main() -> str:
        async with _accounts(party, database_url) as portal:
            return await portal.accounts.create(
                name, password, role, region=region, language=language
            )

    try:
        secret = asyncio.run(main())
    except DiefError as exc:
        raise fail(exc) from exc
    console.print(f"account {name}: authenticator secret {secret}")
    console.print(totp_uri(secret, name))


@account_app.command("disable")
def disable_account(name: str, party: PartyOpt = Party.NODE, database_url: DbOpt = None) -> None:
    """Disable an account (a leaver's): it cannot sign in, its sessions end."""

    async def main() -> bool:
        async with _accounts(party, database_url) as portal:
            return await portal.accounts.set_disabled(name, disabled=True)

    if not asyncio.run(main()):
        raise fail(DiefError(f"there is no account {name!r}"))
    console.print(f"account {name} disabled")


@account_app.command("code")
def account_code(name: str, party: PartyOpt = Party.NODE, database_url: DbOpt = None) -> None:
    """Print the account's current sign-in code (demos and tests: whoever can read the
    accounts database can do this; a real account's holder uses an authenticator app)."""

    async def main() -> str | None:
        async with _accounts(party, database_url) as portal:
            return await portal.accounts.totp_secret(name)

    found = asyncio.run(main())
    if found is None:
        raise fail(DiefError(f"there is no account {name!r}"))
    console.print(totp_code(found, time.time()))
