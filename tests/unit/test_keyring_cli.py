"""`dief keys` commands through typer's CliRunner."""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING

import pytest
from typer.testing import CliRunner

from dief.cli import app
from dief.keyring import KeyRole, SecretariatKeys, SimulatedForum
from dief.wire import SUITE_X25519

if TYPE_CHECKING:
    from pathlib import Path

PASS = "cli passphrase"
ENV = {"DIEF_KEYRING__PASSPHRASE": PASS, "DIEF_KEYRING__PASSPHRASE_FILE": None}
NO_ENV: dict[str, str | None] = {
    "DIEF_KEYRING__PASSPHRASE": None,
    "DIEF_KEYRING__PASSPHRASE_FILE": None,
}


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def forum(tmp_path: Path) -> Path:
    """A simulated forum (``dief keys init``): every party in its own folder."""
    path = tmp_path / "keys"
    SimulatedForum.create(path, PASS, nodes=["n1", "n2"])
    return path


def test_init_creates_a_simulated_forum_one_keyring_per_party(
    runner: CliRunner, tmp_path: Path
) -> None:
    path = tmp_path / "sim"
    result = runner.invoke(app, ["keys", "init", str(path), "--nodes", "n-1,n-2"], env=ENV)
    assert result.exit_code == 0, result.output
    assert "simulated forum" in result.output
    assert "n-1" not in result.output  # (a hyphen is never in a kid)
    forum = SimulatedForum.load(path, PASS)
    assert forum.node_names() == ("n-1", "n-2")
    assert forum.directory.simulation
    assert forum.root_fingerprint in result.output
    for key in forum.directory.entries():
        assert key.kid in result.output
    secret = forum.node_secret("n-1").secret_bytes()
    kem = forum.opening_keys(KeyRole.REGION, "AFR")[0].secret_bytes()
    for material in (secret, kem):
        assert material.hex()[:12] not in result.output
        assert base64.urlsafe_b64encode(material).decode()[:12] not in result.output
    assert PASS not in result.output
    listed = runner.invoke(app, ["keys", "list", str(path)], env=NO_ENV)
    assert listed.exit_code == 0, listed.output
    assert "n-1" not in listed.output
    assert "n-2" not in listed.output


