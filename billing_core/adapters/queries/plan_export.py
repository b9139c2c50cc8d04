"""The statements of the plans export: plans changed since a time, and their figures.

A plan changes when its own row does (set up, cancelled, lapsed), when one of its
installments does (charged, retried, missed) and when one of its payments does (settled
by reconcile): its own updated_at moves only with the first.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import case, exists, func, or_, select

from billing_core.adapters.models import (
    MedicalBill,
    Member,
    Payment,
    PaymentPlan,
    PlanBill,
    PlanInstallment,
)
from billing_core.adapters.unit_of_work import UnitOfWork
from billing_core.domain.payments import WENT_THROUGH

# Plans read, and their figures looked up, this many at a time.
BATCH = 500


@dataclass(frozen=True)
class InstallmentState:
    """One installment as the export reads it."""

    number: int
    due_on: date
    amount_cents: int
    status: str
    updated_at: datetime


@dataclass(frozen=True)
class PlanPayments:
    """What a plan's payments add up to: the succeeded ones' amounts, and the last change."""

    paid_cents: int
    last_updated_at: datetime | None


def plans_changed_since(
    uow: UnitOfWork, start: datetime | None
) -> Iterator[list[tuple[PaymentPlan, str]]]:
    """The plans changed at or after `start` (all when None) with the MRN's last 4, by id,
    in batches."""
    query = select(PaymentPlan, Member.mrn_last4).join(Member, Member.id == PaymentPlan.member_id)
    if start is not None:
        query = query.where(
            or_(
                PaymentPlan.updated_at >= start,
                exists().where(
                    PlanInstallment.plan_id == PaymentPlan.id, PlanInstallment.updated_at >= start
                ),
                exists().where(Payment.plan_id == PaymentPlan.id, Payment.updated_at >= start),
            )
        )
    after = 0
    while True:
        # Keyset pages by id: every plan once, in order, however many there are.
        page = list(
            uow.session.execute(
                query.where(PaymentPlan.id > after).order_by(PaymentPlan.id).limit(BATCH)
            ).tuples()
        )
        if not page:
            return
        yield page
        after = page[-1][0].id


def installments_of(uow: UnitOfWork, plan_ids: Sequence[int]) -> dict[int, list[InstallmentState]]:
    """Each plan's installments, by number."""
    found: dict[int, list[InstallmentState]] = {plan_id: [] for plan_id in plan_ids}
    rows = uow.session.execute(
        select(
            PlanInstallment.plan_id,
            PlanInstallment.number,
            PlanInstallment.due_on,
            PlanInstallment.amount_cents,
            PlanInstallment.status,
            PlanInstallment.updated_at,
        )
        .where(PlanInstallment.plan_id.in_(plan_ids))
        .order_by(PlanInstallment.plan_id, PlanInstallment.number)
    )
    for plan_id, number, due_on, amount, status, updated_at in rows:
        found[plan_id].append(InstallmentState(number, due_on, amount, status, updated_at))
    return found


def payments_of(uow: UnitOfWork, plan_ids: Sequence[int]) -> dict[int, PlanPayments]:
    """Per plan: the sum of its succeeded payments, and when any of its payments last changed."""
    succeeded = func.sum(case((Payment.status.in_(WENT_THROUGH), Payment.amount_cents), else_=0))
    rows = uow.session.execute(
        # max() keeps the column's type, so the time comes back UTC-aware on SQLite too.
        select(Payment.plan_id, func.coalesce(succeeded, 0), func.max(Payment.updated_at))
        .where(Payment.plan_id.in_(plan_ids))
        .group_by(Payment.plan_id)
    )
    found = {plan_id: PlanPayments(0, None) for plan_id in plan_ids}
    for plan_id, paid, last in rows:
        found[plan_id] = PlanPayments(int(paid), last)
    return found


def bills_of(uow: UnitOfWork, plan_ids: Sequence[int]) -> dict[int, list[tuple[str, int]]]:
    """Each plan's bills in the order it took them: (bill number, balance still owed)."""
    found: dict[int, list[tuple[str, int]]] = {plan_id: [] for plan_id in plan_ids}
    rows = uow.session.execute(
        select(
            PlanBill.plan_id,
            MedicalBill.bill_number,
            MedicalBill.amount_cents - MedicalBill.adjustments_cents - MedicalBill.paid_cents,
        )
        .join(MedicalBill, MedicalBill.id == PlanBill.bill_id)
        .where(PlanBill.plan_id.in_(plan_ids))
        .order_by(PlanBill.plan_id, PlanBill.id)
    )
    for plan_id, number, balance in rows:
        found[plan_id].append((number, max(int(balance), 0)))
    return found
