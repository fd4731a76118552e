"""The labels have one home outside the portal: a rendering or the Secretariat names a
vocabulary value without loading the web application, and the portal hashes nothing at
import (its Argon2id dummy hash is made on first use)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from typing import TYPE_CHECKING

from dief import labels
from dief.portal import Party, extract_messages
from tests.portal.conftest import make_site

if TYPE_CHECKING:
    from pathlib import Path


def _run(code: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_rendering_and_the_secretariat_name_values_without_the_web_stack() -> None:
    loaded = _run(
        """
        import sys
        import dief.render, dief.secretariat
        from dief.render import _docx_layout
        from dief.secretariat import _narrative
        print(_docx_layout.value_text("small_arms"), "|", _narrative.label("small_arms"))
        web = ("fastapi", "starlette", "argon2", "dief.portal")
        print(sorted(m for m in web if m in sys.modules))
        """
    )
    named, modules = loaded.splitlines()
    assert named == "Small arms | small arms"
    assert modules == "[]"


def test_the_portal_hashes_no_password_at_import() -> None:
    calls = _run(
        """
        import argon2
        made = []
        original = argon2.PasswordHasher.hash
        argon2.PasswordHasher.hash = lambda self, *a, **k: made.append(1) or original(self, *a, **k)
        import dief.portal
        print(len(made))
        """
    )
    assert calls == "0"


def test_the_catalogues_take_every_label_from_the_one_home() -> None:
    messages = set(extract_messages())
    assert set(labels.all_label_messages()) <= messages
    assert labels.value_label("small_arms") in messages


def test_the_portal_makes_its_dummy_hash_when_it_starts(tmp_path: Path) -> None:
    """Made at the start, not on the first login with an unknown name (which would take
    one Argon2id hash longer, and so tell that the name does not exist)."""
    from dief.portal import _accounts  # noqa: PLC0415  the private cache this test observes

    _accounts._dummy_hash.cache_clear()
    for _site in make_site(tmp_path, Party.NODE):
        assert _accounts._dummy_hash.cache_info().currsize == 1
