"""The notes of a digest (DESIGN §7): the figures of its suppression (primary, secondary,
checklist), dead letters, the trend test, the CSP cycles its period spans, and the texts
explaining them (:func:`_notes`); what a page says in place of dimension tables a digest
does not list (:func:`missing_tables_note`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dief.aggregator import TOTAL
from dief.digests._tables import _Tables, few_contributors
from dief.digests._trend import TREND_TEST
from dief.disclosure import MONTH_DIMENSIONS, DigestPattern
from dief.wire import ChecklistEntry, Digest, DigestNotes

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from dief.periods import Quarter

__all__ = [
    "FEW_CHECKLIST_NOTE",
    "FEW_NOTE",
    "MONTHLY_NOTE",
    "PROTECTED_TOTAL_NOTE",
    "SILENT_KEY",
    "SILENT_NOTE",
    "missing_tables_note",
]


#: what a month's digest says of its missing dimension tables
MONTHLY_NOTE = (
    "A month's digest shows its number of cases and their kind (case or alert) only: a "
    "region's month holds too few cases to show them by every dimension without hiding "
    "most of the table (and, through the sums into quarters and cycles, the totals). The "
    "quarter, half-cycle and CSP cycle digests show every dimension."
)


#: what a digest of fewer than k contributors says of its empty tables
FEW_NOTE = (
    "Fewer than {k} distinct contributors reported in this period: no value of any "
    "dimension is listed, since a listed value, even with its count hidden, would tell "
    "what their cases report."
)


#: what a digest says when its period's table lists nothing (docs/digests.md, "A cell no
#: suppression can protect")
SILENT_NOTE = (
    "Nothing of this period's table is listed, not even its total: disclosure control "
    "could not hide its figures so that none of them, beside the region's other documents, "
    "could be worked out; its cases still count in the quarters and cycles around it."
)

#: the key of ``notes`` that names the tables a digest lists nothing of (its period's), an
#: extra key (DESIGN §7 "more fields are welcome")
SILENT_KEY = "withheld_tables"


def missing_tables_note(digest: Digest) -> str:
    """What a page says in place of a digest's dimension tables when it lists none: why,
    as its notes say (its period's table silenced, a month by total, or a period of fewer
    than k contributors); ``""`` when its notes give none of these reasons."""
    few = FEW_NOTE.format(k=digest.k)
    for note in (SILENT_NOTE, MONTHLY_NOTE, few):
        if note in digest.notes.text:
            return note
    return ""


#: what a digest says of its empty checklist when its four quarters have few contributors
FEW_CHECKLIST_NOTE = (
    "Fewer than {k} distinct contributors reported in the checklist's four quarters: no "
    "indicator is listed, since a listed one, even with its count hidden, would tell "
    "what their cases report."
)


#: what a digest says when its total, with at least k contributors, is hidden
PROTECTED_TOTAL_NOTE = (
    "The total number of cases is hidden although at least {k} States reported in this "
    "period: the region's documents add up (the months, quarters and cycles), and it was "
    "hidden to protect the figure of a period or value reported by fewer than {k} States, "
    "once every smaller figure that could protect it was hidden already."
)


def _note_text(  # noqa: PLR0913  one keyword per figure the notes state
    *,
    k: int,
    suppressed: int,
    secondary: int,
    suppressed_checklist: int,
    cycles: Sequence[str],
    window: Sequence[Quarter],
    dead: Mapping[str, int],
    lessons: str,
) -> list[str]:
    lines = [
        (
            f"Cells with fewer than {k} distinct contributors are suppressed (primary "
            "suppression): their count, contributors, share, previous count, change and trend "
            "are not published."
        ),
        (
            "Further cells are suppressed (secondary suppression) so that no suppressed count "
            "can be computed exactly from the published ones of all this region's digests "
            "together: within a period, the values of kind, confidence, transfer_stage, "
            "end_user_type and detection_source each sum to the total; a quarter is the sum of "
            "its three months, a CSP cycle of its twelve, and the checklist of its four "
            "quarters; every listed cell counts at least one case, and a cell hidden to protect "
            "another at least k (it was reported by k States or more). The pattern is the same in "
            "every digest of the region, its charts and its previous-period counts; a share or "
            "prevalence is shown only where the count it divides by is published."
        ),
        (
            f"{suppressed} cells of this digest are suppressed ({suppressed - secondary} "
            f"primary, {secondary} secondary), and {suppressed_checklist} checklist entries."
        ),
        *(
            [
                (
                    f"{suppressed_checklist} checklist entries are hidden: they are listed after "
                    "the ranked ones, unranked, and a hidden entry may be more prevalent than "
                    "any ranked one."
                )
            ]
            if suppressed_checklist
            else []
        ),
        (
            "Trend flags: conditional test of equal Poisson rates, z = (c - p) / sqrt(c + p) "
            f"with c the count now and p the previous period's count; rising if z >= "
            f"{TREND_TEST.z}, falling if z <= -{TREND_TEST.z} (two-sided, alpha = "
            f"{TREND_TEST.alpha}); new if p = 0 and c >= {TREND_TEST.min_count}; stable when "
            f"c + p < {TREND_TEST.min_count}. No flag is given when the previous count is "
            "itself suppressed (for the checklist: when the four quarters before would be)."
        ),
    ]
    if len(cycles) > 1:
        lines.append(
            f"This period spans the CSP cycles {', '.join(cycles)}, whose contributor "
            "pseudonyms cannot be linked: every contributor count is the largest count "
            "within one cycle, a lower bound of the true number, so suppression errs on "
            "the safe side."
        )
    if window:
        lines.append(
            f"The checklist counts cases over the quarters {window[0]} to {window[-1]} and "
            "flags trends against the four quarters before; its contributor counts are "
            "lower bounds in the same way."
        )
    total_dead = sum(dead.values())
    if total_dead:
        reasons = ", ".join(f"{reason}: {n}" for reason, n in sorted(dead.items()))
        lines.append(
            f"{total_dead} records of this region were dead-lettered so far (all periods; "
            f"{reasons})."
        )
    else:
        lines.append("No record of this region was dead-lettered.")
    lines.extend(("Late revisions are not tracked per period yet.", lessons))
    return lines


def _lessons_note(*, omitted: bool, withheld: bool) -> str:
    if omitted:
        return (
            "Lessons are not included: this digest was rendered without the region's "
            "private key, which the sealed cases' texts need."
        )
    if withheld:
        return (
            "No lessons are shown because this period's cases come from fewer than k contributors."
        )
    return (
        "Lessons are the screened summaries of cases marked TLP:AMBER or lower (never "
        "TLP:AMBER+STRICT or TLP:RED), grouped by the transfer stage of their case; "
        "identical texts appear once, nothing identifies the case or its contributor, and "
        "a lesson whose stage cell is suppressed appears under other stages. The number of "
        "lessons is not a number of cases."
    )


def _notes(  # noqa: PLR0913  one keyword per figure the notes state
    tables: _Tables,
    pattern: DigestPattern,
    dead: Mapping[str, int],
    checklist: Sequence[ChecklistEntry],
    *,
    k: int,
    suppressed: int,
    omitted: bool,
    alone: bool,
    share: float = 1.0,
    monthly: bool = False,
) -> DigestNotes:
    """The digest's notes: how many cells are suppressed and why (secondary: the pattern's
    cells of this period, totals aside), dead letters, the trend test, the CSP cycles the
    period spans (contributors are then lower bounds) and the explanatory text; *omitted*:
    rendered without lessons, *alone*: the period's totals have fewer than k contributors."""
    period = tables.periods[0]
    few = few_contributors(tables.now, k)
    few_window = few_contributors(tables.window_cells, k)
    window = () if few_window else tables.window
    secondary = len(
        {
            key
            for key in pattern.secondary(period)
            if key[1:] != TOTAL
            and not few
            and pattern.listed_cell(period, key[1:])
            and (not monthly or key[1] in MONTH_DIMENSIONS)
        }
    )
    total = tables.now.get(TOTAL)
    protected = (
        total is not None
        and total.contributors >= k
        and (period, *TOTAL) in pattern.secondary(period)
    )
    cycles = sorted({c for tally in tables.now.values() for c in tally.cycles})
    suppressed_checklist = sum(e.suppressed for e in checklist)
    silent = pattern.silenced(period)
    return DigestNotes(
        late_revisions=None,
        dead_lettered=sum(dead.values()),
        suppressed_cells=suppressed,
        primary_suppressed=suppressed - secondary,
        secondary_suppressed=secondary,
        totals_secondary=(period, *TOTAL) in pattern.secondary(period),
        dead_letters=dict(sorted(dead.items())),
        k=k,
        trend_test=TREND_TEST,
        cycles=cycles,
        contributors_lower_bound=len(cycles) > 1,
        checklist_window=[str(q) for q in window],
        text=[
            *_note_text(
                k=k,
                suppressed=suppressed,
                secondary=secondary,
                suppressed_checklist=suppressed_checklist,
                cycles=cycles,
                window=window,
                dead=dead,
                lessons=_lessons_note(omitted=omitted, withheld=alone),
            ),
            (
                f"{share:.0%} of this digest's (case, value) facts are in published cells "
                "(the utility figure, notes.published_share)."
            ),
            *([FEW_NOTE.format(k=k)] if few else []),
            *([FEW_CHECKLIST_NOTE.format(k=k)] if few_window else []),
            *([MONTHLY_NOTE] if monthly and not few else []),
            *([PROTECTED_TOTAL_NOTE.format(k=k)] if protected else []),
            *([SILENT_NOTE] if silent else []),
        ],
        suppressed_checklist_entries=suppressed_checklist,
        lessons_omitted=omitted,
        published_share=share,
        **({SILENT_KEY: [period]} if silent else {}),
    )
