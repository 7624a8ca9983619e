"""Realistic sample exports of a fictional SaaS company (`csm sample`) and benchmark data.

Why: the README, smoke tests, the backtest and the benchmarks all need data
that looks like what users really export (HubSpot/Salesforce accounts,
Zendesk tickets, Delighted-style surveys, Stripe invoices, Mixpanel events),
including the messy bits, and whose health signals really predict churn.

Model: every account gets a latent health ``h ~ N(0, 1)``. ``h`` drives (with
noise) survey scores, ticket volume and urgency, product usage, late
payments, CSM sentiment, advocacy, goals met, seat expansion/contraction and
the churn probability, which rises steeply for low ``h``. Churners stop
billing at the end of their last service period (the CRM's ``Churned Date``),
their usage fades and their tickets surge in the months before.

Everything is vectorised with numpy/pyarrow (no per-row or per-account Python
loops), so the same code writes 300 accounts for the sample and millions of
rows for the benchmark. Independent random streams per table keep the
accounts identical whatever the other parameters are.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

DAY = 86_400
DEFAULT_AS_OF = date(2026, 10, 31)
HISTORY_MONTHS = 24  # tickets and surveys cover the two years ending at as_of
USAGE_DAYS = 365  # the usage export covers the last twelve months
EUR_RATE = 1.08  # units of USD per EUR, also written to csm.yaml

# Column headers exactly as the vendors export them (see sample_data/README.md).
ACCOUNT_COLUMNS = (
    "Record ID", "Company name", "Company Domain Name", "Segment", "Plan", "Country/Region",
    "Company owner", "Customer Since", "Renewal Date", "Churned Date", "Licenses",
    "CSM Sentiment", "Advocate", "Onboarded Date", "First Value Date", "Goals Total",
    "Goals Met", "Acquisition Cost", "Annual Revenue", "Number of Employees",
)
TICKET_COLUMNS = (
    "Id", "Requester", "Requester email", "Assignee", "Group", "Subject", "Tags", "Status",
    "Priority", "Via", "Ticket type", "Created at", "Updated at", "Organization", "Solved at",
    "Satisfaction Score", "Reopens", "Replies", "First reply time in minutes",
    "First reply time in minutes within business hours", "On hold time in minutes",
)
SURVEY_COLUMNS = (
    "Response ID", "Survey Type", "Score", "Comment", "Email", "Company", "Sent At",
    "Submitted At",
)
INVOICE_COLUMNS = (
    "id", "Number", "Customer", "Customer Name", "Customer Email", "Description", "Status",
    "Currency", "Subtotal", "Tax", "Total", "Amount Paid", "Amount Due", "Date (UTC)",
    "Due Date (UTC)", "Paid At (UTC)", "Minimum Line Item Period Start (UTC)",
    "Maximum Line Item Period End (UTC)", "Period Start (UTC)", "Period End (UTC)",
)
USAGE_COLUMNS = ("distinct_id", "event", "time", "company_id", "duration_seconds")

# Ticket organisations that are deliberately not in the CRM (orphans).
ORPHAN_ORGS = ("Initech Trial", "Globex Prospect", "Umbrella Labs (POC)", "Hooli Sandbox")
# Legal-form words, so tests (and users) can compare names the way the loader does.
LEGAL_SUFFIXES = (
    "inc", "llc", "corp", "ltd", "limited", "plc", "gmbh", "ag", "sas", "sa", "bv", "b.v.",
    "pty", "s.l.", "s.a.",
)
MESSY_SUBJECT = 'Refund, please: we were "double charged"\nsee the second invoice line'

_SEGMENTS = np.array(["SMB", "Mid-Market", "Enterprise"])
_SEG_P = (0.6, 0.3, 0.1)
_SEG_MRR = np.array([200.0, 1500.0, 8000.0])  # median USD per month
_SEG_SEATS = np.array([8.0, 40.0, 200.0])  # median seats
_SEG_TICKETS = np.array([0.5, 1.2, 3.0])  # relative ticket volume (× rate per account-month)
_SEG_SURVEYS = np.array([0.35, 0.8, 2.0])  # surveys sent per account-month
_SEG_ANNUAL = np.array([0.15, 0.35, 0.7])  # share billed annually
_SEG_SETUP = np.array([0.0, 2500.0, 10000.0])  # setup fee (one-off invoice)
_SEG_CAC = np.array([1500.0, 9000.0, 45000.0])
_SEG_REVENUE = np.array([5e6, 8e7, 2e9])  # the customer's OWN annual revenue
_SEG_EMPLOYEES = np.array([40.0, 600.0, 12000.0])
_PLANS = np.array(["Starter", "Growth", "Business", "Enterprise"])

_COUNTRIES = np.array([
    "United States", "United Kingdom", "Germany", "France", "Netherlands", "Canada",
    "Australia", "Spain",
])
_COUNTRY_P = (0.45, 0.12, 0.12, 0.07, 0.05, 0.08, 0.06, 0.05)
_COUNTRY_EUR = np.array([False, False, True, True, True, False, False, True])
_COUNTRY_VAT = np.array([0.0, 0.0, 0.19, 0.20, 0.21, 0.0, 0.0, 0.21])
_COUNTRY_TLD = np.array([".com", ".co.uk", ".de", ".fr", ".nl", ".ca", ".com.au", ".es"])
_LEGAL = (  # per country, padded by repetition so a uniform draw over 4 works
    ("Inc", "LLC", "Corp", "Inc"), ("Ltd", "Ltd", "Limited", "PLC"), ("GmbH", "GmbH", "AG", "GmbH"),
    ("SAS", "SA", "SAS", "SAS"), ("B.V.", "BV", "B.V.", "B.V."), ("Inc", "Ltd", "Inc", "Inc"),
    ("Pty Ltd", "Pty Ltd", "Pty Ltd", "Pty Ltd"), ("S.L.", "S.A.", "S.L.", "S.L."),
)

_W1 = (
    "Blue North Bright Silver Red Green Swift Clear Iron Golden Open True Bold Quiet Rapid "
    "Summit Cedar Maple Polar Coral Amber Lunar Solar Granite Harbor Pine River Stone Sky "
    "Oak Nova Prime Urban Alpine Atlas Delta Echo Falcon Glacier Hudson Indigo Juniper Kestrel "
    "Lake Meridian Nimbus Orchid Pioneer Quartz Sierra"
).split()
_W2 = (
    "Peak Bridge Field Forge Point Wave Path Gate Line Crest Works Yard Brook Ridge Hill Vale "
    "Port Spring Light Leaf Bay Rock Wood Star Moon Sun Wind Fox Bear Hawk Wolf Lynx Otter "
    "Heron Birch Elm Ash Fern Moss Reef Dune Mesa Canyon Harvest Signal Anchor Beacon Compass "
    "Lantern"
).split()
_W3 = (
    "Logistics Analytics Labs Foods Health Systems Software Media Energy Robotics Capital "
    "Consulting Studios Retail Apparel Insurance Travel Education Networks Pharma Dental Legal "
    "Marketing Security Cloud Motors Biotech Farms Hotels Fitness Games Payments Freight Design "
    "Data Realty Telecom Aviation Solar Water"
).split()
_FIRST = (
    "James Mary Robert Patricia John Jennifer Michael Linda David Elizabeth William Barbara "
    "Richard Susan Joseph Jessica Thomas Sarah Charles Karen Lena Jonas Sofia Lukas Emma Noah "
    "Mia Leon Hannah Paul Chloe Hugo Louise Jules Anna Daan Sanne Ines Pablo Lucia Aiko Ravi "
    "Priya Omar Fatima Chen Wei Olga Ivan"
).split()
_LAST = (
    "Smith Johnson Williams Brown Jones Garcia Miller Davis Martinez Lopez Wilson Anderson "
    "Taylor Thomas Moore Martin Lee Thompson White Harris Clark Lewis Walker Hall Young Muller "
    "Schmidt Schneider Fischer Weber Dubois Laurent Bernard Moreau Jansen DeVries Bakker "
    "Fernandez Ruiz Tanaka Patel Khan Nguyen Kowalski Novak Rossi Silva Cohen Murphy Kelly"
).split()
_CSMS = ("Alice Moreno", "Ben Okafor", "Chiara Rossi", "Dev Patel", "Elena Petrova",
         "Finn Larsen", "Grace Kim", "Hassan Ali")
_AGENTS = ("Ava Brooks", "Liam Chen", "Nora Fischer", "Owen Price", "Ruby Singh", "Sam Torres",
           "Tara Nolan", "Umar Farouk", "Vera Holm", "Yusuf Demir")
# ticket category -> (group, tag, subjects)
_CATEGORIES = (
    ("Billing", "billing", ("Question about our latest invoice", "Update billing address",
                            "Change payment method", "VAT number missing on invoice")),
    ("Technical", "bug", ("Dashboard not loading", "Export to CSV fails", "Sync stuck since morning",
                          "Error 500 when saving report")),
    ("Support", "how_to", ("How do I add users?", "Where can I change my password?",
                           "Question about permissions", "How to schedule a report")),
    ("Technical", "integration", ("Salesforce integration stopped syncing", "API rate limit errors",
                                  "Webhook not firing", "SSO setup with Okta")),
    ("Onboarding", "onboarding", ("Kick-off call follow-up", "Data import help",
                                  "Training session for new team", "Workspace setup questions")),
    ("Support", "feature_request", ("Feature request: dark mode", "Feature request: custom fields",
                                    "Can we get a Slack integration?", "Bulk edit request")),
)
_CAT_P = (0.15, 0.25, 0.25, 0.15, 0.08, 0.12)
_EVENTS = ("login", "view_dashboard", "create_report", "export_csv", "invite_user", "api_call",
           "share_report")
_EVENT_P = (0.28, 0.30, 0.14, 0.08, 0.02, 0.13, 0.05)
_COMMENTS_GOOD = ("Great product, the team loves it", "Support was fast and friendly",
                  "Saves us hours every week", "Easy to use", "Very happy, keep it up")
_COMMENTS_MID = ("Good overall but reports are slow", "Decent, missing a few features",
                 "OK. Pricing is a bit high", "Works, but onboarding took a while")
_COMMENTS_BAD = ("Too many bugs lately", "Support takes days to answer",
                 "We are evaluating alternatives", "Hard to use, the team gave up",
                 "Not worth the price, honestly")


# --------------------------------------------------------------------------- helpers

def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def _epoch(d: date) -> int:
    return int(np.datetime64(d, "D").astype("datetime64[s]").astype(np.int64))


def _ts(sec: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    """Epoch seconds → pyarrow timestamp (written as ``YYYY-MM-DD HH:MM:SS``)."""
    arr = np.asarray(sec, dtype=np.int64).astype("datetime64[s]")
    return pa.array(arr, mask=None if valid is None else ~np.asarray(valid, dtype=bool))


def _day(sec: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    """Epoch seconds → pyarrow date (written as ``YYYY-MM-DD``)."""
    arr = (np.asarray(sec, dtype=np.int64) // DAY).astype("datetime64[D]")
    return pa.array(arr, mask=None if valid is None else ~np.asarray(valid, dtype=bool))


def _money(x: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    """Decimal major units with two decimals, as Stripe's dashboard writes them."""
    arr = pa.array(np.round(np.asarray(x, dtype=float), 2),
                   mask=None if valid is None else ~np.asarray(valid, dtype=bool))
    return arr.cast(pa.decimal128(14, 2))


