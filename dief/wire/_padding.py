"""The fixed padded sizes of case records (DESIGN §3 ⚑): a case record's plaintext is
padded with trailing spaces to one size without a lesson and one with a lesson, so its
sealed size tells only whether it carries a lesson.

Each size is the smallest multiple of 256 bytes that fits the largest valid record of its
kind (every list and string of :class:`dief.wire.CaseRecord` is bounded and every list
holds each value once; a lesson is at most 2,000 characters of at most four bytes each in
its JSON form). The test
``tests/unit/test_padding.py`` builds both largest records and checks that they fit and
that a smaller multiple of 256 would not. A node refuses a record that does not fit; an
aggregator refuses a payload whose length is not one of :data:`CASE_PADDED_SIZES`
(``bad_padding``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dief.wire._record import CaseRecord

__all__ = ["CASE_PADDED_SIZES", "PADDED_WITHOUT_LESSON", "PADDED_WITH_LESSON", "case_padded_size"]

#: The padded plaintext size of a case record without a lesson (``summary`` null). Schema 3
#: (the Working Group's fields: 50 items with a subcategory, 24 actor entries) made it grow
#: from 6,144.
PADDED_WITHOUT_LESSON = 8960
#: The padded plaintext size of a case record with a lesson (schema 2: 14,080).
PADDED_WITH_LESSON = 16896
#: Every padded size a case record may have: (without a lesson, with a lesson).
CASE_PADDED_SIZES = (PADDED_WITHOUT_LESSON, PADDED_WITH_LESSON)


def case_padded_size(record: CaseRecord) -> int:
    """The size *record*'s plaintext is padded to."""
    return PADDED_WITHOUT_LESSON if record.summary is None else PADDED_WITH_LESSON
