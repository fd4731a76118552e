"""Word sets that more than one screening detector uses with the same meaning, defined once.

Each detector derives its own set from these, with what it adds (or leaves out) and why
written next to it: persons (:mod:`dief.screening._entities_persons`), organisations
(:mod:`dief.screening._entities_orgs`), vessel names
(:mod:`dief.screening._patterns_identifiers`).
"""

from __future__ import annotations

__all__ = ["NAME_PARTICLES", "SENTENCE_WORDS"]

#: Lower-case particles inside a name, between capitalised words: Arabic descent and
#: article ("bin", "ibn", "al"), Dutch and German ("van", "von"), Romance ("de", "del",
#: "dos"), as in "Ahmed bin Said", "Ludwig van Beethoven", "João dos Santos".
NAME_PARTICLES = frozenset(
    ["bin", "ben", "ibn", "al", "el", "van", "von", "de", "da", "del", "di", "du", "dos", "das"]
)

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
