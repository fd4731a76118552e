"""Controlled vocabularies of the case (DESIGN §5 ⚑) and the ATT regional groups (§2 ⚑).

Every enum is a ``StrEnum`` whose values are the wire strings; nothing here does I/O.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = [
    "DIMENSIONS",
    "ITEM_SUBCATEGORY_CATEGORIES",
    "REGION_NAMES",
    "SINGLE_VALUED_DIMENSIONS",
    "ActionTaken",
    "ActorRole",
    "CaseKind",
    "CaseStatus",
    "Confidence",
    "DetectionSource",
    "Dimension",
    "EndUserType",
    "ItemCategory",
    "ItemSubcategory",
    "MaritimeFeature",
    "Method",
    "QuantityBand",
    "ReassessmentOutcome",
    "Region",
    "Registration",
    "Tlp",
    "TransferStage",
    "TransferType",
    "TransportMode",
    "VerificationCheck",
    "VerificationOutcome",
]


class Region(StrEnum):
    """ATT regional groups. Topic names use the lower-case code (``dief.afr.cases``)."""

    AFR = "AFR"
    APG = "APG"
    EEG = "EEG"
    GRULAC = "GRULAC"
    WEOG = "WEOG"

    @property
    def title(self) -> str:  # type: ignore[override]  # str.title is shadowed on purpose
        """The group's full name (:data:`REGION_NAMES`)."""
        return REGION_NAMES[self]

    @property
    def topic_code(self) -> str:
        """The lower-case code used in topic names (``afr``)."""
        return self.value.lower()


REGION_NAMES: dict[Region, str] = {
    Region.AFR: "African Group",
    Region.APG: "Asia-Pacific Group",
    Region.EEG: "Eastern European Group",
    Region.GRULAC: "Latin American and Caribbean Group",
    Region.WEOG: "Western European and Others Group",
}


class CaseStatus(StrEnum):  # noqa: D101  a docstring would enter the published JSON Schemas (schemas/)
    ACTIVE = "active"
    WITHDRAWN = "withdrawn"


class CaseKind(StrEnum):  # noqa: D101  a docstring would enter the published JSON Schemas (schemas/)
    CASE = "case"
    ALERT = "alert"


class Confidence(StrEnum):  # noqa: D101  a docstring would enter the published JSON Schemas (schemas/)
    SUSPECTED = "suspected"
    CONFIRMED = "confirmed"


class ItemCategory(StrEnum):
    """ATT Art. 2(1) categories, plus ammunition (Art. 3) and parts and components (Art. 4)."""

    BATTLE_TANKS = "battle_tanks"
    ARMOURED_COMBAT_VEHICLES = "armoured_combat_vehicles"
    LARGE_CALIBRE_ARTILLERY = "large_calibre_artillery"
    COMBAT_AIRCRAFT = "combat_aircraft"
    ATTACK_HELICOPTERS = "attack_helicopters"
    WARSHIPS = "warships"
    MISSILES_AND_LAUNCHERS = "missiles_and_launchers"
    SMALL_ARMS = "small_arms"
    LIGHT_WEAPONS = "light_weapons"
    AMMUNITION = "ammunition"
    PARTS_AND_COMPONENTS = "parts_and_components"


class ItemSubcategory(StrEnum):
    """Subcategories the ATT Working Group on Effective Treaty Implementation asks about
    (converted non-lethal firearms, uncrewed systems); each fits only some categories
    (:data:`ITEM_SUBCATEGORY_CATEGORIES`)."""

    CONVERTED_NON_LETHAL_FIREARM = "converted_non_lethal_firearm"
    """A blank-firing, alarm, gas, signal or air weapon converted to fire live rounds."""
    REACTIVATED_FIREARM = "reactivated_firearm"
    """A deactivated firearm made to fire again."""
    UNCREWED_SYSTEM = "uncrewed_system"
    """An uncrewed (remotely piloted or autonomous) aircraft, vessel or vehicle."""


ITEM_SUBCATEGORY_CATEGORIES: dict[ItemSubcategory, frozenset[ItemCategory]] = {
    ItemSubcategory.CONVERTED_NON_LETHAL_FIREARM: frozenset({ItemCategory.SMALL_ARMS}),
    ItemSubcategory.REACTIVATED_FIREARM: frozenset(
        {ItemCategory.SMALL_ARMS, ItemCategory.LIGHT_WEAPONS}
    ),
    ItemSubcategory.UNCREWED_SYSTEM: frozenset(
        {
            ItemCategory.COMBAT_AIRCRAFT,
            ItemCategory.ATTACK_HELICOPTERS,
            ItemCategory.WARSHIPS,
            ItemCategory.ARMOURED_COMBAT_VEHICLES,
        }
    ),
}
"""The item categories each subcategory may qualify."""