def _int(x: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    return pa.array(np.asarray(x, dtype=np.int64),
                    mask=None if valid is None else ~np.asarray(valid, dtype=bool))


def _take(words, idx, valid: np.ndarray | None = None) -> pa.Array:
    out = pa.array(list(words), pa.string()).take(pa.array(np.asarray(idx, dtype=np.int64)))
    if valid is not None:
        out = pc.if_else(pa.array(np.asarray(valid, dtype=bool)), out, pa.scalar(None, pa.string()))
    return out


def _join(*parts, sep: str = "") -> pa.Array:
    return pc.binary_join_element_wise(*parts, sep)


def _mask_str(arr: pa.Array, valid: np.ndarray) -> pa.Array:
    return pc.if_else(pa.array(np.asarray(valid, dtype=bool)), arr, pa.scalar(None, arr.type))


def _rand_ids(rng: np.random.Generator, n: int, width: int, prefix: str) -> pa.Array:
    """Random base-62 ids like Stripe's ``in_1Nq...`` without a Python loop."""
    alphabet = np.frombuffer(b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
                             dtype=np.uint8)
    codes = alphabet[rng.integers(0, 62, size=(n, width))]
    body = np.ascontiguousarray(codes).view(f"S{width}").ravel().astype(str)
    return _join(pa.scalar(prefix), pa.array(body))


def _allocate(rng: np.random.Generator, weights: np.ndarray, total: int | None) -> np.ndarray:
    """Rows per account: Poisson(weights) for the sample, exactly `total` for benchmarks."""
    weights = np.clip(np.asarray(weights, dtype=float), 0.0, None)
    if total is None:
        return rng.poisson(weights)
    if weights.sum() <= 0:
        weights = np.ones_like(weights)
    return rng.multinomial(int(total), weights / weights.sum())


def _months_add(day_sec: np.ndarray, months: np.ndarray, dom: np.ndarray) -> np.ndarray:
    """Midnight (epoch s) of day `dom` in the month `months` after the month of `day_sec`."""
    m = (np.asarray(day_sec, dtype=np.int64) // DAY).astype("datetime64[D]").astype("datetime64[M]")
    target = (m + np.asarray(months, dtype=np.int64)).astype("datetime64[D]") + (np.asarray(dom) - 1)
    return target.astype("datetime64[s]").astype(np.int64)


def _dom(sec: np.ndarray) -> np.ndarray:
    """Day of month (1..31) of epoch seconds."""
    d = (np.asarray(sec, dtype=np.int64) // DAY).astype("datetime64[D]")
    return (d - d.astype("datetime64[M]").astype("datetime64[D]")).astype(np.int64) + 1


# --------------------------------------------------------------------------- accounts

@dataclass
class World:
    """Account-level arrays shared by every table (index = account position)."""

    n: int
    as_of: date
    rid: np.ndarray  # Record ID text, zero-padded
    base: np.ndarray  # name without legal form
    name: np.ndarray
    domain: np.ndarray
    segment: np.ndarray  # 0 SMB, 1 Mid-Market, 2 Enterprise
    country: np.ndarray
    h: np.ndarray  # latent health
    created: np.ndarray  # epoch s (midnight)
    bill_start: np.ndarray  # epoch s of the first service period start
    dom: np.ndarray  # billing anchor day of month (1..28)
    interval: np.ndarray  # months per period: 1 or 12
    inclusive: np.ndarray  # bool: periods exported with inclusive ends (Jan 1 - Jan 31)
    n_periods: np.ndarray  # service periods billed (up to as_of or churn)
    churned: np.ndarray  # bool
    churn_at: np.ndarray  # epoch s of churn (end of last period), valid where churned
    seats0: np.ndarray
    price_seat: np.ndarray  # per seat per month in the account's currency
    change_at: np.ndarray  # (n, K) epoch s of seat changes
    change_f: np.ndarray  # (n, K) multiplicative factor (1 = no change)
    eur: np.ndarray  # bool
    vat: np.ndarray
    reactivated: np.ndarray  # bool
    gap: np.ndarray  # (n, 2) first period index and length of the reactivation gap
    suffix_swap: int  # account whose ticket export writes its legal form differently

    @property
    def as_of_end(self) -> int:
        return _epoch(self.as_of) + DAY

    @property
    def hist_start(self) -> int:
        return int(_months_add(np.array([_epoch(self.as_of) + DAY]), np.array([-HISTORY_MONTHS]),
                               np.array([1]))[0])

    @property
    def active_end(self) -> np.ndarray:
        return np.where(self.churned, self.churn_at, self.as_of_end)

    def seat_multiplier(self, acc: np.ndarray, t: np.ndarray) -> np.ndarray:
        on = self.change_at[acc] <= t[:, None]
        return np.where(on, self.change_f[acc], 1.0).prod(axis=1)


def build_world(accounts: int = 300, seed: int = 7, as_of: date = DEFAULT_AS_OF) -> World:
    """The accounts and their latent state; deterministic in (accounts, seed, as_of)."""
    n = int(accounts)
    if n < 1:
        raise ValueError("accounts must be at least 1")
    rng = np.random.default_rng(np.random.SeedSequence([seed, 0]))
    as_of_s = _epoch(as_of)
    hist = int(_months_add(np.array([as_of_s + DAY]), np.array([-HISTORY_MONTHS]), np.array([1]))[0])

    # arrival: 55% existed before the two-year history (back to 3 years), the rest arrive
    # uniformly during it, so some are created in the last month (CAC, new MRR)
    old = rng.random(n) < 0.55
    start_old = hist - 365 * DAY
    created = np.where(old, rng.integers(start_old, hist, n), rng.integers(hist, as_of_s + DAY, n))
    created = created // DAY * DAY
    order = np.argsort(created, kind="stable")
    created = created[order]
    old = old[order]

    segment = rng.choice(3, size=n, p=_SEG_P)
    country = rng.choice(len(_COUNTRIES), size=n, p=_COUNTRY_P)
    h = rng.standard_normal(n)
    # the legal-suffix trap: a UK "… Ltd" account that the help desk calls "… LIMITED"
    swap = int(np.flatnonzero(old)[0]) if old.any() else 0
    country[swap] = 1
    segment[swap] = 1
    h[swap] = max(h[swap], 0.5)

    # unique names: word triple (+ a number when there are more accounts than triples)
    cap = len(_W1) * len(_W2) * len(_W3)
    reps = -(-n // cap)
    k = rng.choice(cap * reps, size=n, replace=False)
    num, k = k // cap, k % cap
    i1, rest = k // (len(_W2) * len(_W3)), k % (len(_W2) * len(_W3))
    i2, i3 = rest // len(_W3), rest % len(_W3)
    w1, w2, w3 = (np.array(w)[i] for w, i in ((_W1, i1), (_W2, i2), (_W3, i3)))
    numtxt = np.where(num > 0, np.char.add(" ", (num + 1).astype(str)), "")
    base = np.char.add(np.char.add(np.char.add(np.char.add(w1, w2), " "), w3), numtxt)
    legal_tab = np.array(_LEGAL)
    legal = legal_tab[country, rng.integers(0, 4, n)]
    legal[swap] = "Ltd"
    name = np.char.add(np.char.add(base, " "), legal)
    slug = np.char.lower(np.char.replace(base, " ", ""))
    domain = np.char.add(slug, _COUNTRY_TLD[country])

    ids = rng.choice(np.arange(10_000, 10_000 + max(20 * n, 100_000)), size=n, replace=False)
    rid = np.char.zfill(np.sort(ids).astype(str), 7)  # HubSpot ids grow with creation time

    interval = np.where(rng.random(n) < _SEG_ANNUAL[segment], 12, 1)
    inclusive = (interval == 1) & (rng.random(n) < 0.06)
    dom = np.where(inclusive, 1, np.minimum(_dom(created), 28))
    # the first period starts on the creation day, or on the next anchor day
    bill_start = _months_add(created, np.zeros(n, dtype=np.int64), dom)
    bill_start = np.where(bill_start < created, _months_add(created, np.ones(n, np.int64), dom),
                          bill_start)

    def periods_before(limit: np.ndarray) -> np.ndarray:
        """Number of periods whose start is before `limit` (epoch s)."""
        ym = lambda s: (s // DAY).astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)
        k0 = np.maximum((ym(limit) - ym(bill_start)) // interval, 0)
        start_k0 = _months_add(bill_start, k0 * interval, dom)
        return np.where(start_k0 < limit, k0 + 1, k0)

    n_asof = periods_before(np.full(n, as_of_s + DAY))
    # churn: probability over two years rises steeply as h falls; exposure-scaled
    exp_from = np.maximum(created + 90 * DAY, hist)
    exposure = np.clip((as_of_s - exp_from) / (as_of_s - hist), 0.0, 1.0)
    p_churn = _sigmoid(-1.0 - 2.0 * h) * exposure
    p_churn[swap] = 0.0
    churn_draw = rng.random(n) < p_churn
    c_at = exp_from + (rng.random(n) * np.maximum(as_of_s - exp_from, 1)).astype(np.int64)
    n_churn = np.maximum(periods_before(c_at), 1)
    churn_at = _months_add(bill_start, n_churn * interval, dom)
    churned = churn_draw & (churn_at <= as_of_s)  # cancel-at-period-end beyond as_of: not yet
    n_periods = np.where(churned, n_churn, n_asof)

    seats0 = np.maximum(1, np.round(_SEG_SEATS[segment] * np.exp(rng.normal(0, 0.5, n))))
    mrr0 = _SEG_MRR[segment] * np.exp(rng.normal(0, 0.45, n) + 0.1 * h)
    eur = _COUNTRY_EUR[country]
    price_seat = np.round(mrr0 / seats0 / np.where(eur, EUR_RATE, 1.0), 2)
    K = 3
    life_end = np.where(churned, churn_at, as_of_s)
    change_at = bill_start[:, None] + (rng.random((n, K)) * (life_end - bill_start)[:, None]).astype(np.int64)
    change_f = np.where(rng.random((n, K)) < 0.4,
                        np.exp(rng.normal(0.06 + 0.12 * h[:, None], 0.15, (n, K))), 1.0)

    # reactivation: a few long-standing monthly accounts paused billing for 2-4 months
    cand = np.flatnonzero((interval == 1) & ~churned & (n_periods >= 20) & ~inclusive)
    cand = cand[cand != swap]
    n_react = min(len(cand), max(1, n // 150))
    react_idx = rng.choice(cand, size=n_react, replace=False) if n_react else np.array([], int)
    reactivated = np.zeros(n, bool)
    reactivated[react_idx] = True
    gap = np.zeros((n, 2), np.int64)
    gap[react_idx, 1] = rng.integers(2, 5, n_react)
    gap[react_idx, 0] = n_periods[react_idx] - 14 + rng.integers(0, 6, n_react)

    return World(
        n=n, as_of=as_of, rid=rid, base=base, name=name, domain=domain, segment=segment,
        country=country, h=h, created=created, bill_start=bill_start, dom=dom, interval=interval,
        inclusive=inclusive, n_periods=n_periods, churned=churned,
        churn_at=np.where(churned, churn_at, 0), seats0=seats0, price_seat=price_seat,
        change_at=change_at, change_f=change_f, eur=eur, vat=_COUNTRY_VAT[country],
        reactivated=reactivated, gap=gap, suffix_swap=swap,
    )


def latent_frame(accounts: int = 300, seed: int = 7, as_of: date = DEFAULT_AS_OF):
    """The hidden truth behind a sample (for tests and backtest demos): Record ID, h, churn."""
    import pandas as pd

    w = build_world(accounts, seed, as_of)
    return pd.DataFrame({
        "account_id": pd.array(w.rid, dtype="str"),
        "name": pd.array(w.name, dtype="str"),
        "h": w.h,
        "churned": w.churned,
        "churned_at": pd.Series(pd.to_datetime(w.churn_at, unit="s")).where(w.churned),
        "reactivated": w.reactivated,
    })


def _accounts_table(w: World, rng: np.random.Generator) -> pa.Table:
    n = w.n
    h = w.h
    now = w.as_of_end
    seg = w.segment
    plan = np.where(seg == 2, 3, np.where(seg == 1, 1 + (rng.random(n) < 0.5),
                                          (rng.random(n) < 0.4).astype(int)))
    life_end = np.where(w.churned, w.churn_at - 1, now - 1)
    seats = np.maximum(1, np.round(w.seats0 * w.seat_multiplier(np.arange(n), life_end)))
    # renewal: the contract's next anniversary after as_of (or the churn date)
    years = np.maximum(((now - w.created) // (365 * DAY)) + 1, 1)
    renewal = _months_add(w.created, 12 * years, np.minimum(_dom(w.created), 28))
    renewal = np.where(renewal < now, _months_add(renewal, np.full(n, 12), _dom(renewal)), renewal)
    renewal = np.where(w.churned, w.churn_at, renewal)

    s = h + rng.normal(0, 0.7, n)
    sentiment = np.where(s < -0.8, 2, np.where(s < 0.3, 1, 0))
    sentiment_ok = rng.random(n) > 0.05
    advocate = (h + rng.normal(0, 0.8, n) > 1.2).astype(int)
    advocate_ok = rng.random(n) > 0.08
    onboard = w.created + (np.exp(np.log(30) - 0.25 * h + rng.normal(0, 0.4, n)) * DAY).astype(np.int64)
    onboard = onboard // DAY * DAY
    onboard_ok = onboard < now
    value_at = onboard + (np.exp(np.log(20) - 0.3 * h + rng.normal(0, 0.5, n)) * DAY).astype(np.int64)
    value_at = value_at // DAY * DAY
    value_ok = onboard_ok & (value_at < now) & (rng.random(n) < _sigmoid(1.5 + 1.5 * h))
    goals_total = 1 + rng.poisson(np.array([1.5, 2.5, 4.0])[seg])
    goals_met = rng.binomial(goals_total, _sigmoid(0.1 + 1.2 * h))
    goals_ok = rng.random(n) > 0.1
    cac = _SEG_CAC[seg] * np.exp(rng.normal(0, 0.35, n))
    cac_ok = (rng.random(n) > 0.2) | (w.created > now - 120 * DAY)
    revenue = np.round(_SEG_REVENUE[seg] * np.exp(rng.normal(0, 0.8, n)), -3)
    employees = np.maximum(2, np.round(_SEG_EMPLOYEES[seg] * np.exp(rng.normal(0, 0.6, n))))

    return pa.table({
        "Record ID": pa.array(w.rid.astype(str)),
        "Company name": pa.array(w.name.astype(str)),
        "Company Domain Name": pa.array(w.domain.astype(str)),
        "Segment": _take(_SEGMENTS, seg),
        "Plan": _take(_PLANS, plan),
        "Country/Region": _take(_COUNTRIES, w.country),
        "Company owner": _take(_CSMS, rng.integers(0, len(_CSMS), n)),
        "Customer Since": _day(w.created),
        "Renewal Date": _day(renewal),
        "Churned Date": _day(w.churn_at, w.churned),
        "Licenses": _int(seats),
        "CSM Sentiment": _take(("Green", "Yellow", "Red"), sentiment, sentiment_ok),
        "Advocate": _take(("No", "Yes"), advocate, advocate_ok),
        "Onboarded Date": _day(onboard, onboard_ok),
        "First Value Date": _day(value_at, value_ok),
        "Goals Total": _int(goals_total, goals_ok),
        "Goals Met": _int(goals_met, goals_ok),
        "Acquisition Cost": _money(cac, cac_ok),
        "Annual Revenue": _int(revenue),
        "Number of Employees": _int(employees),
    })


# --------------------------------------------------------------------------- billing

def _invoices_table(w: World, rng: np.random.Generator, rows: int | None, messy: bool) -> pa.Table:
    n = w.n
    now = w.as_of_end
    acc = np.repeat(np.arange(n), w.n_periods)
    first = np.repeat(np.cumsum(w.n_periods) - w.n_periods, w.n_periods)
    k = np.arange(len(acc)) - first
    keep = ~((k >= w.gap[acc, 0]) & (k < w.gap[acc, 0] + w.gap[acc, 1]))
    acc, k = acc[keep], k[keep]
    iv = w.interval[acc]
    p_start = _months_add(w.bill_start[acc], k * iv, w.dom[acc])
    p_end = _months_add(w.bill_start[acc], (k + 1) * iv, w.dom[acc])
    seats = np.maximum(1, np.round(w.seats0[acc] * w.seat_multiplier(acc, p_start)))
    subtotal = np.round(w.price_seat[acc] * seats * np.where(iv == 12, 12 * 0.9, 1.0), 2)
    one_off = np.zeros(len(acc), bool)
    last_rec = np.r_[acc[1:] != acc[:-1], True]  # last recurring row per account

    # setup fees: one-off invoices at the start, without a line-item service period
    setup_acc = np.flatnonzero((_SEG_SETUP[w.segment] > 0) & (rng.random(n) < 0.5))
    if rows is not None and len(acc) > rows:  # benchmark: keep exactly `rows` (random subset)
        sel = np.sort(rng.choice(len(acc), size=rows, replace=False))
        acc, k, p_start, p_end, subtotal = acc[sel], k[sel], p_start[sel], p_end[sel], subtotal[sel]
        one_off, last_rec = one_off[sel], np.r_[acc[1:] != acc[:-1], True]
        setup_acc = setup_acc[:0]
    extra = 0 if rows is None else rows - len(acc)
    if rows is None:
        o_acc = setup_acc
        o_when = w.bill_start[o_acc]
        o_amt = _SEG_SETUP[w.segment[o_acc]] * np.exp(rng.normal(0, 0.2, len(o_acc)))
    else:  # benchmark fill-up: one-off overage invoices inside each account's life
        o_acc = rng.choice(n, size=extra)
        o_when = w.bill_start[o_acc] + (rng.random(extra) * (w.active_end - w.bill_start)[o_acc]).astype(np.int64)
        o_amt = 50 + rng.exponential(300, extra)
    o_amt = np.round(o_amt / np.where(w.eur[o_acc], EUR_RATE, 1.0), 2)
    acc = np.concatenate([acc, o_acc])
    k = np.concatenate([k, np.full(len(o_acc), -1)])
    p_start = np.concatenate([p_start, o_when])
    p_end = np.concatenate([p_end, o_when])
    subtotal = np.concatenate([subtotal, o_amt])
    one_off = np.concatenate([one_off, np.ones(len(o_acc), bool)])
    last_rec = np.concatenate([last_rec, np.zeros(len(o_acc), bool)])
    m = len(acc)

    tod = (w.created[acc] * 7919 + 3600 * 9) % (10 * 3600) + 8 * 3600  # a stable time of day
    issued = p_start + np.where(w.inclusive[acc] & ~one_off, 0, tod)
    issued = np.minimum(issued, now - 60)
    due = issued + 30 * DAY
    late = rng.random(m) < _sigmoid(-2.6 - 1.3 * w.h[acc])
    delay = np.where(late, rng.uniform(31, 80, m),
                     np.where(rng.random(m) < 0.6, rng.uniform(0, 0.02, m), rng.uniform(1, 25, m)))
    paid_at = issued + (delay * DAY).astype(np.int64)
    uncollectible = last_rec & w.churned[acc] & (w.h[acc] < -0.8) & (rng.random(m) < 0.4)
    paid = (paid_at < now) & ~uncollectible
    status = np.where(paid, 0, np.where(uncollectible, 3, 1))  # paid, open, void, uncollectible, draft

    tax = np.round(subtotal * w.vat[acc], 2)
    total = subtotal + tax
    order = np.lexsort((issued, acc))
    cols = dict(acc=acc, k=k, p_start=p_start, p_end=p_end, subtotal=subtotal, one_off=one_off,
                issued=issued, due=due, paid_at=paid_at, status=status, tax=tax, total=total)
    cols = {key: v[order] for key, v in cols.items()}
    acc = cols["acc"]
    first_idx = np.r_[0, np.flatnonzero(acc[1:] != acc[:-1]) + 1]
    seq = np.arange(m) - np.repeat(first_idx, np.diff(np.r_[first_idx, m])) + 1

    if messy and rows is None and m > 10:
        cols, seq = _messy_invoices(w, rng, cols, seq)
    acc = cols["acc"]
    m = len(acc)
    status = cols["status"]
    paid = status == 0
    one_off = cols["one_off"]
    iv = w.interval[acc]
    p_start, p_end = cols["p_start"], cols["p_end"]
    line_end = np.where(w.inclusive[acc], p_end - DAY, p_end)
    # Stripe's Period Start/End on a renewal invoice describe the PREVIOUS period
    prev_start = _months_add(p_start, -iv, w.dom[acc])
    has_prev = (cols["k"] > 0) & ~one_off
    ps_col = np.where(has_prev, prev_start, cols["issued"])
    pe_col = np.where(has_prev, p_start, cols["issued"])

    prefix = _rand_ids(rng, w.n, 8, "")
    prefix = pc.utf8_upper(prefix).take(pa.array(acc))
    number = _join(prefix, pc.utf8_lpad(pc.cast(pa.array(seq), pa.string()), 4, "0"), sep="-")
    number = _mask_str(number, status != 4)  # Stripe numbers an invoice when it is finalised
    currency = np.where(w.eur[acc], 1, 0)
    return pa.table({
        "id": _rand_ids(rng, m, 24, "in_1"),
        "Number": number,
        "Customer": pa.array(w.rid.astype(str)).take(pa.array(acc)),
        "Customer Name": pa.array(w.name.astype(str)).take(pa.array(acc)),
        "Customer Email": _join(pa.scalar("billing@"), pa.array(w.domain.astype(str)).take(pa.array(acc))),
        "Description": _take(("", "Setup fee" if rows is None else "Overage"), one_off.astype(int),
                             one_off),
        "Status": _take(("paid", "open", "void", "uncollectible", "draft"), status),
        "Currency": _take(("usd", "eur"), currency),
        "Subtotal": _money(cols["subtotal"]),
        "Tax": _money(cols["tax"]),
        "Total": _money(cols["total"]),
        "Amount Paid": _money(np.where(paid, cols["total"], 0.0)),
        "Amount Due": _money(cols["total"]),
        "Date (UTC)": _ts(cols["issued"]),
        "Due Date (UTC)": _ts(cols["due"]),
        "Paid At (UTC)": _ts(cols["paid_at"], paid),
        "Minimum Line Item Period Start (UTC)": _ts(p_start, ~one_off),
        "Maximum Line Item Period End (UTC)": _ts(line_end, ~one_off),
        "Period Start (UTC)": _ts(ps_col),
        "Period End (UTC)": _ts(pe_col),
    })


def _messy_invoices(w: World, rng, cols: dict, seq: np.ndarray):
    """Add one void duplicate and one draft for the next period (sample only)."""
    acc = cols["acc"]
    rec = np.flatnonzero(~cols["one_off"] & (cols["status"] == 0))
    v = rec[len(rec) // 2]  # a paid invoice issued twice by mistake: the copy is void
    live = np.intersect1d(np.flatnonzero(~w.churned & (w.interval == 1) & ~w.reactivated),
                          acc[~cols["one_off"]])
    if len(live) == 0:
        return cols, seq
    a = live[len(live) // 3]
    last = np.flatnonzero((acc == a) & ~cols["one_off"])[-1]
    add = {key: np.array([val[v], val[last]]) for key, val in cols.items()}
    add["status"] = np.array([2, 4])
    add["k"][1] = cols["k"][last] + 1
    add["p_start"][1] = cols["p_end"][last]
    add["p_end"][1] = _months_add(cols["p_end"][last:last + 1], np.array([1]), w.dom[a:a + 1])[0]
    add["issued"][1] = w.as_of_end - DAY + 9 * 3600  # drafted on as_of for the next period
    add["due"][1] = add["issued"][1] + 30 * DAY
    out = {key: np.insert(val, [v + 1, last + 1], add[key]) for key, val in cols.items()}
    seq2 = np.insert(seq, [v + 1, last + 1], [seq[v] + 1000, seq[last] + 1])
    return out, seq2


# --------------------------------------------------------------------------- tickets

def _tickets_table(w: World, rng: np.random.Generator, rows: int | None, rate: float | None,
                   messy: bool) -> pa.Table:
    n = w.n
    now = w.as_of_end
    start = np.maximum(w.created, w.hist_start)
    end = w.active_end
    months = np.clip(end - start, 0, None) / (30.4375 * DAY)
    lam = (1.0 if rate is None else rate) * _SEG_TICKETS[w.segment] * np.exp(-0.45 * w.h) * months
    counts = _allocate(rng, lam, rows)
    acc = np.repeat(np.arange(n), counts)
    created = start[acc] + (rng.random(len(acc)) * (end - start)[acc]).astype(np.int64)
    if rows is None:  # churners' tickets surge in the 75 days before they leave
        surge = _allocate(rng, np.where(w.churned, 2.0 * _SEG_TICKETS[w.segment] + 1, 0.0), None)
        s_acc = np.repeat(np.arange(n), surge)
        s_from = np.maximum(w.churn_at[s_acc] - 75 * DAY, start[s_acc])
        s_created = s_from + (rng.random(len(s_acc)) * (w.churn_at[s_acc] - s_from)).astype(np.int64)
        acc = np.concatenate([acc, s_acc])
        created = np.concatenate([created, s_created])
    order = np.argsort(created, kind="stable")
    acc, created = acc[order], created[order]
    m = len(acc)
    h = w.h[acc]

    pri_u = rng.random(m)
    p_urgent = _sigmoid(-2.6 - 0.8 * h)
    priority = np.where(pri_u < p_urgent, 3, np.where(pri_u < p_urgent + 0.15, 2,
                        np.where(pri_u < p_urgent + 0.35, 0, 1)))
    priority_ok = rng.random(m) > 0.04
    cat = rng.choice(len(_CATEGORIES), size=m, p=_CAT_P)
    subj = rng.integers(0, 4, m)
    reply_min = np.exp(np.log(np.where(priority == 3, 15.0, 70.0)) - 0.2 * h + rng.normal(0, 1.0, m))
    replied = created + (reply_min * 60).astype(np.int64) < now
    resolve_h = np.exp(np.log(np.where(priority == 3, 6.0, 20.0)) - 0.25 * h + rng.normal(0, 1.2, m))
    solved_at = created + (resolve_h * 3600).astype(np.int64)
    solved = replied & (solved_at < now) & (rng.random(m) > 0.01)  # 1% stuck open
    status = np.where(solved, np.where(solved_at < now - 4 * DAY, 5, 4),
                      np.where(~replied, 0, rng.choice([1, 2, 3], size=m, p=[0.6, 0.3, 0.1])))
    replies = np.where(solved, 1 + rng.poisson(0.7 + 0.4 * np.clip(-h, 0, None)),
                       np.where(replied, 1 + rng.poisson(0.5, m), 0))
    reopens = np.where(solved, rng.poisson(0.1 * np.exp(-0.6 * h)), 0)
    hold = np.where(rng.random(m) < 0.15, np.round(np.exp(np.log(240) + rng.normal(0, 1, m))), 0)
    esc = rng.random(m) < (_sigmoid(-3.3 - 0.9 * h) + 0.15 * (priority == 3))
    sat_u = rng.random(m)
    rated = solved & (sat_u < 0.35)
    good = rng.random(m) < _sigmoid(1.6 + 1.3 * h)
    sat = np.where(rated, np.where(good, 0, 1), np.where(solved & (sat_u < 0.55), 2, 3))
    sat_ok = rng.random(m) > (0.01 if messy else 0.0)  # a few blank satisfaction cells
    updated = np.where(solved, solved_at, created + (reply_min * 60).astype(np.int64) * replied)
    updated = np.minimum(updated + (rng.random(m) * 2 * DAY).astype(np.int64), now - 1)
    updated = np.maximum(updated, created)
    bh_min = np.floor(reply_min * rng.uniform(0.3, 1.0, m))

    # requesters: a person at the account's domain
    fi = rng.integers(0, len(_FIRST), m)
    la = rng.integers(0, len(_LAST), m)
    first, last = _take(_FIRST, fi), _take(_LAST, la)
    dom = pa.array(w.domain.astype(str)).take(pa.array(acc))
    email = _join(pc.utf8_lower(_join(first, last, sep=".")), dom, sep="@")
    # organisation as the help desk writes it: mostly the CRM name, sometimes not quite
    org = pa.array(w.name.astype(str)).take(pa.array(acc))
    variant = rng.choice(5, size=m, p=[0.8, 0.07, 0.05, 0.05, 0.03])
    base = pa.array(w.base.astype(str)).take(pa.array(acc))
    org = pc.case_when(
        pc.make_struct(pa.array(variant == 1), pa.array(variant == 2), pa.array(variant == 3),
                       pa.array(variant == 4)),
        pc.utf8_lower(org), pc.utf8_upper(org),
        _join(pc.replace_substring(org, " ", "  ", max_replacements=1), pa.scalar(" ")), base, org)
    swap = acc == w.suffix_swap
    org = pc.if_else(pa.array(swap), _join(pc.utf8_upper(base), pa.scalar("Limited"), sep=" "), org)
    kind_u = rng.random(m)
    orphan = kind_u < (0.006 if messy else 0.0)
    domain_only = (kind_u >= 0.006) & (kind_u < 0.02) if messy else np.zeros(m, bool)
    orphan_name = _take(ORPHAN_ORGS, rng.integers(0, len(ORPHAN_ORGS), m))
    org = pc.if_else(pa.array(orphan), orphan_name, org)
    org = _mask_str(org, ~domain_only)
    orphan_dom = _join(pc.utf8_lower(pc.replace_substring_regex(orphan_name, "[^A-Za-z]", "")),
                       pa.scalar("example.net"), sep=".")
    email = pc.if_else(pa.array(orphan), _join(pc.utf8_lower(first), orphan_dom, sep="@"), email)

    subject = _take([s for c in _CATEGORIES for s in c[2]], cat * 4 + subj)
    tags = _join(_take([c[1] for c in _CATEGORIES], cat),
                 _take(("", " escalated"), esc.astype(int)),
                 _take(("", " vip"), (w.segment[acc] == 2).astype(int)))
    assignee_ok = replied
    table = {
        "Id": _int(100_001 + np.arange(m)),
        "Requester": _join(first, last, sep=" "),
        "Requester email": email,
        "Assignee": _take(_AGENTS, rng.integers(0, len(_AGENTS), m), assignee_ok),
        "Group": _take([c[0] for c in _CATEGORIES], cat),
        "Subject": subject,
        "Tags": tags,
        "Status": _take(("New", "Open", "Pending", "On-hold", "Solved", "Closed"), status),
        "Priority": _take(("Low", "Normal", "High", "Urgent"), priority, priority_ok),
        "Via": _take(("Mail", "Web form", "Chat", "Phone call", "API"),
                     rng.choice(5, size=m, p=[0.4, 0.3, 0.15, 0.08, 0.07])),
        "Ticket type": _take(("Question", "Incident", "Problem", "Task"),
                             rng.choice(4, size=m, p=[0.45, 0.32, 0.11, 0.12]), rng.random(m) > 0.05),
        "Created at": _ts(created),
        "Updated at": _ts(updated),
        "Organization": org,
        "Solved at": _ts(solved_at, solved),
        "Satisfaction Score": _take(("Good", "Bad", "Offered", "Not Offered"), sat, sat_ok),
        "Reopens": _int(reopens),
        "Replies": _int(replies),
        "First reply time in minutes": _int(np.floor(reply_min), replied),
        "First reply time in minutes within business hours": _int(bh_min, replied),
        "On hold time in minutes": _int(hold),
    }
    out = pa.table(table)
    if messy and m > 20:
        out = _messy_tickets(out, rng)
    return out


def _as_text(table: pa.Table) -> "pa.Table":
    cols = {}
    for name in table.column_names:
        col = table[name]
        if pa.types.is_timestamp(col.type):
            col = pc.strftime(col, format="%Y-%m-%d %H:%M:%S")
        elif not pa.types.is_string(col.type):
            col = pc.cast(col, pa.string())
        cols[name] = col
    return pa.table(cols)


def _messy_tickets(table: pa.Table, rng) -> pa.Table:
    """The broken rows a real Zendesk export has (sample only), at fixed, findable places."""
    import pandas as pd

    df = _as_text(table).to_pandas()
    m = len(df)
    df.loc[m // 7, "Subject"] = MESSY_SUBJECT  # comma, quotes and a line break
    df.loc[m // 5, "Created at"] = "2026-13-45 25:61:00"  # unparseable date
    df.loc[m // 3, "First reply time in minutes"] = "-15"  # negative duration
    future = df.iloc[[m // 2]].copy()
    future["Id"] = str(100_001 + m)
    future["Created at"] = "2031-03-14 10:15:00"  # future-dated (bad clock on an integration)
    future["Updated at"] = "2031-03-14 10:20:00"
    future["Solved at"] = pd.NA
    future["Status"] = "New"
    dup = df.iloc[[m - 3]].copy()  # the same ticket exported twice
    df = pd.concat([df, dup, future], ignore_index=True)
    return pa.Table.from_pandas(df, preserve_index=False)


# --------------------------------------------------------------------------- surveys

def _surveys_table(w: World, rng: np.random.Generator, rows: int | None, messy: bool) -> pa.Table:
    n = w.n
    now = w.as_of_end
    start = np.maximum(w.created + 30 * DAY, w.hist_start)
    end = w.active_end
    months = np.clip(end - start, 0, None) / (30.4375 * DAY)
    counts = _allocate(rng, _SEG_SURVEYS[w.segment] * months, rows)
    acc = np.repeat(np.arange(n), counts)
    m = len(acc)
    span = np.maximum(end - start, DAY)[acc]
    sent = np.minimum(start[acc], end[acc] - DAY) + (rng.random(m) * span).astype(np.int64)
    order = np.argsort(sent, kind="stable")
    acc, sent = acc[order], sent[order]
    h = w.h[acc]
    stype = rng.choice(3, size=m, p=[0.55, 0.35, 0.10])  # nps, csat, ces
    noise = rng.normal(0, 1, m)
    nps = np.clip(np.round(7.6 + 1.9 * h + 1.4 * noise), 0, 10)
    csat = np.clip(np.round(4.0 + 0.8 * h + 0.8 * noise), 1, 5)
    ces = np.clip(np.round(5.0 + 1.0 * h + 1.0 * noise), 1, 7)
    score = np.where(stype == 0, nps, np.where(stype == 1, csat, ces))
    submitted = sent + (rng.exponential(1.5, m) * DAY).astype(np.int64)
    answered = (rng.random(m) < _sigmoid(-0.2 + 0.6 * h)) & (submitted < now)
    # sentiment of the comment follows the score on its own scale
    frac = np.where(stype == 0, score / 10, np.where(stype == 1, (score - 1) / 4, (score - 1) / 6))
    mood = np.where(frac >= 0.8, 0, np.where(frac >= 0.55, 1, 2))
    pools = (_COMMENTS_GOOD, _COMMENTS_MID, _COMMENTS_BAD)
    pick = rng.integers(0, 4, m)
    comment = _take([c for p in pools for c in p[:4]], mood * 4 + pick, answered & (rng.random(m) < 0.4))
    fi = rng.integers(0, len(_FIRST), m)
    la = rng.integers(0, len(_LAST), m)
    email = _join(pc.utf8_lower(_join(_take(_FIRST, fi), _take(_LAST, la), sep=".")),
                  pa.array(w.domain.astype(str)).take(pa.array(acc)), sep="@")
    company = _mask_str(pa.array(w.name.astype(str)).take(pa.array(acc)), rng.random(m) > 0.1)
    out = pa.table({
        "Response ID": _int(10**8 + np.cumsum(rng.integers(1, 40, m))),
        "Survey Type": _take(("nps", "csat", "ces"), stype),
        "Score": _int(score, answered),
        "Comment": comment,
        "Email": email,
        "Company": company,
        "Sent At": _ts(sent),
        "Submitted At": _ts(submitted, answered),
    })
    if messy and m > 10:
        df = _as_text(out).to_pandas()
        nps_answered = np.flatnonzero((stype == 0) & answered)
        if len(nps_answered):
            df.loc[nps_answered[len(nps_answered) // 2], "Score"] = "11"  # out of scale
        ans = np.flatnonzero(answered)
        if len(ans):
            df.loc[ans[len(ans) // 4], "Comment"] = 'Fine, but "reports" are slow, please fix'
        out = pa.Table.from_pandas(df, preserve_index=False)
    return out


# --------------------------------------------------------------------------- usage

def _usage_table(w: World, rng: np.random.Generator, rows: int | None) -> pa.Table:
    n = w.n
    start = np.maximum(w.created, w.as_of_end - USAGE_DAYS * DAY)
    end = w.active_end
    days = np.clip(end - start, 0, None) / DAY
    seats_now = w.seats0 * w.seat_multiplier(np.arange(n), np.maximum(end - 1, start))
    per_seat_day = 0.65 * _sigmoid(0.2 + 1.4 * w.h) / 30.4375
    counts = _allocate(rng, seats_now * per_seat_day * days, rows)
    acc = np.repeat(np.arange(n), counts)
    m = len(acc)
    t = start[acc] + (rng.random(m) * np.maximum(end - start, 0)[acc]).astype(np.int64)
    if rows is None:  # usage fades over the 120 days before churn
        fade = np.where(w.churned[acc], np.clip((w.churn_at[acc] - t) / (120 * DAY), 0.1, 1.0), 1.0)
        keep = rng.random(m) < fade
        acc, t = acc[keep], t[keep]
        m = len(acc)
    order = np.argsort(t, kind="stable")
    acc, t = acc[order], t[order]
    # a few power users do most of the events, so active users < seats
    user = np.floor(np.maximum(seats_now[acc], 1) * rng.random(m) ** 1.7).astype(np.int64)
    ev = rng.choice(len(_EVENTS), size=m, p=_EVENT_P)
    dur = np.round(np.exp(np.log(np.where(ev == 0, 600.0, 90.0)) + rng.normal(0, 0.8, m)))
    rid = pa.array(w.rid.astype(str)).take(pa.array(acc))
    return pa.table({
        "distinct_id": _join(pa.scalar("u"), rid, pc.utf8_lpad(pc.cast(pa.array(user), pa.string()),
                                                               4, "0"), sep="-"),
        "event": _take(_EVENTS, ev),
        "time": _int(t),
        "company_id": rid,
        "duration_seconds": _int(dur),
    })


# --------------------------------------------------------------------------- writing

def _write_csv(table: pa.Table, path: Path, *, bom: bool = False, crlf: bool = False,
               footer: tuple[str, ...] = (), minimal_quotes: bool = True) -> Path:
    """Write atomically. Minimal quoting (as the vendors do) through pandas for the
    sample; pyarrow's fast writer (every text cell quoted) for the benchmark."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    eol = "\r\n" if crlf else "\n"
    with open(tmp, "wb") as fh:
        if bom:
            fh.write(b"\xef\xbb\xbf")
        if minimal_quotes:
            _as_text(table).to_pandas().to_csv(fh, index=False, lineterminator=eol,
                                               encoding="utf-8", chunksize=50_000)
        else:
            opts = pacsv.WriteOptions(quoting_style="needed", quoting_header="none", eol=eol,
                                      batch_size=65_536)
            pacsv.write_csv(table, fh, opts)
        for line in footer:
            fh.write((line + eol).encode("utf-8"))
    tmp.replace(path)
    return path


CONFIG_YAML = f"""\
# csm config for the bundled sample data: only what differs from the built-in
# defaults. Some customers are billed in EUR, so MRR needs a rate (SPEC R23).
currency:
  base: USD
  rates:
    EUR: {EUR_RATE}
"""


def write_sample(out_dir: Path, *, accounts: int = 300, seed: int = 7,
                 as_of: date = DEFAULT_AS_OF, tickets_per_account_month: float | None = None,
                 formats: str = "mixed") -> dict[str, Path]:
    """Write the sample exports of a fictional SaaS company into `out_dir`.

    `formats="mixed"` writes the files as the vendors do, messy bits included
    (Salesforce footer, duplicate account, BOM + CRLF surveys, broken ticket
    rows...); `formats="clean"` writes plain UTF-8 CSV with the same headers
    and none of the deliberate problems. Returns dataset name → path
    (plus "config" → csm.yaml).
    """
    if formats not in ("mixed", "clean"):
        raise ValueError("formats must be 'mixed' or 'clean'")
    messy = formats == "mixed"
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    w = build_world(accounts, seed, as_of)
    streams = [np.random.default_rng(np.random.SeedSequence([seed, i])) for i in range(1, 6)]

    acc_table = _accounts_table(w, streams[0])
    footer: tuple[str, ...] = ()
    if messy:
        dup = acc_table.slice(w.n // 2, 1)  # the same company entered twice
        acc_table = pa.concat_tables([acc_table, dup])
        footer = ("", f'"Grand Totals ({acc_table.num_rows} records)"',
                  '"Confidential Information - Do Not Distribute"',
                  f'"Copyright (c) 2000-{as_of.year} salesforce.com, inc. All rights reserved."')
    paths = {
        "accounts": _write_csv(acc_table, out_dir / "accounts.csv", footer=footer),
        "tickets": _write_csv(_tickets_table(w, streams[1], None, tickets_per_account_month, messy),
                              out_dir / "tickets.csv"),
        "surveys": _write_csv(_surveys_table(w, streams[2], None, messy), out_dir / "surveys.csv",
                              bom=messy, crlf=messy),
        "billing": _write_csv(_invoices_table(w, streams[3], None, messy), out_dir / "invoices.csv"),
        "usage": _write_csv(_usage_table(w, streams[4], None), out_dir / "usage.csv"),
    }
    cfg = out_dir / "csm.yaml"
    cfg.write_text(CONFIG_YAML, encoding="utf-8")
    paths["config"] = cfg
    return paths


def sample_command(out: Path, accounts: int = 300, seed: int = 7) -> dict[str, Path]:
    """What `csm sample --out DIR [--accounts N] [--seed S]` calls."""
    return write_sample(Path(out), accounts=accounts, seed=seed)


def write_benchmark_set(out_dir: Path, *, accounts: int = 50_000, tickets: int = 2_000_000,
                        surveys: int = 500_000, billing_rows: int = 1_000_000,
                        usage_rows: int = 2_000_000, seed: int = 11,
                        as_of: date = DEFAULT_AS_OF) -> dict[str, Path]:
    """Large, clean CSVs with the vendor headers and exactly the requested row counts."""
    out_dir = Path(out_dir)
    w = build_world(accounts, seed, as_of)
    streams = [np.random.default_rng(np.random.SeedSequence([seed, i])) for i in range(1, 6)]
    paths = {
        "accounts": _write_csv(_accounts_table(w, streams[0]), out_dir / "accounts.csv", minimal_quotes=False),
        "tickets": _write_csv(_tickets_table(w, streams[1], tickets, None, False),
                              out_dir / "tickets.csv", minimal_quotes=False),
        "surveys": _write_csv(_surveys_table(w, streams[2], surveys, False),
                              out_dir / "surveys.csv", minimal_quotes=False),
        "billing": _write_csv(_invoices_table(w, streams[3], billing_rows, False),
                              out_dir / "invoices.csv", minimal_quotes=False),
        "usage": _write_csv(_usage_table(w, streams[4], usage_rows), out_dir / "usage.csv", minimal_quotes=False),
    }
    cfg = out_dir / "csm.yaml"
    cfg.write_text(CONFIG_YAML, encoding="utf-8")
    paths["config"] = cfg
    return paths
