# ruff: noqa: RUF001 (a multilingual lexicon: Cyrillic, Arabic and CJK text is intended)
"""E-mail addresses, URLs and domains, phone numbers and reference numbers in free text.

Every detector returns ``(start, end, kind)`` spans into the text as given. The regular
expressions are compiled at import (cheap, no I/O); the heuristics that keep years,
dates, quantities, calibres and weapon designations out are in small predicate functions
next to each pattern, so they can be read and tested one by one.
"""

from __future__ import annotations

import re
import string
from typing import TYPE_CHECKING

from dief.screening._findings import FindingKind
from dief.screening._regex import by_first_character, finditer_in_runs

if TYPE_CHECKING:
    from collections.abc import Iterator

__all__ = ["find_patterns"]

Span = tuple[int, int, FindingKind]

# --------------------------------------------------------------------------- e-mail

_EMAIL_RE = re.compile(
    r"[\w%+-]+(?:\.[\w%+-]+)*"
    r"(?:\s?@\s?[^\W_](?:[\w-]*[^\W_])?(?:\.[^\W_](?:[\w-]*[^\W_])?)+"  # user @ dom.tld
    r"|@[^\W_][\w-]*[^\W_])"  # user@host (no dot, no spaces)
)
_EMAIL_OBFUSCATED_RE = re.compile(
    r"[\w.%+-]+\s*[\[({<]\s*at\s*[\])}>]\s*[^\W_][\w-]*"
    r"(?:\s*(?:[\[({<]\s*dot\s*[\])}>]|\.)\s*[^\W_][\w-]*)+",
    re.IGNORECASE,
)

# Runs and starts for finditer_in_runs (dief.screening._regex): a match of _EMAIL_RE starts
# in a run of user-name characters, one of _DOMAIN_WORDS_RE in a run of label characters,
# one of _IDN_RE in a run of dotted labels, each where a shorter name can only fail too.
_EMAIL_USER_RUN_RE = re.compile(r"[\w%+-]+(?:\.[\w%+-]+)*")
_EMAIL_USER_START_RE = re.compile(r"[\w%+-]")
_LABEL_RUN_RE = re.compile(r"[\w-]+")
_DOTTED_RUN_RE = re.compile(r"[^\W_][\w-]*(?:\.[^\W_][\w-]*)*")
_LABEL_START_RE = re.compile(r"[^\W_](?<![^\W\u3400-\u9fff].)(?<![.].)")
# What every run that holds a match holds or is followed by (`near` of finditer_in_runs):
# an e-mail's name ends its run, before "@" or a space and "@"; the first label of a
# spoken domain is followed by a spoken dot, glued ("mod点gov") or after spaces or a bracket.
_EMAIL_AT_RE = re.compile(r"\s?@")
# _EMAIL_OBFUSCATED_RE: a run of name characters, spaces, then "(at)"; _EMAIL_WORDS_RE: a
# name that ends with an "at" word ("th" + "at") or is followed by one after spaces or
# a bracket (every start of such a run is tried: the name is at most 64 characters).
_OBFUSCATED_RUN_RE = re.compile(r"[\w.%+-]+")
_OBFUSCATED_START_RE = re.compile(r"[\w.%+-]")
_SPACES_RE = re.compile(r"\s*")
_USER_RUN_RE = re.compile(r"[\w.+-]+")
_USER_START_RE = re.compile(r"[^\W_\u3400-\u9fff](?<![^\W\u3400-\u9fff].)(?<![.@].)")

_AT_WORD_RE = re.compile(r"[\[({<]\s*at\s*[\])}>]", re.IGNORECASE)
_AT_WORDS = r"at|arobase|arroba|собака|собачка|ат"
_AT_WORD_END_RE = re.compile(r"(?i:" + _AT_WORDS + r")(?![\w.+-])")
_DOT_WORDS = r"dot|point|punto|точка|نقطة|点"
#: "j.doe at mod dot gov dot fr", "j.doe (at) mod.gov.fr", "desk arobase defense point fr".
_EMAIL_WORDS_RE = re.compile(
    r"(?<![^\W\u3400-\u9fff])(?<![.@])(?P<user>[^\W_\u3400-\u9fff][\w.+-]{0,63})\s*[\[({<]?\s*(?P<at>"
    + _AT_WORDS
    + r")\s*[\])}>]?\s+"
    r"(?P<host>[^\W_][\w-]*(?:(?:\s*[\[({<]?\s*(?:" + _DOT_WORDS + r")\s*[\])}>]?\s*"
    r"|\.(?=\w))[^\W_][\w-]*)+)",
    re.IGNORECASE,
)
#: An "at" word (_AT_WORDS), a word and a dot word or a dot. Written to start with the
#: first letter of the "at" word, in either case (the look-behind then looks one character
#: further back), so that the search skips to those letters: twice as fast.
_AT_WORD_ONLY_RE = re.compile(
    r"[aAсСаА](?<![^\W_].)(?i:(?:(?<=a)(?:t|robase|rroba)|(?<=с)(?:обака|обачка)|(?<=а)т)"
    r"\s*[\])}>]?\s+[^\W_][\w-]*\s*[\[({<]?\s*(?:" + _DOT_WORDS + r"|\.(?=\w)))"
)
#: "mod dot gov dot fr" (two or more spoken dots).
_DOMAIN_WORDS_RE = re.compile(
    r"(?<![^\W\u3400-\u9fff])(?<![.])[^\W_][\w-]*(?:\s*[\[({<]?\s*(?:"
    + _DOT_WORDS
    + r")\s*[\])}>]?\s*"
    r"[^\W_][\w-]*){2,}",
    re.IGNORECASE,
)
# (the first character read first, with the characters that match it case-insensitively:
# "ᲄ" and "ᲅ" are a "т"; a dot word is in a run, or after it and _SPOKEN_DOT_GAP_RE)
_SPOKEN_DOT_RE = re.compile(
    r"[dDpPтТᲄᲅن点](?i:(?<=d)ot|(?<=p)oint|(?<=p)unto|(?<=т)очка|(?<=ن)قطة|(?<=点))"
)
_SPOKEN_DOT_GAP_RE = re.compile(r"\s*[\[({<]?\s*")
_DOT_SPLIT_RE = re.compile(r"\s*[\[({<]?\s*(?:" + _DOT_WORDS + r")\s*[\])}>]?\s*|\.", re.IGNORECASE)
_IDN_TLDS = (
    r"\.(?:рф|бел|укр|қаз|срб|мкд|мон|"
    r"مصر|السعودية|امارات|قطر|الاردن|المغرب|الجزائر|تونس|سورية|عمان|فلسطين|عراق|"
    r"中国|中國|公司|网络|網絡|香港|台湾|台灣)(?![^\W\u3400-\u9fff])"
)
_IDN_RE = re.compile(r"(?<![^\W\u3400-\u9fff])(?<![.])[^\W_][\w-]*(?:\.[^\W_][\w-]*)*" + _IDN_TLDS)
#: What every match of _IDN_RE ends with: searched first, as the full pattern backtracks
#: through every run of ideographs (0.5 ms in 2,000 characters of Chinese).
_IDN_TLD_RE = re.compile(_IDN_TLDS)
#: Two spoken dots with a label between: what every match of _DOMAIN_WORDS_RE holds.
_TWO_DOT_WORDS_RE = re.compile(  # the first dot word read from its first character
    r"[dDpPтТᲄᲅن点](?i:(?:(?<=d)ot|(?<=p)oint|(?<=p)unto|(?<=т)очка|(?<=ن)قطة|(?<=点))"
    r"\s*[\])}>]?\s*[^\W_][\w-]*\s*[\[({<]?\s*(?:" + _DOT_WORDS + r"))"
)

