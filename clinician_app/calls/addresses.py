"""Address matching for "prior calls at this location".

Two spellings of one address should meet: ``12 Main St.`` and ``12  main street``
both become ``12 main street``. The key is only ever compared for equality within
one agency, so it needs to be consistent, not a postal standard: "St Paul St"
becomes "street paul street" on both sides and still matches.
"""
from __future__ import annotations

import re
import unicodedata

ADDRESS_KEY_MAX = 200

# Common USPS street suffix abbreviations, written out.
ABBREVIATIONS = {
    "st": "street",
    "str": "street",
    "rd": "road",
    "ave": "avenue",
    "av": "avenue",
    "dr": "drive",
    "ln": "lane",
    "ct": "court",
    "pl": "place",
    "blvd": "boulevard",
    "hwy": "highway",
    "pkwy": "parkway",
    "cir": "circle",
    "ter": "terrace",
    "sq": "square",
    "tpke": "turnpike",
    "apt": "apartment",
}

_SEPARATORS = re.compile(r"[,.;:]+")


def normalise_address(value: str | None) -> str:
    """Case-folded, punctuation dropped, spaces collapsed, suffixes written out."""
    if not value:
        return ""
    text = unicodedata.normalize("NFKC", value).casefold()
    text = _SEPARATORS.sub(" ", text)
    words = [ABBREVIATIONS.get(word, word) for word in text.split()]
    return " ".join(words)[:ADDRESS_KEY_MAX]
