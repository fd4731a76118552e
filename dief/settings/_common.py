"""Names and parts every service's settings share: the ``DIEF_`` environment names, the
default folders and store files, the database URL type and the passphrase files."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import AfterValidator, ConfigDict, SecretStr
from pydantic_settings import SettingsConfigDict

from dief.database import async_url
from dief.exceptions import ConfigurationError

__all__ = [
    "AGGREGATOR_DATABASE",
    "AGGREGATOR_FILE",
    "DEFAULT_DIR",
    "GROUP_CONFIG",
    "NESTING",
    "PREFIX",
    "RUN_DIR",
    "SECRETARIAT_DATABASE",
    "SECRETARIAT_FILE",
    "SERVICE_CONFIG",
    "DatabaseUrl",
    "env_name",
    "read_passphrase_file",
]

#: Where the services keep their files unless told otherwise (relative to the working
#: directory). ``dief run`` / ``dief demo`` work in ``DIEF_WORK_DIR`` (the same by default).
DEFAULT_DIR = Path(".dief")
#: File names of the stores, under :data:`DEFAULT_DIR` for the services and under
#: :attr:`RunSettings.run_dir` for ``dief run`` / ``dief demo``.
#: The folder of the last ``dief run`` / ``dief demo`` inside ``work_dir``.
RUN_DIR = "run"
AGGREGATOR_FILE = "aggregator.sqlite"
SECRETARIAT_FILE = "secretariat.sqlite"
#: The aggregator's database unless ``DIEF_DATABASE_URL`` says otherwise: ``dief aggregate``
#: writes it, ``dief digest`` and ``dief publish-digests`` read it.
AGGREGATOR_DATABASE = DEFAULT_DIR / AGGREGATOR_FILE
#: The Secretariat's database unless ``DIEF_DATABASE_URL`` says otherwise: ``dief
#: secretariat`` writes it, ``dief summary`` reads it.
SECRETARIAT_DATABASE = DEFAULT_DIR / SECRETARIAT_FILE

PREFIX = "DIEF_"
NESTING = "__"

SERVICE_CONFIG = SettingsConfigDict(
    env_prefix=PREFIX,
    env_nested_delimiter=NESTING,
    # Every service reads the same environment: a variable of another service is no error.
    extra="ignore",
    case_sensitive=False,
    frozen=True,
)
#: The nested groups (``DIEF_KAFKA__*``, ``DIEF_KEYRING__*``) refuse a name they do not
#: know, so a misspelt or retired variable is an error rather than silently ignored.
GROUP_CONFIG = ConfigDict(extra="forbid", frozen=True)


def env_name(*loc: str | int) -> str:
    """The environment variable of a setting: ``env_name("kafka", "ca_file")`` is
    ``DIEF_KAFKA__CA_FILE``."""
    return PREFIX + NESTING.join(str(part) for part in loc).upper()


def _async_driver(url: SecretStr | None) -> SecretStr | None:
    return None if url is None else SecretStr(async_url(url.get_secret_value()))


#: A SQLAlchemy URL; ``sqlite:///…`` and ``postgresql://…`` get the async driver.
DatabaseUrl = Annotated[SecretStr, AfterValidator(_async_driver)]


def read_passphrase_file(path: Path, source: str) -> SecretStr:
    """The first line of the passphrase file *path*, given by *source* (the option or the
    environment variable, named in the error).

    :raises ConfigurationError: the file cannot be read or its first line is empty.
    """
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else "unreadable"
        raise ConfigurationError(
            f"cannot read the passphrase file {path} ({source}): {reason}"
        ) from exc
    if not lines or not lines[0]:
        raise ConfigurationError(f"the passphrase file {path} ({source}) is empty")
    return SecretStr(lines[0])
