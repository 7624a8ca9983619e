"""Ordered header synonyms per canonical column (SPEC §1, R1), harvested from real exports.

Placeholder: the loader work fills this in. Shape:
SYNONYMS[dataset][canonical] = ("First header tried", "second", ...)
SYNONYM_FLAGS[dataset][canonical] = {normalised synonym: frozenset({"tax_inclusive", ...})}
"""

SYNONYMS: dict[str, dict[str, tuple[str, ...]]] = {}
SYNONYM_FLAGS: dict[str, dict[str, dict[str, frozenset[str]]]] = {}