class QuantityBand(StrEnum):  # noqa: D101  a docstring would enter the published JSON Schemas (schemas/)
    B1_10 = "1-10"
    B11_100 = "11-100"
    B101_1000 = "101-1000"
    B1001_10000 = "1001-10000"
    OVER_10000 = ">10000"
    UNKNOWN = "unknown"

    @classmethod
    def of(cls, quantity: int | None) -> QuantityBand:
        """The band of an exact quantity (``None`` = unknown). Quantities are ≥ 1."""
        if quantity is None:
            return cls.UNKNOWN
        if quantity < 1:
            raise ValueError("a quantity is at least 1")
        if quantity <= 10:  # noqa: PLR2004  the band limits, as the band names read
            return cls.B1_10
        if quantity <= 100:  # noqa: PLR2004  the band limits, as the band names read
            return cls.B11_100
        if quantity <= 1000:  # noqa: PLR2004  the band limits, as the band names read
            return cls.B101_1000
        if quantity <= 10000:  # noqa: PLR2004  the band limits, as the band names read
            return cls.B1001_10000
        return cls.OVER_10000


class TransferStage(StrEnum):  # noqa: D101  a docstring would enter the published JSON Schemas (schemas/)
    PRE_TRANSFER = "pre_transfer"
    IN_TRANSIT = "in_transit"
    AT_IMPORT = "at_import"
    POST_DELIVERY = "post_delivery"
    STOCKPILE = "stockpile"


class TransferType(StrEnum):
    """What kind of transfer the diverted items were in (``unknown`` when not stated)."""

    EXPORT = "export"
    IMPORT = "import"
    TRANSIT = "transit"
    TRANS_SHIPMENT = "trans_shipment"
    BROKERING = "brokering"
    INTERNAL = "internal"
    """No international transfer: diversion from a national stockpile or holding."""
    UNKNOWN = "unknown"


class MaritimeFeature(StrEnum):
    """What happened on a sea leg. Never a vessel name, IMO number or port (DESIGN §5)."""

    TRANSSHIPMENT_AT_SEA = "transshipment_at_sea"
    TRANSSHIPMENT_IN_PORT = "transshipment_in_port"
    FLAG_CHANGE = "flag_change"
    FLAG_OF_CONVENIENCE = "flag_of_convenience"
    AIS_GAP = "ais_gap"
    """The vessel's transponder (AIS) went dark or reported implausibly."""
    FLOATING_ARMOURY = "floating_armoury"
    FREE_ZONE_PASSAGE = "free_zone_passage"


class ActorRole(StrEnum):
    """Roles of the actors involved besides exporter and end user."""

    BROKER = "broker"
    FREIGHT_FORWARDER = "freight_forwarder"
    SHIPPING_AGENT = "shipping_agent"
    CARRIER = "carrier"
    FINANCIER = "financier"
    INSURER = "insurer"
    FRONT_OR_SHELL_COMPANY = "front_or_shell_company"
    STATE_OFFICIAL = "state_official"


class Registration(StrEnum):
    """Whether an actor was registered or licensed for its role, where known."""

    YES = "yes"
    NO = "no"
    UNKNOWN = "unknown"


class VerificationCheck(StrEnum):
    """The end-use or post-shipment check carried out."""

    NONE = "none"
    DOCUMENTARY = "documentary"
    ON_SITE = "on_site"


class VerificationOutcome(StrEnum):
    """What an end-use or post-shipment check found."""

    CONSISTENT = "consistent"
    INCONSISTENT = "inconsistent"
    REFUSED_BY_END_USER = "refused_by_end_user"
    ITEMS_MISSING = "items_missing"


class ReassessmentOutcome(StrEnum):
    """The result of reassessing a granted authorization under ATT Article 7(7)."""

    MAINTAINED = "maintained"
    SUSPENDED = "suspended"
    REVOKED = "revoked"
    CONDITIONS_ADDED = "conditions_added"


class Method(StrEnum):  # noqa: D101  a docstring would enter the published JSON Schemas (schemas/)
    FALSIFIED_DOCUMENTS = "falsified_documents"
    MISDECLARATION_CONCEALMENT = "misdeclaration_concealment"
    ILLICIT_BROKERING = "illicit_brokering"
    SHELL_COMPANY = "shell_company"
    UNAUTHORIZED_RETRANSFER = "unauthorized_retransfer"
    COMPLEX_ROUTING = "complex_routing"
    THEFT_OR_LOSS = "theft_or_loss"
    CORRUPTION = "corruption"
    INSIDER_DIVERSION = "insider_diversion"
    ANT_TRADE = "ant_trade"
    CONVERSION_OR_REACTIVATION = "conversion_or_reactivation"
    OTHER = "other"


