"""Canonical columns per dataset: name, value type, whether required, synonyms.

This is the contract between the loader and everything after it. After
loading, every dataset is a DataFrame whose columns are the canonical names
below (only those found in the file), with these dtypes:

- ``id`` / ``text``: pandas string dtype, stripped, blank → missing. Ids are
  never parsed as numbers (leading zeros and long ids survive).
- ``category``: like text but lower-cased (status, priority, channel, kind...).
- ``datetime``: naive datetime64 in UTC (zone-aware input converted to UTC).
- ``number`` / ``money``: float64 (money in the file's currency, as billed).
- ``duration``: float64 in the canonical unit in the column name
  (``*_minutes`` or ``*_seconds``), converted from the unit in the header.
- ``bool``: pandas nullable ``boolean``.

Extra (unmapped) columns of the accounts dataset are kept under their
original header as text, so ``--by`` and health measures can use any column.

Synonyms are ordered: the first header present wins (SPEC R1). Matching is
case- and punctuation-insensitive (see ``loading.columns.normalise_header``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

DATASETS = ("accounts", "tickets", "surveys", "billing", "usage")


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # id | text | category | datetime | number | money | duration | bool | int
    required: bool = False
    synonyms: tuple[str, ...] = ()
    description: str = ""
    # For duration columns: unit assumed when the header names none; None means
    # a header without a unit is a column error (SPEC R13).
    default_unit: str | None = None
    # Per-synonym flags (e.g. billing amount: tax_inclusive, per_unit, monthly),
    # keyed by the normalised synonym.
    flags: dict[str, frozenset[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class DatasetSchema:
    name: str
    columns: tuple[Column, ...]
    # file-name words that say a file holds this dataset (SPEC §1)
    name_hints: tuple[str, ...] = ()

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.required)


def _c(name, type_, required=False, synonyms=(), description="", **kw) -> Column:
    return Column(name, type_, required, tuple(synonyms), description, **kw)


# NOTE: the synonym lists are filled from EXPORTS-style vendor headers in
# synonyms.py (kept apart so this file stays readable); SCHEMAS below
# is the single source of canonical names and types.
from cs_metrics.synonyms import SYNONYMS, SYNONYM_FLAGS  # noqa: E402


def _schema(name: str, hints: tuple[str, ...], cols: list[tuple]) -> DatasetSchema:
    built = []
    for spec in cols:
        cname, ctype, req, desc, *rest = spec
        kw = rest[0] if rest else {}
        syn = SYNONYMS.get(name, {}).get(cname, (cname,))
        flags = SYNONYM_FLAGS.get(name, {}).get(cname, {})
        built.append(Column(cname, ctype, req, tuple(syn), desc, flags=flags, **kw))
    return DatasetSchema(name, tuple(built), hints)


SCHEMAS: dict[str, DatasetSchema] = {
    "accounts": _schema(
        "accounts",
        ("account", "accounts", "customer", "customers", "companies", "company", "crm", "organizations"),
        [
            ("account_id", "id", True, "the CRM's account key"),
            ("name", "text", False, "account (company) name; help desks refer to it"),
            ("domain", "text", False, "e-mail / web domain, links e-mails to the account"),
            ("segment", "text", False, "segment or tier"),
            ("plan", "text", False, "plan or product"),
            ("region", "text", False, "region or country"),
            ("owner", "text", False, "the CSM who owns the account"),
            ("created_at", "datetime", False, "customer since"),
            ("renewal_date", "datetime", False, "next renewal / contract end"),
            ("churned_at", "datetime", False, "when the account churned"),
            ("seats", "number", False, "licenses bought"),
            ("active_users", "number", False, "active users (snapshot)"),
            ("arr", "money", False, "ARR (used only without billing data)"),
            ("mrr", "money", False, "MRR (used only without billing data)"),
            ("csm_sentiment", "category", False, "red/yellow/green, 1-5 or 0-10"),
            ("advocate", "bool", False, "reference, case study or review given"),
            ("onboarded_at", "datetime", False, "onboarding finished"),
            ("first_value_at", "datetime", False, "first value reached"),
            ("goals_total", "number", False, "success-plan goals"),
            ("goals_met", "number", False, "success-plan goals met"),
            ("acquisition_cost", "money", False, "cost to acquire this account"),
        ],
    ),
    "tickets": _schema(
        "tickets",
        ("ticket", "tickets", "support", "helpdesk", "zendesk", "freshdesk", "conversations", "cases"),
        [
            ("ticket_id", "id", True, "ticket number"),
            ("created_at", "datetime", True, "when the ticket was opened"),
            ("account_id", "text", False, "the account as the help desk names it (id or name)"),
            ("requester_email", "text", False, "requester e-mail (domain links to an account)"),
            ("first_response_at", "datetime", False, "first agent reply"),
            ("first_response_minutes", "duration", False, "calendar minutes to first reply",
             {"default_unit": None}),
            ("first_response_business_minutes", "duration", False,
             "business-hours minutes to first reply", {"default_unit": None}),
            ("resolved_at", "datetime", False, "solved / resolved"),
            ("closed_at", "datetime", False, "closed"),
            ("status", "category", False, "status at export time"),
            ("priority", "category", False, "low / normal / high / urgent"),
            ("channel", "category", False, "email, chat, phone, web..."),
            ("agent", "text", False, "assignee"),
            ("type", "category", False, "issue category"),
            ("escalated", "bool", False, "escalated (flag or level)"),
            ("tags", "text", False, "tags; an `escalated` tag marks escalation (R9)"),
            ("reopens", "number", False, "times reopened"),
            ("agent_replies", "number", False, "public agent replies"),
            ("abandoned", "bool", False, "customer left before an answer"),
            ("satisfaction", "category", False, "good/bad or 1-5; offered/not offered = no rating"),
            ("hold_minutes", "duration", False, "time on hold", {"default_unit": None}),
        ],
    ),
    "surveys": _schema(
        "surveys",
        ("survey", "surveys", "nps", "csat", "ces", "responses", "feedback"),
        [
            ("score", "number", True, "the rating"),
            ("submitted_at", "datetime", True, "when the response was submitted"),
            ("account_id", "text", False, "the account (id or name)"),
            ("respondent", "text", False, "respondent (e-mail links through its domain)"),
            ("response_id", "id", False, "response id"),
            ("survey_type", "category", False, "nps, csat, ces or any other name"),
            ("comment", "text", False, "free text"),
            ("sent_at", "datetime", False, "when the survey was sent"),
        ],
    ),
    "billing": _schema(
        "billing",
        ("billing", "invoice", "invoices", "subscription", "subscriptions", "payments", "charges", "revenue"),
        [
            ("account_id", "text", True, "the account (id, name or billing customer id)"),
            ("amount", "money", True, "amount as billed (see R1/R2 for which column)"),
            ("invoice_id", "id", False, "invoice / subscription id"),
            ("currency", "text", False, "ISO code; none means the base currency"),
            ("issued_at", "datetime", False, "invoice date"),
            ("period_start", "datetime", False, "service period start"),
            ("period_end", "datetime", False, "service period end"),
            ("ended_at", "datetime", False, "subscription ended / cancelled"),
            ("interval", "category", False, "month/year/... or months as a number"),
            ("kind", "category", False, "recurring / one_time"),
            ("status", "category", False, "paid/open/void/draft/refunded..."),
            ("due_at", "datetime", False, "due date"),
            ("paid_at", "datetime", False, "paid date"),
            ("tax", "money", False, "tax included in the amount"),
            ("quantity", "number", False, "units (multiplies a per-unit amount)"),
            ("customer_email", "text", False, "billing e-mail (domain links to an account)"),
        ],
    ),
    "usage": _schema(
        "usage",
        ("usage", "events", "activity", "product", "logins", "analytics"),
        [
            ("account_id", "text", True, "the account (id or name)"),
            ("timestamp", "datetime", True, "when the event happened"),
            ("user_id", "id", False, "user"),
            ("event", "text", False, "event name"),
            ("duration_seconds", "duration", False, "session / event duration",
             {"default_unit": None}),
            ("count", "number", False, "events in this row (default 1)"),
        ],
    ),
}

# After linking, datasets other than accounts carry `account_id` = the linked
# accounts.account_id (missing for a ticket/survey orphan; billing and usage
# orphans are set aside) and `account_ref` = the raw reference as exported.
LINKED_DATASETS = ("tickets", "surveys", "billing", "usage")
