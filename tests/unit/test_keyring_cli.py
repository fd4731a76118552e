"""`dief keys` commands through typer's CliRunner."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from envelope_helpers import FAST_KDF
from typer.testing import CliRunner

import dief.keyring._ring as ring_module
from dief.cli import app
from dief.keyring import KdfParams, KeyKind, Keyring, KeyRole
from dief.wire import SUITE_X25519

PASS = "cli passphrase"
ENV = {"DIEF_KEYRING__PASSPHRASE": PASS, "DIEF_KEYRING__PASSPHRASE_FILE": None}
NO_ENV: dict[str, str | None] = {
    "DIEF_KEYRING__PASSPHRASE": None,
    "DIEF_KEYRING__PASSPHRASE_FILE": None,
}


@pytest.fixture(autouse=True)
def fast_kdf(monkeypatch: pytest.MonkeyPatch) -> None:
    """New keyrings get cheap Argon2id parameters (the real default costs ~0.1 s per unlock)."""

    def fast(*args: object, **kwargs: object) -> KdfParams:
        return FAST_KDF

    monkeypatch.setattr(ring_module, "KdfParams", fast)


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def forum(runner: CliRunner, tmp_path: Path) -> Path:
    path = tmp_path / "keys"
    result = runner.invoke(app, ["keys", "init", str(path), "--nodes", "n1,n2"], env=ENV)
    assert result.exit_code == 0, result.output
    return path


def test_init_creates_a_whole_forum(forum: Path, runner: CliRunner) -> None:
    ring = Keyring.load(forum, passphrase=PASS)
    assert len(ring.key_infos()) == 12
    assert ring.node_names() == ("n1", "n2")
    assert ring.node_secret("n2").name == "n2"


def test_init_output_lists_kids_and_no_material(runner: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "keys"
    result = runner.invoke(app, ["keys", "init", str(path), "--nodes", "n1"], env=ENV)
    assert result.exit_code == 0, result.output
    ring = Keyring.load(path, passphrase=PASS)
    for key in ring.key_infos():
        assert key.kid in result.output
    assert "node secrets: n1" in result.output
    secret = ring.node_secret("n1").secret_bytes()
    kem = ring.opening_keys(KeyRole.REGION, "AFR")[0].secret_bytes()
    for material in (secret, kem):
        assert material.hex()[:12] not in result.output
        assert base64.urlsafe_b64encode(material).decode()[:12] not in result.output
    assert PASS not in result.output


def test_init_with_prompt_and_confirmation(runner: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "keys"
    result = runner.invoke(
        app, ["keys", "init", str(path), "--suite", SUITE_X25519], input="pp\npp\n", env=NO_ENV
    )
    assert result.exit_code == 0, result.output
    assert "pp\n" not in result.stdout  # hidden input is not echoed
    ring = Keyring.load(path, passphrase="pp")
    assert {k.suite for k in ring.sealing_keys(KeyRole.SECRETARIAT)} == {SUITE_X25519}


def test_init_with_passphrase_file(runner: CliRunner, tmp_path: Path) -> None:
    (tmp_path / "pass.txt").write_text("from file\n")
    path = tmp_path / "keys"
    args = ["keys", "init", str(path), "--passphrase-file", str(tmp_path / "pass.txt")]
    result = runner.invoke(app, args, env=ENV)  # the file wins over the environment
    assert result.exit_code == 0, result.output
    Keyring.load(path, passphrase="from file")


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
    ring = Keyring.load(forum, passphrase=PASS)
    for key in ring.key_infos():
        assert key.kid in result.output
    for header in ("kid", "role", "region", "created", "status"):
        assert header in result.output
    assert result.output.count("active") == 12
    signer = ring.signing_key(KeyRole.SECRETARIAT).secret_bytes()
    public = ring.sealing_keys(KeyRole.REGION, "AFR")[0].public_bytes()
    for material in (signer, public):
        assert base64.urlsafe_b64encode(material).decode()[:12] not in result.output
        assert material.hex()[:12] not in result.output


def test_rotate_and_retire(runner: CliRunner, forum: Path) -> None:
    old = Keyring.load(forum).sealing_keys(KeyRole.REGION, "AFR")[0].kid
    args = ["keys", "rotate", str(forum), "--role", "region", "--region", "AFR"]
    result = runner.invoke(app, args, env=ENV)
    assert result.exit_code == 0, result.output
    ring = Keyring.load(forum)
    new = ring.sealing_keys(KeyRole.REGION, "AFR")[0].kid
    assert new != old
    assert new in result.output
    assert old in result.output
    assert {k.kid: k.status for k in ring.key_infos(kind=KeyKind.KEM, region="AFR")} == {
        old: "previous",
        new: "active",
    }
    listed = runner.invoke(app, ["keys", "list", str(forum)], env=NO_ENV)
    assert "previous" in listed.output

    result = runner.invoke(app, ["keys", "retire", str(forum), new], env=NO_ENV)
    assert result.exit_code == 1
    assert "rotate first" in result.output
    result = runner.invoke(app, ["keys", "retire", str(forum), old], env=NO_ENV)
    assert result.exit_code == 0, result.output
    assert old not in runner.invoke(app, ["keys", "list", str(forum)], env=NO_ENV).output
    assert old in runner.invoke(app, ["keys", "list", str(forum), "--all"], env=NO_ENV).output


def test_rotate_signing_key_of_the_secretariat(runner: CliRunner, forum: Path) -> None:
    before = Keyring.load(forum).key_infos(kind=KeyKind.SIGN, role=KeyRole.SECRETARIAT)
    args = ["keys", "rotate", str(forum), "--role", "secretariat", "--kind", "sign"]
    result = runner.invoke(app, args, env=ENV)
    assert result.exit_code == 0, result.output
    after = Keyring.load(forum).key_infos(kind=KeyKind.SIGN, role=KeyRole.SECRETARIAT)
    assert len(after) == len(before) + 1


def test_rotate_with_a_wrong_passphrase_changes_nothing(runner: CliRunner, forum: Path) -> None:
    args = ["keys", "rotate", str(forum), "--role", "region", "--region", "AFR"]
    result = runner.invoke(app, args, env={"DIEF_KEYRING__PASSPHRASE": "wrong"})
    assert result.exit_code == 1
    assert "wrong passphrase" in result.output
    assert "wrong" not in result.stdout
    assert len(Keyring.load(forum).key_infos()) == 12
    result = runner.invoke(app, [*args[:3], "--role", "region"], env=ENV)  # no --region
    assert result.exit_code == 1
    assert "region code" in result.output


def test_add_node(runner: CliRunner, forum: Path) -> None:
    result = runner.invoke(app, ["keys", "add-node", str(forum), "n3"], env=ENV)
    assert result.exit_code == 0, result.output
    assert Keyring.load(forum).node_names() == ("n1", "n2", "n3")


def test_export_public(runner: CliRunner, forum: Path, tmp_path: Path) -> None:
    out = tmp_path / "public-material"
    result = runner.invoke(app, ["keys", "export-public", str(forum), str(out)], env=NO_ENV)
    assert result.exit_code == 0, result.output
    assert "12 public keys" in result.output
    exported = Keyring.load(out)
    assert exported.public_only
    assert len(exported.key_infos()) == 12
    assert not (out / "private").exists()
    assert not (out / "nodes").exists()
    listed = runner.invoke(app, ["keys", "list", str(out)], env=NO_ENV)
    assert listed.exit_code == 0
    assert "node secrets" not in listed.output


@pytest.mark.parametrize(
    "command", ["init", "rotate", "retire", "add-node", "list", "export-public"]
)
def test_every_command_has_help(runner: CliRunner, command: str) -> None:
    result = runner.invoke(app, ["keys", command, "--help"])
    assert result.exit_code == 0
    assert "Usage" in result.output
    listing = runner.invoke(app, ["keys", "--help"])
    assert command in listing.output