class TransportMode(StrEnum):  # noqa: D101  a docstring would enter the published JSON Schemas (schemas/)
    AIR = "air"
    SEA = "sea"
    LAND = "land"
    POSTAL_COURIER = "postal_courier"
    UNKNOWN = "unknown"


class EndUserType(StrEnum):  # noqa: D101  a docstring would enter the published JSON Schemas (schemas/)
    UNAUTHORIZED_STATE_ACTOR = "unauthorized_state_actor"
    NON_STATE_ARMED_GROUP = "non_state_armed_group"
    CRIMINAL_ORGANIZATION = "criminal_organization"
    TERRORIST_GROUP = "terrorist_group"
    PRIVATE_SECURITY_COMPANY = "private_security_company"
    CIVILIAN_MARKET = "civilian_market"
    UNKNOWN = "unknown"


class DetectionSource(StrEnum):  # noqa: D101  a docstring would enter the published JSON Schemas (schemas/)
    LICENSING_REVIEW = "licensing_review"
    CUSTOMS_BORDER_CONTROL = "customs_border_control"
    POST_SHIPMENT_VERIFICATION = "post_shipment_verification"
    LAW_ENFORCEMENT_INVESTIGATION = "law_enforcement_investigation"
    INTELLIGENCE = "intelligence"
    PARTNER_NOTIFICATION = "partner_notification"
    OPEN_SOURCE = "open_source"
    OTHER = "other"


class ActionTaken(StrEnum):  # noqa: D101  a docstring would enter the published JSON Schemas (schemas/)
    INVESTIGATION_OPENED = "investigation_opened"
    AUTHORIZATION_SUSPENDED = "authorization_suspended"
    AUTHORIZATION_REVOKED = "authorization_revoked"
    APPLICATION_DENIED = "application_denied"
    SEIZURE = "seizure"
    PROSECUTION = "prosecution"
    PARTNER_STATES_NOTIFIED = "partner_states_notified"
    END_USER_REASSESSED = "end_user_reassessed"
    NONE = "none"


class Tlp(StrEnum):
    """Traffic Light Protocol 2.0. ``red`` counts in its region's digest only."""

    RED = "red"
    AMBER_STRICT = "amber_strict"
    AMBER = "amber"
    GREEN = "green"
    CLEAR = "clear"

    @property
    def meeting_may_read(self) -> bool:
        """Whether a regional meeting may see the free text (amber or lower)."""
        return self not in {Tlp.RED, Tlp.AMBER_STRICT}


class Dimension(StrEnum):
    """Aggregation dimensions (DESIGN §7 ⚑)."""

    KIND = "kind"
    CONFIDENCE = "confidence"
    ITEM_CATEGORY = "item_category"
    TRANSFER_STAGE = "transfer_stage"
    METHOD = "method"
    TRANSPORT_MODE = "transport_mode"
    END_USER_TYPE = "end_user_type"
    RISK_INDICATOR = "risk_indicator"
    DETECTION_SOURCE = "detection_source"
    ACTION_TAKEN = "action_taken"
    # case record schema 3 (the Working Group's agenda: docs/case-model.md)
    TRANSFER_TYPE = "transfer_type"
    MARITIME = "maritime"
    ACTOR_ROLE = "actor_role"
    UNREGISTERED_ACTOR = "unregistered_actor"
    """Actor roles reported as not registered or licensed for their role."""
    VERIFICATION = "verification"
    VERIFICATION_OUTCOME = "verification_outcome"
    REASSESSMENT = "reassessment"
    """Article 7(7) reassessments: their outcome, ``not_reassessed`` or ``pending``."""
    ITEM_SUBCATEGORY = "item_subcategory"


DIMENSIONS: tuple[Dimension, ...] = tuple(Dimension)

SINGLE_VALUED_DIMENSIONS: tuple[Dimension, ...] = (
    Dimension.KIND,
    Dimension.CONFIDENCE,
    Dimension.TRANSFER_STAGE,
    Dimension.END_USER_TYPE,
    Dimension.DETECTION_SOURCE,
    Dimension.TRANSFER_TYPE,
)
"""Dimensions with exactly one value per counted case: their values sum to the total (the
disclosure control's additive groups). Every other dimension may have none or several."""