# --------------------------------------------------------------------------- URL, domain

_ISO_TLDS = (
    "ac ad ae af ag ai al am ao aq ar as at au aw ax az ba bb bd be bf bg bh bi bj bm bn bo "
    "bq br bs bt bv bw by bz ca cc cd cf cg ch ci ck cl cm cn co cr cu cv cw cx cy cz de dj "
    "dk dm do dz ec ee eg eh er es et eu fi fj fk fm fo fr ga gb gd ge gf gg gh gi gl gm gn "
    "gp gq gr gs gt gu gw gy hk hm hn hr ht hu id ie il im in io iq ir is it je jm jo jp ke "
    "kg kh ki km kn kp kr kw ky kz la lb lc li lk lr ls lt lu lv ly ma mc md me mf mg mh mk "
    "ml mm mn mo mp mq mr ms mt mu mv mw mx my mz na nc ne nf ng ni nl no np nr nu nz om pa "
    "pe pf pg ph pk pl pm pn pr ps pt pw py qa re ro rs ru rw sa sb sc sd se sg sh si sj sk "
    "sl sm sn so sr ss st su sv sx sy sz tc td tf tg th tj tk tl tm tn to tr tt tv tw tz ua "
    "ug uk um us uy uz va vc ve vg vi vn vu wf ws xk ye yt za zm zw"
)
_GENERIC_TLDS = (
    "com net org edu gov mil int info biz name pro aero coop museum mobi asia tel travel jobs "
    "cat post app dev ai xyz online site top club shop store tech news blog web website space "
    "live life world today global email cloud digital network agency company center solutions "
    "services group international media link click page host press ngo ong onion lat africa "
    "arpa"
)
TLDS: frozenset[str] = frozenset((_ISO_TLDS + " " + _GENERIC_TLDS).split())
#: A top-level domain right after a dot or a spoken dot, and ending there (or before
#: another spoken dot): what the last label of every e-mail address in words that
#: _EMAIL_WORDS_RE reports stands in. Searched before it ("at this point" calls it).
_SPOKEN_TLD_RE = re.compile(
    r"(?:(?:" + _DOT_WORDS + r")\s*[\])}>]?\s*|\.)"
    r"(?:" + "|".join(sorted(TLDS, key=lambda t: (-len(t), t))) + r")"
    r"(?:(?![\w-])|(?=" + _DOT_WORDS + r"))",
    re.IGNORECASE,
)

_URL_RE = re.compile(
    r"(?<![^\W\u3400-\u9fff])(?<![.-])(?:(?:https?|s?ftp|ftps)://|www\d{0,3}\.)[^\s<>\"'`\u3000-\u303f\u3400-\u9fff\uff00-\uffef]+",
    re.IGNORECASE,
)
_DOMAIN_RE = re.compile(
    r"(?<![^\W\u3400-\u9fff])(?<![@.-])(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+(?P<tld>[A-Za-z]{2,24})"
    r"(?![^\W\u3400-\u9fff]|\.[A-Za-z0-9])(?![-]|\.[A-Za-z0-9])(?:[/:][^\s<>\"'`]*)?"
)
_IPV4_RE = re.compile(
    r"(?<![^\W\u3400-\u9fff])(?<![.])(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)(?![^\W\u3400-\u9fff]|\.\d)"
)
_DOT_LETTERS_RE = re.compile(r"[A-Za-z0-9]\.[A-Za-z]{2}")
_DOTTED_DIGITS_RE = re.compile(r"\d\.\d{1,3}\.\d")
_TRAILING_PUNCT = ".,;:!?)]}'\"\u2019\u201d"

# --------------------------------------------------------------------------- phone

_PHONE_PLUS_RE = re.compile(
    r"\+(?<![^\W\u3400-\u9fff]\+)(?<![+]\+)\s?\(?\d{1,4}\)?(?:[\s.\-/]{0,2}\(?\d{1,6}\)?){1,7}"
)
_PHONE_00_RE = re.compile(
    r"0(?<![^\W\u3400-\u9fff]0)(?<![.,/+-]0)0[1-9]\d{0,3}(?:[\s.\-/]{1,2}\(?\d{1,6}\)?){1,7}"
)
_PHONE_PAREN_RE = re.compile(
    r"\((?<![^\W\u3400-\u9fff]\()(?<![.,/+-]\()(?:0\d{1,4}|\d{2,3})\)\s?\d{2,5}(?:[\s.\-]\d{2,5}){0,4}(?![^\W\u3400-\u9fff])"
)
#: Runs of digits joined by single spaces, dots or hyphens: phone numbers, quantities, dates.
_DIGIT_CHUNK_RE = re.compile(
    r"\d(?<![^\W\u3400-\u9fff]\d)(?<![.,/+-]\d)\d*(?:[ .\-]\d+)*+(?![^\W\u3400-\u9fff]|[.,/-]\d)"
)
_YEAR = re.compile(r"(?:19|20)\d\d")
_ROUND_QUANTITY = re.compile(r"[1-9]\d{0,2}0{6,}")
_GROUP_SPLIT = re.compile(r"[ .\-]")

