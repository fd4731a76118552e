"""The summary's narrative stays readable: a sentence names at most five items and counts
the rest; values read as their labels."""

from __future__ import annotations

from dief.secretariat import LIST_LIMIT, label, listed
from dief.secretariat._narrative import _rising
from dief.vocab import Dimension, ItemCategory, Method, Region
from dief.wire import Pattern


def test_a_list_of_five_is_named_whole() -> None:
    items = [f"item {n}" for n in range(LIST_LIMIT)]
    assert listed(items, "value") == "; ".join(items)


def test_a_longer_list_names_five_and_counts_the_others() -> None:
    items = [f"item {n}" for n in range(19)]
    text = listed(items, "value")
    assert text == "; ".join(items[:5]) + "; and 14 other values"
    assert "item 5" not in text
    assert listed(items[:6], "value").endswith("; and 1 other value")


def test_nineteen_rising_values_make_a_readable_sentence() -> None:
    values = [*ItemCategory][:10] + [*Method][:9]
    patterns = [
        Pattern(
            dimension=Dimension.ITEM_CATEGORY if v in ItemCategory else Dimension.METHOD,
            value=v.value,
            regions=[Region.AFR, Region.WEOG],
            previous_cycle="CSP11",
        )
        for v in values
    ]
    text = _rising(patterns, "CSP11")
    assert text is not None
    assert text.count(";") == LIST_LIMIT  # five named, then "and 14 other values"
    assert "and 14 other values" in text
    assert "table of patterns" in text
    assert "_" not in text


def test_labels_come_from_the_vocabulary() -> None:
    assert label("small_arms") == "small arms"
    assert label("trans_shipment") == "trans-shipment"
    assert label("DOC-01") == "DOC-01"
    assert label("AFR") == "African Group"  # a name keeps its capitals
    assert label("non_state_armed_group") == "non-State armed group"
