"""The words that say a place or a country comes (before or after a name or a code), the
ISO codes that are also words, and the Chinese words a name must not straddle
(:mod:`dief.screening._places`)."""

from __future__ import annotations

__all__ = [
    "ALPHA2_NEVER",
    "ALPHA3_FUNCTION_WORDS",
    "ALPHA3_NEVER",
    "ALPHA3_WORDS",
    "CODE_CUES_AFTER",
    "CODE_CUES_BEFORE",
    "CONTEXT_RADIUS",
    "MAX_GAP",
    "PLACE_CUES_AFTER",
    "PLACE_CUES_BEFORE",
    "PLACE_NOUNS",
    "PLACE_OF",
    "ZH_LEFT",
    "ZH_RIGHT",
    "in_capitals",
]


#: Most characters allowed between two words of one name ("Guinea - Bissau", "St. Lucia").
MAX_GAP = 3
#: Characters each side of a code looked at to decide whether the passage is in capitals.
CONTEXT_RADIUS = 48

# fmt: off
# ISO alpha-3 codes that are established non-country acronyms in trade and arms-control
# text; flagged only with a cue on both sides (the names are always flagged).
ALPHA3_NEVER: frozenset[str] = frozenset({
    "ATA",  # ATA carnet (temporary admission), not Antarctica
    "ASM", "ATG",  # air-to-surface missile, air-to-ground
    "SGS",  # pre-shipment inspection company
    "VAT", "COD", "COM", "DMA", "IOT", "MAC", "NIC",  # tax, cash on delivery, IT terms
    "NAM",  # Non-Aligned Movement
    "POL",  # petroleum, oils and lubricants
})
# Alpha-3 codes that are English words: flagged in mixed-case text only with a cue.
ALPHA3_FUNCTION_WORDS: frozenset[str] = frozenset({"AND", "ARE", "CAN", "PER", "FIN", "NOR"})
# Alpha-3 codes that are English words: in an all-capitals passage only with two cues.
ALPHA3_WORDS: frozenset[str] = frozenset({
    "ARM", "BEN", "BRA", "COG", "COL", "CUB", "DOM", "ESP", "EST", "GAB", "GEO", "GIN",
    "GUM", "GUY", "HUN", "JAM", "KEN", "LIE", "MAR", "PAN", "SUR", "TON", "TUN",
})
# Alpha-2 codes never flagged as bare codes: English words, units and abbreviations that
# are far more common in this text than the country code (the names still are flagged).
ALPHA2_NEVER: frozenset[str] = frozenset({
    "AD", "AI", "AM", "AS", "AT", "BE", "BY", "DO", "IN", "IS", "IT", "ME", "MY", "NO",
    "SO", "TO",
    "AU", "CC", "CD", "CO", "CV", "EC", "HR", "ID", "IR", "MD", "MG", "MP", "MS", "NA",
    "NE", "SE", "PA", "PH", "PK", "PM", "PR", "PS", "SN", "ST", "TM", "TV", "BL", "LC",
    "PL",
})

#: A word before a code or a gated place name that says "a place / a country comes".
CODE_CUES_BEFORE: frozenset[str] = frozenset({
    "to", "from", "via", "through", "thru", "into", "towards", "toward", "transit",
    "destination", "origin", "flag", "flagged", "ex", "code", "iso", "country",
    "a", "vers", "depuis", "par", "pour", "hacia", "desde", "para", "por", "origen",
    "destino", "origine", "pays", "pais", "transito", "назначением", "происхождения",
    "страны",
    "в", "во", "из", "через", "до", "إلى", "الي", "من", "عبر", "nach", "aus", "uber",
})
#: A word after a code that says it names a country.
CODE_CUES_AFTER: frozenset[str] = frozenset({
    "customs", "authorities", "authority", "border", "borders", "port", "ports", "flag",
    "flagged", "registry", "registered", "government", "ministry", "embassy",
    "consulate", "police", "army", "military", "navy", "national", "nationals",
    "origin", "destination", "territory", "airspace", "waters", "officials",
    "douane", "douanes", "autorites", "aduana", "aduanas", "autoridades",
    "таможня", "таможни", "таможней", "власти", "zoll", "behorden",
})
PLACE_CUES_BEFORE: frozenset[str] = frozenset({
    "in", "at", "near", "to", "from", "via", "through", "into", "towards", "toward",
    "outside", "around", "across", "transit", "transited", "transshipped",
    "transhipped", "reached", "left", "port", "harbour", "harbor", "airport", "city",
    "of", "de", "du", "des", "d", "del",
    "en", "a", "au", "aux", "dans", "vers", "pres", "depuis", "par", "desde", "hacia",
    "por", "cerca", "puerto", "aeropuerto", "ciudad", "aeroport", "ville",
    "в", "во", "из", "через", "до", "под", "около", "возле", "порт", "порту", "порта",
    "город", "города", "городе", "аэропорт", "аэропорту",
    "في", "الي", "من", "عبر", "نحو", "قرب", "ميناء", "مطار", "مدينه", "عاصمه",
    "nach", "aus", "uber", "bei", "von", "hafen",
})
PLACE_OF: frozenset[str] = frozenset({"of", "de", "du", "del", "des"})
PLACE_NOUNS: frozenset[str] = frozenset({
    "port", "city", "harbour", "harbor", "town", "outskirts", "province", "capital",
    "airport", "suburbs", "region", "puerto", "ciudad", "ville", "aeroport", "aeropuerto",
})
PLACE_CUES_AFTER: frozenset[str] = frozenset({
    "port", "harbour", "harbor", "airport", "airfield", "free", "freezone", "zone",
    "docks", "terminal", "anchorage", "based", "city", "customs",
})

# Chinese: a match is skipped when it straddles two ordinary words — the ideograph before
# it and its first ideograph form one of LEFT, and its last ideograph and the one after
# form one of RIGHT ("非法国际": 非法 + 国际, not 法国; "其中国家": 其中 + 国家).
ZH_LEFT: frozenset[str] = frozenset({
    "非法", "合法", "违法", "执法", "方法", "办法", "立法", "司法", "守法", "依法", "犯法",
    "其中", "集中", "之中", "当中", "空中", "途中", "手中", "心中", "暗中", "期中", "从中",
    "完美", "道德", "品德", "精英", "日本", "每日", "今日", "次日", "当日", "平日", "节日",
    "英美", "欧美", "南美", "北美", "美洲", "亚洲", "非洲", "大英", "印度", "巴西", "西班",
    "以及", "可以", "所以", "用以", "予以", "加以", "难以", "足以", "得以", "借以",
})
ZH_RIGHT: frozenset[str] = frozenset({
    "国际", "国家", "国内", "国外", "国有", "国防", "国土", "国民", "国企", "国产", "国营",
    "方面", "方法", "方式", "方案", "方向", "方针", "方可", "方能", "方便", "方才", "方位",
    "军事", "军火", "军队", "军用", "军方", "制度", "制定", "制造", "制作", "制品", "制成",
    "籍贯", "本地", "本身", "本土", "本国",
})
# fmt: on


def in_capitals(text: str, start: int, end: int) -> bool:
    """True when the letters around ``text[start:end]`` are mostly capitals."""
    around = text[max(0, start - CONTEXT_RADIUS) : start] + text[end : end + CONTEXT_RADIUS]
    upper = sum(map(str.isupper, around))
    lower = sum(map(str.islower, around))
    return upper > lower
