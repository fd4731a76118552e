"""``dief dlq`` through typer's CliRunner, with the broker side replaced.

What is listed, what a replay sends and how it reports, the confirmation, and that no
payload is ever shown.
(The same commands on the real embedded broker: tests/integration/test_dlq_cli.py.)"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pytest
from typer.testing import CliRunner, Result

import dief.cli.dlq as dlq_cli
from dief.aggregator import dedupe_key
from dief.cli import app
from dief.exceptions import BrokerError
from dief.kafka import DeadLetterSnapshot, Replayed, StoredDeadLetter
from dief.seams import DeadLetter, InboundRecord
from dief.vocab import Region

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping, Sequence

    from dief.settings import KafkaSettings

T_MS = 1_781_517_600_000  # 2026-06-15T10:00Z
SECRET = b'{"ciphertext":"U0VDUkVUIENBU0UgVEVYVA","v":1}'


def letter(
    n: int,
    reason: str,
    *,
    region: Region = Region.AFR,
    value: bytes | None = None,
    source_topic: str | None = None,
    offset: int | None = None,
) -> StoredDeadLetter:
    value = value if value is not None else SECRET[:-1] + f',"n":{n}}}'.encode()
    topic = source_topic or f"dief.{region.topic_code}.cases"
    source = InboundRecord(topic, n % 3, 100 + n, f"case-{n}".encode(), value)
    return StoredDeadLetter(
        region=region,
        partition=0,
        offset=n if offset is None else offset,
        timestamp_ms=T_MS + n,
        key=f"case-key-{n}".encode(),
        value=value,
        headers=tuple(DeadLetter(source, reason, f"{reason} detail").headers()),
    )


@dataclass
class FakeBroker:
    """Stands in for dief.kafka's read, replay and watch in dief.cli.dlq."""

    letters: list[StoredDeadLetter]
    #: what comes back on the DLQ after a replay, by the replayed letter's offset
    again: dict[int, str] = field(default_factory=dict)
    sent: list[StoredDeadLetter] = field(default_factory=list)
    reads: list[Mapping[tuple[str, int], int] | None] = field(default_factory=list)
    watched: list[float] = field(default_factory=list)
    fail_read: bool = False

    async def read(
        self,
        settings: KafkaSettings,
        regions: Iterable[Region],
        *,
        start: Mapping[tuple[str, int], int] | None = None,
        time_limit: float = 30.0,
    ) -> DeadLetterSnapshot:
        if self.fail_read:
            raise BrokerError(f"cannot read dief.afr.dlq from {settings.bootstrap}: refused")
        self.reads.append(start)
        wanted = set(regions)
        chosen = [d for d in self.letters if d.region in wanted] if start is None else []
        return DeadLetterSnapshot(
            tuple(chosen), {(f"dief.{r.topic_code}.dlq", 0): 99 for r in wanted}
        )

    async def replay(
        self,
        settings: KafkaSettings,
        letters: Sequence[StoredDeadLetter],
    ) -> tuple[Replayed, ...]:
        out = []
        for d in letters:
            if d.replay_topic is None:
                out.append(Replayed(d, None, error=f"source topic {d.source_topic} is not ..."))
            else:
                self.sent.append(d)
                out.append(Replayed(d, d.replay_topic, 1, 500 + d.offset))
        return tuple(out)

    async def watch(
        self,
        settings: KafkaSettings,
        regions: Iterable[Region],
        start: Mapping[tuple[str, int], int],
        *,
        done: Callable[[Sequence[StoredDeadLetter]], bool],
        time_limit: float,
    ) -> tuple[StoredDeadLetter, ...]:
        assert start == {(f"dief.{r.topic_code}.dlq", 0): 99 for r in regions}
        self.watched.append(time_limit)
        new: list[StoredDeadLetter] = []
        for d in self.sent:
            if d.offset in self.again:
                new.append(
                    letter(d.offset, self.again[d.offset], value=d.value, offset=200 + d.offset)
                )
                if done(new):
                    break
        else:
            assert not done(new) or not self.sent
        return tuple(new)


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> FakeBroker:
    broker = FakeBroker(
        [
            letter(1, "malformed"),
            letter(2, "authentication_failed"),
            letter(3, "malformed", region=Region.APG),
            letter(4, "database_refused", source_topic="dief.digests"),
        ]
    )
    monkeypatch.setattr(dlq_cli, "read_dead_letters", broker.read)
    monkeypatch.setattr(dlq_cli, "replay_dead_letters", broker.replay)
    monkeypatch.setattr(dlq_cli, "watch_dead_letters", broker.watch)
    monkeypatch.delenv("DIEF_REGIONS", raising=False)
    return broker


def dlq(*args: str, input: str | None = None) -> Result:  # noqa: A002  the name CliRunner.invoke gives the standard input
    return CliRunner().invoke(app, ["dlq", *args, "--bootstrap", "test:9092"], input=input)


def assert_no_payload(output: str, letters: Iterable[StoredDeadLetter]) -> None:
    for d in letters:
        value = d.value or b""
        for fragment in (
            base64.b64encode(value).decode()[:16],
            value.hex()[:16],
            '"ciphertext"',
            "U0VDUkVU",
            (d.key or b"").decode(),
        ):
            assert fragment not in output


