"""``dief keys``: rotation, retirement and revocation of listed keys, region key
succession, and the signed directory (``directory issue``, ``directory verify``)."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from dief.cli.keys._common import (
    Commands,
    DirArg,
    FileArg,
    Out,
    PassphraseFile,
    collect,
    directory_app,
    fail,
    is_party,
    secret,
    secretariat,
    write_json,
)
from dief.exceptions import DiefError
from dief.keyring import DEFAULT_DIRECTORY_DAYS, Purpose, RegionKeys, verify_directory
from dief.wire import KeyStatus

__all__ = ["COMMANDS"]

COMMANDS: Commands = []
command = collect(COMMANDS)


class _RotateKind(StrEnum):
    KEM = "kem"
    SIGN = "sign"
    DIRECTORY = "directory"


def _secretariat_folder(directory: Path) -> None:
    if not is_party(directory):
        raise fail(
            f"{directory} is not a party keyring: rotate and retire act on the Secretariat's "
            "folder (a region rotates with endorse-kem and succeed-signing-key)"
        )


@command("rotate")
def rotate(
    directory: DirArg,
    kind: Annotated[
        _RotateKind, typer.Option("--kind", help="kem, sign or directory.")
    ] = _RotateKind.KEM,
    passphrase_file: PassphraseFile = None,
) -> None:
    """The Secretariat makes a new active key of KIND (listed from the next directory);
    old keys keep opening and verifying until retired. A new directory key needs the
    root's certificate."""
    _secretariat_folder(directory)
    _rotate_secretariat(directory, kind.value, passphrase_file)


@command("retire")
def retire(
    directory: DirArg,
    kid: Annotated[str, typer.Argument(help="Key id to retire.")],
    passphrase_file: PassphraseFile = None,
) -> None:
    """The Secretariat retires a listed key (from the next directory on): it no longer
    seals or signs, and still opens and verifies what was made before."""
    _secretariat_folder(directory)
    _set_status(directory, kid, KeyStatus.RETIRED, passphrase_file)


def _set_status(directory: Path, kid: str, status: KeyStatus, passphrase_file: Path | None) -> None:
    try:
        secretariat(directory, passphrase_file).set_status(kid, status)
    except DiefError as exc:
        raise fail(exc.message) from exc
    typer.echo(f"{status.value} {kid}; issue a new directory")


def _rotate_secretariat(directory: Path, kind: str, passphrase_file: Path | None) -> None:
    try:
        kid = secretariat(directory, passphrase_file).rotate(Purpose(kind))
    except (DiefError, ValueError) as exc:
        raise fail(getattr(exc, "message", str(exc))) from exc
    typer.echo(
        f"new {kind} key {kid}" + ("; the root must certify it" if kind == "directory" else "")
    )


@command("revoke")
def revoke(
    directory: DirArg,
    kid: Annotated[str, typer.Argument(help="Key id to revoke.")],
    passphrase_file: PassphraseFile = None,
) -> None:
    """The Secretariat revokes a listed key: never used again (re-seal data at rest)."""
    _set_status(directory, kid, KeyStatus.REVOKED, passphrase_file)


@command("endorse-kem")
def endorse_kem(
    directory: DirArg,
    out: Out,
    passphrase_file: PassphraseFile = None,
) -> None:
    """A region makes a new KEM key signed by its signing key (a declared rotation)."""
    try:
        bundle = RegionKeys.load(directory, passphrase=secret(passphrase_file)).endorse_kem()
    except DiefError as exc:
        raise fail(exc.message) from exc
    write_json(out, bundle)
    typer.echo(
        f"{bundle.region}: new KEM key {bundle.keys[-1].kid}; bundle {out} for the Secretariat"
    )


@command("succeed-signing-key")
def succeed_signing_key(
    directory: DirArg,
    out: Out,
    recovery: Annotated[
        bool,
        typer.Option(
            "--recovery", help="Sign with the recovery key (predecessor lost or revoked)."
        ),
    ] = False,
    recovery_passphrase_file: Annotated[
        Path | None, typer.Option("--recovery-passphrase-file", dir_okay=False)
    ] = None,
    passphrase_file: PassphraseFile = None,
) -> None:
    """A region makes a new signing key signed by its predecessor (or recovery key)."""
    try:
        keys = RegionKeys.load(directory, passphrase=secret(passphrase_file))
        rec = secret(recovery_passphrase_file) if recovery else None
        bundle = keys.succeed_signing_key(recovery_passphrase=rec)
    except DiefError as exc:
        raise fail(exc.message) from exc
    write_json(out, bundle)
    typer.echo(
        f"{bundle.region}: new signing key; the root signs {out}, then the Secretariat adds it"
    )


@directory_app.command("issue")
def directory_issue(
    directory: DirArg,
    out: Annotated[
        Path | None, typer.Option("--out", help="Also write it to this file.", dir_okay=False)
    ] = None,
    days: Annotated[
        float, typer.Option("--days", help="Validity in days.")
    ] = DEFAULT_DIRECTORY_DAYS,
    passphrase_file: PassphraseFile = None,
) -> None:
    """The Secretariat signs the next directory version (kept in DIR/directory/)."""
    try:
        issued = secretariat(directory, passphrase_file).issue_directory(days=days)
    except DiefError as exc:
        raise fail(exc.message) from exc
    if out is not None:
        write_json(out, issued.raw)
    for warning in issued.warnings:
        typer.echo(f"warning: {warning}")
    typer.echo(
        f"directory v{issued.version} issued, expires {issued.document.expires}: "
        f"{directory / 'directory' / f'v{issued.version}.json'}"
    )


@directory_app.command("verify")
def directory_verify(
    file: FileArg,
    root_fingerprint: Annotated[
        str, typer.Option("--root-fingerprint", help="The pinned root fingerprint.")
    ],
    previous: Annotated[
        Path | None,
        typer.Option(
            "--previous", help="The directory held (refuse an older one).", dir_okay=False
        ),
    ] = None,
) -> None:
    """Verify a directory file against the pinned root (and the version held)."""
    try:
        held = verify_directory(previous.read_bytes(), root_fingerprint) if previous else None
        found = verify_directory(file.read_bytes(), root_fingerprint, held)
    except OSError as exc:
        raise fail(f"cannot read a directory file: {exc.strerror}") from exc
    except DiefError as exc:
        raise fail(f"refused ({exc.code}): {exc.message}") from exc
    for warning in found.warnings:
        typer.echo(f"warning: {warning}")
    kind = " (a SIMULATION)" if found.simulation else ""
    typer.echo(f"directory v{found.version}{kind} verifies; expires {found.document.expires}")