# --------------------------------------------------------------------------- cue words

# One pass finds every word that announces a number; an anchored "tail" pattern then reads
# the number that follows it.
_DOC_CUES = (
    r"end[\s-]*users?\s+(?:certificate|statement|undertaking)s?|e\.?u\.?c|e\.?u\.?s"
    r"|(?:export|import|transit|transfer|brokering|broker'?s?)\s+"
    r"(?:licen[cs]e|permit|authori[sz]ation)s?"
    r"|licen[cs]es?|permits?|authori[sz]ations?|certificates?|contracts?|invoices?"
    r"|bills?\s+of\s+lading|b/l|awb|air\s*waybills?|waybills?|manifests?|containers?"
    r"|purchase\s+orders?|p\.?o|letters?\s+of\s+credit|l/c|declarations?|dossiers?|files?"
    r"|ref(?:erence)?s?|serials?|s/n|registrations?|tenders?|dockets?"
    # French, Spanish, German
    r"|certificats?\s+d['’]utilisateur\s+final|certificados?\s+de\s+usuario\s+final"
    r"|certificados?\s+de\s+destino\s+final|licencias?\s+de\s+exportaci[oó]n"
    r"|permisos?\s+de\s+exportaci[oó]n|сертификат[аеуом]?\s+конечного\s+пользователя"
    r"|licences?\s+d['’]exportation|contrats?|certificats?|factures?|connaissements?"
    r"|autorisations?|permis|déclarations?|marchés?|licencias?|contratos?|certificados?"
    r"|facturas?|permisos?|autorizaci[oó]n(?:es)?|declaraci[oó]n(?:es)?|expedientes?"
    r"|conocimientos?\s+de\s+embarque|lizenz(?:en)?|genehmigung(?:en)?|vertrag|vertr[aä]ge"
    r"|rechnung(?:en)?|ausfuhrgenehmigung(?:en)?"
    # Russian
    r"|лицензи[яиюей]|лицензия|разрешени[еяюиём]|контракт[аеуом]?|договор[аеуом]?"
    r"|сертификат[аеуом]?|счет[аеуом]?|счёт[аеуом]?|инвойс[аеуом]?|коносамент[аеуом]?"
    r"|накладн(?:ая|ой|ую)|деклараци[яиюей]|дел[оау]"
)
#: Cue words of scripts without capital letters or word spaces, matched anywhere.
_DOC_CUES_NOSPACE = (
    r"رخصة|رخصه|ترخيص|تصريح|عقد|العقد|شهادة|شهاده|فاتورة|فاتوره|بوليصة|بوليصه|بيان"
    r"|许可证|许可|合同|证书|证明|发票|提单|运单|报关单|批文|编号|文号"
)
_PHONE_CUES = (
    r"tel|t[eé]l[eé]phone|phone|ph|fax|mobile|mob|cell(?:phone)?|gsm|whatsapp|signal|viber"
    r"|telegram|tél|portable|teléfono|telefono|móvil|celular|telefon|handy"
    r"|тел|телефон[ау]?|факс|моб|мобильн(?:ый|ого)"
)
_PHONE_CUES_NOSPACE = r"هاتف|الهاتف|جوال|الجوال|فاكس|واتساب|电话|手机|传真|微信"
_CUE_PATTERN = (
    r"(?<![^\W_])(?:"
    rf"(?P<doc>(?:{_DOC_CUES})(?![^\W_]))"
    rf"|(?P<phone>(?:{_PHONE_CUES})(?![^\W_]))"
    r"|(?P<conn>(?:no|nr|num|núm|nº)\.|nr(?![^\W_])|n°|nº|n\.º|#|№)"
    r")"
    rf"|(?P<doc2>{_DOC_CUES_NOSPACE})|(?P<phone2>{_PHONE_CUES_NOSPACE})|(?P<conn2>رقم|号)"
)
# Matching lower-cased text is more than twice as fast as re.IGNORECASE; the
# case-insensitive form is kept for the rare text whose lower() changes its length.
_CUE_RE = re.compile(_CUE_PATTERN, re.IGNORECASE)
# On lower-cased text the two halves of _CUE_PATTERN are searched apart (their matches
# cannot overlap: one is Latin, Cyrillic, "#" and "№", the other Arabic and Chinese), the
# second only in text with Arabic or Chinese in it. The first half is branched on the
# first character of its cue words (see dief.screening._regex): twice as fast.
_CONN_CUES = r"(?:no|nr|num|núm|nº)\.|nr(?![^\W_])|n°|nº|n\.º|#|№"
_CUE_WORDS_LOWER_RE = re.compile(
    by_first_character(
        (
            ("doc", _DOC_CUES, r"(?![^\W_])"),
            ("phone", _PHONE_CUES, r"(?![^\W_])"),
            ("conn", _CONN_CUES, ""),
        ),
        after=r"(?<![^\W_].)",
    )
)
#: The cue words of _CUE_PATTERN's second half, in its order, with their kind: plain words,
#: found with str.find (five times faster than the alternation).
_CUES_NOSPACE: tuple[tuple[str, str], ...] = (
    *((w, "doc") for w in _DOC_CUES_NOSPACE.split("|")),
    *((w, "phone") for w in _PHONE_CUES_NOSPACE.split("|")),
    ("رقم", "conn"),
    ("号", "conn"),
)
_ARABIC_OR_HAN_RE = re.compile(r"[\u0600-\u06ff\u3400-\u9fff]")
_DIGIT_RE = re.compile(r"\d")
_ALNUM = r"[A-Za-z0-9А-Яа-яЁё]"
_CODE = (
    rf"(?P<code>{_ALNUM}*\d{_ALNUM}*(?:[-/.]{_ALNUM}+)*"
    r"|[A-Za-z0-9]+(?:[-/.][A-Za-z0-9]+)*|[А-ЯЁ]{1,5}-\d[\w/.-]*)"
)
_CONNECTOR = (
    r"(?:no|nr|n°|nº|n\.º|núm|num|numbers?|numéro|número|ref|№|رقم|号|编号|номер)"
    r"(?![^\W_])\.?"
)
_DOC_TAIL_RE = re.compile(
    r"\.?(?P<conn>\s*" + _CONNECTOR + r")?\s*[:：#-]?\s*" + _CODE, re.IGNORECASE
)
_CONN_TAIL_RE = re.compile(r"\s*[:：#]?\s*" + _CODE)
_PHONE_TAIL_RE = re.compile(
    r"\.?\s*(?:(?:no|nr|number|num|№|رقم)\.?\s*)?[:：#]?\s*(?P<num>\+?\(?\d[\d\s().\-/]{3,22}\d)",
    re.IGNORECASE,
)

