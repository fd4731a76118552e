"""Non-attribution screening of free text (DESIGN §5 "Non-attribution" ⚑).

The national node runs every free-text field (the case ``summary``, and any other) through
the screener before sealing. Text is refused, with an error that points at each offending
span by field, character offsets and kind but never quotes it, when it contains:

========================  ==============================================================
kind                      what
========================  ==============================================================
``place``                 a country or territory name, short form, alias, endonym or
                          former name (pycountry current and historic names, plus
                          ``data/aliases.tsv``); an ISO 3166 alpha-3 code as an upper-case
                          token ("FRA"); an alpha-2 code only where it is clearly a code
``demonym``               a demonym or adjectival form (``data/demonyms.tsv``, every ISO
                          entry), with derived plurals
``email``                 an e-mail address, also "name [at] host [dot] org"
``phone``                 a phone number: "+…" international, "00…", "(0xx) …", digit
                          groups with separators (9 to 15 digits), long digit runs, and
                          numbers after "tel", "fax", "mobile", "WhatsApp" …
``url``                   a URL (scheme:// or www.), a bare domain with a known TLD, an
                          IPv4 address
``reference_number``      a licence, contract, permit, end-user-certificate, invoice,
                          waybill, container … number after such a word ("licence no.
                          4521/2023", "EUC 123/45", "contract #AB12345") or a stand-alone
                          reference-shaped code ("EL-2024-00123", "AB12345")
========================  ==============================================================

::

    from dief.screening import check_text, screen_text

    screen_text("summary", text)            # -> list[Finding] (empty: may be sealed)
    check_text({"summary": text})           # raises ScreeningError(spans=...) or None

Decisions (a leak is the worst outcome, so ambiguity is resolved towards refusing):

* Names match case-insensitively, ignoring diacritics (NFKD), apostrophe style and
  hyphenation: "Côte d'Ivoire" (with any apostrophe), "cote divoire", "Guinea Bissau" all match.
* Country names that are also everyday words are refused anyway: "Chad", "Jordan",
  "Turkey", "Guinea" ("guinea fowl"), "China" ("china clay"), "Jersey", "Georgia", "Niger".
  Only four demonyms that are common lower-case words need a capital letter: "Polish",
  "Pole", "Dane", "Swede".
* Region-level words that name no single State pass: "Sahel", "Balkans", "Caribbean",
  "West Africa", "Great Lakes" (no country word in them), and the phrases in
  ``data/allowed_regions.txt`` that contain one ("Gulf of Guinea", "Indian Ocean", "Lake
  Chad Basin", "Latin America", "Korean Peninsula"). A longer country name wins over an
  allowed phrase inside it ("British Indian Ocean Territory", "Papua New Guinea").
* Not flagged on purpose: "English" (the forum's working language), "Central African"
  (the sub-region; "Central African Republic" and "CAR" are flagged), the multi-State
  predecessors "Soviet"/"USSR", "Yugoslav(ia)", "Czechoslovak(ia)" (common descriptors of
  materiel generation that name no present-day State), and ethnic or language groups
  spanning several States ("Arab", "Kurdish", "Tamil").
* Codes: alpha-3 codes are flagged as whole upper-case tokens, except a short list that are
  English words or common trade/arms acronyms (AND, CAN, ATA carnet, SGS, VAT, NAM, POL,
  ASM …) and, inside an all-capitals passage, codes that are words (GUY, PAN, TON …).
  Alpha-2 codes are flagged only as a stand-alone upper-case token in lower-case
  surroundings, not after a number (units: "16 GB"), not before "-<digit>"
  (designations: "SA-7"), and never the ones that are English words or common
  abbreviations (IN, IT, NO, AT, AU, ID, MG, PK …). "US" and "CAR" are flagged unless the
  passage is in capitals. Historic alpha-3 codes are not used (DDR would hit
  disarmament, demobilisation and reintegration).
* Years, dates, quantities, quantity bands, calibres and weapon designations are not phone
  or reference numbers: "2026", "500", "1,000,000", "12 500 000", "2026-03-15",
  "2023-2024", "1001-10000", "7.62x39mm", "AK-47", "An-124-100", "mid-2024".
* Out of scope: cities, ports, provinces, agency and company names, personal names.
  A node that wants its own list refused passes ``Screener(extra_places=[...])``.
"""

from __future__ import annotations

from collections.abc import Mapping

from dief.screening._findings import KIND_DESCRIPTIONS, Finding, FindingKind, describe_findings
from dief.screening._screener import (
    Screener,
    TextScreener,
    default_screener,
    raise_for_findings,
)

__all__ = [
    "KIND_DESCRIPTIONS",
    "Finding",
    "FindingKind",
    "Screener",
    "TextScreener",
    "check_text",
    "default_screener",
    "describe_findings",
    "raise_for_findings",
    "screen_text",
]


def screen_text(field: str, text: str) -> list[Finding]:
    """Every refused span of ``text`` (reported under ``field``), in order of position."""
    return default_screener().screen(field, text)


def check_text(fields: Mapping[str, str | None]) -> None:
    """Raise :class:`~dief.exceptions.ScreeningError` if any of ``fields`` has a finding.

    ``fields`` maps a field name (``"summary"``) to its text; ``None`` and empty values are
    skipped. The error's message and ``spans`` point at every finding in every field.
    """
    default_screener().check(fields)
