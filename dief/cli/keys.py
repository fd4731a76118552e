"""`dief keys`: each party's own keyring (DESIGN §4), the signed forum directory, and the
simulated forum of ``dief keys init`` (demo, run, tests).

Real deployments use the per-party commands (``docs/forum-setup.md``): ``init-root``,
``init-secretariat``, ``init-region``, ``init-node``, ``certify-directory-key``,
``certify-region-keys``, ``install-certificate``, ``add-region``, ``register``,
``revoke-node``, ``issuer-keys``, ``endorse-kem``, ``succeed-signing-key``, ``rotate``,
``retire``, ``revoke``, ``backup``, ``restore``, ``directory issue|verify``; ``list`` shows
kids, roles and statuses, never key material and never a node name. ``rotate`` / ``retire``
/ ``add-node`` / ``export-public`` still serve the former one-keyring forum.

The passphrase comes from ``--passphrase-file PATH`` (first line), else
``DIEF_KEYRING__PASSPHRASE``, else the first line of ``DIEF_KEYRING__PASSPHRASE_FILE`` (the
variables every service reads, :class:`dief.settings.KeysSettings`), else a hidden prompt
(confirmed when a keyring is created). Nothing here ever prints key material.
"""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated, TypeVar

import typer
from pydantic import BaseModel, SecretStr
from rich.console import Console
from rich.table import Table
from rich.text import Text

from dief.crypto.keys import SUITES
from dief.exceptions import DiefError
from dief.keyring import (
    DEFAULT_DIRECTORY_DAYS,
    ForumDirectory,
    KeyInfo,
    KeyKind,
    Keyring,
    KeyRole,
    NodeKeys,
    PartyKeyring,
    PartyKind,
    Purpose,
    RegionKeys,
    RootKeys,
    SecretariatKeys,
    SimulatedForum,
    backup_node,
    parse_strict,
    restore_node,
    verify_directory,
)
from dief.settings import KeysSettings, load_settings, read_passphrase_file
from dief.vocab import Region
from dief.wire import (
    SUITE_HYBRID,
    DirectoryKeyCertificate,
    DirectoryKeyRequest,
    ForumParameters,
    KeyStatus,
    NodeRegistration,
    RegionKeyBundle,
)

_M = TypeVar("_M", bound=BaseModel)

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


class _RotateKind(StrEnum):
    KEM = "kem"
    SIGN = "sign"
    DIRECTORY = "directory"


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


@keys_app.command("rotate")
def rotate(
    directory: _DirArg,
    role: Annotated[
        KeyRole, typer.Option("--role", help="Key role (one-keyring forums).")
    ] = KeyRole.REGION,
    region: Annotated[
        str | None, typer.Option("--region", help="Region code (role region only).")
    ] = None,
    kind: Annotated[
        _RotateKind,
        typer.Option("--kind", help="kem, sign or (Secretariat) directory."),
    ] = _RotateKind.KEM,
    suite: Annotated[
        str | None, typer.Option("--suite", help="KEM suite (default: the current one).")
    ] = None,
    passphrase_file: _PassphraseFile = None,
) -> None:
    """Make a new active key; old keys keep opening until retired. In the Secretariat's
    folder: --kind kem, sign or directory (a new directory key needs the root's
    certificate)."""
    if _is_party(directory):
        _rotate_secretariat(directory, kind.value if kind else "kem", passphrase_file)
        return
    try:
        ring = Keyring.load(directory)
        ring.unlock(_passphrase(passphrase_file, confirm=False).get_secret_value())
        if kind is _RotateKind.DIRECTORY:
            raise _fail("only the Secretariat's folder has a directory key")
        new = ring.rotate(
            KeyKind(kind.value), role, region.upper() if region else None, suite=suite
        )
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
    passphrase_file: _PassphraseFile = None,
) -> None:
    """Retire a key: it no longer seals or signs, still opens and verifies. In the
    Secretariat's folder: a listed key (from the next directory on); in a one-keyring forum:
    a non-active key (optionally deleting it)."""
    if _is_party(directory):
        _set_status(directory, kid, KeyStatus.RETIRED, passphrase_file)
        return
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
    typer.echo(f"node secret created ({len(ring.node_names())} in this keyring)")


