"""Header normalisation shared by discovery, header detection and column matching."""

from __future__ import annotations

import re
import unicodedata

_NON_ALNUM = re.compile(r"[^0-9a-z]+")


def normalise_header(header: object) -> str:
    """Case-, accent- and punctuation-insensitive key: 'Created at (UTC)' → 'created at utc'.

    BOMs, quotes of any style, brackets and underscores all become spaces, so
    `Customer ID`, `customer_id` and `customer-id` compare equal.
    """
    s = unicodedata.normalize("NFKD", str(header)).encode("ascii", "ignore").decode()
    return _NON_ALNUM.sub(" ", s.lower()).strip()
