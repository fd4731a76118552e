"""``dief keys``: setting a forum up party by party (``docs/forum-setup.md``) and the
simulated forum of ``dief keys init`` (demo, run, tests); ``list``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from dief.cli.keys._common import (
    Commands,
    DirArg,
    FileArg,
    Out,
    PassphraseFile,
    Simulation,
    Suite,
    check_suite,
    collect,
    console,
    directory_table,
    fail,
    is_party,
    own_table,
    read_document,
    secret,
    secretariat,
    write_json,
)
from dief.exceptions import DiefError
from dief.keyring import (
    NodeKeys,
    PartyKeyring,
    PartyKind,
    RegionKeys,
    RootKeys,
    SecretariatKeys,
    SimulatedForum,
    verify_directory,
)
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

__all__ = ["COMMANDS"]

COMMANDS: Commands = []
command = collect(COMMANDS)


@command("list")
def list_keys(
    directory: DirArg,
    show_all: Annotated[bool, typer.Option("--all", help="Include retired keys.")] = False,
) -> None:
    """List a party's own keys (kid, purpose, scope, status) or a simulated forum's
    directory; never key material, never a node name."""
    if not _list_party(directory, show_all):
        raise fail(
            f"{directory} is neither a party keyring nor a simulated forum "
            "(dief keys init-root|init-secretariat|init-region|init-node, or dief keys init)"
        )


def _list_party(directory: Path, show_all: bool) -> bool:
    """List a party keyring or a simulated forum; False if *directory* is neither."""
    out = console()
    try:  # noqa: PLW0717  each step may fail with a DiefError, reported as one line
        if (directory / "simulation.json").is_file():
            raw = (directory / "directory.json").read_bytes()
            fingerprint = json.loads((directory / "simulation.json").read_text())[
                "root_fingerprint"
            ]
            found = verify_directory(raw, fingerprint)
            out.print("simulated forum (not for production)")
            out.print(directory_table(found, f"directory v{found.version} {directory}"))
            return True
        if not is_party(directory):
            return False
        ring = PartyKeyring.load(directory)
    except (OSError, ValueError, KeyError) as exc:
        raise fail(f"cannot read {directory}: {exc}") from exc
    except DiefError as exc:
        raise fail(exc.message) from exc
    out.print(own_table(ring, f"{ring.party.value} keyring {directory}", show_all=show_all))
    if ring.party is PartyKind.SECRETARIAT:
        state = SecretariatKeys(ring).state()
        active = sum(1 for r in state.registry if r.status is KeyStatus.ACTIVE)
        out.print(f"registered nodes: {active} active, {len(state.registry) - active} revoked")
        out.print(f"directory version: {state.version}")
    if ring.simulation:
        out.print("simulation keyring (not for production)")
    return True


@command("init")
def init(
    directory: DirArg,
    nodes: Annotated[
        str, typer.Option("--nodes", help="Comma-separated local labels of simulated nodes.")
    ] = "",
    cycles: Annotated[
        str, typer.Option("--cycles", help="Comma-separated cycles to make issuer keys for.")
    ] = "",
    suite: Suite = SUITE_HYBRID,
    passphrase_file: PassphraseFile = None,
) -> None:
    """Create a SIMULATED forum (demo, run, tests): every party's keyring in a subfolder."""
    names = [name.strip() for name in nodes.split(",") if name.strip()]
    check_suite(suite)
    if directory.exists() and (not directory.is_dir() or any(directory.iterdir())):
        raise fail(f"{directory} exists and is not an empty directory")
    passphrase = secret(passphrase_file, confirm=True)
    wanted = [c.strip().upper() for c in cycles.split(",") if c.strip()]
    try:
        forum = SimulatedForum.create(
            directory, passphrase, nodes=names, suite=suite, cycles=wanted
        )
    except DiefError as exc:
        raise fail(exc.message) from exc
    out = console()
    out.print(
        "[bold]simulated forum[/bold]: every party in one folder, a cheap passphrase KDF and "
        "RSA-2048: for dief demo, dief run and tests only, never production "
        "(docs/forum-setup.md sets up a real forum)"
    )
    out.print(directory_table(forum.directory, f"directory v{forum.directory.version}"))
    out.print(f"root fingerprint: {forum.root_fingerprint}")
    out.print(f"simulated nodes: {len(names)} (local labels in {directory / 'simulation.json'})")