@keys_app.command("list")
def list_keys(
    directory: _DirArg,
    show_all: Annotated[bool, typer.Option("--all", help="Include retired keys.")] = False,
) -> None:
    """List keys (kid, role, region, created, status); never key material, never a node name."""
    if _list_party(directory, show_all):
        return
    try:
        ring = Keyring.load(directory)
    except DiefError as exc:
        raise _fail(exc.message) from exc
    console = _console()
    console.print(_table(ring.key_infos(include_retired=show_all), f"keyring {directory}"))
    if not ring.public_only:  # a count: node names are often State codes
        console.print(f"node secrets: {len(ring.node_names())}")


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


# -- per-party keyrings (DESIGN §4) ------------------------------------------------------------

directory_app = typer.Typer(
    name="directory",
    help="Issue and verify the signed forum directory.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
)
keys_app.add_typer(directory_app, name="directory")

_Simulation = Annotated[
    bool,
    typer.Option(
        "--simulation", help="Flag the keyring as a simulation (cheap KDF; never production)."
    ),
]
_Suite = Annotated[str, typer.Option("--suite", help=f"KEM suite: {' or '.join(SUITES)}.")]
_Out = Annotated[Path, typer.Option("--out", help="Write the result to this file.", dir_okay=False)]
_FileArg = Annotated[Path, typer.Argument(help="Input file.", exists=True, dir_okay=False)]


