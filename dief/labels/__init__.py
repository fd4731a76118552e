"""What people read for the case model's names: the label and help text of every case-form
field and vocabulary value, the names of the period kinds, and a period's span in words.

English source strings, marked with :func:`N_` for the gettext catalogues and translated
where they are shown (the portal, :mod:`dief.portal`); the documents (Markdown, HTML,
DOCX) and the Secretariat's narrative use the English. One home for every reader, so a
rendering never loads the web application to name a value.
"""

from dief.labels._labels import (
    FIELD_HELP,
    FIELD_LABELS,
    N_,
    PERIOD_KINDS,
    VALUE_HELP,
    VALUE_LABELS,
    all_label_messages,
    field_label,
    period_span,
    value_label,
    vocabularies,
)

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
