"""`dief keys`: each party's own keyring (DESIGN §4), the signed forum directory, node
backups, and the simulated forum of ``dief keys init`` (demo, run, tests).

Real deployments use the per-party commands (``docs/forum-setup.md``): ``init-root``,
``init-secretariat``, ``init-region``, ``init-node``, ``certify-directory-key``,
``certify-region-keys``, ``install-certificate``, ``add-region``, ``register``,
``revoke-node``, ``issuer-keys`` (:mod:`._setup`); ``endorse-kem``, ``succeed-signing-key``,
``rotate``, ``retire``, ``revoke``, ``directory issue|verify`` (:mod:`._rotation`); a node's
``backup`` and ``restore`` with its case index and tokens (:mod:`._backup`); ``list`` shows
kids, purposes and statuses, never key material and never a node name. The former
one-keyring forum (``add-node``, ``export-public``) is gone: every public key comes from the
signed directory.

The passphrase comes from ``--passphrase-file PATH`` (first line), else
``DIEF_KEYRING__PASSPHRASE``, else the first line of ``DIEF_KEYRING__PASSPHRASE_FILE`` (the
variables every service reads, :class:`dief.settings.KeysSettings`), else a hidden prompt
(confirmed when a keyring is created). Nothing here ever prints key material.
"""

from __future__ import annotations

import typer

from dief.cli.keys import _backup, _rotation, _setup
from dief.cli.keys._common import keys_app

__all__ = ["register"]

# The help lists the commands in this order: setting up, keeping up, backing up.
for _name, _function in (*_setup.COMMANDS, *_rotation.COMMANDS, *_backup.COMMANDS):
    keys_app.command(_name)(_function)


def register(app: typer.Typer) -> None:
    """Add the ``keys`` sub-app to *app*."""
    app.add_typer(keys_app, name="keys", help=keys_app.info.help)
