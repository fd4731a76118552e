"""The aggregator's validation framework: every inbound record passes the same checks, in a
fixed order, and the first that fails names the reason it is dead-lettered (DESIGN §5, §8).

1. **envelope** — a value is there; it opens with this region's keys (size, JSON, version,
   type and schema, shape, suite, recipients, base64, HPKE, AAD, AES-GCM: the
   :class:`dief.exceptions.EnvelopeError` codes); its ``id`` is a canonical lower-case UUID;
   its type is ``dief.case``; it is sealed for this topic's region.
2. **padding** — the plaintext has one of the two fixed sizes of case records (DESIGN §3;
   :data:`dief.wire.CASE_PADDED_SIZES`) and is padded with spaces only. The opener checks
   it while opening (:class:`dief.exceptions.PaddingError`), before it hands out the
   receipt key, so a record refused here gets no receipt.
3. **parse** — the payload is one JSON object with no duplicate keys, then the case record
   schema (vocabularies, patterns and bounds on every number, string and list; each list's
   values once; and the cross-field rules of the Working Group's fields the node checks
   too: maritime details only with a sea leg, an item's subcategory that fits its
   category, a verification outcome only for a documentary or on-site check, a
   reassessment outcome only when reassessed — docs/case-model.md).
4. **rules** — what the node checks too, re-checked because a node may be buggy or hostile:
   the record key is the case id; the record's region is the envelope's and the topic's;
   the detection month is neither in the future nor before the Treaty; the cycle is the one
   of the detection month; the catalogue version is one this aggregator ships, and every
   risk-indicator id is in it. Then what only the aggregator can check (DESIGN §5 ⚑):
   **ownership** — the record's ``envelope_id`` is its envelope's id, its ``case_id``
   derives from ``owner_key``, region and cycle, and ``owner_sig`` verifies over the record
   as sent (:func:`dief.wire.ownership_problem`); and the **credential** — the contributor
   token verifies under the issuer key of the record's (cycle, region)
   (:class:`dief.seams.CredentialCheck`).

:data:`REASONS` lists every reason code a dead letter can carry, with what it means; the
dead-letter headers and ``docs/architecture.md`` use the same codes. Messages (``detail``)
name fields and rules, never decrypted text. A refusal after the envelope stage carries the
envelope id and the record's receipt key, so the posting node gets a receipt saying why
(DESIGN §8); a refusal at the envelope stage carries neither.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Protocol

import pydantic

from dief.catalogue import Catalogue, load_catalogues
from dief.exceptions import EnvelopeError
from dief.periods import DEFAULT_CYCLE_START_MONTH, Month
from dief.seams import Clock, CredentialCheck, InboundRecord, SystemClock
from dief.wire import EARLIEST_DETECTED, TYPE_CASE, CaseRecord, ownership_problem

if TYPE_CHECKING:
    from collections.abc import Mapping

    from dief.vocab import Region

__all__ = [
    "REASONS",
    "EnvelopeOpener",
    "OpenedEnvelope",
    "RecordRefusedError",
    "RecordValidator",
    "ValidRecord",
]

#: Every reason code a dead letter from a cases topic can carry, in check order.
REASONS: Mapping[str, str] = {
    # 1. envelope
    "malformed": "no value, not JSON, bad base64, or a missing or mistyped envelope field",
    "oversized": "the value is larger than the 256 KiB limit",
    "unsupported_version": "an envelope version or payload schema this aggregator does not read",
    "unsupported_type": "a payload type this aggregator does not open",
    "unknown_suite": "a suite this aggregator does not implement",
    "no_recipient_key": "not sealed to any key this region holds",
    "authentication_failed": "the header, a recipient, the id or the ciphertext was changed",
    "bad_id": "the envelope id is not a canonical lower-case UUID",
    "wrong_type": "an envelope that is not a case record on a cases topic",
    "wrong_region": "sealed for, or about, a region other than this topic's",
    # 2. padding (checked by the opener)
    "bad_padding": "the plaintext is not padded with spaces to a case record's fixed size",
    # 3. parse
    "malformed_payload": "the payload is not one JSON object, or repeats a key",
    "invalid_payload": "the payload breaks the case record schema (a field, a bound, a "
    "cross-field rule)",
    # 4. rules
    "key_mismatch": "the record has no key, or its key is not the case id",
    "bad_month": "a detection month in the future or before the Treaty entered into force",
    "wrong_cycle": "the cycle is not the CSP cycle of the detection month",
    "unknown_catalogue": "the catalogue version named is not shipped with this aggregator",
    "unknown_indicator": "a risk-indicator id that is not in the named catalogue version",
    "ownership": "the envelope id, the case id's derivation or the owner signature does not "
    "verify (or the owner key differs from the stored case's)",
    "bad_credential": "the contributor token does not verify under the issuer key of the "
    "record's cycle and region",
    # applying
    "database_refused": "the database refused this record alone (isolated from its batch)",
    "internal_error": "an unexpected error while decoding (a bug): type name only",
}

#: A node's clock may run ahead of the aggregator's: a month is "future" only past this.
_SKEW = timedelta(days=1)

_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


class OpenedEnvelope(Protocol):
    """What opening a sealed envelope yields (see :mod:`dief.crypto`)."""

    @property
    def type(self) -> str: ...
    @property
    def id(self) -> str: ...
    @property
    def region(self) -> str: ...
    @property
    def payload(self) -> bytes: ...
    @property
    def receipt_key(self) -> bytes: ...


class EnvelopeOpener(Protocol):
    """Opens sealed envelopes with the private keys this aggregator holds."""

    def open(self, value: bytes) -> OpenedEnvelope: ...


class RecordRefusedError(Exception):
    """One record fails a check: ``reason`` (a :data:`REASONS` code) and a ``detail`` that
    names fields and rules only.

    Refused after the envelope stage (the record opened, its id and region are right), it
    carries the envelope id and the record's receipt key, so the posting node can be told
    (DESIGN §8); refused at the envelope stage, both are None: no receipt.
    """

    def __init__(
        self,
        reason: str,
        detail: str,
        *,
        envelope_id: str | None = None,
        receipt_key: bytes | None = None,
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.detail = detail
        self.envelope_id = envelope_id
        self.receipt_key = receipt_key


@dataclass(frozen=True, slots=True)
class ValidRecord:
    """A record that passed every check: its envelope id, its case record and its receipt
    key (never in ``repr``)."""

    envelope_id: str
    record: CaseRecord = field(repr=False)
    receipt_key: bytes = field(default=b"", repr=False)


def _no_duplicate_keys(pairs: list[tuple[str, object]]) -> dict[str, object]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        repeated = sorted(k for k, n in Counter(k for k, _ in pairs).items() if n > 1)
        raise RecordRefusedError("malformed_payload", f"repeated key(s): {', '.join(repeated)}")
    return obj


def _validation_detail(exc: pydantic.ValidationError) -> str:
    # Locations and error types only: the input is decrypted case text.
    parts = [
        f"{'.'.join(str(p) for p in err['loc']) or '<root>'}: {err['type']}"
        for err in exc.errors(include_input=False, include_url=False)
    ]
    return "; ".join(parts[:10])


class RecordValidator:
    """The checks of one region's cases topic, in order (see the module docstring)."""

    def __init__(  # noqa: PLR0913  a public keyword signature of settings and seams, used outside dief/aggregator
        self,
        region: Region,
        opener: EnvelopeOpener,
        *,
        credentials: CredentialCheck,
        start_month: int = DEFAULT_CYCLE_START_MONTH,
        catalogues: Mapping[str, Catalogue] | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.region = region
        self._clock: Clock = clock or SystemClock()
        self._code = region.value
        self._opener = opener
        self._credentials = credentials
        self._start_month = start_month
        # Every catalogue version a record may name ships with the aggregator (DESIGN §6).
        self._catalogues = dict(load_catalogues() if catalogues is None else catalogues)

    def __repr__(self) -> str:
        return f"RecordValidator(region={self._code!r})"

    def validate(self, rec: InboundRecord) -> ValidRecord:
        """The record's envelope id, case record and receipt key, or
        :class:`RecordRefusedError` (carrying the envelope id and receipt key when the
        record was refused after the envelope stage)."""
        opened = self._envelope(rec)
        try:
            data, record = self._parse(opened.payload)
            self._rules(rec, record)
            self._ownership(opened.id, data, record)
        except RecordRefusedError as why:
            why.envelope_id, why.receipt_key = opened.id, opened.receipt_key
            raise
        return ValidRecord(opened.id, record, opened.receipt_key)

    # -- 1. envelope -----------------------------------------------------------------------

    def _envelope(self, rec: InboundRecord) -> OpenedEnvelope:
        if rec.value is None:
            raise RecordRefusedError("malformed", "record has no value (tombstone)")
        try:
            opened = self._opener.open(rec.value)
        except EnvelopeError as exc:
            raise RecordRefusedError(exc.code, exc.message) from exc
        if not _UUID.fullmatch(opened.id):
            raise RecordRefusedError("bad_id", "envelope id is not a canonical lower-case UUID")
        if opened.type != TYPE_CASE:
            raise RecordRefusedError(
                "wrong_type", f"envelope type {opened.type!r} on a cases topic"
            )
        if opened.region != self._code:
            raise RecordRefusedError(
                "wrong_region", f"envelope sealed for {opened.region!r} on the {self._code} topic"
            )
        return opened

    # -- 2. padding: the opener's (bad_padding, an EnvelopeError code) -------------------

    # -- 3. parse --------------------------------------------------------------------------

    @staticmethod
    def _parse(payload: bytes) -> tuple[dict[str, object], CaseRecord]:
        try:
            data = json.loads(payload, object_pairs_hook=_no_duplicate_keys)
        except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError
            raise RecordRefusedError("malformed_payload", "payload is not UTF-8 JSON") from exc
        if not isinstance(data, dict):
            raise RecordRefusedError("malformed_payload", "payload is not a JSON object")
        try:
            return data, CaseRecord.model_validate(data)
        except pydantic.ValidationError as exc:
            raise RecordRefusedError("invalid_payload", _validation_detail(exc)) from exc

    # -- 4. rules --------------------------------------------------------------------------

    def _rules(self, rec: InboundRecord, record: CaseRecord) -> None:
        if rec.key is None or rec.key.decode("utf-8", "replace") != record.case_id:
            # The key keeps a case's revisions on one partition, in order.
            raise RecordRefusedError("key_mismatch", "record key is not the case_id")
        self._region_rule(record)
        month = Month.parse(record.detected_month)
        latest = Month.of((datetime.fromtimestamp(self._clock.now(), UTC) + _SKEW).date())
        if not EARLIEST_DETECTED <= month <= latest:
            raise RecordRefusedError(
                "bad_month", f"detected_month {month} is not within {EARLIEST_DETECTED}..{latest}"
            )
        cycle = month.cycle(self._start_month)
        if record.cycle != str(cycle):
            raise RecordRefusedError(
                "wrong_cycle",
                f"cycle {record.cycle} is not {cycle}, the cycle of {record.detected_month}",
            )
        catalogue = self._catalogues.get(record.catalogue_version)
        if catalogue is None:
            raise RecordRefusedError(
                "unknown_catalogue",
                f"catalogue version {record.catalogue_version!r} is not shipped here",
            )
        unknown = sorted({i for i in record.risk_indicators if i not in catalogue})
        if unknown:
            raise RecordRefusedError(
                "unknown_indicator",
                f"not in catalogue {catalogue.version}: {', '.join(unknown[:5])}",
            )

    def _region_rule(self, record: CaseRecord) -> None:
        primary = str(record.region)
        if primary != self._code:
            raise RecordRefusedError("wrong_region", f"case of {primary} on the {self._code} topic")

    def _ownership(self, envelope_id: str, data: dict[str, object], record: CaseRecord) -> None:
        """The record proves its case id and its contributor (the costly checks, last)."""
        problem = ownership_problem(data, envelope_id)
        if problem is not None:
            raise RecordRefusedError("ownership", problem)
        try:
            credential = record.credential
        except ValueError as exc:  # binascii.Error: a length no base64url text has
            raise RecordRefusedError(
                "bad_credential", "contributor_token is not base64url"
            ) from exc
        if not self._credentials.verify(credential):
            raise RecordRefusedError(
                "bad_credential",
                f"contributor_token does not verify under the issuer key of "
                f"({record.cycle}, {record.region})",
            )