# --------------------------------------------------------------------------- references

#: A token of ASCII letters and digits (joined by "-", "/" or "."), with a digit in it, not
#: part of a longer one. Its first character is read before the look-arounds (which look
#: one character further back), so that the search skips what is not ASCII.
_MIXED_RE = re.compile(
    r"[A-Za-z0-9](?<![A-Za-z0-9].)(?<![A-Za-z0-9][./-].)(?:(?<=[0-9])|(?=[A-Za-z0-9./-]*\d))"
    r"[A-Za-z0-9]*(?:[-/.][A-Za-z0-9]+)*"
)
#: Letter prefixes that make a code a document reference by themselves: "EUC-123/45".
REF_PREFIXES: frozenset[str] = frozenset(
    {"EUC", "EUS", "LIC", "EL", "REF", "INV", "AWB", "PO", "CTR", "PRM", "EXL", "CUF", "CDUF"}
)


# --------------------------------------------------------------------------- identifiers

_ID_CONN = r"(?:no\.?|nr\.?|number|numéro|número|n°|nº|#|номер|№|رقم|编号|号)?"
_IMO_RE = re.compile(
    r"(?<![A-Za-z0-9])(?:IMO|ИМО)\s*" + _ID_CONN + r"\s*[:：]?\s*(?P<id>\d{7})(?!\d)", re.IGNORECASE
)
_MMSI_RE = re.compile(
    r"(?<![A-Za-z0-9])(?:MMSI|ММСИ)\s*" + _ID_CONN + r"\s*[:：]?\s*(?P<id>\d{9})(?!\d)",
    re.IGNORECASE,
)
_CALLSIGN_RE = re.compile(
    r"(?<![^\W\u3400-\u9fff])(?:call\s*-?\s*sign|indicatif(?:\s+d['’]appel)?|distintivo\s+de\s+llamada|"
    r"позывной)\s*[:#]?\s*(?P<id>[A-Z0-9]{3,7})(?![^\W\u3400-\u9fff])",
    re.IGNORECASE,
)
_CONTAINER_RE = re.compile(
    r"(?<![A-Za-z0-9])(?P<id>[A-Za-z]{3}[UJZujz]\s?-?\d{6}\s?-?\d)(?![A-Za-z0-9])"
)
_VESSEL_WORDS = (
    r"vessel|ship|tanker|freighter|dhow|boat|barge|trawler|coaster|navire|cargo|buque|"
    r"barco|carguero|судно|теплоход|сухогруз|танкер"
)
_VESSEL_RE = re.compile(
    r"(?<![^\W\u3400-\u9fff])(?<!\d\s)(?:(?:MV|M/V|M\.V\.|MT|M/T|SS|FV|RV|M/S)\s+|"
    rf"(?:{_VESSEL_WORDS})\s+(?:named\s+|called\s+|nommé\s+|"
    r"llamado\s+)?)"
    r"(?P<id>[«\"“]?[A-Z][\w\-]*[»\"”]?(?:\s+[A-Z0-9][\w\-]*[»\"”]?){0,3}|[«\"“][^»\"”\n]{2,40}[»\"”])"
)
#: What every match of _VESSEL_RE holds, without its look-behinds: a vessel word and the
#: first character of a name. Every alternative starts with a letter, which the search
#: skips to; searched before _VESSEL_RE (twice as fast in English, eight times in Arabic).
_VESSEL_GATE_RE = re.compile(
    "|".join(
        rf"{a}\s+[«\"“A-Z]" for a in ("MV", "M/V", r"M\.V\.", "MT", "M/T", "SS", "FV", "RV", "M/S")
    )
    + "|"
    + "|".join(
        rf"{k}\s+(?:(?:named|called|nommé|llamado)\s+)?[«\"“A-Z]" for k in _VESSEL_WORDS.split("|")
    )
)
_NOT_VESSEL = frozenset(
    [
        "The",
        "A",
        "An",
        "And",
        "Or",
        "Of",
        "In",
        "On",
        "At",
        "To",
        "For",
        "From",
        "By",
        "With",
        "Was",
        "Were",
        "Is",
        "Has",
        "Had",
        "It",
        "This",
        "That",
        "Customs",
        "Port",
        "Master",
        "Captain",
        "Registry",
    ]
)
# ICAO nationality marks (Annex 7) whose registrations are letters after a hyphen
# ("5Y-ABC", "EP-IGA", "A6-EDA", "9Q-CKS") and those that use digits ("RA-12345").
_MARKS_LETTERS = [
    "A2",
    "A3",
    "A4O",
    "A5",
    "A6",
    "A7",
    "A8",
    "A9C",
    "AP",
    "C2",
    "C3",
    "C5",
    "C6",
    "C9",
    "CC",
    "CN",
    "CP",
    "CS",
    "CU",
    "CX",
    "D2",
    "D4",
    "D6",
    "DQ",
    "E3",
    "E5",
    "E7",
    "EC",
    "EI",
    "EK",
    "EL",
    "EP",
    "ER",
    "ES",
    "ET",
    "EW",
    "EX",
    "EY",
    "EZ",
    "H4",
    "HA",
    "HB",
    "HC",
    "HH",
    "HI",
    "HK",
    "HL",
    "HP",
    "HR",
    "HS",
    "HV",
    "HZ",
    "J2",
    "J3",
    "J5",
    "J6",
    "J7",
    "J8",
    "JU",
    "JY",
    "LN",
    "LV",
    "LX",
    "LY",
    "LZ",
    "OB",
    "OD",
    "OE",
    "OH",
    "OK",
    "OM",
    "OO",
    "OY",
    "P2",
    "P4",
    "PH",
    "PJ",
    "PK",
    "PP",
    "PR",
    "PS",
    "PT",
    "PU",
    "PZ",
    "RDPL",
    "RP",
    "S2",
    "S5",
    "S7",
    "S9",
    "SE",
    "SP",
    "ST",
    "SU",
    "SX",
    "T2",
    "T3",
    "T7",
    "T8A",
    "T9",
    "TC",
    "TF",
    "TG",
    "TI",
    "TJ",
    "TL",
    "TN",
    "TR",
    "TS",
    "TT",
    "TU",
    "TY",
    "TZ",
    "UK",
    "UN",
    "UP",
    "UR",
    "V2",
    "V3",
    "V4",
    "V5",
    "V6",
    "V7",
    "V8",
    "VH",
    "VN",
    "VP",
    "VQ",
    "VT",
    "XA",
    "XB",
    "XC",
    "XT",
    "XU",
    "XY",
    "YA",
    "YI",
    "YJ",
    "YK",
    "YL",
    "YN",
    "YR",
    "YS",
    "YU",
    "YV",
    "Z3",
    "ZA",
    "ZK",
    "ZP",
    "ZS",
    "ZT",
    "ZU",
    "3A",
    "3B",
    "3C",
    "3D",
    "3X",
    "4K",
    "4L",
    "4O",
    "4R",
    "4W",
    "4X",
    "5A",
    "5B",
    "5H",
    "5N",
    "5R",
    "5T",
    "5U",
    "5V",
    "5W",
    "5X",
    "5Y",
    "6O",
    "6V",
    "6W",
    "6Y",
    "7O",
    "7P",
    "7Q",
    "7T",
    "8P",
    "8Q",
    "8R",
    "9A",
    "9G",
    "9H",
    "9J",
    "9K",
    "9L",
    "9M",
    "9N",
    "9Q",
    "9U",
    "9V",
    "9XR",
    "9Y",
]
# Single-letter marks take four letters, and Canada's and France's a fixed first letter:
# "C-SALW" (counter-SALW), "C-IED" and "F-16" are no registrations.
_MARKS_SINGLE = r"C-[FGI][A-Z]{3}|D-[A-Z]{4}|F-[GHO][A-Z]{3}|G-[A-Z]{4}|I-[A-Z]{4}|Z-[A-Z]{3}"
_MARKS_DIGITS = [
    "RA",
    "UR",
    "EW",
    "UK",
    "UP",
    "EX",
    "EY",
    "EZ",
    "4L",
    "4K",
    "ER",
    "EK",
    "B",
    "P",
    "YA",
]
_AIRCRAFT_IDS = (
    r"(?:"
    + "|".join(sorted(map(re.escape, _MARKS_LETTERS), key=len, reverse=True))
    + r")-[A-Z]{3,4}(?:[0-9]{0,2})"
    + r"|(?:"
    + "|".join(sorted(map(re.escape, _MARKS_DIGITS), key=len, reverse=True))
    + r")-\d{4,5}"
    + r"|RP-C\d{3,4}|HL\d{4}|JA\d{3,4}[A-Z]?|"
    + _MARKS_SINGLE
)
#: A registration (the whole match), branched on its first character (see
#: dief.screening._regex): the 200 nationality marks are no longer tried at every position.
_AIRCRAFT_RE = re.compile(
    f"(?:{by_first_character((('id', _AIRCRAFT_IDS, ''),), after=r'(?<![A-Za-z0-9-].)')})"
    r"(?![A-Za-z0-9-])"
)
_SIX_DIGITS_RE = re.compile(r"\d{6}")
#: What every registration holds ("5Y-ABC", "RA-12345", "RP-C1234", "HL1234", "JA123"):
#: searched first, so that "AK-47" or "1001-10000" do not start the full pattern.
_AIRCRAFT_HINT_RE = re.compile(r"-(?:(?<=[A-Z0-9]-)[A-Z]{3}|(?<=[A-Z]-)\d{4}|(?<=P-)C\d)")
_AIRCRAFT_HINT_HL_JA_RE = re.compile(r"(?:HL|JA)\d{3}")
_VESSEL_HINT_RE = re.compile(
    r"M/?[VTS]\b|M\.V\.|\b(?:SS|FV|RV)\s|vessel|ship|tanker|freighter|dhow|boat|barge|"
    r"trawler|coaster|navire|cargo|buque|barco|carguero|судно|теплоход|сухогруз|танкер",
    re.IGNORECASE,
)
_N_NUMBER_RE = re.compile(  # "N" first, then the look-behinds: a literal the search skips to
    r"(?P<id>N(?<![^\W\u3400-\u9fff].)(?<![-].)[1-9]\d{1,4}[A-Z]{0,2})"
    r"(?![^\W\u3400-\u9fff])(?![-])"
)
_AIRCRAFT_CUE_RE = re.compile(
    r"aircraft|airplane|aeroplane|plane|jet|airframe|registration|registered|tail|flight|"
    r"freighter|cargo\s+flight|Il-76|An-12|An-26|An-124|Boeing|Antonov|Ilyushin|Cessna|"
    r"avion|aeronave|avión|самол[её]т|طائرة|飞机",
    re.IGNORECASE,
)


