"""What every ``dief keys`` command shares: the sub-apps, options, the passphrase, output."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, TypeVar

import typer
from pydantic import BaseModel, SecretStr
from rich.console import Console
from rich.table import Table
from rich.text import Text

from dief.crypto.keys import SUITES
from dief.exceptions import DiefError
from dief.keyring import ForumDirectory, PartyKeyring, Purpose, SecretariatKeys, parse_strict
from dief.settings import KeysSettings, load_settings, read_passphrase_file
from dief.wire import KeyStatus

__all__ = [
    "Commands",
    "DirArg",
    "FileArg",
    "Out",
    "PassphraseFile",
    "Simulation",
    "Suite",
    "check_suite",
    "collect",
    "console",
    "directory_app",
    "directory_table",
    "fail",
    "is_party",
    "keys_app",
    "own_table",
    "passphrase",
    "read_document",
    "secret",
    "secretariat",
    "write_json",
]

_M = TypeVar("_M", bound=BaseModel)
_F = TypeVar("_F", bound=Callable[..., None])

#: A module's ``keys`` commands, by name, in the order they are listed in the help.
Commands = list[tuple[str, Callable[..., None]]]


def collect(into: Commands) -> Callable[[str], Callable[[_F], _F]]:
    """A decorator factory noting ``(name, function)`` in *into*; the package registers the
    modules' commands in the order it chooses (the help lists them so)."""

    def command(name: str) -> Callable[[_F], _F]:
        def note(function: _F) -> _F:
            into.append((name, function))
            return function

        return note

    return command


keys_app = typer.Typer(
    name="keys",
    help="Each party's own keys, the signed forum directory, node backups; a simulated forum.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
)
directory_app = typer.Typer(
    name="directory",
    help="Issue and verify the signed forum directory.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
)
keys_app.add_typer(directory_app, name="directory")

DirArg = Annotated[Path, typer.Argument(help="Keyring directory.")]
PassphraseFile = Annotated[
    Path | None,
    typer.Option(
        "--passphrase-file",
        help="Read the passphrase from this file (else DIEF_KEYRING__PASSPHRASE, else "
        "DIEF_KEYRING__PASSPHRASE_FILE, else a prompt).",
        dir_okay=False,
    ),
]
Simulation = Annotated[
    bool,
    typer.Option(
        "--simulation", help="Flag the keyring as a simulation (cheap KDF; never production)."
    ),
]
Suite = Annotated[str, typer.Option("--suite", help=f"KEM suite: {' or '.join(SUITES)}.")]
Out = Annotated[Path, typer.Option("--out", help="Write the result to this file.", dir_okay=False)]
FileArg = Annotated[Path, typer.Argument(help="Input file.", exists=True, dir_okay=False)]


def fail(message: str) -> typer.Exit:
    Console(stderr=True, highlight=False, soft_wrap=True).print(
        Text.assemble(("error: ", "bold red"), message)
    )
    return typer.Exit(1)


def passphrase(passphrase_file: Path | None, *, confirm: bool) -> SecretStr:
    """``--passphrase-file``, else ``DIEF_KEYRING__PASSPHRASE[_FILE]``, else a prompt."""
    try:
        if passphrase_file is not None:
            value: SecretStr | None = read_passphrase_file(passphrase_file, "--passphrase-file")
        else:
            value = load_settings(KeysSettings).keyring.read_passphrase()
    except DiefError as exc:
        raise fail(exc.message) from exc
    if value is None:
        value = SecretStr(
            typer.prompt("Keyring passphrase", hide_input=True, confirmation_prompt=confirm)
        )
    if not value.get_secret_value():
        raise fail("the keyring passphrase is empty")
    return value


def secret(passphrase_file: Path | None, *, confirm: bool = False) -> str:
    return passphrase(passphrase_file, confirm=confirm).get_secret_value()


def console() -> Console:
    out = Console(highlight=False)
    if not out.is_terminal:
        out.width = max(out.width, 120)  # pipes and files: never truncate a kid
    return out


def is_party(directory: Path) -> bool:
    try:
        data = json.loads((directory / "keyring.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(data, dict) and data.get("format") == "dief-party-keyring/1"


def write_json(path: Path, document: BaseModel | bytes, *, mode: int = 0o644) -> None:
    data = document if isinstance(document, bytes) else document.model_dump_json(indent=1).encode()
    try:
        path.write_bytes(data)
        path.chmod(mode)
    except OSError as exc:
        raise fail(f"cannot write {path}: {exc.strerror}") from exc


def read_document(path: Path, model: type[_M], what: str) -> _M:
    try:
        return parse_strict(path.read_bytes(), model, what=what)
    except OSError as exc:
        raise fail(f"cannot read {path}: {exc.strerror}") from exc
    except DiefError as exc:
        raise fail(exc.message) from exc


def check_suite(suite: str) -> None:
    if suite not in SUITES:
        raise fail(f"unknown suite {suite!r}; use one of {', '.join(SUITES)}")


def own_table(ring: PartyKeyring, title: str, *, show_all: bool = True) -> Table:
    table = Table(title=title, title_justify="left")
    for column in ("kid", "purpose", "scope", "alg", "created", "status"):
        table.add_column(column, no_wrap=True, min_width=20 if column == "kid" else None)
    for key in ring.list_keys():
        if key.purpose is Purpose.NODE_SECRET or (
            not show_all and key.status in {KeyStatus.RETIRED, KeyStatus.REVOKED}
        ):
            continue
        scope = " ".join(x for x in (key.cycle, key.region or ring.region) if x) or "-"
        table.add_row(
            key.kid, key.purpose.value, scope, key.alg.split("-", 1)[0], key.created, key.status
        )
    return table


def directory_table(directory: ForumDirectory, title: str) -> Table:
    table = Table(title=title, title_justify="left")
    for column in ("kid", "role", "scope", "status"):
        table.add_column(column, no_wrap=True, min_width=20 if column == "kid" else None)
    for key in directory.entries():
        scope = " ".join(x for x in (key.cycle, key.region) if x) or "-"
        table.add_row(key.kid, key.role.value, scope, key.status.value)
    return table


def secretariat(
    directory: Path, passphrase_file: Path | None, *, unlock: bool = True
) -> SecretariatKeys:
    try:
        return SecretariatKeys.load(
            directory, passphrase=secret(passphrase_file) if unlock else None
        )
    except DiefError as exc:
        raise fail(exc.message) from exc