@command("init-root")
def init_root(
    directory: DirArg, simulation: Simulation = False, passphrase_file: PassphraseFile = None
) -> None:
    """Create the forum root (keep it offline); prints the fingerprint every party pins."""
    try:
        root = RootKeys.create(
            directory, secret(passphrase_file, confirm=True), simulation=simulation
        )
    except DiefError as exc:
        raise fail(exc.message) from exc
    typer.echo(f"root key {root.verify_key.kid} created in {directory}")
    typer.echo(f"root fingerprint: {root.fingerprint}")


@command("init-secretariat")
def init_secretariat(
    directory: DirArg,
    k_meeting: Annotated[int, typer.Option("--k-meeting", min=1)] = 2,
    k_csp: Annotated[int, typer.Option("--k-csp", min=1)] = 3,
    cycle_start_month: Annotated[int, typer.Option("--cycle-start-month", min=1, max=12)] = 9,
    suite: Suite = SUITE_HYBRID,
    simulation: Simulation = False,
    passphrase_file: PassphraseFile = None,
) -> None:
    """Create the Secretariat's keys and a directory-key request for the root."""
    check_suite(suite)
    parameters = ForumParameters(
        regions=tuple(r.value for r in Region),
        cycle_start_month=cycle_start_month,
        k_meeting=k_meeting,
        k_csp=k_csp,
        simulation=simulation,
    )
    try:
        sec = SecretariatKeys.create(
            directory, secret(passphrase_file, confirm=True), parameters, suite=suite
        )
    except DiefError as exc:
        raise fail(exc.message) from exc
    typer.echo(f"Secretariat keys created in {directory}")
    typer.echo(
        f"directory key request: {directory / 'directory-key-request.json'} "
        f"(kid {sec.directory_key_request().kid}; the root certifies it)"
    )


@command("init-region")
def init_region(
    region: Annotated[str, typer.Argument(help="Region code (AFR, APG, EEG, GRULAC, WEOG).")],
    directory: DirArg,
    recovery: Annotated[
        Path | None,
        typer.Option("--recovery", help="Recovery keyring folder (default DIR/recovery)."),
    ] = None,
    suite: Suite = SUITE_HYBRID,
    simulation: Simulation = False,
    passphrase_file: PassphraseFile = None,
) -> None:
    """Create a region's KEM, signing and (offline) recovery keys; writes DIR/bundle.json."""
    check_suite(suite)
    try:
        keys = RegionKeys.create(
            directory,
            region.upper(),
            secret(passphrase_file, confirm=True),
            recovery_path=recovery,
            suite=suite,
            simulation=simulation,
        )
    except DiefError as exc:
        raise fail(exc.message) from exc
    console().print(own_table(keys.ring, f"region {keys.region} keyring {directory}"))
    typer.echo(f"bundle for the root and the Secretariat: {directory / 'bundle.json'}")


@command("init-node")
def init_node(
    directory: DirArg,
    suite: Suite = SUITE_HYBRID,
    simulation: Simulation = False,
    passphrase_file: PassphraseFile = None,
) -> None:
    """Create a national node's secret, registration key and KEM key; writes the signed
    registration file (DIR/registration.json) to hand to the Secretariat."""
    check_suite(suite)
    try:
        node = NodeKeys.create(
            directory, secret(passphrase_file, confirm=True), suite=suite, simulation=simulation
        )
    except DiefError as exc:
        raise fail(exc.message) from exc
    write_json(directory / "registration.json", node.registration())
    typer.echo(f"node keys created; registration kid {node.registration_kid}")
    typer.echo(f"registration file: {directory / 'registration.json'}")


