"""The statements behind what a member owes and who they are."""

from __future__ import annotations

from sqlalchemy import bindparam, select
from sqlalchemy.orm import selectinload

from billing_core.adapters.models import Member
from billing_core.adapters.unit_of_work import UnitOfWork

# Built once: read on nearly every call (the balances, the payment offered, identification).
_WITH_BILLS_AND_PREMIUMS = (
    select(Member)
    .where(Member.id == bindparam("member_id"))
    .options(selectinload(Member.bills), selectinload(Member.premiums))
)
_BY_MRN_DIGEST = select(Member).where(Member.mrn_digest == bindparam("mrn_digest"))


def member_with_bills_and_premiums(uow: UnitOfWork, member_id: int) -> Member | None:
    """The member, with their bills and premium invoices loaded, or None."""
    return uow.session.scalars(_WITH_BILLS_AND_PREMIUMS, {"member_id": member_id}).one_or_none()


def member_by_mrn_digest(uow: UnitOfWork, mrn_digest: str) -> Member | None:
    return uow.session.scalars(_BY_MRN_DIGEST, {"mrn_digest": mrn_digest}).one_or_none()
