"""``dief keys backup`` / ``dief keys restore``: a national node's backup (DESIGN §4 ⚑).

The backup holds everything the node needs to go on: its secret, registration key and KEM
key, its case index (derived ids, index, region, cycle, latest revision, the practitioner's
reference) and its contributor tokens, all sealed under the node's passphrase (or another
one, ``--backup-passphrase-file``), mode 0600. Losing it (and the node) makes the node's
cases impossible to revise or withdraw: ``docs/key-runbook.md`` says so.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer

from dief.cli._directory import (
    DirectoryOpt,
    RootFingerprintOpt,
    directory_overrides,
    trusted_directory,
)
from dief.cli.keys._common import (
    Commands,
    DirArg,
    FileArg,
    Out,
    PassphraseFile,
    collect,
    fail,
    secret,
)
from dief.cli.keys._node_state import (
    parse_extras,
    read_state,
    restore_cases,
    restore_tokens,
    state_extras,
)
from dief.exceptions import ConfigurationError, DiefError, PassphraseError
from dief.keyring import ForumDirectory, NodeKeys, backup_node, restore_node
from dief.settings import NodeSettings, load_settings, read_passphrase_file

__all__ = ["COMMANDS"]

COMMANDS: Commands = []
command = collect(COMMANDS)

BackupPassphraseFile = Annotated[
    Path | None,
    typer.Option(
        "--backup-passphrase-file",
        help="The backup's own passphrase, from this file (default: the node's passphrase).",
        dir_okay=False,
    ),
]
OutboxOpt = Annotated[
    Path | None,
    typer.Option("--outbox", help="The node's outbox (default: DIEF_OUTBOX).", dir_okay=False),
]
WalletOpt = Annotated[
    Path | None,
    typer.Option(
        "--wallet",
        help="The node's token wallet (default: DIEF_CREDENTIALS_FILE, else beside the outbox).",
        dir_okay=False,
    ),
]


def _node_settings(outbox: Path | None, wallet: Path | None, **more: object) -> NodeSettings:
    try:
        return load_settings(
            NodeSettings, {"outbox": outbox, "credentials_file": wallet, **more}, connects=False
        )
    except ConfigurationError as exc:
        raise fail(exc.message) from exc


def _backup_passphrase(given: Path | None, node_passphrase: str) -> str:
    if given is None:
        return node_passphrase
    try:
        return read_passphrase_file(given, "--backup-passphrase-file").get_secret_value()
    except DiefError as exc:
        raise fail(exc.message) from exc


@command("backup")
def backup(
    directory: DirArg,
    out: Out,
    outbox: OutboxOpt = None,
    wallet: WalletOpt = None,
    keys_only: Annotated[
        bool,
        typer.Option(
            "--keys-only", help="The keys alone (a node that never posted: no case index)."
        ),
    ] = False,
    backup_passphrase_file: BackupPassphraseFile = None,
    passphrase_file: PassphraseFile = None,
) -> None:
    """Back up a node: its keys, its case index (from the outbox) and its tokens (from the
    wallet), sealed (mode 0600). Back up again after every post: a case posted after the
    last backup cannot be revised from it."""
    settings = _node_settings(outbox, wallet)
    extras: dict[str, bytes] | None = None
    counts = "no case index (keys only)"
    try:  # noqa: PLW0717  each step may fail with a DiefError, reported as one line
        node_passphrase = secret(passphrase_file)
        node = NodeKeys.load(directory, passphrase=node_passphrase)
        if not keys_only:
            if not settings.outbox.is_file():
                raise fail(
                    f"no outbox at {settings.outbox}: give --outbox (or DIEF_OUTBOX); a node "
                    "that never posted is backed up with --keys-only"
                )
            held = settings.wallet_path if settings.wallet_path.is_file() else None
            state = asyncio.run(read_state(settings.outbox, held, node.node_secret(settings.node)))
            extras = state_extras(state)
            counts = f"{len(state.cases)} cases, {len(state.tokens)} tokens"
        backup_node(
            node, out, _backup_passphrase(backup_passphrase_file, node_passphrase), extras=extras
        )
    except DiefError as exc:
        raise fail(exc.message) from exc
    typer.echo(f"backup written to {out}: the node's keys, {counts}")
    typer.echo("keep it offline; without it the node's cases cannot be revised or withdrawn")


def _directory_or_none(settings: NodeSettings) -> ForumDirectory | None:
    """The signed directory the options or DIEF_DIRECTORY__* give, None if none is given."""
    if settings.directory.file is None:
        return None
    try:
        return trusted_directory(settings.directory, None)
    except DiefError as exc:
        raise fail(f"the forum directory is refused ({exc.code}): {exc.message}") from exc


@command("restore")
def restore(
    backup_file: FileArg,
    directory: DirArg,
    outbox: OutboxOpt = None,
    wallet: WalletOpt = None,
    forum_directory: DirectoryOpt = None,
    root_fingerprint: RootFingerprintOpt = None,
    unknown_revisions: Annotated[
        bool,
        typer.Option(
            "--unknown-revisions",
            help="Forget the latest revisions backed up (the backup may be older than the "
            "last revision posted): the node then revises a case only when the revision is "
            "given.",
        ),
    ] = False,
    backup_passphrase_file: BackupPassphraseFile = None,
    passphrase_file: PassphraseFile = None,
) -> None:
    """Restore a node from its backup: its keyring into the new folder DIRECTORY (under
    the passphrase given), its case index into the outbox, its tokens into the wallet
    (checked under the signed directory's issuer keys)."""
    settings = _node_settings(
        outbox, wallet, directory=directory_overrides(forum_directory, root_fingerprint)
    )
    found = _directory_or_none(settings)
    node_passphrase = secret(passphrase_file, confirm=True)
    try:
        node, extras = restore_node(
            backup_file,
            _backup_passphrase(backup_passphrase_file, node_passphrase),
            directory,
            node_passphrase,
        )
    except PassphraseError as exc:
        raise fail(
            f"{exc.message} (a backup made under another passphrase than the node's: give "
            "--backup-passphrase-file)"
        ) from exc
    except DiefError as exc:
        raise fail(exc.message) from exc
    typer.echo(f"node keys restored in {directory}; registration kid {node.registration_kid}")
    try:  # noqa: PLW0717  each step may fail with a DiefError, reported as one line
        state = parse_extras(extras, unknown_revisions=unknown_revisions)
        secret_ = node.node_secret(settings.node)
        if state.cases:
            held = asyncio.run(restore_cases(settings.outbox, state.cases))
            known = "unknown (give each revision)" if unknown_revisions else "as backed up"
            typer.echo(
                f"{len(state.cases)} cases restored into {settings.outbox} ({held} in its "
                f"index); latest revisions {known}"
            )
        if state.tokens and found is None:
            typer.echo(
                f"{len(state.tokens)} tokens not restored: give the signed directory "
                "(--directory, --root-fingerprint or DIEF_DIRECTORY__*) to check them; "
                "without them the node asks the issuer again"
            )
        elif state.tokens and found is not None:
            stored = restore_tokens(settings.wallet_path, secret_, found, state.tokens)
            typer.echo(f"{stored} tokens restored into {settings.wallet_path}")
    except DiefError as exc:
        raise fail(exc.message) from exc
