"""``dief summary verify`` trusts the signed forum directory only (issue 12, problem 2).

The attack: a forger signs a summary with a key of its own and drops that key's public file
into the folder the verifier reads. A key file that is not in the directory signed under the
pinned root must never make a summary verify — in a former one-keyring folder, in a simulated
forum, or beside a directory file.
"""

from __future__ import annotations

import asyncio
import json
import shutil
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pytest
from typer.testing import CliRunner

from dief.aggregator.store import CaseStore
from dief.catalogue import load_catalogue
from dief.cli import app
from dief.crypto import SigningKey, b64url_encode
from dief.database import sqlite_url
from dief.keyring import KeyRole, SimulatedForum
from dief.secretariat import build_summary, sign_summary

if TYPE_CHECKING:
    from collections.abc import Mapping
    from pathlib import Path

PASSPHRASE = "summary-verify-test"
NO_ENV = {
    "DIEF_KEYRING__PATH": None,
    "DIEF_KEYRING__PASSPHRASE": None,
    "DIEF_DIRECTORY__FILE": None,
    "DIEF_DIRECTORY__ROOT_FINGERPRINT": None,
    "DIEF_DIRECTORY__ROOT_FINGERPRINT_FILE": None,
    "COLUMNS": "200",
}


@dataclass(frozen=True)
class Setup:
    forum: SimulatedForum
    genuine: Path
    forged: Path
    forger: SigningKey


def _rogue_public_file(folder: Path, key: SigningKey) -> None:
    """The forger's key as a public-key file of the former keyring layout (a Secretariat
    signing key), dropped into *folder*."""
    public = folder / "public"
    public.mkdir(parents=True, exist_ok=True)
    verify_key = key.verify_key
    entry = {
        "format": "dief-public-key/1",
        "kid": verify_key.kid,
        "kind": "sign",
        "role": "secretariat",
        "region": None,
        "alg": "MLDSA65+Ed25519",
        "created": "2026-05-01T12:00:00Z",
        "active": True,
        "retired": False,
        "public": b64url_encode(verify_key.public_bytes()),
    }
    (public / f"{verify_key.kid}.json").write_text(json.dumps(entry), encoding="utf-8")


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Setup:
    base = tmp_path_factory.mktemp("summary-verify")
    forum = SimulatedForum.create(base / "forum", PASSPHRASE)
    forger = SigningKey.generate()

    async def build() -> tuple[str, str]:
        async with CaseStore(sqlite_url(base / "aggregator.sqlite")) as store:
            summary = await build_summary(store, "CSP12", catalogue=load_catalogue())
        genuine = sign_summary(summary, forum.signing_key(KeyRole.SECRETARIAT))
        altered = summary.model_copy(update={"narrative": ["Nothing to report."]})
        return genuine.to_json(), sign_summary(altered, forger).to_json()

    genuine, forged = asyncio.run(build())
    (base / "genuine.json").write_text(genuine, encoding="utf-8")
    (base / "forged.json").write_text(forged, encoding="utf-8")
    return Setup(forum, base / "genuine.json", base / "forged.json", forger)


def _verify(*args: str, env: Mapping[str, str | None] | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["summary", "verify", *args], env={**NO_ENV, **(env or {})})
    return result.exit_code, result.output


def test_a_key_file_in_a_former_keyring_folder_makes_no_summary_verify(
    setup: Setup, tmp_path: Path
) -> None:
    """The folder `--keys` used to take (an exported public keyring): the forger's key file
    in it made the forged summary verify."""
    folder = tmp_path / "public-keys"
    folder.mkdir()
    (folder / "keyring.json").write_text(
        json.dumps({"format": "dief-keyring/1", "public_only": True}), encoding="utf-8"
    )
    _rogue_public_file(folder, setup.forger)
    code, output = _verify(str(setup.forged), "--keys", str(folder))
    assert code != 0
    assert not output.startswith("valid")
    assert "signed forum directory" in " ".join(output.split())  # what it needs instead