def test_list_rows_and_summary(fake: FakeBroker) -> None:
    result = dlq("list")
    assert result.exit_code == 0, result.output
    for d in fake.letters:
        assert dedupe_key(d.value) in result.stdout
    assert "dief.afr.cases[1]@101" in result.stdout
    assert "4 dead letters: authentication_failed 1, database_refused 1, malformed 2" in (
        result.stdout
    )
    assert_no_payload(result.output, fake.letters)


def test_list_json_lines_and_filters(fake: FakeBroker) -> None:
    result = dlq("list", "--json", "--reason", "malformed")
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(r["region"], r["offset"], r["source_offset"]) for r in rows] == [
        ("AFR", 1, 101),
        ("APG", 3, 103),
    ]
    assert result.stderr.strip() == "2 dead letters: malformed 2"
    assert_no_payload(result.output, fake.letters)

    result = dlq("list", "--json", "--region", "APG")
    assert [json.loads(line)["offset"] for line in result.stdout.splitlines()] == [3]
    result = dlq("list", "--json", "--since", "2026-06-15T11:00Z")
    assert result.stdout == ""
    assert "no dead letters" in result.stderr


def test_list_refuses_bad_filters(fake: FakeBroker) -> None:
    assert dlq("list", "--reason", "nonsense").exit_code == 2
    result = dlq("list", "--since", "2026-06-15T11:00", "--until", "2026-06-15T10:00")
    assert result.exit_code == 2
    assert "--until must be later than --since" in result.output
    assert fake.reads == []  # refused before connecting


def test_a_broker_error_is_one_line(fake: FakeBroker) -> None:
    fake.fail_read = True
    result = dlq("list")
    assert result.exit_code == 1
    assert result.stderr.strip() == "error: cannot read dief.afr.dlq from test:9092: refused"


def test_show_gives_headers_meaning_and_size(fake: FakeBroker) -> None:
    d = fake.letters[1]
    result = dlq("show", dedupe_key(d.value))
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "AFR:0:2" in out
    assert "authentication_failed: the header, a recipient, the id or the ciphertext" in out
    assert f"{d.value_size} bytes, sealed (never shown)" in out
    assert '  dief-source-offset: "102"' in out
    assert_no_payload(result.output, fake.letters)

    assert dlq("show", "APG:0:3", "--json").exit_code == 0
    missing = dlq("show", "AFR:0:77")
    assert missing.exit_code == 1
    assert "no dead letter AFR:0:77 in AFR" in missing.stderr


def test_replay_without_yes_refuses_when_no_one_can_answer(fake: FakeBroker) -> None:
    result = dlq("replay")
    assert result.exit_code == 2
    assert "--yes" in result.output
    assert fake.reads == []
    assert fake.sent == []


def test_replay_asks_and_can_be_declined(fake: FakeBroker, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dlq_cli, "_interactive", lambda: True)
    result = dlq("replay", "--reason", "malformed", input="n\n")
    assert result.exit_code == 1
    assert "2 records to re-send (from 2 dead letters)" in result.stdout
    assert "Re-send 2 records to their cases topics? [y/N]" in result.output
    assert fake.sent == []

    result = dlq("replay", "--reason", "malformed", "--region", "AFR", input="y\n")
    assert result.exit_code == 0, result.output
    assert [d.offset for d in fake.sent] == [1]


def test_replay_reports_each_record(fake: FakeBroker) -> None:
    fake.again = {1: "malformed"}
    result = dlq("replay", "--yes", "--wait", "5")
    assert result.exit_code == 1, result.output  # one could not be sent
    out = result.stdout
    ref = {d.offset: dedupe_key(d.value) for d in fake.letters}
    assert (
        f"AFR:0:1 {ref[1]}: re-sent to dief.afr.cases[1]@501; dead-lettered again: malformed "
        "(AFR:0:201)"
    ) in out
    assert (
        f"AFR:0:2 {ref[2]}: re-sent to dief.afr.cases[1]@502; not dead-lettered again within "
        "5 s (applied, or a duplicate)"
    ) in out
    assert f"AFR:0:4 {ref[4]}: not re-sent: source topic dief.digests" in out
    assert "re-sent 3 of 4: 1 dead-lettered again, 2 not dead-lettered again within 5 s" in out
    assert [d.offset for d in fake.sent] == [1, 2, 3]
    assert fake.watched == [5.0]
    # the DLQ ends were read again just before sending: only what came after is watched
    assert fake.reads[-1] == {(f"dief.{r.topic_code}.dlq", 0): 99 for r in Region}
    assert_no_payload(result.output, fake.letters)


def test_replay_sends_a_record_dead_lettered_twice_once(fake: FakeBroker) -> None:
    twice = letter(5, "malformed", value=fake.letters[0].value, offset=5)
    fake.letters.append(twice)
    result = dlq("replay", "--yes", "--wait", "0", "--ref", dedupe_key(twice.value))
    assert result.exit_code == 0, result.output
    assert "1 record to re-send (from 2 dead letters)" in result.stdout
    assert [d.offset for d in fake.sent] == [5]  # the latest of the two


def test_replay_help_says_what_a_replay_can_and_cannot_tell() -> None:
    result = CliRunner().invoke(app, ["dlq", "replay", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    text = " ".join(result.output.split())
    assert "only an applied record makes its bytes a duplicate" in text
    assert '"not dead-lettered again" cannot tell applied from a duplicate' in text