def _iso6346_ok(code: str) -> bool:
    """The ISO 6346 check digit of a container number ("MSCU1234565")."""
    chars = re.sub(r"[\s-]", "", code).upper()
    if not re.fullmatch(r"[A-Z]{3}[UJZ]\d{7}", chars):
        return False
    values = []
    v = 10
    table: dict[str, int] = {}
    for letter in string.ascii_uppercase:
        if v % 11 == 0:
            v += 1
        table[letter] = v
        v += 1
    for c in chars[:10]:
        values.append(table[c] if c.isalpha() else int(c))  # noqa: PERF401  each step appended in the order the output reads
    total = sum(val << i for i, val in enumerate(values))
    return total % 11 % 10 == int(chars[10])


def _identifiers(text: str) -> Iterator[Span]:  # noqa: C901, PLR0912  one pass over the heuristic's cases in order; splitting it would scatter them
    kind = FindingKind.IDENTIFIER
    low = text.lower()
    for rx, hints in (
        (_IMO_RE, ("imo", "имо")),
        (_MMSI_RE, ("mmsi", "ммси")),
        (_CALLSIGN_RE, ("call", "indicatif", "distintivo", "позывн")),
    ):
        if any(h in low for h in hints):
            for m in rx.finditer(text):
                yield m.start("id"), m.end("id"), kind
    if _SIX_DIGITS_RE.search(text):
        for m in _CONTAINER_RE.finditer(text):
            code = m.group("id")
            if code[:4].isupper() or _iso6346_ok(code):
                yield m.start("id"), m.end("id"), kind
    if _AIRCRAFT_HINT_RE.search(text) or _AIRCRAFT_HINT_HL_JA_RE.search(text):
        for m in _AIRCRAFT_RE.finditer(text):
            yield m.start(), m.end(), kind
    if "N" in text and _N_NUMBER_RE.search(text) and _AIRCRAFT_CUE_RE.search(text):
        for m in _N_NUMBER_RE.finditer(text):
            window = text[max(0, m.start() - 60) : m.end() + 60]
            if _AIRCRAFT_CUE_RE.search(window):
                yield m.start("id"), m.end("id"), kind
    if _VESSEL_GATE_RE.search(text) is None or _VESSEL_RE.search(text) is None:
        return  # no position matches (a match at a hint needs a match somewhere)
    vessels = (_VESSEL_RE.match(text, h.start()) for h in _VESSEL_HINT_RE.finditer(text))
    for m in (v for v in vessels if v is not None):
        words = m.group("id").split()
        while words and words[-1].strip('»"”') in _NOT_VESSEL:
            words.pop()
        if words and words[0].strip('«"“') not in _NOT_VESSEL:
            start = m.start("id")
            yield start, start + len(" ".join(words)), kind