@command("certify-directory-key")
def certify_directory_key(
    root: Annotated[Path, typer.Argument(help="The root's keyring folder.")],
    request: FileArg,
    out: Out,
    days: Annotated[float, typer.Option("--days", help="Validity (at most 180).")] = 90.0,
    passphrase_file: PassphraseFile = None,
) -> None:
    """The root certifies the Secretariat's directory key (a short validity)."""
    document = read_document(request, DirectoryKeyRequest, "directory key request")
    try:
        cert = RootKeys.load(root, passphrase=secret(passphrase_file)).certify_directory_key(
            document, days=days
        )
    except DiefError as exc:
        raise fail(exc.message) from exc
    write_json(out, cert)
    typer.echo(f"certified directory key {cert.subject_kid} until {cert.not_after}: {out}")


@command("certify-region-keys")
def certify_region_keys(
    root: Annotated[Path, typer.Argument(help="The root's keyring folder.")],
    bundle: FileArg,
    out: Out,
    passphrase_file: PassphraseFile = None,
) -> None:
    """The root signs a region's signing and recovery keys in its bundle."""
    document = read_document(bundle, RegionKeyBundle, "region key bundle")
    try:
        signed = RootKeys.load(root, passphrase=secret(passphrase_file)).certify_region_keys(
            document
        )
    except DiefError as exc:
        raise fail(exc.message) from exc
    write_json(out, signed)
    typer.echo(f"root-signed bundle of {signed.region}: {out}")


@command("install-certificate")
def install_certificate(
    directory: DirArg,
    certificate: FileArg,
    root_fingerprint: Annotated[
        str | None,
        typer.Option("--root-fingerprint", help="The forum root's fingerprint (first time)."),
    ] = None,
) -> None:
    """The Secretariat takes the root's certificate of its directory key."""
    document = read_document(certificate, DirectoryKeyCertificate, "certificate")
    try:
        secretariat(directory, None, unlock=False).install_certificate(document, root_fingerprint)
    except DiefError as exc:
        raise fail(exc.message) from exc
    typer.echo(f"directory key {document.subject_kid} certified until {document.not_after}")


@command("add-region")
def add_region(directory: DirArg, bundle: FileArg) -> None:
    """The Secretariat lists a region's (root-signed) keys from the next directory on."""
    document = read_document(bundle, RegionKeyBundle, "region key bundle")
    try:
        secretariat(directory, None, unlock=False).add_region(document)
    except DiefError as exc:
        raise fail(exc.message) from exc
    typer.echo(f"{document.region}: {len(document.keys)} keys taken")


@command("register")
def register_node(
    directory: DirArg,
    registration: FileArg,
    replaces: Annotated[
        str | None,
        typer.Option("--replaces", help="Registration kid this one replaces (lost secret)."),
    ] = None,
) -> None:
    """The Secretariat registers a node (its registration file); key ids only, no name."""
    document = read_document(registration, NodeRegistration, "registration")
    try:
        kid = secretariat(directory, None, unlock=False).register(document, replaces=replaces)
    except DiefError as exc:
        raise fail(exc.message) from exc
    typer.echo(f"registered {kid} (keep which State it is offline)")


@command("revoke-node")
def revoke_node(
    directory: DirArg, kid: Annotated[str, typer.Argument(help="Registration kid.")]
) -> None:
    """Revoke a node's registration: its KEM key leaves the next directory."""
    try:
        secretariat(directory, None, unlock=False).revoke_node(kid)
    except DiefError as exc:
        raise fail(exc.message) from exc
    typer.echo(f"revoked {kid}; issue a new directory")


@command("issuer-keys")
def issuer_keys(
    directory: DirArg,
    cycle: Annotated[str, typer.Argument(help="CSP cycle, e.g. CSP12.")],
    passphrase_file: PassphraseFile = None,
) -> None:
    """The Secretariat makes one RSA issuer key per region for CYCLE."""
    try:
        kids = secretariat(directory, passphrase_file).new_issuer_keys(cycle.upper())
    except DiefError as exc:
        raise fail(exc.message) from exc
    typer.echo(f"{len(kids)} issuer keys for {cycle.upper()}: {', '.join(kids)}")
