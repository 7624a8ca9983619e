"""Ordered header synonyms per canonical column (SPEC §1, R1), harvested from real exports.

Each tuple is tried in order and the first header present in a file wins
(R1), so the order encodes which of several candidate columns is the right
one (e.g. billing `Total` before `Amount`, Stripe line-item periods before
`Period Start`). Matching is case-, accent- and punctuation-insensitive and
ignores a trailing `(UTC)` (see `loading.columns`), so `Created (UTC)`,
`created` and `*Created` all match the synonym `Created`.

Deliberately absent (they look like a canonical column but are not):
`Annual Revenue`/`AnnualRevenue` (the customer's own revenue, not ARR),
`Employees`/`Number of Employees` (company size, not seats), Zendesk
`Resolution time` (hours, rounded), JSM `Custom field (Time to first
response)` (SLA time *remaining*), billing `Amount Due`/`Amount Remaining`,
Xero `*AccountCode` (a ledger code, not a customer).

Sources: Zendesk CSV / Explore / API, Freshdesk, Intercom, HubSpot, Jira
Service Management, Help Scout, Stripe (payments, subscriptions, invoices,
customers), Chargebee, Recurly, QuickBooks, Xero, Salesforce, HubSpot
companies, Pipedrive, SurveyMonkey, Qualtrics, Typeform, Delighted, Google
Forms, Mixpanel, Amplitude, Segment, Pendo.
"""

from __future__ import annotations

