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

from dief.cli.keys._app import register

__all__ = ["register"]
