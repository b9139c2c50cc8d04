"""The statements of scheduled payments: add, list, claim for a run, settle, cancel."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import select, update

from billing_core.adapters.models import MedicalBill, PremiumInvoice, ScheduledPayment
from billing_core.adapters.unit_of_work import UnitOfWork


def by_request_key(uow: UnitOfWork, request_key: str) -> ScheduledPayment | None:
    return uow.session.scalars(
        select(ScheduledPayment).where(ScheduledPayment.request_key == request_key)
    ).one_or_none()


def confirmation_number_taken(uow: UnitOfWork, number: str) -> bool:
    taken = uow.session.scalar(
        select(ScheduledPayment.id).where(ScheduledPayment.confirmation_number == number)
    )
    return taken is not None


def add(uow: UnitOfWork, values: dict[str, Any]) -> ScheduledPayment:
    """Add a scheduled payment; the flush raises IntegrityError if its request key is taken."""
    row = ScheduledPayment(**values)
    uow.session.add(row)
    uow.session.flush()
    return row


def get(uow: UnitOfWork, scheduled_id: int) -> ScheduledPayment | None:
    return uow.session.get(ScheduledPayment, scheduled_id)


def member_scheduled(
    uow: UnitOfWork, member_id: int, statuses: Sequence[str]
) -> list[ScheduledPayment]:
    """The member's scheduled payments in these states, soonest first."""
    return list(
        uow.session.scalars(
            select(ScheduledPayment)
            .where(ScheduledPayment.member_id == member_id, ScheduledPayment.status.in_(statuses))
            .order_by(ScheduledPayment.pay_on, ScheduledPayment.id)
        ).all()
    )


def due_by(
    uow: UnitOfWork,
    statuses: Sequence[str],
    last_day: date,
    members: tuple[int, int] | None = None,
) -> list[int]:
    """Ids of scheduled payments in these states whose day is on or before last_day.

    members: only those of member ids from the first up to, not including, the second.
    """
    query = select(ScheduledPayment.id).where(
        ScheduledPayment.status.in_(statuses), ScheduledPayment.pay_on <= last_day
    )
    if members is not None:
        first, stop = members
        query = query.where(ScheduledPayment.member_id >= first, ScheduledPayment.member_id < stop)
    return list(
        uow.session.scalars(query.order_by(ScheduledPayment.pay_on, ScheduledPayment.id)).all()
    )


def due_range_numbers(
    uow: UnitOfWork, statuses: Sequence[str], last_day: date, size: int
) -> list[int]:
    """The numbers (member id // size) of the id ranges holding a payment due by last_day."""
    number = ScheduledPayment.member_id // size
    return list(
        uow.session.scalars(
            select(number)
            .where(ScheduledPayment.status.in_(statuses), ScheduledPayment.pay_on <= last_day)
            .distinct()
            .order_by(number)
        ).all()
    )


def change_if(
    uow: UnitOfWork,
    scheduled_id: int,
    statuses: Sequence[str],
    attempt: int,
    values: dict[str, Any],
) -> bool:
    """Change the row only if it is still in one of these states at this try (compare-and-set).

    One statement: of two runs (or a run and a cancel) only one changes it.
    """
    changed = uow.session.execute(
        update(ScheduledPayment)
        .where(
            ScheduledPayment.id == scheduled_id,
            ScheduledPayment.status.in_(statuses),
            ScheduledPayment.attempt == attempt,
        )
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return bool(changed.rowcount)


def open_bills(uow: UnitOfWork, member_id: int, bill_number: str | None) -> list[MedicalBill]:
    """The member's bills with a balance (or the one bill, whatever it owes)."""
    query = select(MedicalBill).where(MedicalBill.member_id == member_id)
    if bill_number is not None:
        query = query.where(MedicalBill.bill_number == bill_number)
    else:
        query = query.where(MedicalBill.owes())
    return list(uow.session.scalars(query.order_by(MedicalBill.due_date)).all())


def open_premiums(uow: UnitOfWork, member_id: int) -> list[PremiumInvoice]:
    """The member's premium months with a balance, oldest first."""
    return list(
        uow.session.scalars(
            select(PremiumInvoice)
            .where(
                PremiumInvoice.member_id == member_id,
                PremiumInvoice.amount_cents > PremiumInvoice.paid_cents,
            )
            .order_by(PremiumInvoice.coverage_month)
        ).all()
    )
