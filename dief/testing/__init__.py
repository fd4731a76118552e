"""Test utilities and fakes that ship with DIEF Exchange, grouped by concept: the one set of
fakes every test uses (each implements its Protocol of :mod:`dief.seams`).

- **Time**: :class:`FakeClock`, a :class:`~dief.seams.Clock` a test moves by hand (forward
  with ``advance``, anywhere with ``jump_to``).
- **Records in memory**: :class:`MemoryRecordSink` (a :class:`~dief.seams.RecordSink`,
  records as :class:`SentRecord`), :class:`MemoryDeadLetterSink` (a
  :class:`~dief.seams.DeadLetterSink`), :class:`MemoryReceiptSink` (a
  :class:`~dief.seams.ReceiptSink`) and :class:`MemoryPublisher` (a
  :class:`~dief.seams.Publisher`, alone or as a spy on a real one, whose acknowledgements a
  test can hold and wait for). Each keeps what it accepted, in order, in ``.sent``.
  :class:`MemoryRecordFeed` is a :class:`~dief.seams.RecordFeed` over records a test appends.
- **Credentials**: :class:`FakeCredentials`, a :class:`~dief.seams.CredentialSource` and
  :class:`~dief.seams.CredentialCheck` whose tokens are HMACs of a fake issuer (unit tests
  of the node and the aggregator; the real blind signatures are :mod:`dief.credentials`).
- **Bulletins**: :class:`FakeBulletinAudit`, a :class:`~dief.seams.BulletinAuditCheck` whose
  answer a test sets (the audit half of the bulletin release rule).
- **Failure injection**: :class:`Faults`, ``.faults`` of every fake above: fail every call
  until healed, or the next *n*, with a given error or a ``BrokerError``; and
  :class:`FaultPlan`, a :class:`~dief.seams.FaultPoints` that fails the delivery path at
  chosen visits of its commit boundaries.
- **Network faults**: :class:`TcpProxy`, a loopback TCP forwarder a test can cut,
  freeze (open connections silent) and restore, and :func:`broker_behind_proxy`, an
  embedded broker whose clients all go through one.
- **Reading topics back**: :func:`read_topics`, every record of some topics from the
  beginning, without a consumer group (for assertions on what is on the wire).

Nothing here touches the network or the clock at import time or in a constructor.
"""

from __future__ import annotations

from dief.testing._bulletins import FakeBulletinAudit
from dief.testing._clock import FakeClock
from dief.testing._credentials import FakeCredentials
from dief.testing._faults import FaultPlan, Faults, InjectedFaultError
from dief.testing._feed import MemoryRecordFeed
from dief.testing._memory import (
    MemoryDeadLetterSink,
    MemoryPublisher,
    MemoryReceiptSink,
    MemoryRecordSink,
    SentRecord,
)
from dief.testing._proxy import CutMode, ProxiedBroker, ProxyStats, TcpProxy, broker_behind_proxy
from dief.testing._topics import read_topics

__all__ = [
    "CutMode",
    "FakeBulletinAudit",
    "FakeClock",
    "FakeCredentials",
    "FaultPlan",
    "Faults",
    "InjectedFaultError",
    "MemoryDeadLetterSink",
    "MemoryPublisher",
    "MemoryReceiptSink",
    "MemoryRecordFeed",
    "MemoryRecordSink",
    "ProxiedBroker",
    "ProxyStats",
    "SentRecord",
    "TcpProxy",
    "broker_behind_proxy",
    "read_topics",
]