def _is_party(directory: Path) -> bool:
    try:
        data = json.loads((directory / "keyring.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(data, dict) and data.get("format") == "dief-party-keyring/1"


def _secret(passphrase_file: Path | None, *, confirm: bool = False) -> str:
    return _passphrase(passphrase_file, confirm=confirm).get_secret_value()


def _write_json(path: Path, document: BaseModel | bytes, *, mode: int = 0o644) -> None:
    data = document if isinstance(document, bytes) else document.model_dump_json(indent=1).encode()
    try:
        path.write_bytes(data)
        path.chmod(mode)
    except OSError as exc:
        raise _fail(f"cannot write {path}: {exc.strerror}") from exc


def _read(path: Path, model: type[_M], what: str) -> _M:
    try:
        return parse_strict(path.read_bytes(), model, what=what)
    except OSError as exc:
        raise _fail(f"cannot read {path}: {exc.strerror}") from exc
    except DiefError as exc:
        raise _fail(exc.message) from exc


def _check_suite(suite: str) -> None:
    if suite not in SUITES:
        raise _fail(f"unknown suite {suite!r}; use one of {', '.join(SUITES)}")


def _own_table(ring: PartyKeyring, title: str, *, show_all: bool = True) -> Table:
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


def _directory_table(directory: ForumDirectory, title: str) -> Table:
    table = Table(title=title, title_justify="left")
    for column in ("kid", "role", "scope", "status"):
        table.add_column(column, no_wrap=True, min_width=20 if column == "kid" else None)
    for key in directory.entries():
        scope = " ".join(x for x in (key.cycle, key.region) if x) or "-"
        table.add_row(key.kid, key.role.value, scope, key.status.value)
    return table


def _list_party(directory: Path, show_all: bool) -> bool:
    """List a party keyring or a simulated forum; False if *directory* is neither."""
    console = _console()
    try:
        if (directory / "simulation.json").is_file():
            raw = (directory / "directory.json").read_bytes()
            fingerprint = json.loads((directory / "simulation.json").read_text())[
                "root_fingerprint"
            ]
            found = verify_directory(raw, fingerprint)
            console.print("simulated forum (not for production)")
            console.print(_directory_table(found, f"directory v{found.version} {directory}"))
            return True
        if not _is_party(directory):
            return False
        ring = PartyKeyring.load(directory)
    except (OSError, ValueError, KeyError) as exc:
        raise _fail(f"cannot read {directory}: {exc}") from exc
    except DiefError as exc:
        raise _fail(exc.message) from exc
    console.print(_own_table(ring, f"{ring.party.value} keyring {directory}", show_all=show_all))
    if ring.party is PartyKind.SECRETARIAT:
        state = SecretariatKeys(ring).state()
        active = sum(1 for r in state.registry if r.status is KeyStatus.ACTIVE)
        console.print(f"registered nodes: {active} active, {len(state.registry) - active} revoked")
        console.print(f"directory version: {state.version}")
    if ring.simulation:
        console.print("simulation keyring (not for production)")
    return True


@keys_app.command("init")
def init(
    directory: _DirArg,
    nodes: Annotated[
        str, typer.Option("--nodes", help="Comma-separated local labels of simulated nodes.")
    ] = "",
    cycles: Annotated[
        str, typer.Option("--cycles", help="Comma-separated cycles to make issuer keys for.")
    ] = "",
    suite: _Suite = SUITE_HYBRID,
    passphrase_file: _PassphraseFile = None,
) -> None:
    """Create a SIMULATED forum (demo, run, tests): every party's keyring in a subfolder."""
    names = [name.strip() for name in nodes.split(",") if name.strip()]
    _check_suite(suite)
    if directory.exists() and (not directory.is_dir() or any(directory.iterdir())):
        raise _fail(f"{directory} exists and is not an empty directory")
    passphrase = _secret(passphrase_file, confirm=True)
    wanted = [c.strip().upper() for c in cycles.split(",") if c.strip()]
    try:
        forum = SimulatedForum.create(
            directory, passphrase, nodes=names, suite=suite, cycles=wanted
        )
    except DiefError as exc:
        raise _fail(exc.message) from exc
    console = _console()
    console.print(
        "[bold]simulated forum[/bold]: every party in one folder, a cheap passphrase KDF and "
        "RSA-2048: for dief demo, dief run and tests only, never production "
        "(docs/forum-setup.md sets up a real forum)"
    )
    console.print(_directory_table(forum.directory, f"directory v{forum.directory.version}"))
    console.print(f"root fingerprint: {forum.root_fingerprint}")
    console.print(
        f"simulated nodes: {len(names)} (local labels in {directory / 'simulation.json'})"
    )


@keys_app.command("init-root")
def init_root(
    directory: _DirArg, simulation: _Simulation = False, passphrase_file: _PassphraseFile = None
) -> None:
    """Create the forum root (keep it offline); prints the fingerprint every party pins."""
    try:
        root = RootKeys.create(
            directory, _secret(passphrase_file, confirm=True), simulation=simulation
        )
    except DiefError as exc:
        raise _fail(exc.message) from exc
    typer.echo(f"root key {root.verify_key.kid} created in {directory}")
    typer.echo(f"root fingerprint: {root.fingerprint}")


@keys_app.command("init-secretariat")
def init_secretariat(
    directory: _DirArg,
    k_meeting: Annotated[int, typer.Option("--k-meeting", min=1)] = 2,
    k_csp: Annotated[int, typer.Option("--k-csp", min=1)] = 3,
    cycle_start_month: Annotated[int, typer.Option("--cycle-start-month", min=1, max=12)] = 9,
    suite: _Suite = SUITE_HYBRID,
    simulation: _Simulation = False,
    passphrase_file: _PassphraseFile = None,
) -> None:
    """Create the Secretariat's keys and a directory-key request for the root."""
    _check_suite(suite)
    parameters = ForumParameters(
        regions=tuple(r.value for r in Region),
        cycle_start_month=cycle_start_month,
        k_meeting=k_meeting,
        k_csp=k_csp,
        simulation=simulation,
    )
    try:
        sec = SecretariatKeys.create(
            directory, _secret(passphrase_file, confirm=True), parameters, suite=suite
        )
    except DiefError as exc:
        raise _fail(exc.message) from exc
    typer.echo(f"Secretariat keys created in {directory}")
    typer.echo(
        f"directory key request: {directory / 'directory-key-request.json'} "
        f"(kid {sec.directory_key_request().kid}; the root certifies it)"
    )


@keys_app.command("init-region")
def init_region(
    region: Annotated[str, typer.Argument(help="Region code (AFR, APG, EEG, GRULAC, WEOG).")],
    directory: _DirArg,
    recovery: Annotated[
        Path | None,
        typer.Option("--recovery", help="Recovery keyring folder (default DIR/recovery)."),
    ] = None,
    suite: _Suite = SUITE_HYBRID,
    simulation: _Simulation = False,
    passphrase_file: _PassphraseFile = None,
) -> None:
    """Create a region's KEM, signing and (offline) recovery keys; writes DIR/bundle.json."""
    _check_suite(suite)
    try:
        keys = RegionKeys.create(
            directory,
            region.upper(),
            _secret(passphrase_file, confirm=True),
            recovery_path=recovery,
            suite=suite,
            simulation=simulation,
        )
    except DiefError as exc:
        raise _fail(exc.message) from exc
    _console().print(_own_table(keys.ring, f"region {keys.region} keyring {directory}"))
    typer.echo(f"bundle for the root and the Secretariat: {directory / 'bundle.json'}")


@keys_app.command("init-node")
def init_node(
    directory: _DirArg,
    suite: _Suite = SUITE_HYBRID,
    simulation: _Simulation = False,
    passphrase_file: _PassphraseFile = None,
) -> None:
    """Create a national node's secret, registration key and KEM key; writes the signed
    registration file (DIR/registration.json) to hand to the Secretariat."""
    _check_suite(suite)
    try:
        node = NodeKeys.create(
            directory, _secret(passphrase_file, confirm=True), suite=suite, simulation=simulation
        )
    except DiefError as exc:
        raise _fail(exc.message) from exc
    _write_json(directory / "registration.json", node.registration())
    typer.echo(f"node keys created; registration kid {node.registration_kid}")
    typer.echo(f"registration file: {directory / 'registration.json'}")


@keys_app.command("certify-directory-key")
def certify_directory_key(
    root: Annotated[Path, typer.Argument(help="The root's keyring folder.")],
    request: _FileArg,
    out: _Out,
    days: Annotated[float, typer.Option("--days", help="Validity (at most 180).")] = 90.0,
    passphrase_file: _PassphraseFile = None,
) -> None:
    """The root certifies the Secretariat's directory key (a short validity)."""
    document = _read(request, DirectoryKeyRequest, "directory key request")
    try:
        cert = RootKeys.load(root, passphrase=_secret(passphrase_file)).certify_directory_key(
            document, days=days
        )
    except DiefError as exc:
        raise _fail(exc.message) from exc
    _write_json(out, cert)
    typer.echo(f"certified directory key {cert.subject_kid} until {cert.not_after}: {out}")


@keys_app.command("certify-region-keys")
def certify_region_keys(
    root: Annotated[Path, typer.Argument(help="The root's keyring folder.")],
    bundle: _FileArg,
    out: _Out,
    passphrase_file: _PassphraseFile = None,
) -> None:
    """The root signs a region's signing and recovery keys in its bundle."""
    document = _read(bundle, RegionKeyBundle, "region key bundle")
    try:
        signed = RootKeys.load(root, passphrase=_secret(passphrase_file)).certify_region_keys(
            document
        )
    except DiefError as exc:
        raise _fail(exc.message) from exc
    _write_json(out, signed)
    typer.echo(f"root-signed bundle of {signed.region}: {out}")


def _secretariat(
    directory: Path, passphrase_file: Path | None, *, unlock: bool = True
) -> SecretariatKeys:
    try:
        return SecretariatKeys.load(
            directory, passphrase=_secret(passphrase_file) if unlock else None
        )
    except DiefError as exc:
        raise _fail(exc.message) from exc


@keys_app.command("install-certificate")
def install_certificate(
    directory: _DirArg,
    certificate: _FileArg,
    root_fingerprint: Annotated[
        str | None,
        typer.Option("--root-fingerprint", help="The forum root's fingerprint (first time)."),
    ] = None,
) -> None:
    """The Secretariat takes the root's certificate of its directory key."""
    document = _read(certificate, DirectoryKeyCertificate, "certificate")
    try:
        _secretariat(directory, None, unlock=False).install_certificate(document, root_fingerprint)
    except DiefError as exc:
        raise _fail(exc.message) from exc
    typer.echo(f"directory key {document.subject_kid} certified until {document.not_after}")


@keys_app.command("add-region")
def add_region(directory: _DirArg, bundle: _FileArg) -> None:
    """The Secretariat lists a region's (root-signed) keys from the next directory on."""
    document = _read(bundle, RegionKeyBundle, "region key bundle")
    try:
        _secretariat(directory, None, unlock=False).add_region(document)
    except DiefError as exc:
        raise _fail(exc.message) from exc
    typer.echo(f"{document.region}: {len(document.keys)} keys taken")


@keys_app.command("register")
def register_node(
    directory: _DirArg,
    registration: _FileArg,
    replaces: Annotated[
        str | None,
        typer.Option("--replaces", help="Registration kid this one replaces (lost secret)."),
    ] = None,
) -> None:
    """The Secretariat registers a node (its registration file); key ids only, no name."""
    document = _read(registration, NodeRegistration, "registration")
    try:
        kid = _secretariat(directory, None, unlock=False).register(document, replaces=replaces)
    except DiefError as exc:
        raise _fail(exc.message) from exc
    typer.echo(f"registered {kid} (keep which State it is offline)")


@keys_app.command("revoke-node")
def revoke_node(
    directory: _DirArg, kid: Annotated[str, typer.Argument(help="Registration kid.")]
) -> None:
    """Revoke a node's registration: its KEM key leaves the next directory."""
    try:
        _secretariat(directory, None, unlock=False).revoke_node(kid)
    except DiefError as exc:
        raise _fail(exc.message) from exc
    typer.echo(f"revoked {kid}; issue a new directory")


@keys_app.command("issuer-keys")
def issuer_keys(
    directory: _DirArg,
    cycle: Annotated[str, typer.Argument(help="CSP cycle, e.g. CSP12.")],
    passphrase_file: _PassphraseFile = None,
) -> None:
    """The Secretariat makes one RSA issuer key per region for CYCLE."""
    try:
        kids = _secretariat(directory, passphrase_file).new_issuer_keys(cycle.upper())
    except DiefError as exc:
        raise _fail(exc.message) from exc
    typer.echo(f"{len(kids)} issuer keys for {cycle.upper()}: {', '.join(kids)}")


def _set_status(directory: Path, kid: str, status: KeyStatus, passphrase_file: Path | None) -> None:
    try:
        _secretariat(directory, passphrase_file).set_status(kid, status)
    except DiefError as exc:
        raise _fail(exc.message) from exc
    typer.echo(f"{status.value} {kid}; issue a new directory")


def _rotate_secretariat(directory: Path, kind: str, passphrase_file: Path | None) -> None:
    try:
        kid = _secretariat(directory, passphrase_file).rotate(Purpose(kind))
    except (DiefError, ValueError) as exc:
        raise _fail(getattr(exc, "message", str(exc))) from exc
    typer.echo(
        f"new {kind} key {kid}" + ("; the root must certify it" if kind == "directory" else "")
    )


@keys_app.command("revoke")
def revoke(
    directory: _DirArg,
    kid: Annotated[str, typer.Argument(help="Key id to revoke.")],
    passphrase_file: _PassphraseFile = None,
) -> None:
    """The Secretariat revokes a listed key: never used again (re-seal data at rest)."""
    _set_status(directory, kid, KeyStatus.REVOKED, passphrase_file)


@keys_app.command("endorse-kem")
def endorse_kem(
    directory: _DirArg,
    out: _Out,
    passphrase_file: _PassphraseFile = None,
) -> None:
    """A region makes a new KEM key signed by its signing key (a declared rotation)."""
    try:
        bundle = RegionKeys.load(directory, passphrase=_secret(passphrase_file)).endorse_kem()
    except DiefError as exc:
        raise _fail(exc.message) from exc
    _write_json(out, bundle)
    typer.echo(
        f"{bundle.region}: new KEM key {bundle.keys[-1].kid}; bundle {out} for the Secretariat"
    )


@keys_app.command("succeed-signing-key")
def succeed_signing_key(
    directory: _DirArg,
    out: _Out,
    recovery: Annotated[
        bool,
        typer.Option(
            "--recovery", help="Sign with the recovery key (predecessor lost or revoked)."
        ),
    ] = False,
    recovery_passphrase_file: Annotated[
        Path | None, typer.Option("--recovery-passphrase-file", dir_okay=False)
    ] = None,
    passphrase_file: _PassphraseFile = None,
) -> None:
    """A region makes a new signing key signed by its predecessor (or recovery key)."""
    try:
        keys = RegionKeys.load(directory, passphrase=_secret(passphrase_file))
        rec = _secret(recovery_passphrase_file) if recovery else None
        bundle = keys.succeed_signing_key(recovery_passphrase=rec)
    except DiefError as exc:
        raise _fail(exc.message) from exc
    _write_json(out, bundle)
    typer.echo(
        f"{bundle.region}: new signing key; the root signs {out}, then the Secretariat adds it"
    )


@keys_app.command("backup")
def backup(
    directory: _DirArg,
    out: _Out,
    backup_passphrase_file: Annotated[
        Path | None, typer.Option("--backup-passphrase-file", dir_okay=False)
    ] = None,
    passphrase_file: _PassphraseFile = None,
) -> None:
    """Back up a node's secret, registration key and KEM key (sealed, mode 0600)."""
    try:
        node = NodeKeys.load(directory, passphrase=_secret(passphrase_file))
        backup_passphrase = (
            read_passphrase_file(
                backup_passphrase_file, "--backup-passphrase-file"
            ).get_secret_value()
            if backup_passphrase_file is not None
            else typer.prompt("Backup passphrase", hide_input=True, confirmation_prompt=True)
        )
        backup_node(node, out, backup_passphrase)
    except DiefError as exc:
        raise _fail(exc.message) from exc
    typer.echo(
        f"backup written to {out}: keep it offline; without it the node's cases cannot be revised"
    )


@keys_app.command("restore")
def restore(
    backup_file: _FileArg,
    directory: _DirArg,
    backup_passphrase_file: Annotated[
        Path | None, typer.Option("--backup-passphrase-file", dir_okay=False)
    ] = None,
    passphrase_file: _PassphraseFile = None,
) -> None:
    """Restore a node's keyring from a backup into a new folder (under a new passphrase)."""
    try:
        backup_passphrase = (
            read_passphrase_file(
                backup_passphrase_file, "--backup-passphrase-file"
            ).get_secret_value()
            if backup_passphrase_file is not None
            else typer.prompt("Backup passphrase", hide_input=True)
        )
        node, _extras = restore_node(
            backup_file, backup_passphrase, directory, _secret(passphrase_file, confirm=True)
        )
    except DiefError as exc:
        raise _fail(exc.message) from exc
    typer.echo(f"node restored in {directory}; registration kid {node.registration_kid}")


@directory_app.command("issue")
def directory_issue(
    directory: _DirArg,
    out: Annotated[
        Path | None, typer.Option("--out", help="Also write it to this file.", dir_okay=False)
    ] = None,
    days: Annotated[
        float, typer.Option("--days", help="Validity in days.")
    ] = DEFAULT_DIRECTORY_DAYS,
    passphrase_file: _PassphraseFile = None,
) -> None:
    """The Secretariat signs the next directory version (kept in DIR/directory/)."""
    try:
        issued = _secretariat(directory, passphrase_file).issue_directory(days=days)
    except DiefError as exc:
        raise _fail(exc.message) from exc
    if out is not None:
        _write_json(out, issued.raw)
    for warning in issued.warnings:
        typer.echo(f"warning: {warning}")
    typer.echo(
        f"directory v{issued.version} issued, expires {issued.document.expires}: "
        f"{directory / 'directory' / f'v{issued.version}.json'}"
    )


@directory_app.command("verify")
def directory_verify(
    file: _FileArg,
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
        raise _fail(f"cannot read a directory file: {exc.strerror}") from exc
    except DiefError as exc:
        raise _fail(f"refused ({exc.code}): {exc.message}") from exc
    for warning in found.warnings:
        typer.echo(f"warning: {warning}")
    kind = " (a SIMULATION)" if found.simulation else ""
    typer.echo(f"directory v{found.version}{kind} verifies; expires {found.document.expires}")
