"""The statements behind what a member owes and who they are."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from billing_core.adapters.models import Member
from billing_core.adapters.unit_of_work import UnitOfWork


def member_with_bills_and_premiums(uow: UnitOfWork, member_id: int) -> Member | None:
    """The member, with their bills and premium invoices loaded, or None."""
    return uow.session.scalars(
        select(Member)
        .where(Member.id == member_id)
        .options(selectinload(Member.bills), selectinload(Member.premiums))
    ).one_or_none()


def member_by_mrn_digest(uow: UnitOfWork, mrn_digest: str) -> Member | None:
    return uow.session.scalars(select(Member).where(Member.mrn_digest == mrn_digest)).one_or_none()
