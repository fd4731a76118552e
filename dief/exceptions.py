"""Every error DIEF Exchange raises on purpose derives from :class:`DiefError`.

Errors from aiokafka, SQLAlchemy and cryptography are translated at the boundary into one
of these with ``raise ... from exc``, so callers catch one hierarchy and the cause is kept.
No message, ``str()`` or ``repr()`` of these errors ever contains key material, passphrases,
node secrets, or the refused input text itself.

::

    DiefError
    ├── ConfigurationError            settings or files that cannot work
    │   └── InfeasibleError           (dief.audit) published documents that contradict the
    │                                 audit's relations; nothing can be bounded
    ├── ValidationError               one case (or one field of it) refused; has .code, .loc
    │   └── ScreeningError            free text that could attribute a case (.spans)
    ├── EnvelopeError                 a sealed envelope that cannot be opened; has .code
    │   ├── EnvelopeVersionError      unknown envelope "v" or payload "schema"
    │   ├── UnknownSuiteError         "suite" is not one we implement
    │   ├── NoRecipientKeyError       none of the recipients' kids is a key we hold
    │   ├── AuthenticationError       tampered header, recipient, id or ciphertext
    │   ├── OversizedEnvelopeError    value larger than the 256 KiB limit
    │   ├── PaddingError              payload not padded to an allowed size with spaces
    │   └── MalformedEnvelopeError    not JSON, bad base64, missing or mistyped field
    ├── KeyringError                  keyring missing, unreadable or inconsistent
    │   ├── PassphraseError           wrong or missing passphrase for a private key
    │   ├── KeyNotFoundError          no key with that role / region / id
    │   └── DirectoryError            a forum directory (or a file for it) refused; .code
    │                                 says why (unsigned, rollback, expired, rule, ...)
    ├── SignatureError                a digest or summary signature does not verify
    ├── ReleaseRefusedError           a case released without a second person's approval
    │                                 (four eyes: the approver is not the author)
    ├── DisclosureError               disclosure control cannot protect what it must publish
    │   └── UnprotectedCellError      (dief.disclosure) a suppressed cell a reader would pin
    │                                 and nothing left can be hidden to stop it; .cell
    ├── CredentialError               a contributor credential (RFC 9474 token), its request
    │                                 or answer refused; .code says why (already_issued, ...)
    ├── BrokerError                   the Kafka-protocol broker
    │   └── BrokerStartError          the embedded broker binary missing or not starting
    │       └── KafkaUnavailableError Java or Apache Kafka's jars missing (dief.kafka_cluster)
    └── StorageError                  the database (wraps SQLAlchemy errors)
        ├── StorageRefusedError       the database refused the data (a constraint or a value
        │                             out of range), not an outage: retrying cannot help
        ├── StoredDataError           a stored record that does not parse (altered, or
        │                             written by another version): retrying cannot help
        └── StoreChangingError        a region's cases kept changing while its digests,
                                      route tables or summary read them; a later try reads
                                      them settled
"""

from __future__ import annotations

__all__ = [
    "AuthenticationError",
    "BrokerError",
    "BrokerStartError",
    "ConfigurationError",
    "CredentialError",
    "DiefError",
    "DirectoryError",
    "DisclosureError",
    "EnvelopeError",
    "EnvelopeVersionError",
    "FieldProblem",
    "KafkaUnavailableError",
    "KeyNotFoundError",
    "KeyringError",
    "MalformedEnvelopeError",
    "NoRecipientKeyError",
    "OversizedEnvelopeError",
    "PaddingError",
    "PassphraseError",
    "ReleaseRefusedError",
    "ScreeningError",
    "SignatureError",
    "StorageError",
    "StorageRefusedError",
    "StoreChangingError",
    "StoredDataError",
    "UnknownSuiteError",
    "UnprotectedCellError",
    "ValidationError",
    "is_outage",
]


class DiefError(Exception):
    """Root of every error DIEF Exchange raises on purpose."""

    #: A short, stable, machine-readable reason code (used in DLQ headers and rejected.jsonl).
    code: str = "error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code!r}, message={self.message!r})"


class ConfigurationError(DiefError):
    """Settings, paths or files that cannot work as given."""

    code = "configuration"


class ValidationError(DiefError):
    """A case, or one field of it, is refused.

    ``loc`` is the path of the offending field (``("items", 0, "category")``), empty when
    the whole document is at fault. ``errors`` holds one entry per problem found.
    """

    code = "invalid"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        loc: tuple[str | int, ...] = (),
        errors: tuple[FieldProblem, ...] = (),
    ) -> None:
        super().__init__(message, code=code)
        self.loc = loc
        self.errors = errors


class FieldProblem:
    """One problem in one field: where (``loc``), what code, and a message."""

    __slots__ = ("code", "loc", "message")

    def __init__(self, loc: tuple[str | int, ...], code: str, message: str) -> None:
        self.loc = loc
        self.code = code
        self.message = message

    def __repr__(self) -> str:
        return f"FieldProblem(loc={self.loc!r}, code={self.code!r}, message={self.message!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, FieldProblem):
            return NotImplemented
        return (self.loc, self.code, self.message) == (other.loc, other.code, other.message)

    def __hash__(self) -> int:
        return hash((self.loc, self.code, self.message))


class ScreeningError(ValidationError):
    """Free text that could attribute a case to a State.

    ``spans`` lists ``(field, start, end, kind)`` for each offending span; the text itself
    is never included, so the error can be logged and written to ``rejected.jsonl``.
    """

    code = "screening"

    def __init__(
        self,
        message: str,
        *,
        spans: tuple[tuple[str, int, int, str], ...],
        code: str | None = None,
    ) -> None:
        super().__init__(message, code=code)
        self.spans = spans


