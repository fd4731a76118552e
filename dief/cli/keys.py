"""`dief keys`: create a local forum's keyring, rotate, retire, list and export keys.

The passphrase comes from ``--passphrase-file PATH`` (first line), else
``DIEF_KEYRING__PASSPHRASE``, else the first line of ``DIEF_KEYRING__PASSPHRASE_FILE`` (the
variables every service reads, :class:`dief.settings.KeysSettings`), else a hidden prompt
(confirmed on ``init``). Nothing here ever prints key material.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from pydantic import SecretStr
from rich.console import Console
from rich.table import Table
from rich.text import Text

from dief.crypto.keys import SUITES
from dief.exceptions import DiefError
from dief.keyring import KeyInfo, KeyKind, Keyring, KeyRole
from dief.settings import KeysSettings, load_settings, read_passphrase_file
from dief.wire import SUITE_HYBRID

__all__ = ["register"]

keys_app = typer.Typer(
    name="keys",
    help="Create, rotate, retire, list and export keyrings.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
)


def register(app: typer.Typer) -> None:
    """Add the ``keys`` sub-app to *app*."""
    app.add_typer(keys_app, name="keys", help="Create, rotate, retire, list and export keyrings.")


_DirArg = Annotated[Path, typer.Argument(help="Keyring directory.")]
_PassphraseFile = Annotated[
    Path | None,
    typer.Option(
        "--passphrase-file",
        help="Read the passphrase from this file (else DIEF_KEYRING__PASSPHRASE, else "
        "DIEF_KEYRING__PASSPHRASE_FILE, else a prompt).",
        dir_okay=False,
    ),
]


def _fail(message: str) -> typer.Exit:
    Console(stderr=True, highlight=False, soft_wrap=True).print(
        Text.assemble(("error: ", "bold red"), message)
    )
    return typer.Exit(1)


def _passphrase(passphrase_file: Path | None, *, confirm: bool) -> SecretStr:
    try:
        if passphrase_file is not None:
            value: SecretStr | None = read_passphrase_file(passphrase_file, "--passphrase-file")
        else:
            value = load_settings(KeysSettings).keyring.read_passphrase()
    except DiefError as exc:
        raise _fail(exc.message) from exc
    if value is None:
        value = SecretStr(
            typer.prompt("Keyring passphrase", hide_input=True, confirmation_prompt=confirm)
        )
    if not value.get_secret_value():
        raise _fail("the keyring passphrase is empty")
    return value


def _console() -> Console:
    console = Console(highlight=False)
    if not console.is_terminal:
        console.width = max(console.width, 120)  # pipes and files: never truncate a kid
    return console


def _table(keys: list[KeyInfo], title: str) -> Table:
    table = Table(title=title, title_justify="left")
    table.add_column("kid", no_wrap=True, min_width=20)
    table.add_column("kind", no_wrap=True)
    table.add_column("role", no_wrap=True)
    table.add_column("region", no_wrap=True)
    table.add_column("alg", no_wrap=True)
    table.add_column("created", no_wrap=True)
    table.add_column("status", no_wrap=True)
    for key in keys:
        table.add_row(
            key.kid,
            key.kind.value,
            key.role.value,
            key.region or "-",
            key.alg.split("-", 1)[0],  # suite names share the "-HKDFSHA256-AES256GCM" tail
            key.created,
            key.status,
        )
    return table


@keys_app.command("init")
def init(
    directory: _DirArg,
    nodes: Annotated[
        str, typer.Option("--nodes", help="Comma-separated names of national nodes.")
    ] = "",
    suite: Annotated[
        str, typer.Option("--suite", help=f"KEM suite: {' or '.join(SUITES)}.")
    ] = SUITE_HYBRID,
    passphrase_file: _PassphraseFile = None,
) -> None:
    """Create a whole local forum: 5 regions, Secretariat, signing keys, node secrets."""
    names = [name.strip() for name in nodes.split(",") if name.strip()]
    if suite not in SUITES:
        raise _fail(f"unknown suite {suite!r}; use one of {', '.join(SUITES)}")
    if directory.exists() and (not directory.is_dir() or any(directory.iterdir())):
        raise _fail(f"{directory} exists and is not an empty directory")
    passphrase = _passphrase(passphrase_file, confirm=True)
    try:
        ring = Keyring.init_forum(
            directory, passphrase.get_secret_value(), nodes=names, suite=suite
        )
    except DiefError as exc:
        raise _fail(exc.message) from exc
    console = _console()
    console.print(_table(ring.key_infos(), f"keyring {directory}"))
    console.print(f"node secrets: {', '.join(ring.node_names()) or 'none'}")


@keys_app.command("rotate")
def rotate(
    directory: _DirArg,
    role: Annotated[KeyRole, typer.Option("--role", help="Key role.")],
    region: Annotated[
        str | None, typer.Option("--region", help="Region code (role region only).")
    ] = None,
    kind: Annotated[
        KeyKind, typer.Option("--kind", help="kem (envelopes) or sign (signatures).")
    ] = KeyKind.KEM,
    suite: Annotated[
        str | None, typer.Option("--suite", help="KEM suite (default: the current one).")
    ] = None,
    passphrase_file: _PassphraseFile = None,
) -> None:
    """Make a new active key for a role/region; old keys keep opening until retired."""
    try:
        ring = Keyring.load(directory)
        ring.unlock(_passphrase(passphrase_file, confirm=False).get_secret_value())
        new = ring.rotate(kind, role, region.upper() if region else None, suite=suite)
    except DiefError as exc:
        raise _fail(exc.message) from exc
    _console().print(
        _table(ring.key_infos(kind=new.kind, role=new.role, region=new.region), "rotated")
    )


@keys_app.command("retire")
def retire(
    directory: _DirArg,
    kid: Annotated[str, typer.Argument(help="Key id to retire.")],
    destroy: Annotated[
        bool, typer.Option("--destroy", help="Also delete the private key file.")
    ] = False,
) -> None:
    """Stop using a non-active key for opening and verifying (optionally delete it)."""
    try:
        info = Keyring.load(directory).retire(kid, destroy=destroy)
    except DiefError as exc:
        raise _fail(exc.message) from exc
    typer.echo(f"retired {info.kid}{' (private key deleted)' if destroy else ''}")


@keys_app.command("add-node")
def add_node(
    directory: _DirArg,
    name: Annotated[str, typer.Argument(help="Node name.")],
    passphrase_file: _PassphraseFile = None,
) -> None:
    """Create the secret of one more national node."""
    try:
        ring = Keyring.load(directory)
        ring.unlock(_passphrase(passphrase_file, confirm=False).get_secret_value())
        ring.add_node(name)
    except DiefError as exc:
        raise _fail(exc.message) from exc
    typer.echo(f"node secret created for {name}")


@keys_app.command("list")
def list_keys(
    directory: _DirArg,
    show_all: Annotated[bool, typer.Option("--all", help="Include retired keys.")] = False,
) -> None:
    """List keys (kid, role, region, created, status); never key material."""
    try:
        ring = Keyring.load(directory)
    except DiefError as exc:
        raise _fail(exc.message) from exc
    console = _console()
    console.print(_table(ring.key_infos(include_retired=show_all), f"keyring {directory}"))
    if not ring.public_only:
        console.print(f"node secrets: {', '.join(ring.node_names()) or 'none'}")


@keys_app.command("export-public")
def export_public(
    directory: _DirArg,
    out: Annotated[Path, typer.Argument(help="Output directory (new or empty).")],
) -> None:
    """Write the public keys nodes and aggregators need to OUT."""
    try:
        target = Keyring.load(directory).export_public(out)
        count = len(Keyring.load(target).key_infos())
    except DiefError as exc:
        raise _fail(exc.message) from exc
    typer.echo(f"exported {count} public keys to {target}")
