"""The lessons a digest lists do not depend on the order the store returns the cases in
(found as a PostgreSQL/SQLite difference of ``dief run``: the same lesson text from a
TLP:AMBER and a TLP:GREEN case was listed with whichever came first)."""

from __future__ import annotations

import pytest

from dief.digests._digest import _lessons
from dief.periods import parse_period
from dief.vocab import Tlp, TransferStage
from dief.wire import Lesson

TEXT = "The end-user certificate carried a signature that did not match the specimen."


@pytest.mark.parametrize("order", [(Tlp.GREEN, Tlp.AMBER), (Tlp.AMBER, Tlp.GREEN)])
def test_the_same_text_is_listed_once_at_its_most_restrictive_tlp(
    order: tuple[Tlp, Tlp],
) -> None:
    lessons = [Lesson(text=TEXT, tlp=tlp, stage=TransferStage.PRE_TRANSFER) for tlp in order]
    [listed] = _lessons(lessons, parse_period("2026-Q2"), [], withheld=False)
    assert listed.tlp is Tlp.AMBER
