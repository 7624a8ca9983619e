"""Which header of a file feeds which canonical column (SPEC §1 "Column recognition", R1).

Rules: config `columns:` overrides win; then, column by column in schema
order, the first synonym present wins (R1) and every other header that also
matched is reported; a header feeds at most one canonical column. Matching
uses `header_key`: `normalise_header` (case, accents, punctuation, `*` of
Xero/Pipedrive) with a trailing `(UTC)` ignored.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field

from cs_metrics.errors import InputError, Issue
from cs_metrics.loading.headers import normalise_header
from cs_metrics.schemas import SCHEMAS
from cs_metrics.synonyms import SURVEY_TYPE_HEADERS


@dataclass
class ColumnMatch:
    mapping: dict[str, str]  # canonical -> header used
    also_matched: dict[str, list[str]]  # canonical -> other headers that matched
    flags: dict[str, frozenset]  # canonical -> flags of the header used (billing amount)
    unmapped: list[str]
    # surveys in wide form: header -> survey type (R10)
    type_columns: dict[str, str] = field(default_factory=dict)


def header_key(header: object) -> str:
    """Matching key: normalised header without a trailing 'utc'; '#' stays '#'."""
    k = normalise_header(header)
    if k.endswith(" utc"):
        k = k[:-4].rstrip()
    if not k:
        k = str(header).strip()
    return k


def survey_type_of_header(header: str, extra_types: tuple[str, ...] = ()) -> str | None:
    """Type named by a wide survey column (`NPS`, `CSAT score`, `How likely … recommend`)."""
    k = header_key(header)
    if k in SURVEY_TYPE_HEADERS:
        return SURVEY_TYPE_HEADERS[k]
    if k.startswith("how likely") and "recommend" in k:
        return "nps"
    for t in extra_types:
        tk = header_key(t)
        if tk and k in (tk, f"{tk} score"):
            return t.lower()
    return None


# Headers that only an invoice/payment export has: a file without any of them
# that has Quantity and Interval / period columns is subscription-shaped.
_INVOICE_MARKERS = {
    "date",
    "invoicedate",
    "invoice date",
    "invoice id",
    "invoice number",
    "invoicenumber",
    "number",
    "amount paid",
    "amount due",
    "total",
    "subtotal",
}


def _fatal(issues: list[Issue], file: str) -> InputError:
    return InputError(f"{file}: " + "; ".join(i.message for i in issues), issues)


def match_columns(
    dataset: str,
    headers: list[str],
    overrides: dict[str, str] | None,
    file: str,
    *,
    survey_types: tuple[str, ...] = (),
) -> ColumnMatch:
    """Map a file's headers to canonical columns; raise InputError on missing required ones."""
    schema = SCHEMAS[dataset]
    headers = [str(h) for h in headers]
    keys = {h: header_key(h) for h in headers}
    claimed: set[str] = set()
    mapping: dict[str, str] = {}
    also: dict[str, list[str]] = {}
    errors: list[Issue] = []

    for canonical, wanted in (overrides or {}).items():
        if canonical not in {c.name for c in schema.columns}:
            errors.append(
                Issue(
                    code="bad-column-override",
                    level="error",
                    dataset=dataset,
                    file=file,
                    column=str(canonical),
                    key=f"columns.{dataset}.{canonical}",
                    message=f"config columns.{dataset}.{canonical}: '{canonical}' is not a {dataset} "
                    f"column (expected one of: {', '.join(c.name for c in schema.columns)})",
                )
            )
            continue
        hit = [h for h in headers if h == wanted] or [
            h for h in headers if keys[h] == header_key(wanted)
        ]
        if not hit:
            errors.append(
                Issue(
                    code="bad-column-override",
                    level="error",
                    dataset=dataset,
                    file=file,
                    column=str(wanted),
                    key=f"columns.{dataset}.{canonical}",
                    message=f"config columns.{dataset}.{canonical} names header '{wanted}', which is not "
                    f"in {file}; headers found: {', '.join(headers)}",
                )
            )
            continue
        mapping[canonical] = hit[0]
        claimed.add(hit[0])

    # type columns of wide survey files are claimed before synonyms run
    type_columns: dict[str, str] = {}
    if dataset == "surveys":
        for h in headers:
            if h in claimed:
                continue
            t = survey_type_of_header(h, survey_types)
            if t is not None:
                type_columns[h] = t
        claimed.update(type_columns)

    for col in schema.columns:
        if col.name in mapping:
            continue
        found: list[str] = []
        for syn in col.synonyms:
            sk = header_key(syn)
            found.extend(h for h in headers if keys[h] == sk and h not in found)
        free = [h for h in found if h not in claimed]
        if not free:
            continue
        mapping[col.name] = free[0]
        claimed.add(free[0])
        if len(free) > 1:
            also[col.name] = free[1:]

    flags: dict[str, frozenset] = {}
    if dataset == "billing":
        _billing_rules(mapping, keys, headers, flags, also)

    missing = [c for c in schema.required if c not in mapping]
    if dataset == "surveys" and type_columns and "score" in missing:
        missing.remove("score")
    if dataset == "surveys" and type_columns and "score" in mapping:
        # wide file: the type columns are the scores; a generic score column is not used
        also.setdefault("score", []).insert(0, mapping.pop("score"))
    if dataset == "surveys" and "submitted_at" in missing and "sent_at" in mapping:
        missing.remove("submitted_at")
    for canonical in missing:
        errors.append(_missing_issue(dataset, canonical, headers, keys, file))
    if errors:
        raise _fatal(errors, file)

    used = set(mapping.values()) | set(type_columns)
    unmapped = [h for h in headers if h not in used]
    return ColumnMatch(mapping, also, flags, unmapped, type_columns)


