"""Labels and help of the case form's fields and of every vocabulary value (English source
strings; translated through the portal's catalogues, :mod:`dief.portal`).

A field or value without an entry here still shows (its name with spaces, untranslated),
so a field the case model gains appears in the form at once; the catalogue-completeness
test names what still needs a label.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from babel.dates import format_skeleton

from dief import vocab
from dief.periods import PeriodKind, parse_period

__all__ = [
    "FIELD_HELP",
    "FIELD_LABELS",
    "N_",
    "PERIOD_KINDS",
    "VALUE_HELP",
    "VALUE_LABELS",
    "all_label_messages",
    "field_label",
    "period_span",
    "value_label",
    "vocabularies",
]


def N_(message: str) -> str:  # noqa: N802 - the gettext convention for "mark, translate later"
    """Mark *message* for the catalogues; it is translated where it is shown."""
    return message


FIELD_LABELS: dict[str, str] = {
    "kind": N_("Kind of report"),
    "confidence": N_("Confidence"),
    "region": N_("Region where it happened"),
    "related_regions": N_("Other regions on the route"),
    "detected": N_("Detected (month)"),
    "items": N_("Items"),
    "category": N_("Category"),
    "quantity": N_("Quantity"),
    "subcategory": N_("Subcategory"),
    "transfer_stage": N_("Transfer stage"),
    "transfer_type": N_("Transfer type"),
    "methods": N_("Methods"),
    "transport_modes": N_("Transport modes"),
    "maritime": N_("Maritime features"),
    "end_user_type": N_("Actual end user"),
    "actor_roles": N_("Other actors involved"),
    "role": N_("Role"),
    "registered": N_("Registered or licensed"),
    "registration": N_("Registered or licensed"),
    "risk_indicators": N_("Risk indicators"),
    "detection_source": N_("How it was detected"),
    "verification": N_("End-use or post-shipment verification"),
    "check": N_("Check carried out"),
    "outcome": N_("Outcome"),
    "reassessment": N_("Reassessment under Article 7(7)"),
    "reassessed": N_("Reassessed"),
    "actions_taken": N_("Actions taken"),
    "tlp": N_("Sharing (TLP)"),
    "summary": N_("Lessons learned"),
    "case_id": N_("Case"),
    "revision": N_("Revision"),
    "status": N_("Status"),
}

FIELD_HELP: dict[str, str] = {
    "kind": N_("An alert is a time-sensitive early warning."),
    "confidence": N_("Confirmed: established by an investigation or a seizure."),
    "region": N_("Where the diversion happened or was detected, not your State's region."),
    "related_regions": N_("Regions the route passed through: they are told, not counted."),
    "detected": N_("Year and month (YYYY-MM); a day is dropped before anything is sent."),
    "items": N_("One row per kind of item; quantities are shared as bands."),
    "quantity": N_("A whole number, a band such as 11-100, or unknown."),
    "subcategory": N_("Only where it applies to the category."),
    "transfer_stage": N_("The point in the transfer chain where the diversion happened."),
    "transfer_type": N_("What kind of transfer the diverted items were in."),
    "methods": N_("How the diversion was done; tick every one that applies."),
    "maritime": N_("What happened on a sea leg. Never a vessel name, number or port."),
    "end_user_type": N_("The actual, not the declared, end user."),
    "actor_roles": N_("Roles only, never names."),
    "risk_indicators": N_("Tick the checklist questions this case answers with yes."),
    "verification": N_("An end-use or post-shipment check, if one was made."),
    "reassessment": N_("Whether a granted authorization was reassessed (Article 7(7))."),
    "actions_taken": N_("Measures under Articles 7(7) and 11."),
    "tlp": N_("Red: counted in the region's digest only. Amber: the meeting reads the lesson."),
    "summary": N_(
        "Up to 2,000 characters. Never a country, city, port, person, company, number or "
        "contact: write 'a port in the region', 'a broker registered abroad'."
    ),
}

VALUE_LABELS: dict[str, str] = {
    # kind, confidence, status
    "case": N_("Case"),
    "alert": N_("Alert"),
    "suspected": N_("Suspected"),
    "confirmed": N_("Confirmed"),
    "active": N_("Active"),
    "withdrawn": N_("Withdrawn"),
    # regions
    "AFR": N_("African Group"),
    "APG": N_("Asia-Pacific Group"),
    "EEG": N_("Eastern European Group"),
    "GRULAC": N_("Latin American and Caribbean Group"),
    "WEOG": N_("Western European and Others Group"),
    # item categories
    "battle_tanks": N_("Battle tanks"),
    "armoured_combat_vehicles": N_("Armoured combat vehicles"),
    "large_calibre_artillery": N_("Large-calibre artillery systems"),
    "combat_aircraft": N_("Combat aircraft"),
    "attack_helicopters": N_("Attack helicopters"),
    "warships": N_("Warships"),
    "missiles_and_launchers": N_("Missiles and missile launchers"),
    "small_arms": N_("Small arms"),
    "light_weapons": N_("Light weapons"),
    "ammunition": N_("Ammunition/munitions"),
    "parts_and_components": N_("Parts and components"),
    # subcategories
    "converted_non_lethal_firearm": N_("Converted non-lethal firearm"),
    "reactivated_firearm": N_("Reactivated firearm"),
    "uncrewed_system": N_("Uncrewed system"),
    # quantity bands
    "1-10": N_("1 to 10"),
    "11-100": N_("11 to 100"),
    "101-1000": N_("101 to 1,000"),
    "1001-10000": N_("1,001 to 10,000"),
    ">10000": N_("More than 10,000"),
    "unknown": N_("Unknown"),
    # transfer stages
    "pre_transfer": N_("Before the transfer"),
    "in_transit": N_("In transit"),
    "at_import": N_("At import"),
    "post_delivery": N_("After delivery"),
    "stockpile": N_("From a stockpile"),
    # transfer types
    "export": N_("Export"),
    "import": N_("Import"),
    "transit": N_("Transit"),
    "trans_shipment": N_("Trans-shipment"),
    "brokering": N_("Brokering"),
    "internal": N_("No international transfer"),
    # maritime
    "transshipment_at_sea": N_("Transshipment at sea"),
    "transshipment_in_port": N_("Transshipment in port"),
    "flag_change": N_("Change of flag"),
    "flag_of_convenience": N_("Flag of convenience"),
    "ais_gap": N_("Transponder (AIS) gap"),
    "floating_armoury": N_("Floating armoury"),
    "free_zone_passage": N_("Passage through a free zone"),
    # actor roles, registration
    "broker": N_("Broker"),
    "freight_forwarder": N_("Freight forwarder"),
    "shipping_agent": N_("Shipping agent"),
    "carrier": N_("Carrier"),
    "financier": N_("Financier"),
    "insurer": N_("Insurer"),
    "front_or_shell_company": N_("Front or shell company"),
    "state_official": N_("State official"),
    "yes": N_("Yes"),
    "no": N_("No"),
    "true": N_("Yes"),
    "false": N_("No"),
    # verification
    "none": N_("None"),
    "documentary": N_("Documentary"),
    "on_site": N_("On site"),
    "consistent": N_("Consistent"),
    "inconsistent": N_("Inconsistent"),
    "refused_by_end_user": N_("Refused by the end user"),
    "items_missing": N_("Items missing"),
    # reassessment
    "maintained": N_("Maintained"),
    "suspended": N_("Suspended"),
    "revoked": N_("Revoked"),
    "conditions_added": N_("Conditions added"),
    "not_reassessed": N_("Not reassessed"),
    "pending": N_("Pending"),
    # methods
    "falsified_documents": N_("Falsified documents"),
    "misdeclaration_concealment": N_("Misdeclaration or concealment"),
    "illicit_brokering": N_("Illicit brokering"),
    "shell_company": N_("Shell company"),
    "unauthorized_retransfer": N_("Unauthorized re-transfer"),
    "complex_routing": N_("Complex routing"),
    "theft_or_loss": N_("Theft or loss"),
    "corruption": N_("Corruption"),
    "insider_diversion": N_("Insider diversion"),
    "ant_trade": N_("Ant trade"),
    "conversion_or_reactivation": N_("Conversion or reactivation"),
    "other": N_("Other"),
    # transport modes
    "air": N_("Air"),
    "sea": N_("Sea"),
    "land": N_("Land"),
    "postal_courier": N_("Postal or courier"),
    # end users
    "unauthorized_state_actor": N_("Unauthorized State actor"),
    "non_state_armed_group": N_("Non-State armed group"),
    "criminal_organization": N_("Criminal organization"),
    "terrorist_group": N_("Terrorist group"),
    "private_security_company": N_("Private security company"),
    "civilian_market": N_("Civilian market"),
    # detection sources
    "licensing_review": N_("Licensing review"),
    "customs_border_control": N_("Customs or border control"),
    "post_shipment_verification": N_("Post-shipment verification"),
    "law_enforcement_investigation": N_("Law-enforcement investigation"),
    "intelligence": N_("Intelligence"),
    "partner_notification": N_("Notification by a partner"),
    "open_source": N_("Open source"),
    # actions
    "investigation_opened": N_("Investigation opened"),
    "authorization_suspended": N_("Authorization suspended"),
    "authorization_revoked": N_("Authorization revoked"),
    "application_denied": N_("Application denied"),
    "seizure": N_("Seizure"),
    "prosecution": N_("Prosecution"),
    "partner_states_notified": N_("Partner States notified"),
    "end_user_reassessed": N_("End user reassessed"),
    # TLP
    "red": N_("TLP:RED (the region's digest only)"),
    "amber_strict": N_("TLP:AMBER+STRICT"),
    "amber": N_("TLP:AMBER"),
    "green": N_("TLP:GREEN"),
    "clear": N_("TLP:CLEAR"),
}

VALUE_HELP: dict[str, str] = {
    "alert": N_("Time-sensitive: sent at once, and may become a bulletin."),
    "red": N_("Counted in its region's digest only, never in CSP summaries."),
    "amber_strict": N_("The lesson stays with the region's aggregator."),
    "amber": N_("The regional meeting may read the lesson."),
    "green": N_("The lesson may be shared with the community."),
    "clear": N_("The lesson may be shared without restriction."),
    "ant_trade": N_("Many small purchases or shipments adding up."),
    "internal": N_("Diversion from a national stockpile or holding."),
}


_EN_DASH = "\u2013"

#: The kinds of period a region's dashboard lists, in the order it lists them, with their
#: headings. A half-cycle (``CSP12-H1``) is what the meeting reads: "since the last meeting".
PERIOD_KINDS: dict[PeriodKind, str] = {
    "half": N_("Since the last meeting (half-cycles)"),
    "cycle": N_("CSP cycles"),
    "quarter": N_("Quarters"),
    "month": N_("Months"),
}


def period_span(period: str, language: str, *, start_month: int) -> str:
    """The months *period* covers in words, in *language* (``en``, ``fr``, ``es``): "September
    2025 to February 2026" written with an en dash ("septembre 2025 \u2013 février 2026");
    one month alone for a month."""
    parsed = parse_period(period, start_month=start_month)
    first, last = (
        format_skeleton("yMMMM", date(m.year, m.month, 1), locale=language)
        for m in (parsed.first, parsed.last)
    )
    return first if first == last else f"{first} {_EN_DASH} {last}"


def _spaced(name: str) -> str:
    return name.replace("_", " ").capitalize()


def field_label(name: str) -> str:
    """The English label of a field (translate it where shown)."""
    return FIELD_LABELS.get(name) or _spaced(name)


def value_label(value: str) -> str:
    """The English label of a vocabulary value (translate it where shown)."""
    return VALUE_LABELS.get(value) or _spaced(value)


def vocabularies() -> list[type[StrEnum]]:
    """Every vocabulary of :mod:`dief.vocab` (the completeness test covers each value)."""
    found = []
    for name in vocab.__all__:
        obj = getattr(vocab, name)
        if isinstance(obj, type) and issubclass(obj, StrEnum) and obj is not vocab.Dimension:
            found.append(obj)
    return found


def all_label_messages() -> list[str]:
    return [*FIELD_LABELS.values(), *FIELD_HELP.values(), *VALUE_LABELS.values(),
            *VALUE_HELP.values(), *PERIOD_KINDS.values()]  # fmt: skip