def test_init_with_prompt_and_confirmation(runner: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "keys"
    result = runner.invoke(
        app, ["keys", "init", str(path), "--suite", SUITE_X25519], input="pp\npp\n", env=NO_ENV
    )
    assert result.exit_code == 0, result.output
    assert "pp\n" not in result.stdout  # hidden input is not echoed
    forum = SimulatedForum.load(path, "pp")
    assert {k.suite for k in forum.sealing_keys(KeyRole.SECRETARIAT)} == {SUITE_X25519}


def test_init_with_passphrase_file(runner: CliRunner, tmp_path: Path) -> None:
    (tmp_path / "pass.txt").write_text("from file\n")
    path = tmp_path / "keys"
    args = ["keys", "init", str(path), "--passphrase-file", str(tmp_path / "pass.txt")]
    result = runner.invoke(app, args, env=ENV)  # the file wins over the environment
    assert result.exit_code == 0, result.output
    SimulatedForum.load(path, "from file").node_names()
    assert SimulatedForum.load(path, "from file").region("AFR").signing_key()


def test_init_refuses_bad_input(runner: CliRunner, tmp_path: Path, forum: Path) -> None:
    result = runner.invoke(app, ["keys", "init", str(forum)], env=ENV)
    assert result.exit_code == 1
    assert "not an empty directory" in result.output
    result = runner.invoke(app, ["keys", "init", str(tmp_path / "x"), "--suite", "NOPE"], env=ENV)
    assert result.exit_code == 1
    assert "unknown suite" in result.output
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    args = ["keys", "init", str(tmp_path / "y"), "--passphrase-file", str(empty)]
    result = runner.invoke(app, args, env=NO_ENV)
    assert result.exit_code == 1
    assert "empty" in result.output
    result = runner.invoke(app, ["keys", "init", str(tmp_path / "z"), "--nodes", "a/b"], env=ENV)
    assert result.exit_code == 1
    assert "node names" in result.output


def test_list_shows_metadata_only(runner: CliRunner, forum: Path) -> None:
    result = runner.invoke(app, ["keys", "list", str(forum)], env=NO_ENV)
    assert result.exit_code == 0, result.output
    sim = SimulatedForum.load(forum, PASS)
    for key in sim.directory.entries():
        assert key.kid in result.output
    for header in ("kid", "role", "scope", "status"):
        assert header in result.output
    signer = sim.signing_key(KeyRole.SECRETARIAT).secret_bytes()
    public = sim.sealing_keys(KeyRole.REGION, "AFR")[0].public_bytes()
    for material in (signer, public):
        assert base64.urlsafe_b64encode(material).decode()[:12] not in result.output
        assert material.hex()[:12] not in result.output
    # one party's folder: its own keys
    own = runner.invoke(app, ["keys", "list", str(forum / "regions" / "AFR")], env=NO_ENV)
    assert own.exit_code == 0, own.output
    assert sim.region("AFR").signing_key().kid in own.output


def test_list_refuses_a_folder_that_is_no_keyring(runner: CliRunner, tmp_path: Path) -> None:
    """The former one-keyring layout (loose public-key files) is read no more."""
    folder = tmp_path / "public"
    folder.mkdir()
    (folder / "keyring.json").write_text('{"format": "dief-keyring/1", "public_only": true}')
    result = runner.invoke(app, ["keys", "list", str(folder)], env=NO_ENV)
    assert result.exit_code == 1
    assert "neither a party keyring nor a simulated forum" in " ".join(result.output.split())


def test_the_secretariat_rotates_and_retires(runner: CliRunner, forum: Path) -> None:
    sec = forum / "secretariat"
    before = {k.kid for k in SecretariatKeys.load(sec).ring.list_keys()}
    result = runner.invoke(app, ["keys", "rotate", str(sec), "--kind", "sign"], env=ENV)
    assert result.exit_code == 0, result.output
    after = SecretariatKeys.load(sec).ring.list_keys()
    [new] = [k for k in after if k.kid not in before]
    assert new.kid in result.output
    old = next(k.kid for k in after if k.purpose is new.purpose and k.kid != new.kid)
    result = runner.invoke(app, ["keys", "retire", str(sec), old], env=ENV)
    assert result.exit_code == 0, result.output
    assert "issue a new directory" in result.output
    # a region rotates with endorse-kem, not rotate; the former one-keyring forum is gone
    region = runner.invoke(app, ["keys", "rotate", str(forum / "regions" / "AFR")], env=ENV)
    assert region.exit_code == 1
    whole = runner.invoke(app, ["keys", "rotate", str(forum)], env=ENV)
    assert whole.exit_code == 1
    assert "not a party keyring" in whole.output


def test_rotate_with_a_wrong_passphrase_changes_nothing(runner: CliRunner, forum: Path) -> None:
    sec = forum / "secretariat"
    before = len(SecretariatKeys.load(sec).ring.list_keys())
    args = ["keys", "rotate", str(sec), "--kind", "kem"]
    result = runner.invoke(app, args, env={"DIEF_KEYRING__PASSPHRASE": "wrong"})
    assert result.exit_code == 1
    assert "wrong passphrase" in result.output
    assert "wrong" not in result.stdout
    assert len(SecretariatKeys.load(sec).ring.list_keys()) == before


@pytest.mark.parametrize("command", ["add-node", "export-public"])
def test_the_one_keyring_commands_are_gone(runner: CliRunner, command: str) -> None:
    result = runner.invoke(app, ["keys", command, "--help"])
    assert result.exit_code != 0


@pytest.mark.parametrize(
    "command",
    ["init", "init-root", "init-node", "rotate", "retire", "list", "backup", "restore"],
)
def test_every_command_has_help(runner: CliRunner, command: str) -> None:
    result = runner.invoke(app, ["keys", command, "--help"])
    assert result.exit_code == 0
    assert "Usage" in result.output
    listing = runner.invoke(app, ["keys", "--help"])
    assert command in listing.output


def test_a_forum_set_up_party_by_party(runner: CliRunner, tmp_path: Path) -> None:
    """docs/forum-setup.md, command by command: root, Secretariat, one region, two nodes."""

    def run(*args: str, ok: bool = True) -> str:
        result = runner.invoke(app, ["keys", *args], env=ENV)
        assert (result.exit_code == 0) is ok, result.output
        return result.output

    root, sec, afr = tmp_path / "root", tmp_path / "secretariat", tmp_path / "afr"
    out = run("init-root", str(root), "--simulation")
    fingerprint = out.split("root fingerprint: ")[1].split()[0]
    run("init-secretariat", str(sec), "--simulation")
    cert = tmp_path / "cert.json"
    run(
        "certify-directory-key",
        str(root),
        str(sec / "directory-key-request.json"),
        "--out",
        str(cert),
    )
    run("install-certificate", str(sec), str(cert), "--root-fingerprint", fingerprint)
    run("init-region", "AFR", str(afr), "--simulation")
    signed = tmp_path / "afr-signed.json"
    run("certify-region-keys", str(root), str(afr / "bundle.json"), "--out", str(signed))
    run("add-region", str(sec), str(signed))
    kids = []
    for name in ("node-a", "node-b"):
        out = run("init-node", str(tmp_path / name), "--simulation")
        kids.append(out.split("registration kid ")[1].split()[0])
        run("register", str(sec), str(tmp_path / name / "registration.json"))
    run("register", str(sec), str(tmp_path / "node-a" / "registration.json"), ok=False)
    run("issuer-keys", str(sec), "CSP12")
    v1 = tmp_path / "v1.json"
    run("directory", "issue", str(sec), "--out", str(v1))
    assert "verifies" in run("directory", "verify", str(v1), "--root-fingerprint", fingerprint)
    wrong = "0" * 64
    assert "certificate" in run(
        "directory", "verify", str(v1), "--root-fingerprint", wrong, ok=False
    )
    listed = run("list", str(sec))
    assert "registered nodes: 2 active" in listed
    node_listing = run("list", str(tmp_path / "node-a"))
    assert "registration" in node_listing
    assert "node-secret" not in node_listing  # the secret has no public part to list
    # the region rotates its KEM key; the Secretariat lists it; then a node is revoked
    rotation = tmp_path / "rotation.json"
    run("endorse-kem", str(afr), "--out", str(rotation))
    run("add-region", str(sec), str(rotation))
    run("revoke-node", str(sec), kids[0])
    v2 = tmp_path / "v2.json"
    out = run("directory", "issue", str(sec), "--out", str(v2))
    assert "warning: AFR" in out
    verified = run(
        "directory", "verify", str(v2), "--root-fingerprint", fingerprint, "--previous", str(v1)
    )
    assert "directory v2" in verified
    assert "rollback" in run(
        "directory",
        "verify",
        str(v1),
        "--root-fingerprint",
        fingerprint,
        "--previous",
        str(v2),
        ok=False,
    )
    assert (sec / "directory" / "v1.json").is_file()
    assert (sec / "directory" / "v2.json").is_file()
    # the root's signature alone cannot list a new signing key: succession needs the
    # predecessor, and the bundle then needs the root
    succession = tmp_path / "succession.json"
    run("succeed-signing-key", str(afr), "--out", str(succession))
    run("add-region", str(sec), str(succession))
    assert "root's signature" in run("directory", "issue", str(sec), ok=False)
    run("certify-region-keys", str(root), str(succession), "--out", str(signed))
    run("add-region", str(sec), str(signed))
    run("directory", "issue", str(sec))
    # backup and restore of a node
    backup = tmp_path / "node-b.backup"
    (tmp_path / "bp").write_text("backup pass\n")
    run(
        "backup",
        str(tmp_path / "node-b"),
        "--out",
        str(backup),
        "--keys-only",  # it never posted: no outbox, no case index
        "--backup-passphrase-file",
        str(tmp_path / "bp"),
    )
    restored = run(
        "restore",
        str(backup),
        str(tmp_path / "node-b2"),
        "--backup-passphrase-file",
        str(tmp_path / "bp"),
    )
    assert kids[1] in restored
