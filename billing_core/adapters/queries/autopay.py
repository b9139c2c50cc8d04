"""The statements of autopay: enrollments, their saved methods, and the attempts of a run."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import bindparam, func, select

from billing_core.adapters.models import (
    AutopayAttempt,
    AutopayEnrollment,
    Member,
    OutboxMessage,
    Payment,
    PremiumInvoice,
    SavedPaymentMethod,
)
from billing_core.adapters.unit_of_work import UnitOfWork

# Built once: read as each identified member is greeted.
_ACTIVE_ENROLLMENT = select(AutopayEnrollment).where(
    AutopayEnrollment.member_id == bindparam("member_id"), AutopayEnrollment.cancelled_at.is_(None)
)
_ACTIVE_ENROLLMENT_LOCKED = _ACTIVE_ENROLLMENT.with_for_update()


def active_enrollment(
    uow: UnitOfWork, member_id: int, *, lock: bool = False
) -> AutopayEnrollment | None:
    """The member's enrollment not cancelled, or None; locked for update if asked."""
    query = _ACTIVE_ENROLLMENT_LOCKED if lock else _ACTIVE_ENROLLMENT
    return uow.session.scalars(query, {"member_id": member_id}).one_or_none()


def active_enrollment_members(uow: UnitOfWork) -> list[int]:
    """The members with an active enrollment, by id."""
    return list(
        uow.session.scalars(
            select(AutopayEnrollment.member_id)
            .where(AutopayEnrollment.cancelled_at.is_(None))
            .order_by(AutopayEnrollment.member_id)
        ).all()
    )


def active_enrollment_range_numbers(uow: UnitOfWork, size: int) -> list[int]:
    """The numbers (member id // size) of the id ranges that hold an active enrollment."""
    number = AutopayEnrollment.member_id // size
    return list(
        uow.session.scalars(
            select(number)
            .where(AutopayEnrollment.cancelled_at.is_(None))
            .distinct()
            .order_by(number)
        ).all()
    )


def active_enrollment_members_between(uow: UnitOfWork, first: int, stop: int) -> list[int]:
    """The members with an active enrollment whose id is from `first` up to `stop`, by id."""
    return list(
        uow.session.scalars(
            select(AutopayEnrollment.member_id)
            .where(
                AutopayEnrollment.cancelled_at.is_(None),
                AutopayEnrollment.member_id >= first,
                AutopayEnrollment.member_id < stop,
            )
            .order_by(AutopayEnrollment.member_id)
        ).all()
    )


def last_autopay_charge_cents(uow: UnitOfWork, member_id: int, before: date) -> int | None:
    """The amount of the member's last autopay charge that went through for a month before
    `before`, or None if there is none."""
    return uow.session.scalars(
        select(Payment.amount_cents)
        .join(AutopayAttempt, AutopayAttempt.payment_id == Payment.id)
        .where(
            AutopayAttempt.member_id == member_id,
            AutopayAttempt.coverage_month < before,
            AutopayAttempt.outcome == "succeeded",
        )
        .order_by(AutopayAttempt.coverage_month.desc())
        .limit(1)
    ).first()


def first_queued_at(uow: UnitOfWork, dedupe_keys: Sequence[str]) -> datetime | None:
    """When the first of these outbox messages was queued, or None if none is."""
    return uow.session.scalar(
        select(func.min(OutboxMessage.created_at)).where(OutboxMessage.dedupe_key.in_(dedupe_keys))
    )


def add_enrollment(uow: UnitOfWork, values: dict[str, Any]) -> AutopayEnrollment:
    row = AutopayEnrollment(**values)
    uow.session.add(row)
    uow.session.flush()
    return row


def saved_method(uow: UnitOfWork, method_id: int) -> SavedPaymentMethod | None:
    return uow.session.get(SavedPaymentMethod, method_id)


def member(uow: UnitOfWork, member_id: int) -> Member | None:
    return uow.session.get(Member, member_id)


def premiums(uow: UnitOfWork, member_id: int) -> list[PremiumInvoice]:
    """Every premium month of the member, oldest first."""
    return list(
        uow.session.scalars(
            select(PremiumInvoice)
            .where(PremiumInvoice.member_id == member_id)
            .order_by(PremiumInvoice.coverage_month)
        ).all()
    )


def attempts(uow: UnitOfWork, member_id: int, coverage_month: date) -> list[AutopayAttempt]:
    """The run's tries at one member's month, first try first."""
    return list(
        uow.session.scalars(
            select(AutopayAttempt)
            .where(
                AutopayAttempt.member_id == member_id,
                AutopayAttempt.coverage_month == coverage_month,
            )
            .order_by(AutopayAttempt.attempt)
        ).all()
    )


def attempt(
    uow: UnitOfWork, member_id: int, coverage_month: date, number: int, *, lock: bool = False
) -> AutopayAttempt | None:
    """One try, locked for update if asked (its outcome is then changed once)."""
    query = select(AutopayAttempt).where(
        AutopayAttempt.member_id == member_id,
        AutopayAttempt.coverage_month == coverage_month,
        AutopayAttempt.attempt == number,
    )
    if lock:
        query = query.with_for_update()
    return uow.session.scalars(query).one_or_none()


def add_attempt(uow: UnitOfWork, values: dict[str, Any]) -> AutopayAttempt:
    """Add a try; the commit raises IntegrityError if a concurrent run recorded it first."""
    row = AutopayAttempt(**values)
    uow.session.add(row)
    return row


def payment_by_key(uow: UnitOfWork, idempotency_key: str) -> Payment | None:
    return uow.session.scalars(
        select(Payment).where(Payment.idempotency_key == idempotency_key)
    ).one_or_none()