# fmt: off
SYNONYMS: dict[str, dict[str, tuple[str, ...]]] = {
    "accounts": {
        "account_id": (
            "account_id", "Account ID", "AccountId", "Record ID", "Company ID", "company_id",
            "hs_object_id", "Organization - ID", "Organization ID", "organization_id",
            "(Do Not Modify) Account", "Customer ID", "customer_id", "customerID", "customers.id",
            "account_code", "code", "External ID", "ExternalReference", "Account Number",
            "Id",  # Salesforce / Stripe customers `id` (last: the most generic)
        ),
        "name": (
            "name", "Account Name", "account_name", "Company name", "company_name",
            "Organization - Name", "Organization Name", "Organization", "Customer Name",
            "customer_name", "ContactName", "Requester organization name", "Company",
            "property_name", "Name", "Customer Description",
        ),
        "domain": (
            "domain", "Domain", "Company Domain Name", "Website", "Website URL", "website_url",
            "Email Domain", "email_domain", "Web Domain", "Requester domain",
        ),
        "segment": (
            "segment", "Segment", "Customer Segment", "Tier", "account_tier", "Account Tier",
            "Organization - Label", "Account Type", "Type", "Lifecycle Stage",
        ),
        "plan": (
            "plan", "Plan", "Plan Name", "plan_name", "plan_tier", "subscriptions.plan_id",
            "plan_id", "Product", "Edition", "Subscription Plan", "Contract",
        ),
        "region": (
            "region", "Region", "Country", "Country/Region", "country", "Billing Country",
            "Organization - Address - Country", "Territory", "Geo", "POCountry",
        ),
        "owner": (
            "owner", "CSM", "csm_name", "CSM__c", "Customer Success Manager", "Account Owner",
            "account_owner", "Company owner", "Organization - Owner", "HubSpot Owner", "Owner",
        ),
        "created_at": (
            "created_at", "Customer Since", "customer_since",
            "Date entered 'Customer (Lifecycle Stage Pipeline)'", "signup_date", "Signup Date",
            "contract_start_date", "Contract Start Date", "Start Date", "Created Date",
            "Create Date", "Created", "Organization - Add time", "property_createdate",
            "first_visit", "First Visit",
        ),
        "renewal_date": (
            "renewal_date", "Renewal Date", "Renewal_Date__c", "Next Renewal", "Next Renewal Date",
            "Contract End Date", "contract_end_date", "Current Period End",
            "subscriptions.current_term_end", "current_term_ends_at", "Next Billing Date",
        ),
        "churned_at": (
            "churned_at", "Churned At", "Churn Date", "churn_date", "Churned Date", "Ended At",
            "subscriptions.cancelled_at", "Cancelled At", "Canceled At", "canceled_at",
            "Cancellation Date", "expires_at",
        ),
        "seats": (
            "seats", "Licenses", "Licences", "License Count", "licensed_seats", "Seats Purchased",
            "total_seats", "subscriptions.plan_quantity", "Quantity",
        ),
        "active_users": (
            "active_users", "Active Users", "monthly_active_users", "MAU", "active_seats",
            "Active Seats", "user_count",
        ),
        "arr": ("arr", "ARR__c", "arr_value", "arr_amount", "Annual Recurring Revenue"),
        "mrr": (
            "mrr", "mrr_amount", "Monthly Recurring Revenue", "MonthlyCharges", "monthly_spend",
            "Monthly Spend",
        ),
        "csm_sentiment": (
            "csm_sentiment", "CSM Sentiment", "Health", "Health__c", "health_status", "CSM Health",
            "Sentiment",
        ),
        "advocate": (
            "advocate", "Advocate", "is_advocate", "Referenceable", "Reference Customer",
            "Reference", "Case Study",
        ),
        "onboarded_at": (
            "onboarded_at", "Onboarded At", "Onboarded Date", "Onboarding Completed",
            "Onboarding Complete Date", "onboarding_completed_at", "Go Live Date", "go_live_date",
            "Go-Live Date",
        ),
        "first_value_at": (
            "first_value_at", "First Value At", "First Value Date", "first_value_date",
            "Time to Value Date",
        ),
        "goals_total": ("goals_total", "Total Goals", "Success Plan Goals", "Goals"),
        "goals_met": ("goals_met", "Goals Met", "Goals Achieved", "goals_achieved"),
        "acquisition_cost": ("acquisition_cost", "Acquisition Cost", "CAC"),
    },
    "tickets": {
        "ticket_id": (
            "ticket_id", "Ticket ID", "Issue key", "Conversation ID", "conversation_id",
            "Case Number", "number", "Record ID", "Id",
        ),
        "created_at": (
            "created_at", "Created at", "Created time", "Created", "Create date",
            "Ticket created - Timestamp", "Ticket created - Date", "Created Date",
            "Conversation started at", "conversation_created_at", "createdAt", "createdate",
            "Date Created", "Opened", "submitted_at",
        ),
        # id columns first: an id links more reliably than a name (R7)
        "account_id": (
            "account_id", "Account ID", "organization_id", "Organization", "Requester organization name",
            "Company Name", "Company", "Custom field (Organizations)", "Associated Company",
            "hs_primary_company_name", "message_author_companies", "Organization Name",
            "Account Name", "Account",
        ),
        "requester_email": (
            "requester_email", "Requester email", "Email", "Contact Email", "Customer Email",
            "Requester Email Address", "primaryCustomer.email", "Reporter Email",
            "Requester domain",
        ),
        "first_response_at": (
            "first_response_at", "Initial response time", "First agent reply date",
            "Custom field ([CHART] Date of First Response)", "first_admin_reply_at",
            "statistics.first_admin_reply_at", "Conversation first replied at",
            "conversation_first_response_at", "First Response Date", "First response at",
            "First Response Time",  # the Kaggle ticket set: a timestamp, not a duration
        ),
        "first_response_minutes": (
            "first_response_minutes", "First reply time in minutes", "First reply time (min)",
            "First reply time (hrs)", "first_response_time_minutes", "Response Time (hours)",
            "reply_time_in_minutes.calendar", "reply_time_in_minutes_calendar",
            "time_to_admin_reply", "statistics.time_to_admin_reply", "time_to_first_agent_reply",
        ),
        "first_response_business_minutes": (
            "first_response_business_minutes", "First reply time in minutes within business hours",
            "reply_time_in_minutes.business", "reply_time_in_minutes_business",
            "First response time (in hrs)",  # Freshdesk: business hours, HH:MM:SS
        ),
        "resolved_at": (
            "resolved_at", "Solved at", "Resolved time", "Resolved", "Ticket solved - Timestamp",
            "Resolved Date", "Resolved at", "solved_at", "Close date", "last_close_at",
            "statistics.last_close_at", "closedAt",
        ),
        "closed_at": (
            "closed_at", "Closed time", "Closed at", "Closed", "Closed Date", "Date Closed",
            "conversation_closed_at",
        ),
        "status": ("status", "Ticket status", "state", "conversation_state", "hs_pipeline_stage"),
        "priority": ("priority", "Ticket priority", "hs_ticket_priority"),
        "channel": (
            "channel", "Via", "Ticket channel", "via_channel", "Source", "source_type",
            "Case Origin", "Origin",
        ),
        "agent": (
            "agent", "Assignee", "Assignee name", "Agent Assigned", "Ticket owner",
            "admin_assignee_id", "assignee_id", "Case Owner", "Owner",
        ),
        "type": (
            "type", "Ticket type", "Issue Type", "Custom field (Request Type)",
            "Custom field (Customer Request Type)", "Category", "Case Reason",
        ),
        "escalated": ("escalated", "escalation_flag", "Is Escalated", "Escalation", "Escalation Level"),
        "tags": ("tags", "Ticket tags", "Labels"),
        "reopens": ("reopens", "count_reopens", "statistics.count_reopens", "Reopen count"),
        "agent_replies": ("agent_replies", "Replies", "Agent interactions", "Agent Replies"),
        "abandoned": ("abandoned", "Is Abandoned", "abandoned_flag"),
        "satisfaction": (
            "satisfaction", "Satisfaction Score", "Ticket satisfaction rating", "Survey results",
            "Satisfaction rating", "Customer Satisfaction Rating", "satisfaction_score",
            "satisfaction_rating", "conversation_rating_value", "conversation_rating.rating",
            "Rating",
        ),
        "hold_minutes": (
            "hold_minutes", "On hold time in minutes", "On-hold time (min)",
            "on_hold_time_in_minutes.calendar", "on_hold_time_in_minutes_calendar",
        ),
    },
    "surveys": {
        "score": ("score", "Rating", "rating", "Response Score"),
        "submitted_at": (
            "submitted_at", "RecordedDate", "Recorded Date", "EndDate", "End Date",
            "Submit Date", "Submitted At", "Date Submitted", "Response Date", "Timestamp",
            "created_at", "completed_at",
        ),
        "account_id": (
            "account_id", "Account ID", "ExternalReference", "External Data Reference",
            "Custom Data 1", "Company", "Company Name", "Organization", "Account Name",
            "customer_id",
        ),
        "respondent": (
            "respondent", "RecipientEmail", "Recipient Email", "Email Address", "email",
            "Respondent Email", "person", "Person Email", "distinct_id",
        ),
        "response_id": (
            "response_id", "Response ID", "ResponseId", "Respondent ID", "#", "id",
        ),
        "survey_type": ("survey_type", "Survey Type", "Survey", "Survey Name", "survey_name", "type"),
        "comment": (
            "comment", "Comments", "Feedback", "Reason", "remark", "conversation_rating_remark",
        ),
        "sent_at": ("sent_at", "Sent At", "Sent Date", "Survey Sent", "Delivered At"),
    },
    "billing": {
        "account_id": (
            "account_id", "Account ID", "Customer ID", "customer_id", "Customer", "customers.id",
            "account_code", "ContactName", "Customer Name", "Company", "Name",
        ),
        "amount": (
            "Total", "Amount", "Converted Amount", "Subtotal", "Amount Paid", "Gross",
            "LineAmount", "unit_amount", "UnitAmount", "plan_unit_price",
            "subscriptions.plan_unit_price", "mrr", "mrr_amount", "monthly_amount", "Net Amount",
        ),
        "invoice_id": (
            "invoice_id", "Invoice ID", "InvoiceNumber", "Invoice Number", "Invoice", "Num",
            "Number", "subscriptions.id", "Subscription ID", "subscription_id", "id", "uuid",
        ),
        "currency": ("currency", "Currency Code", "CurrencyCode", "currency_code"),
        "issued_at": (
            "issued_at", "Date", "InvoiceDate", "Invoice Date", "invoice_date", "Issue Date",
            "Transaction Date", "Billing Date", "Created date", "Created", "created_at",
        ),
        # R1: Stripe's line-item period wins over Period Start/End (which on
        # renewal invoices is the previous period). Subscription start before
        # the current period so the subscription's whole history has MRR.
        "period_start": (
            "Minimum Line Item Period Start", "period_start", "Service Period Start",
            "Period Start", "Start Date", "Start", "start_date", "subscriptions.start_date",
            "subscriptions.started_at", "activated_at", "Current Period Start",
            "current_period_start", "current_period_started_at", "subscriptions.current_term_start",
        ),
        "period_end": (
            "Maximum Line Item Period End", "period_end", "Service Period End", "Period End",
            "Current Period End", "current_period_end", "current_period_ends_at",
            "subscriptions.current_term_end", "current_term_ends_at", "end_date", "End Date", "End",
        ),
        "ended_at": (
            "ended_at", "Ended At", "expires_at", "subscriptions.cancelled_at", "Cancelled At",
            "Canceled At", "canceled_at", "Cancellation Date",
        ),
        "interval": (
            "interval", "billing_frequency", "Billing Frequency", "billing_period_unit",
            "subscriptions.billing_period_unit", "interval_unit", "recurring_interval",
            "Billing Period", "Plan Interval",
        ),
        "kind": ("kind", "Charge Type", "charge_type", "Billing Type", "Price Type", "price_type"),
        "status": (
            "status", "subscriptions.status", "state", "subscription_state", "Invoice Status",
            "Payment Status",
        ),
        "due_at": ("due_at", "Due Date", "DueDate", "due_date"),
        "paid_at": ("paid_at", "Paid At", "PaidDate", "Paid Date", "Payment Date", "paid_date"),
        "tax": ("tax", "TaxTotal", "Tax Total", "Tax Amount", "TaxAmount", "tax_amount"),
        "quantity": ("quantity", "subscriptions.plan_quantity", "plan_quantity", "Qty", "Seats"),
        "customer_email": ("customer_email", "Customer Email", "EmailAddress", "customers.email", "Email"),
    },
    "usage": {
        "account_id": (
            "account_id", "Account ID", "company_id", "Company ID", "groupId", "context.groupId",
            "group_id", "groups.company", "groups.account", "groups.account_id", "organization_id",
            "customer_id", "Organization", "Company", "Account",
        ),
        "timestamp": (
            "timestamp", "event_time", "Event Time", "time", "usage_date", "Date",
            "originalTimestamp", "receivedAt",
        ),
        "user_id": (
            "user_id", "User ID", "distinct_id", "userId", "visitor_id", "Visitor ID",
            "anonymousId", "device_id", "amplitude_id", "User",
        ),
        "event": ("event", "Event Name", "event_type", "name", "Action", "Feature"),
        "duration_seconds": (
            "duration_seconds", "usage_duration_secs", "num_minutes", "Time on Site (minutes)",
            "Session Duration", "Duration", "session_length",
        ),
        "count": ("count", "num_events", "usage_count", "event_count", "Number of Events", "Events"),
    },
}
# fmt: on

