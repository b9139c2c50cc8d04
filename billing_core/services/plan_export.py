"""The plans export for the billing system of record: one row per plan changed in a window.

Every figure is read from the plan's rows as they stand when the export runs, so the
same window exported again, with nothing changed in between, gives the same rows.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, time

from billing_core.adapters import plans_csv
from billing_core.adapters.models import PaymentPlan
from billing_core.adapters.plans_csv import PlanExportRow
from billing_core.adapters.queries import plan_export as queries
from billing_core.adapters.unit_of_work import UnitOfWork

FORMATS = ("csv", "json")
# A plan still charges its installments only while active (plain strings: the statuses
# are active, cancelled, lapsed and completed).
ACTIVE = "active"
PAID = "paid"
MISSED = "missed"
DUE = "due"


def plan_rows(uow: UnitOfWork, since: date | None) -> Iterator[PlanExportRow]:
    """Every plan changed on or after `since` (UTC; None: every plan), by plan id."""
    start = datetime.combine(since, time(), tzinfo=UTC) if since is not None else None
    for page in queries.plans_changed_since(uow, start):
        ids = [plan.id for plan, _last4 in page]
        installments = queries.installments_of(uow, ids)
        payments = queries.payments_of(uow, ids)
        bills = queries.bills_of(uow, ids)
        for plan, last4 in page:
            yield _row(plan, last4, installments[plan.id], payments[plan.id], bills[plan.id])


def _row(
    plan: PaymentPlan,
    mrn_last4: str,
    installments: list[queries.InstallmentState],
    payments: queries.PlanPayments,
    bills: list[tuple[str, int]],
) -> PlanExportRow:
    remaining = sum(balance for _number, balance in bills)
    upcoming = next((i for i in installments if i.status == DUE), None)
    if plan.status != ACTIVE or remaining == 0:
        upcoming = None
    changes = [plan.updated_at, *(i.updated_at for i in installments)]
    if payments.last_updated_at is not None:
        changes.append(payments.last_updated_at)
    return PlanExportRow(
        plan_id=plan.id,
        member_mrn_last4=mrn_last4,
        status=plan.status,
        created_at=plan.created_at,
        updated_at=max(changes),
        lapsed_at=plan.lapsed_at,
        months=plan.months,
        total_cents=plan.total_cents,
        first_installment_cents=plan.first_cents,
        monthly_cents=plan.monthly_cents,
        installments_paid=sum(1 for i in installments if i.status == PAID),
        installments_missed=sum(1 for i in installments if i.status == MISSED),
        paid_cents=payments.paid_cents,
        remaining_cents=remaining,
        next_due_on=upcoming.due_on if upcoming else None,
        # An installment is never charged for more than is still owed.
        next_amount_cents=min(upcoming.amount_cents, remaining) if upcoming else None,
        method_kind=plan.method_kind,
        method_brand=plan.method_brand,
        method_last4=plan.method_last4,
        bill_numbers=tuple(number for number, _balance in bills),
    )


def export_plans(uow: UnitOfWork, since: date | None, file_format: str = "csv") -> str:
    """The plans changed on or after `since` (None: all) as CSV or JSON text."""
    if file_format not in FORMATS:
        raise ValueError(f"the plans export is csv or json, not {file_format!r}")
    with uow:
        rows = plan_rows(uow, since)
        return plans_csv.plans_csv(rows) if file_format == "csv" else plans_csv.plans_json(rows)
