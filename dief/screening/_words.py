"""Word sets that more than one screening detector uses with the same meaning, defined once.

Each detector derives its own set from these, with what it adds (or leaves out) and why
written next to it: persons (:mod:`dief.screening._entities_persons`), organisations
(:mod:`dief.screening._entities_orgs`), vessel names
(:mod:`dief.screening._patterns_identifiers`).
"""

from __future__ import annotations

__all__ = ["NAME_ARTICLES", "NAME_PARTICLES", "SENTENCE_WORDS", "particle_name"]

#: Lower-case particles inside a name, between capitalised words: Arabic descent and
#: article ("bin", "ibn", "al"), Dutch and German ("van", "von"), Romance ("de", "del",
#: "dos"), as in "Ahmed bin Said", "Ludwig van Beethoven", "João dos Santos".
NAME_PARTICLES = frozenset(
    ["bin", "ben", "ibn", "al", "el", "van", "von", "de", "da", "del", "di", "du", "dos", "das"]
)

#: Lower-case articles that follow a particle inside a name ("Juan de la Cruz", "Banco de
#: los Andes", "Pieter van der Berg", "von dem Bussche", "van het Reve"); French and
#: Italian surnames also take "le" and "la" alone ("John le Carré", "Anna la Rosa").
#: A name's particles can come two in a row, so a detector that takes a particle only
#: before a capitalised word cut the name at the first of them.
NAME_ARTICLES = frozenset(["la", "le", "las", "los", "der", "den", "dem", "het"])


def particle_name(word: str) -> str | None:
    """The capitalised part of a name word written with its particle and a hyphen
    ("al-Maktoum", "el-Sayed", "bin-Laden"): ``"Maktoum"``; None for any other word."""
    head, hyphen, tail = word.partition("-")
    if hyphen and head.lower() in NAME_PARTICLES and tail[:1].isupper():
        return tail
    return None


#: Capitalised English function words that open a sentence or a heading ("The", "In",
#: "It", "This"): after a word that announces a name (a title, "MV") they are no part of
#: it, and the name ends (or never began) there.
SENTENCE_WORDS = frozenset(
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
        "It",
        "This",
        "That",
    ]
)
