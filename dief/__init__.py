"""DIEF Exchange: non-attributed diversion case exchange for the ATT DIEF.

The public surface is re-exported here; submodules with a leading underscore are private.
"""

from __future__ import annotations

from dief.exceptions import (
    AuthenticationError,
    BrokerError,
    BrokerStartError,
    ConfigurationError,
    DiefError,
    EnvelopeError,
    EnvelopeVersionError,
    KeyNotFoundError,
    KeyringError,
    MalformedEnvelopeError,
    NoRecipientKeyError,
    OversizedEnvelopeError,
    PassphraseError,
    ScreeningError,
    SignatureError,
    StorageError,
    StorageRefusedError,
    StoredDataError,
    UnknownSuiteError,
    ValidationError,
)
from dief.vocab import DIMENSIONS, Dimension, Region

__version__ = "0.1.0"

__all__ = [
    "DIMENSIONS",
    "AuthenticationError",
    "BrokerError",
    "BrokerStartError",
    "ConfigurationError",
    "DiefError",
    "Dimension",
    "EnvelopeError",
    "EnvelopeVersionError",
    "KeyNotFoundError",
    "KeyringError",
    "MalformedEnvelopeError",
    "NoRecipientKeyError",
    "OversizedEnvelopeError",
    "PassphraseError",
    "Region",
    "ScreeningError",
    "SignatureError",
    "StorageError",
    "StorageRefusedError",
    "StoredDataError",
    "UnknownSuiteError",
    "ValidationError",
    "__version__",
]
