"""The statements behind a member's payment history: payments the billing feed reports."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from billing_core.adapters.models import FeedPayment, Member
from billing_core.adapters.unit_of_work import UnitOfWork


def member(uow: UnitOfWork, member_id: int) -> Member | None:
    """The member with this id, or None."""
    return uow.session.get(Member, member_id)


def feed_payments_since(uow: UnitOfWork, member_id: int, since: date) -> list[FeedPayment]:
    """The member's payments made elsewhere on or after that day, newest first."""
    return list(
        uow.session.scalars(
            select(FeedPayment)
            .where(FeedPayment.member_id == member_id, FeedPayment.paid_on >= since)
            .order_by(FeedPayment.paid_on.desc(), FeedPayment.id.desc())
        ).all()
    )