def find_patterns(text: str) -> list[Span]:
    """All e-mail, URL, phone and reference-number spans (possibly overlapping)."""
    spans: list[Span] = []
    spans.extend(_identifiers(text))
    spans.extend(_emails(text))
    spans.extend(_urls(text))
    spans.extend(_phones(text))
    spans.extend(_cued_numbers(text))
    spans.extend(_reference_tokens(text))
    return spans


def _emails(text: str) -> Iterator[Span]:
    if "@" in text:
        runs = finditer_in_runs(
            _EMAIL_RE, text, _EMAIL_USER_RUN_RE, _EMAIL_USER_START_RE, _EMAIL_AT_RE
        )
        for m in runs:
            if "@" in m.group():
                yield m.start(), m.end(), FindingKind.EMAIL
    if _AT_WORD_RE.search(text):
        obfuscated = finditer_in_runs(
            _EMAIL_OBFUSCATED_RE,
            text,
            _OBFUSCATED_RUN_RE,
            _OBFUSCATED_START_RE,
            _AT_WORD_RE,
            _SPACES_RE,
        )
        for m in obfuscated:
            yield m.start(), m.end(), FindingKind.EMAIL
    if _AT_WORD_ONLY_RE.search(text) and _SPOKEN_TLD_RE.search(text):
        in_words = finditer_in_runs(
            _EMAIL_WORDS_RE,
            text,
            _USER_RUN_RE,
            _USER_START_RE,
            _AT_WORD_END_RE,
            _SPOKEN_DOT_GAP_RE,
            monotonic=False,  # a name of at most 64 characters: a later start can match
        )
        for m in in_words:
            labels = [x for x in _DOT_SPLIT_RE.split(m.group("host")) if x]
            spoken = len(labels) > 1 and "." not in m.group("host").replace(" ", "")
            bracketed = m.start("at") > 0 and text[m.start("at") - 1] in "[({<"
            if (
                len(labels) >= 2  # noqa: PLR2004  a length or count threshold of the heuristic (docs/screening.md)
                and labels[-1].lower() in TLDS
                and (spoken or bracketed or m.group("at").lower() != "at")
            ):
                yield m.start(), m.end(), FindingKind.EMAIL


def _trim(text: str, start: int, end: int) -> int:
    while end > start and text[end - 1] in _TRAILING_PUNCT:
        end -= 1
    return end


def _urls(text: str) -> Iterator[Span]:  # noqa: C901  one pass over the heuristic's cases in order; splitting it would scatter them
    if "://" in text or "www" in text.lower():
        for m in _URL_RE.finditer(text):
            yield m.start(), _trim(text, m.start(), m.end()), FindingKind.URL
    if _DOT_LETTERS_RE.search(text):
        for m in _DOMAIN_RE.finditer(text):
            tld = m.group("tld")
            if tld.lower() in TLDS and _tld_case_ok(tld, m.group()):
                yield m.start(), _trim(text, m.start(), m.end()), FindingKind.URL
    if not text.isascii() and _IDN_TLD_RE.search(text):
        for m in finditer_in_runs(_IDN_RE, text, _DOTTED_RUN_RE, _LABEL_START_RE, _IDN_TLD_RE):
            yield m.start(), m.end(), FindingKind.URL
    low = text.lower()
    if any(w in low for w in ("dot", "point", "punto", "точка")) and _TWO_DOT_WORDS_RE.search(text):
        runs = finditer_in_runs(
            _DOMAIN_WORDS_RE,
            text,
            _LABEL_RUN_RE,
            _LABEL_START_RE,
            _SPOKEN_DOT_RE,
            _SPOKEN_DOT_GAP_RE,
        )
        for m in runs:
            labels = [x for x in _DOT_SPLIT_RE.split(m.group()) if x]
            if len(labels) >= 3 and labels[-1].lower() in TLDS:  # noqa: PLR2004  a length or count threshold of the heuristic (docs/screening.md)
                yield m.start(), m.end(), FindingKind.URL
    if _DOTTED_DIGITS_RE.search(text):
        for m in _IPV4_RE.finditer(text):
            yield m.start(), m.end(), FindingKind.URL


#: Title-case words that end sentences joined without a space ("shipped.In 2024").
_TITLE_WORDS = frozenset(
    [
        "in",
        "it",
        "is",
        "at",
        "as",
        "be",
        "by",
        "do",
        "go",
        "me",
        "my",
        "no",
        "so",
        "to",
        "us",
        "am",
        "an",
        "or",
        "if",
        "of",
        "on",
        "he",
        "we",
        "up",
        "ok",
        "hi",
        "id",
    ]
)


