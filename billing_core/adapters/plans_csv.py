"""The plans export, a file format: payment plans as CSV or JSON, one row (object) each.

Both carry the same columns with the same values: money as "208.50", times in ISO 8601
UTC, days as YYYY-MM-DD. In CSV an empty value is an empty cell and the bill numbers are
separated by spaces; in JSON it is null, counts are numbers and the bill numbers a list.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from billing_core.adapters.ledger_csv import safe_cell
from billing_core.domain.money import format_money

PLAN_EXPORT_COLUMNS = (
    "plan_id",
    "member_mrn_last4",
    "status",
    "created_at",
    "updated_at",
    "lapsed_at",
    "months",
    "total",
    "first_installment",
    "monthly",
    "installments_paid",
    "installments_missed",
    "paid",
    "remaining",
    "next_due_on",
    "next_amount",
    "method_kind",
    "method_brand",
    "method_last4",
    "bill_numbers",
)


@dataclass(frozen=True)
class PlanExportRow:
    """One plan as the billing system of record reads it; money in cents."""

    plan_id: int
    member_mrn_last4: str
    status: str
    created_at: datetime
    # The last change to the plan, its installments or its payments.
    updated_at: datetime
    lapsed_at: datetime | None
    months: int
    total_cents: int
    first_installment_cents: int
    monthly_cents: int
    installments_paid: int
    installments_missed: int
    # What the plan's succeeded payments took (installments and any payoff).
    paid_cents: int
    # What is still owed on the bills the plan took.
    remaining_cents: int
    # The next installment the plan will charge, while it is active and owes something.
    next_due_on: date | None
    next_amount_cents: int | None
    method_kind: str
    method_brand: str | None
    method_last4: str
    bill_numbers: tuple[str, ...]


def plan_values(row: PlanExportRow) -> dict[str, Any]:
    """The row's values by column, as JSON carries them."""
    return {
        "plan_id": row.plan_id,
        "member_mrn_last4": row.member_mrn_last4,
        "status": row.status,
        "created_at": row.created_at.isoformat(),
        "updated_at": row.updated_at.isoformat(),
        "lapsed_at": row.lapsed_at.isoformat() if row.lapsed_at else None,
        "months": row.months,
        "total": format_money(row.total_cents),
        "first_installment": format_money(row.first_installment_cents),
        "monthly": format_money(row.monthly_cents),
        "installments_paid": row.installments_paid,
        "installments_missed": row.installments_missed,
        "paid": format_money(row.paid_cents),
        "remaining": format_money(row.remaining_cents),
        "next_due_on": row.next_due_on.isoformat() if row.next_due_on else None,
        "next_amount": (
            format_money(row.next_amount_cents) if row.next_amount_cents is not None else None
        ),
        "method_kind": row.method_kind,
        "method_brand": row.method_brand,
        "method_last4": row.method_last4,
        "bill_numbers": list(row.bill_numbers),
    }


def plans_csv(rows: Iterable[PlanExportRow]) -> str:
    """Write the plans as CSV, header first."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(PLAN_EXPORT_COLUMNS)
    for row in rows:
        values = plan_values(row)
        writer.writerow(safe_cell(csv_text(values[name])) for name in PLAN_EXPORT_COLUMNS)
    return out.getvalue()


def plans_json(rows: Iterable[PlanExportRow]) -> str:
    """Write the plans as a JSON object with a `plans` list, one object per plan."""
    plans = [plan_values(row) for row in rows]
    return json.dumps({"plans": plans}, indent=2) + "\n"


def csv_text(value: Any) -> str:
    """A JSON value as its CSV cell: empty for null, the bill numbers joined by spaces."""
    if value is None:
        return ""
    if isinstance(value, list):
        return " ".join(value)
    return str(value)