class EnvelopeError(DiefError):
    """A sealed envelope that cannot be opened."""

    code = "envelope"


class EnvelopeVersionError(EnvelopeError):
    """The envelope version ``v`` or the payload ``schema`` is not one we read."""

    code = "unsupported_version"


class UnknownSuiteError(EnvelopeError):
    """The envelope's ``suite`` is not an HPKE suite we implement."""

    code = "unknown_suite"


class NoRecipientKeyError(EnvelopeError):
    """None of the envelope's recipient key ids is a private key we hold."""

    code = "no_recipient_key"


class AuthenticationError(EnvelopeError):
    """Decryption failed: a header field, recipient, id or the ciphertext was altered."""

    code = "authentication_failed"


class OversizedEnvelopeError(EnvelopeError):
    """The record value is larger than the 256 KiB limit."""

    code = "oversized"


class PaddingError(EnvelopeError):
    """The opened payload's length is not an allowed padded size for its type, or the
    bytes after the payload are not all spaces (DESIGN §3 ⚑)."""

    code = "bad_padding"


class MalformedEnvelopeError(EnvelopeError):
    """Not UTF-8 JSON, bad base64, or a field missing or of the wrong type."""

    code = "malformed"


class KeyringError(DiefError):
    """A keyring that is missing, unreadable or inconsistent."""

    code = "keyring"


class PassphraseError(KeyringError):
    """The passphrase for an encrypted private key is missing or wrong."""

    code = "passphrase"


class KeyNotFoundError(KeyringError):
    """No key with the requested role, region or key id."""

    code = "key_not_found"


class DirectoryError(KeyringError):
    """A forum directory, or a file a party hands another for it (a certificate, a region's
    key bundle, a node registration, a bulletin group key release), is refused: unsigned or
    wrongly signed, older than the one held, expired, or breaking a rule of DESIGN §4.
    ``code`` names the reason (``not_registered``: a group key release holds no copy for
    this node)."""

    code = "directory"


class SignatureError(DiefError):
    """A digest or CSP summary signature does not verify."""

    code = "bad_signature"


class CredentialError(DiefError):
    """A contributor credential, or a request or answer for one, is refused (DESIGN §5).

    ``code`` says why: ``already_issued`` (a different blinded message for a registration
    and issuer key that already has one), ``unknown_registration``, ``revoked_registration``,
    ``unknown_issuer_key``, ``bad_request``, ``bad_answer``, ``bad_signature`` (a blind or
    final signature that does not verify), ``signing_failure`` (the issuer's own check of
    its signature failed: nothing is answered), ``weak_key``.
    """

    code = "credential"


class BrokerError(DiefError):
    """The Kafka-protocol broker could not be reached or answered with an error."""

    code = "broker"


class BrokerStartError(BrokerError):
    """The embedded broker binary is missing or could not be started."""

    code = "broker_start"


class KafkaUnavailableError(BrokerStartError):
    """Apache Kafka cannot run here: no Java, or the pinned release's jars are not resolved
    (``scripts/install`` resolves them). The ``kafka`` tests skip on it (CI then fails)."""

    code = "kafka_unavailable"


class StorageError(DiefError):
    """The database failed (wraps SQLAlchemy and driver errors)."""

    code = "storage"


class StorageRefusedError(StorageError):
    """The database refused what was written (an integrity constraint, a value out of a
    column's range): the same write fails on every retry, so the aggregator isolates the
    record that causes it and dead-letters it (reason ``database_refused``); so does the
    Secretariat with a digest."""

    code = "database_refused"


class StoredDataError(StorageError):
    """A record the store holds does not parse (altered by hand, or written by another
    version): the same read fails on every retry, so the Secretariat withholds the summary
    that needs it instead of holding its partition."""

    code = "stored_data"


class StoreChangingError(StorageError):
    """A region's digests, route tables or CSP summary read its cells and the data
    versions they state (:func:`dief.aggregator.store.settled_read`), and batches kept
    changing them between the reads, attempt after attempt: no read found cells and
    versions that match (route tables: the cases changed after the digests they are
    protected with read theirs). Not a failure of the database: trying again once the
    batches settle reads them."""

    code = "store_changing"


class ReleaseRefusedError(DiefError):
    """A case may leave the node only once a second person approved it (four eyes): the
    approver is not its author, and holds the approver role (the portal, DESIGN §13)."""

    code = "four_eyes"


class DisclosureError(DiefError):
    """Disclosure control (DESIGN §7) cannot protect what a document would publish: nothing
    is published rather than a cell a reader could compute."""

    code = "disclosure"


class UnprotectedCellError(DisclosureError):
    """A suppressed cell a reader would pin (by the sums or the bounds) that no further
    suppression can free, in a first issue. ``cell`` is ``(table, dimension, value)``: a
    period and a vocabulary value, never a State or a count."""

    code = "unprotected_cell"

    def __init__(self, cell: tuple[str, str, str]) -> None:
        table, dimension, value = cell
        super().__init__(
            f"disclosure control cannot protect {dimension}/{value} of table {table}: "
            "a reader would pin it and no further suppression frees it"
        )
        self.cell = cell


def is_outage(exc: BaseException) -> bool:
    """Whether *exc* is the broker or the database not answering, which may pass when the
    same work is tried again. Every other :class:`DiefError` (a refusal of the data, a
    stored record that does not parse, disclosure control, a check that fails) fails the
    same way every time: retrying it would hold a partition for good."""
    if isinstance(exc, BrokerError):
        return True
    return isinstance(exc, StorageError) and not isinstance(
        exc, (StorageRefusedError, StoredDataError)
    )
