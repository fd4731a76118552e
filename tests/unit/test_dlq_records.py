"""Dead letters read back (:class:`dief.kafka.StoredDeadLetter`) and the ``dief dlq``
references, times and filters, without a broker."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import typer

from dief.aggregator import dedupe_key
from dief.cli.dlq import Ref, Selection, letter_row, parse_ref, parse_time
from dief.kafka import StoredDeadLetter
from dief.seams import HOUR_MS, DeadLetter, InboundRecord
from dief.vocab import Region

VALUE = b'{"ciphertext":"c2VjcmV0IGNhc2UgdGV4dA","v":1}'
KEY = b"3f1c2d9e-0000-4000-8000-000000000001"
T0 = datetime(2026, 6, 15, 10, 0, tzinfo=UTC)
T0_MS = int(T0.timestamp() * 1000)


def letter(
    reason: str = "malformed",
    *,
    region: Region = Region.AFR,
    offset: int = 0,
    value: bytes | None = VALUE,
    timestamp_ms: int = T0_MS + 1_234_567,  # 10:20:34.567
    source_topic: str | None = None,
    extra: tuple[tuple[str, bytes], ...] = (),
) -> StoredDeadLetter:
    source = InboundRecord(source_topic or f"dief.{region.topic_code}.cases", 2, 17, KEY, value)
    headers = tuple(DeadLetter(source, reason, f"detail of {reason}").headers())
    return StoredDeadLetter(
        region=region,
        partition=0,
        offset=offset,
        timestamp_ms=timestamp_ms,
        key=KEY,
        value=value,
        headers=headers + extra,
    )


def test_headers_are_read_by_name() -> None:
    d = letter("key_mismatch")
    assert d.reason == "key_mismatch"
    assert d.detail == "detail of key_mismatch"
    assert (d.source_topic, d.source_partition, d.source_offset) == ("dief.afr.cases", 2, 17)
    assert d.topic == "dief.afr.dlq"
    assert d.coordinates == "AFR:0:0"
    assert d.value_size == len(VALUE)
    assert d.hour == T0
    assert d.replay_topic == "dief.afr.cases"


def test_missing_or_garbled_headers() -> None:
    d = StoredDeadLetter(
        Region.APG, 0, 3, T0_MS, None, None, (("dief-source-partition", b"\xff1"),)
    )
    assert d.reason == ""
    assert d.source_topic is None
    assert d.source_partition is None
    assert d.source_offset is None
    assert d.value_size == 0
    assert d.replay_topic is None


def test_a_dead_letter_is_replayed_only_to_its_regions_cases_topic() -> None:
    assert letter(source_topic="dief.digests").replay_topic is None
    assert letter(region=Region.APG, source_topic="dief.afr.cases").replay_topic is None
    assert letter(region=Region.APG).replay_topic == "dief.apg.cases"


def test_repr_and_rows_never_carry_the_key_or_the_value() -> None:
    d = letter()
    shown = repr(d) + repr(letter_row(d))
    assert "c2VjcmV0" not in shown
    assert "ciphertext" not in shown
    assert KEY.decode() not in shown
    row = letter_row(d)
    assert row["ref"] == dedupe_key(VALUE)
    assert row["hour"] == "2026-06-15T10:00Z"
    assert row["value_size"] == len(VALUE)
    assert "key" not in row
    assert "value" not in row


def test_header_text_is_made_safe_for_a_terminal() -> None:
    d = StoredDeadLetter(
        Region.AFR, 0, 0, T0_MS, None, VALUE, (("dief-detail", b"bad \x1b[31mred\x1b[0m"),)
    )
    assert letter_row(d)["detail"] == "bad \\x1b[31mred\\x1b[0m"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("v:" + "ab" * 16, Ref(key="v:" + "ab" * 16)),
        ("V:" + "AB" * 16, Ref(key="v:" + "ab" * 16)),
        ("AFR:0:12", Ref(region=Region.AFR, partition=0, offset=12)),
        ("grulac:2:0", Ref(region=Region.GRULAC, partition=2, offset=0)),
    ],
)
def test_parse_ref(text: str, expected: Ref) -> None:
    assert parse_ref(text) == expected


@pytest.mark.parametrize("text", ["", "v:abc", "XYZ:0:1", "AFR:0", "AFR:-1:2", "AFR:a:b"])
def test_parse_ref_refuses(text: str) -> None:
    with pytest.raises(typer.BadParameter):
        parse_ref(text)


def test_refs_match_by_record_or_by_coordinates() -> None:
    a, b = letter(offset=1), letter(offset=2, value=b"other")
    by_key = parse_ref(dedupe_key(VALUE))
    assert by_key.matches(a)
    assert not by_key.matches(b)
    assert parse_ref("afr:0:2").matches(b)
    assert not parse_ref("apg:0:2").matches(b)
    assert str(parse_ref("afr:0:2")) == "AFR:0:2"


def test_parse_time() -> None:
    assert parse_time("2026-06-15") == datetime(2026, 6, 15, tzinfo=UTC)
    assert parse_time("2026-06-15T10:00") == T0
    assert parse_time("2026-06-15T10:00Z") == T0
    assert parse_time("2026-06-15T12:00+02:00") == T0
    with pytest.raises(typer.BadParameter):
        parse_time("last tuesday")


def test_selection_by_reason_time_and_ref() -> None:
    at_ten = letter("malformed", offset=1)  # 10:20, shown as the 10:00 hour
    at_eleven = letter("oversized", offset=2, timestamp_ms=T0_MS + HOUR_MS, value=b"x")
    both = [at_ten, at_eleven]
    assert Selection().select(both) == both
    assert Selection(reasons=frozenset({"oversized"})).select(both) == [at_eleven]
    # times are compared with the record's hour: since inclusive, until exclusive
    assert Selection(since=T0).select(both) == both
    assert Selection(since=parse_time("2026-06-15T10:30")).select(both) == [at_eleven]
    assert Selection(until=parse_time("2026-06-15T11:00")).select(both) == [at_ten]
    assert Selection(refs=(parse_ref("AFR:0:2"),)).select(both) == [at_eleven]