def test_in_a_simulated_forum_only_the_directory_counts(setup: Setup) -> None:
    folder = setup.forum.path
    code, output = _verify(str(setup.genuine), "--keys", str(folder))
    assert code == 0, output
    assert output.startswith("valid: CSP12 signed by Secretariat key")
    for where in (folder, folder / "secretariat", folder / "root"):
        _rogue_public_file(where, setup.forger)
    code, output = _verify(str(setup.forged), "--keys", str(folder))
    assert code == 1, output
    assert output.startswith("invalid")
    code, output = _verify(str(setup.genuine), "--keys", str(folder))
    assert code == 0, output


def test_against_a_directory_file_and_the_pinned_root(setup: Setup, tmp_path: Path) -> None:
    directory = tmp_path / "directory.json"
    directory.write_bytes(setup.forum.directory.raw)
    _rogue_public_file(tmp_path, setup.forger)
    pinned = ["--directory", str(directory), "--root-fingerprint", setup.forum.root_fingerprint]
    code, output = _verify(str(setup.genuine), *pinned)
    assert code == 0, output
    code, output = _verify(str(setup.forged), *pinned)
    assert code == 1
    assert output.startswith("invalid")
    # the same from the variables every service reads
    env = {
        "DIEF_DIRECTORY__FILE": str(directory),
        "DIEF_DIRECTORY__ROOT_FINGERPRINT": setup.forum.root_fingerprint,
    }
    assert _verify(str(setup.genuine), env=env)[0] == 0
    assert _verify(str(setup.forged), env=env)[0] == 1


def test_a_directory_of_another_root_is_refused(setup: Setup, tmp_path: Path) -> None:
    """The forger builds a whole forum of its own (its Secretariat key listed, its own root
    signing): the pinned fingerprint refuses it."""
    rogue = SimulatedForum.create(tmp_path / "rogue", PASSPHRASE)
    directory = tmp_path / "directory.json"
    directory.write_bytes(rogue.directory.raw)
    code, output = _verify(
        str(setup.forged),
        "--directory",
        str(directory),
        "--root-fingerprint",
        setup.forum.root_fingerprint,
    )
    assert code == 1
    assert "certificate" in output
    assert not output.startswith("valid")
    # nor does a simulated forum vouch for itself against another pinned root
    code, output = _verify(
        str(setup.genuine),
        "--keys",
        str(rogue.path),
        "--root-fingerprint",
        setup.forum.root_fingerprint,
    )
    assert code == 1
    assert not output.startswith("valid")


def test_a_directory_without_a_pinned_root_is_refused(setup: Setup, tmp_path: Path) -> None:
    directory = tmp_path / "directory.json"
    directory.write_bytes(setup.forum.directory.raw)
    code, output = _verify(str(setup.genuine), "--directory", str(directory))
    assert code == 1
    assert "DIEF_DIRECTORY__ROOT_FINGERPRINT" in " ".join(output.split())


def test_a_party_keyring_alone_is_not_enough(setup: Setup) -> None:
    """The Secretariat's own folder lists its keys, but public keys come from the directory."""
    code, output = _verify(str(setup.genuine), "--keys", str(setup.forum.path / "secretariat"))
    assert code == 1
    assert "directory" in output


def test_after_dief_run_the_forum_it_left_is_the_default(setup: Setup, tmp_path: Path) -> None:
    """README: `dief summary verify FILE` after `dief run` checks against the directory of
    the forum the run left in DIEF_WORK_DIR/run/keys."""
    run_keys = tmp_path / "work" / "run" / "keys"
    shutil.copytree(setup.forum.path, run_keys)
    env = {"DIEF_WORK_DIR": str(tmp_path / "work")}
    assert _verify(str(setup.genuine), env=env)[0] == 0
    _rogue_public_file(run_keys, setup.forger)
    code, output = _verify(str(setup.forged), env=env)
    assert code == 1
    assert output.startswith("invalid")