def _billing_rules(mapping, keys, headers, flags, also) -> None:
    """Amount flags (R2/R19), Stripe subscriptions, Converted Amount's currency."""
    from cs_metrics.schemas import SCHEMAS as _S

    amount = mapping.get("amount")
    if amount is None:
        return
    ak = keys[amount]
    col = _S["billing"].column("amount")
    f = set(col.flags.get(ak, frozenset()))
    hk = set(keys.values())
    subscription_shaped = (
        "quantity" in mapping
        and ("interval" in mapping or "period_start" in mapping)
        and not (hk & _INVOICE_MARKERS)
    )
    if subscription_shaped and ak == "amount":
        # Stripe subscriptions export: Amount is per unit per interval, tax excluded
        f = {"per_unit"}
        issued = mapping.get("issued_at")
        if issued is not None and keys[issued].startswith("created"):
            # a subscription's creation date is not an invoice date (R19)
            also.setdefault("issued_at", []).insert(0, mapping.pop("issued_at"))
    if ak == "converted amount":
        conv = [h for h in headers if keys[h] == "converted currency"]
        if conv:
            mapping["currency"] = conv[0]
    flags["amount"] = frozenset(f)


def _missing_issue(
    dataset: str, canonical: str, headers: list[str], keys: dict, file: str
) -> Issue:
    col = SCHEMAS[dataset].column(canonical)
    syn_keys = [header_key(s) for s in col.synonyms] + [header_key(canonical)]
    best, best_ratio = None, 0.0
    for h in headers:
        for sk in syn_keys:
            r = difflib.SequenceMatcher(None, keys[h], sk).ratio()
            if r > best_ratio:
                best, best_ratio = h, r
    found = ", ".join(f"'{h}'" for h in headers) or "(none)"
    hint = best if best is not None and best_ratio >= 0.5 else (headers[0] if headers else "Header")
    suggestion = f" Closest header: '{best}'." if best is not None and best_ratio >= 0.5 else ""
    msg = (
        f"{file}: required {dataset} column '{canonical}' not found. Headers found: {found}."
        f"{suggestion} To use a header, set in the config: "
        f'columns: {{{dataset}: {{{canonical}: "{hint}"}}}}'
    )
    return Issue(
        code="missing-column",
        level="error",
        dataset=dataset,
        file=file,
        column=canonical,
        value=best if suggestion else None,
        message=msg,
    )