def _tld_case_ok(tld: str, domain: str) -> bool:
    """Lower- or upper-case TLDs always; mixed case ("Mod.Gov.Fr", "example.CoM") unless
    it reads as two sentences joined without a space ("shipped.In 2024")."""
    if tld.islower() or tld.isupper():
        return True
    return not (tld.lower() in _TITLE_WORDS and domain.count(".") < 2)  # noqa: PLR2004  a length or count threshold of the heuristic (docs/screening.md)


def _digits(s: str) -> str:
    return "".join(c for c in s if c.isdigit())


def _phones(text: str) -> Iterator[Span]:  # noqa: C901  one pass over the heuristic's cases in order; splitting it would scatter them
    if "+" in text:
        for m in _PHONE_PLUS_RE.finditer(text):
            if len(_digits(m.group())) >= 7:  # noqa: PLR2004  a length or count threshold of the heuristic (docs/screening.md)
                yield m.start(), _trim(text, m.start(), m.end()), FindingKind.PHONE
    if "00" in text:
        for m in _PHONE_00_RE.finditer(text):
            if len(_digits(m.group())) >= 9:  # noqa: PLR2004  a length or count threshold of the heuristic (docs/screening.md)
                yield m.start(), _trim(text, m.start(), m.end()), FindingKind.PHONE
    if "(" in text:
        for m in _PHONE_PAREN_RE.finditer(text):
            digits = _digits(m.group())
            if len(digits) >= (8 if digits.startswith("0") else 9):
                yield m.start(), m.end(), FindingKind.PHONE
    for m in _DIGIT_CHUNK_RE.finditer(text):
        chunk = m.group()
        if len(chunk) >= 9 and is_phone_chunk(chunk):  # noqa: PLR2004  a length or count threshold of the heuristic (docs/screening.md)
            yield m.start(), m.end(), FindingKind.PHONE


def is_phone_chunk(chunk: str) -> bool:
    """A run of digit groups that reads as a phone number (see :func:`is_grouped_phone`)."""
    if chunk.isdigit():
        return 9 <= len(chunk) <= 15 and not _ROUND_QUANTITY.fullmatch(chunk)  # noqa: PLR2004  a length or count threshold of the heuristic (docs/screening.md)
    return is_grouped_phone(chunk)


def is_grouped_phone(s: str) -> bool:
    """Digit groups with separators that read as a phone number, not a quantity or date.

    9 to 15 digits; a leading 0 (trunk prefix) is decisive. Not a phone number: thousands
    written with spaces or dots ("12 500 000", "1.000.000"), space-separated groups other
    than 3-3-4 ("in 2025 12 500 rounds"), two groups of fewer than 10 digits
    ("1001-10000"). Dates have at most 8 digits and never get here.
    """
    groups = _GROUP_SPLIT.split(s)
    seps = set(_GROUP_SPLIT.findall(s))
    digits = "".join(groups)
    if not 9 <= len(digits) <= 15:  # noqa: PLR2004  a length or count threshold of the heuristic (docs/screening.md)
        return False
    if digits.startswith("0"):
        return True
    if (
        len(seps) == 1
        and seps <= {" ", "."}
        and len(groups[0]) <= 3  # noqa: PLR2004  a length or count threshold of the heuristic (docs/screening.md)
        and all(len(g) == 3 for g in groups[1:])  # noqa: PLR2004  a length or count threshold of the heuristic (docs/screening.md)
    ):
        return False
    if " " in seps:
        # Spaced numbers without a trunk prefix are quantities or years ("in 2025 12 500
        # rounds") unless they have the North American 3-3-4 shape.
        return [len(g) for g in groups] == [3, 3, 4]
    return not (len(groups) == 2 and len(digits) < 10)  # noqa: PLR2004  a length or count threshold of the heuristic (docs/screening.md)


def _cues(text: str) -> Iterator[tuple[str, int]]:
    """``(kind, end)`` of every cue of :func:`_cued_numbers`: ``doc``, ``conn`` or ``phone``."""
    lowered = text.lower()
    if len(lowered) != len(text):
        for cue in _CUE_RE.finditer(text):
            if cue.group("doc") is not None or cue.group("doc2") is not None:
                yield "doc", cue.end()
            elif cue.group("conn") is not None or cue.group("conn2") is not None:
                yield "conn", cue.end()
            else:
                yield "phone", cue.end()
        return
    for cue in _CUE_WORDS_LOWER_RE.finditer(lowered):
        yield (cue.lastgroup or "").rpartition("_")[0], cue.end()  # "doc_3" -> "doc"
    if _ARABIC_OR_HAN_RE.search(lowered):
        yield from _literal_finditer(lowered, _CUES_NOSPACE)


def _literal_finditer(text: str, words: tuple[tuple[str, str], ...]) -> Iterator[tuple[str, int]]:
    """``(kind, end)`` of what ``re.finditer`` of the alternation of ``words`` (plain words, in
    order) finds: the leftmost word, the first listed of those there, then on after it."""
    first: dict[int, tuple[str, str]] = {}  # position -> the first word listed found there
    for word, kind in words:
        i = text.find(word)
        while i >= 0:
            first.setdefault(i, (word, kind))
            i = text.find(word, i + 1)
    cursor = 0
    for pos in sorted(first):
        if pos >= cursor:
            word, kind = first[pos]
            cursor = pos + len(word)
            yield kind, cursor


def _cued_numbers(text: str) -> Iterator[Span]:
    """Numbers right after a document word, a number sign or a phone word."""
    if _DIGIT_RE.search(text) is None:
        return  # every number read after a cue has a digit
    for kind, end in _cues(text):
        if kind == "doc":
            m = _DOC_TAIL_RE.match(text, end)
            if m is not None:
                code = m.group("code")
                if any(c.isdigit() for c in code) and (
                    m.group("conn") or is_strong_code(code) or is_short_reference(text, m)
                ):
                    yield m.start("code"), m.end("code"), FindingKind.REFERENCE_NUMBER
        elif kind == "conn":
            m = _CONN_TAIL_RE.match(text, end)
            if m is not None:
                code = m.group("code")
                if is_strong_code(code) or (len(_digits(code)) >= 3 and not _YEAR.fullmatch(code)):  # noqa: PLR2004  a length or count threshold of the heuristic (docs/screening.md)
                    yield m.start("code"), m.end("code"), FindingKind.REFERENCE_NUMBER
        else:
            m = _PHONE_TAIL_RE.match(text, end)
            if m is not None and len(_digits(m.group("num"))) >= 5:  # noqa: PLR2004  a length or count threshold of the heuristic (docs/screening.md)
                end = _trim(text, m.start("num"), m.end("num"))  # noqa: PLW2901  the loop's item normalised in place, on purpose
                yield m.start("num"), end, FindingKind.PHONE