# Per-synonym flags of the billing amount column (R2, R19), keyed by the
# normalised header. Stripe *subscription* `Amount` is per unit: that is
# decided from the file's shape in loading.columns (see docs/loading.md).
_TAX_INCLUSIVE = frozenset({"tax_inclusive"})
_PER_UNIT = frozenset({"per_unit"})
_MONTHLY = frozenset({"monthly"})

SYNONYM_FLAGS: dict[str, dict[str, dict[str, frozenset[str]]]] = {
    "billing": {
        "amount": {
            "total": _TAX_INCLUSIVE,
            "gross": _TAX_INCLUSIVE,
            "amount": _TAX_INCLUSIVE,
            "amount paid": _TAX_INCLUSIVE,
            "unit amount": _PER_UNIT,
            "unitamount": _PER_UNIT,
            "plan unit price": _PER_UNIT,
            "subscriptions plan unit price": _PER_UNIT,
            "mrr": _MONTHLY,
            "mrr amount": _MONTHLY,
            "monthly amount": _MONTHLY,
        }
    }
}

# Duration units known from the vendor when the header itself names none
# (normalised header -> unit understood by loading.values.parse_duration).
SYNONYM_UNITS: dict[str, str] = {
    "time to admin reply": "seconds",  # Intercom API statistics
    "statistics time to admin reply": "seconds",
    "time to first agent reply": "milliseconds",  # HubSpot API property
    "reply time in minutes calendar": "minutes",
    "reply time in minutes business": "minutes",
    "on hold time in minutes calendar": "minutes",
}

# Wide survey files: a header naming a survey type is a score column of
# that type (R10). Normalised header -> type.
SURVEY_TYPE_HEADERS: dict[str, str] = {
    "nps": "nps",
    "nps score": "nps",
    "nps rating": "nps",
    "net promoter score": "nps",
    "likelihood to recommend": "nps",
    "csat": "csat",
    "csat score": "csat",
    "csat rating": "csat",
    "customer satisfaction score": "csat",
    "ces": "ces",
    "ces score": "ces",
    "customer effort score": "ces",
}
