"""Column matching: vendor headers → canonical columns (SPEC §1, R1), overrides, missing columns.

Fixture headers in tests/fixtures/load/vendors/ are copied from real vendor
exports (see docs/loading.md); expectations were written by reading each
vendor's column meaning, not from the code's output.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from cs_metrics.errors import InputError
from cs_metrics.loading.columns import header_key, match_columns
from cs_metrics.schemas import SCHEMAS

VENDORS = Path(__file__).parent / "fixtures" / "load" / "vendors"


def headers_of(name: str) -> list[str]:
    with open(VENDORS / name, newline="", encoding="utf-8") as f:
        return next(csv.reader(f))


CASES = [
    (
        "zendesk_tickets.csv",
        "tickets",
        {
            "ticket_id": "Id",
            "created_at": "Created at",
            "account_id": "Organization",
            "requester_email": "Requester email",
            "resolved_at": "Solved at",
            "status": "Status",
            "priority": "Priority",
            "channel": "Via",
            "agent": "Assignee",
            "type": "Ticket type",
            "tags": "Tags",
            "reopens": "Reopens",
            "agent_replies": "Replies",
            "satisfaction": "Satisfaction Score",
            "first_response_minutes": "First reply time in minutes",
            "first_response_business_minutes": "First reply time in minutes within business hours",
            "hold_minutes": "On hold time in minutes",
        },
        ["Resolution time", "Requester id"],
    ),
    (
        "zendesk_explore.csv",
        "tickets",
        {
            "ticket_id": "Ticket ID",
            "status": "Ticket status",
            "priority": "Ticket priority",
            "type": "Ticket type",
            "channel": "Ticket channel",
            "account_id": "Requester organization name",
            "agent": "Assignee name",
            "created_at": "Ticket created - Timestamp",
            "resolved_at": "Ticket solved - Timestamp",
            "first_response_minutes": "First reply time (min)",
            "hold_minutes": "On-hold time (min)",
        },
        [],
    ),
    (
        "freshdesk_tickets.csv",
        "tickets",
        {
            "ticket_id": "Ticket ID",
            "created_at": "Created time",
            "resolved_at": "Resolved time",
            "closed_at": "Closed time",
            "first_response_at": "Initial response time",
            "first_response_business_minutes": "First response time (in hrs)",
            "channel": "Source",
            "type": "Type",
            "agent": "Agent",
            "agent_replies": "Agent interactions",
            "satisfaction": "Survey results",
            "account_id": "Company Name",
            "tags": "Tags",
        },
        ["Resolution time (in hrs)", "Time tracked"],
    ),
    (
        "jsm_issues.csv",
        "tickets",
        {
            "ticket_id": "Issue key",
            "type": "Issue Type",
            "status": "Status",
            "created_at": "Created",
            "resolved_at": "Resolved",
            "account_id": "Custom field (Organizations)",
            "first_response_at": "Custom field ([CHART] Date of First Response)",
            "satisfaction": "Satisfaction rating",
            "agent": "Assignee",
            "tags": "Labels",
        },
        ["Custom field (Time to first response)", "Issue id"],
    ),
    (
        "hubspot_tickets.csv",
        "tickets",
        {
            "ticket_id": "Ticket ID",
            "status": "Ticket status",
            "created_at": "Create date",
            "resolved_at": "Close date",
            "agent": "Ticket owner",
            "priority": "Priority",
            "channel": "Source",
            "type": "Category",
            "account_id": "Associated Company",
            "first_response_at": "First agent reply date",
        },
        ["Ticket name", "Pipeline"],
    ),
    (
        "intercom_conversations.csv",
        "tickets",
        {
            "ticket_id": "id",
            "created_at": "created_at",
            "agent": "assignee_id",
            "satisfaction": "conversation_rating_value",
            "first_response_at": "first_admin_reply_at",
            "resolved_at": "last_close_at",
            "reopens": "count_reopens",
            "status": "state",
            "channel": "source_type",
        },
        [],
    ),
    (
        "stripe_invoices.csv",
        "billing",
        {
            "amount": "Total",
            "invoice_id": "Number",
            "account_id": "Customer",
            "customer_email": "Customer Email",
            "tax": "Tax",
            "currency": "Currency",
            "issued_at": "Date (UTC)",
            "due_at": "Due Date (UTC)",
            "paid_at": "Paid At (UTC)",
            "period_start": "Minimum Line Item Period Start (UTC)",
            "period_end": "Maximum Line Item Period End (UTC)",
            "status": "Status",
        },
        ["Amount Due", "Amount Remaining"],
    ),
    (
        "stripe_subscriptions.csv",
        "billing",
        {
            "invoice_id": "id",
            "account_id": "Customer ID",
            "quantity": "Quantity",
            "interval": "Interval",
            "amount": "Amount",
            "currency": "Currency",
            "status": "Status",
            "period_start": "Start Date (UTC)",
            "period_end": "Current Period End (UTC)",
            "ended_at": "Ended At (UTC)",
        },
        ["Created (UTC)", "Trial Start (UTC)"],
    ),
    (
        "stripe_payments.csv",
        "billing",
        {
            "amount": "Amount",
            "currency": "Currency",
            "issued_at": "Created date (UTC)",
            "account_id": "Customer ID",
            "invoice_id": "Invoice ID",
            "status": "Status",
            "customer_email": "Customer Email",
        },
        ["Fee", "Amount Refunded"],
    ),
    (
        "chargebee_subscriptions.csv",
        "billing",
        {
            "invoice_id": "subscriptions.id",
            "account_id": "customers.id",
            "quantity": "subscriptions.plan_quantity",
            "amount": "subscriptions.plan_unit_price",
            "status": "subscriptions.status",
            "period_start": "subscriptions.start_date",
            "period_end": "subscriptions.current_term_end",
            "ended_at": "subscriptions.cancelled_at",
        },
        [],
    ),
    (
        "recurly_subscriptions.csv",
        "billing",
        {
            "invoice_id": "id",
            "account_id": "account_id",
            "status": "state",
            "period_start": "activated_at",
            "period_end": "current_period_ends_at",
            "ended_at": "expires_at",
            "currency": "currency",
            "amount": "unit_amount",
            "quantity": "quantity",
        },
        [],
    ),
    (
        "quickbooks_invoice_list.csv",
        "billing",
        {
            "issued_at": "Date",
            "invoice_id": "Num",
            "account_id": "Name",
            "due_at": "Due date",
            "amount": "Amount",
        },
        ["Open balance", "Transaction type"],
    ),
    (
        "xero_invoices.csv",
        "billing",
        {
            "account_id": "*ContactName",
            "customer_email": "EmailAddress",
            "invoice_id": "*InvoiceNumber",
            "issued_at": "*InvoiceDate",
            "due_at": "*DueDate",
            "paid_at": "PaidDate",
            "amount": "Total",
            "tax": "TaxTotal",
            "quantity": "*Quantity",
            "currency": "Currency",
        },
        ["*AccountCode", "InvoiceAmountDue"],
    ),
    (
        "salesforce_accounts.csv",
        "accounts",
        {
            "account_id": "Account ID",
            "name": "Account Name",
            "owner": "Account Owner",
            "segment": "Type",
            "region": "Billing Country",
            "created_at": "Created Date",
            "domain": "Website",
        },
        ["Annual Revenue", "Employees"],
    ),
    (
        "hubspot_companies.csv",
        "accounts",
        {
            "account_id": "Record ID",
            "name": "Company name",
            "domain": "Company Domain Name",
            "owner": "Company owner",
            "created_at": "Create Date",
            "segment": "Lifecycle Stage",
            "region": "Country/Region",
        },
        ["Annual Revenue", "Number of Employees"],
    ),
    (
        "pipedrive_organizations.csv",
        "accounts",
        {
            "account_id": "Organization - ID",
            "name": "Organization - Name",
            "owner": "Organization - Owner",
            "created_at": "Organization - Add time",
            "segment": "Organization - Label",
        },
        [],
    ),
    (
        "surveymonkey_responses.csv",
        "surveys",
        {
            "response_id": "Respondent ID",
            "submitted_at": "End Date",
            "respondent": "Email Address",
            "account_id": "Custom Data 1",
        },
        ["Start Date", "Collector ID"],
    ),
    (
        "typeform_responses.csv",
        "surveys",
        {"response_id": "#", "submitted_at": "Submit Date (UTC)", "account_id": "account_id"},
        ["Start Date (UTC)", "Stage Date (UTC)"],
    ),
    (
        "delighted_responses.csv",
        "surveys",
        {
            "response_id": "id",
            "respondent": "person",
            "survey_type": "survey_type",
            "score": "score",
            "comment": "comment",
            "submitted_at": "created_at",
            "account_id": "Company",
        },
        [],
    ),
    (
        "google_forms_responses.csv",
        "surveys",
        {"submitted_at": "Timestamp", "respondent": "Email address"},
        ["What could we improve?"],
    ),
    (
        "mixpanel_events.csv",
        "usage",
        {
            "event": "name",
            "timestamp": "time",
            "user_id": "distinct_id",
            "account_id": "company_id",
        },
        ["event_id", "os"],
    ),
    (
        "amplitude_events.csv",
        "usage",
        {
            "event": "event_type",
            "user_id": "user_id",
            "timestamp": "event_time",
            "account_id": "groups.company",
        },
        ["session_id"],
    ),
    (
        "segment_tracks.csv",
        "usage",
        {
            "event": "event",
            "user_id": "userId",
            "timestamp": "timestamp",
            "account_id": "context.groupId",
        },
        ["type"],
    ),
    (
        "pendo_events.csv",
        "usage",
        {
            "account_id": "account_id",
            "user_id": "visitor_id",
            "timestamp": "timestamp",
            "count": "num_events",
            "duration_seconds": "num_minutes",
        },
        ["app_id"],
    ),
]


@pytest.mark.parametrize("name,dataset,expected,unused", CASES, ids=[c[0] for c in CASES])
def test_vendor_headers_map(name, dataset, expected, unused):
    m = match_columns(dataset, headers_of(name), None, name)
    for canonical, header in expected.items():
        assert m.mapping.get(canonical) == header, canonical
    for h in unused:
        assert h not in m.mapping.values(), h


def test_every_canonical_column_has_synonyms_starting_with_its_name():
    for ds in SCHEMAS.values():
        for col in ds.columns:
            assert col.synonyms, (ds.name, col.name)
            assert header_key(col.name) in {header_key(s) for s in col.synonyms}, (
                ds.name,
                col.name,
            )


def test_never_maps_forbidden_headers():
    m = match_columns(
        "accounts",
        ["Account ID", "Annual Revenue", "AnnualRevenue", "Employees", "Number of Employees"],
        None,
        "a.csv",
    )
    assert "arr" not in m.mapping and "seats" not in m.mapping and "mrr" not in m.mapping
    m = match_columns(
        "billing", ["Customer", "Amount Due", "Amount Remaining", "Amount Paid"], None, "b.csv"
    )
    assert m.mapping["amount"] == "Amount Paid"
    m = match_columns(
        "tickets",
        ["Id", "Created at", "Resolution time", "Custom field (Time to first response)"],
        None,
        "t.csv",
    )
    assert set(m.mapping) == {"ticket_id", "created_at"}


def test_r1_order_and_also_matched():
    # Stripe invoices: Total before Amount Paid and Subtotal (R1); both reported as also matched
    m = match_columns("billing", headers_of("stripe_invoices.csv"), None, "inv.csv")
    assert m.mapping["amount"] == "Total"
    assert m.also_matched["amount"] == ["Subtotal", "Amount Paid"]
    assert m.also_matched["period_start"] == ["Period Start (UTC)"]
    assert m.flags["amount"] == frozenset({"tax_inclusive"})
    # order of the synonyms decides, not the file's column order
    m = match_columns("billing", ["Customer", "Amount", "Total"], None, "x.csv")
    assert m.mapping["amount"] == "Total" and m.also_matched["amount"] == ["Amount"]


def test_amount_flags():
    assert match_columns("billing", headers_of("stripe_subscriptions.csv"), None, "s").flags[
        "amount"
    ] == {"per_unit"}
    assert match_columns("billing", headers_of("chargebee_subscriptions.csv"), None, "c").flags[
        "amount"
    ] == {"per_unit"}
    assert match_columns("billing", ["account_id", "mrr_amount", "start_date"], None, "m").flags[
        "amount"
    ] == {"monthly"}
    # Amount with Quantity but an invoice date: an invoice, tax-inclusive, not per unit
    m = match_columns("billing", ["Customer", "Amount", "Quantity", "Date", "Interval"], None, "i")
    assert m.flags["amount"] == {"tax_inclusive"}
    # subscription-shaped: Created is not an invoice date
    m = match_columns("billing", headers_of("stripe_subscriptions.csv"), None, "s")
    assert "issued_at" not in m.mapping


def test_converted_amount_takes_converted_currency():
    m = match_columns(
        "billing", ["Customer ID", "Converted Amount", "Currency", "Converted Currency"], None, "p"
    )
    assert m.mapping["amount"] == "Converted Amount"
    assert m.mapping["currency"] == "Converted Currency"


def test_punctuation_star_and_utc_variants():
    m = match_columns(
        "billing", ["*ContactName*", "TOTAL", "invoice date (utc)", "Due Date"], None, "x"
    )
    assert m.mapping == {
        "account_id": "*ContactName*",
        "amount": "TOTAL",
        "issued_at": "invoice date (utc)",
        "due_at": "Due Date",
    }
    m = match_columns("tickets", ["ticket-id", "CREATED_AT (UTC)"], None, "t")
    assert m.mapping == {"ticket_id": "ticket-id", "created_at": "CREATED_AT (UTC)"}


def test_each_header_feeds_one_column():
    # 'Company' is a name synonym and an account_id synonym for tickets; it is used once
    m = match_columns("tickets", ["Id", "Created", "Company"], None, "t")
    assert list(m.mapping.values()).count("Company") == 1


def test_business_and_calendar_twins():
    m = match_columns(
        "tickets",
        ["Id", "Created at", "First reply time in minutes within business hours"],
        None,
        "t",
    )
    assert "first_response_minutes" not in m.mapping
    assert (
        m.mapping["first_response_business_minutes"]
        == "First reply time in minutes within business hours"
    )


def test_override_wins_and_bad_override_is_an_error():
    m = match_columns(
        "tickets", ["Id", "Created at", "Opened on"], {"created_at": "Opened on"}, "t.csv"
    )
    assert m.mapping["created_at"] == "Opened on"
    assert "Created at" not in m.mapping.values()
    with pytest.raises(InputError) as e:
        match_columns("tickets", ["Id", "Created at"], {"created_at": "Nope"}, "t.csv")
    (issue,) = e.value.issues
    assert issue.code == "bad-column-override" and issue.file == "t.csv"
    assert "Id, Created at" in issue.message and issue.key == "columns.tickets.created_at"


def test_missing_required_columns_reported_together_with_suggestion():
    with pytest.raises(InputError) as e:
        match_columns("tickets", ["Tciket ID", "Opend"], None, "t.csv")
    issues = e.value.issues
    assert [i.column for i in issues] == ["ticket_id", "created_at"]
    assert all(
        i.code == "missing-column" and i.level == "error" and i.file == "t.csv" for i in issues
    )
    assert "Closest header: 'Tciket ID'" in issues[0].message
    assert "'Tciket ID', 'Opend'" in issues[0].message
    assert 'columns: {tickets: {ticket_id: "Tciket ID"}}' in issues[0].message


def test_wide_survey_type_columns():
    m = match_columns(
        "surveys", ["Respondent ID", "End Date", "NPS", "CSAT score", "ces"], None, "s"
    )
    assert m.type_columns == {"NPS": "nps", "CSAT score": "csat", "ces": "ces"}
    m = match_columns("surveys", headers_of("google_forms_responses.csv"), None, "g")
    assert m.type_columns == {"How likely are you to recommend us?": "nps"}
    # configured types: 'empathy' column is an empathy score
    m = match_columns("surveys", ["Timestamp", "Empathy"], None, "g", survey_types=("empathy",))
    assert m.type_columns == {"Empathy": "empathy"}
    with pytest.raises(InputError):
        match_columns("surveys", ["Timestamp", "Comment"], None, "g")


def test_qualtrics_question_needs_an_override():
    h = headers_of("qualtrics_responses.csv")
    with pytest.raises(InputError):
        match_columns("surveys", h, None, "q")
    m = match_columns("surveys", h, {"score": "Q1"}, "q")
    assert m.mapping["score"] == "Q1" and m.mapping["submitted_at"] == "RecordedDate"
    assert m.also_matched["submitted_at"] == ["EndDate"]
    assert (
        m.mapping["response_id"] == "ResponseId" and m.mapping["account_id"] == "ExternalReference"
    )