#: Nouns that make a number after a document word a count or a duration, not a reference.
_COUNT_AFTER = re.compile(
    r"\s*(?:x\s*)?(?:rifles?|pistols?|rounds?|items?|units?|pieces?|pcs|crates?|boxes|"
    r"tonnes?|tons?|kg|t\b|days?|weeks?|months?|years?|hours?|%|percent|per\s*cent|"
    r"times|copies|pages?|fusils?|armes?|cartouches?|jours?|mois|ans|fusiles|armas|"
    r"cartuchos|d[ií]as|meses|años|штук|единиц|дней|месяцев|лет)\b",
    re.IGNORECASE,
)


def is_short_reference(text: str, m: re.Match[str]) -> bool:
    """A short code right after a document word ("licence 77", "contract 12-B").

    Not a reference: a year ("licence 2024"), a period or a calibre ("mid-2024",
    "7.62x39mm"), a word with a number in it ("1000-round"), or a count or duration
    ("a licence 12 months old", "contract 500 rifles").
    """
    code = m.group("code")
    if _YEAR.fullmatch(code) or _CALIBRE.search(code):
        return False
    if any(seg.isalpha() and len(seg) >= 3 and seg.islower() for seg in re.split(r"[-/.]", code)):  # noqa: PLR2004  a length or count threshold of the heuristic (docs/screening.md)
        return False
    if re.fullmatch(r"\d+\.\d+", code):
        return False
    return _COUNT_AFTER.match(text, m.end("code")) is None


def _reference_tokens(text: str) -> Iterator[Span]:
    for m in _MIXED_RE.finditer(text):
        if is_reference_token(m.group()):
            yield m.start(), m.end(), FindingKind.REFERENCE_NUMBER


def is_strong_code(code: str) -> bool:
    """A code right after a document word that is a number, not a year, count or calibre.

    A reference-shaped token (see :func:`is_reference_token`); letters and digits
    ("AB123", "77-A"); a separator and two or more digits ("123/45"); four or more digits
    that are not a year ("4521"). Not: a year ("2024"), a count ("500"), a period
    ("mid-2024"), a calibre ("7.62x39mm", "12.7mm").
    """
    digits = _digits(code)
    if not digits:
        return False
    if is_reference_token(code):
        return True
    if _CALIBRE.search(code) or any(
        s.isalpha() and len(s) >= 3 and not s.isupper()  # noqa: PLR2004  a length or count threshold of the heuristic (docs/screening.md)
        for s in re.split(r"[-/.]", code)
    ):
        return False
    if any(c.isalpha() for c in code):
        return True
    if re.search(r"[-/.]", code):
        return len(digits) >= 2 and not re.fullmatch(r"\d+\.\d+", code)  # noqa: PLR2004  a length or count threshold of the heuristic (docs/screening.md)
    return len(digits) >= 4 and not _YEAR.fullmatch(code)  # noqa: PLR2004  a length or count threshold of the heuristic (docs/screening.md)


_CALIBRE = re.compile(r"\d(?:mm|x\d|cal)|^\d+(?:\.\d+)?[a-z]+$", re.IGNORECASE)


def is_reference_token(token: str) -> bool:  # noqa: PLR0911  one pass over the heuristic's cases in order; splitting it would scatter them
    """A stand-alone token that looks like a licence, contract or permit number.

    Refused: letters with a run of 5+ digits ("AB12345", "MSCU1234567"); a document
    prefix with 2+ digits ("EUC-123/45", "LIC2023"); letters, a separator and a 4-digit run
    that is not a year ("DE-2023-4471"); three or more segments with a year and another
    number ("EL-2024-12"); digits over a year ("4521/2023"); a year then a serial
    ("2024-00123"). Not refused: calibres ("7.62x39mm"), designations ("AK-47", "An-124-100",
    "M1911", "SA-7"), periods ("mid-2024", "Q3-2026", "1990s"), quantities
    ("1000-round"), year ranges ("2023-2024"), dates.
    """
    segments = re.split(r"[-/.]", token)
    has_sep = len(segments) > 1
    runs = re.findall(r"\d+", token)
    if not runs:
        return False
    if not any(c.isalpha() for c in token):
        if len(segments) != 2:  # noqa: PLR2004  a length or count threshold of the heuristic (docs/screening.md)
            return False
        first, second = segments
        if "/" in token and len(first) >= 3 and _YEAR.fullmatch(second):  # noqa: PLR2004  a length or count threshold of the heuristic (docs/screening.md)
            return True
        return bool(_YEAR.fullmatch(first) and len(second) >= 3 and not _YEAR.fullmatch(second))  # noqa: PLR2004  a length or count threshold of the heuristic (docs/screening.md)
    prefix = re.match(r"[A-Za-z]+", token)
    if prefix and prefix.group().upper() in REF_PREFIXES and len("".join(runs)) >= 2:  # noqa: PLR2004  a length or count threshold of the heuristic (docs/screening.md)
        return True
    if any(s.isalpha() and len(s) >= 3 and not s.isupper() for s in segments):  # noqa: PLR2004  a length or count threshold of the heuristic (docs/screening.md)
        return False  # a word in it: "1000-round", "mid-2024"
    if any(len(r) >= 5 for r in runs):  # noqa: PLR2004  a length or count threshold of the heuristic (docs/screening.md)
        return True
    if not has_sep:
        return False
    if any(len(r) == 4 and not _YEAR.fullmatch(r) for r in runs):  # noqa: PLR2004  a length or count threshold of the heuristic (docs/screening.md)
        return True
    return len(segments) >= 3 and any(_YEAR.fullmatch(r) for r in runs) and len(runs) >= 2  # noqa: PLR2004  a length or count threshold of the heuristic (docs/screening.md)
