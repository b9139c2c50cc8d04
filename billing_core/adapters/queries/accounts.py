"""The statements behind what a member owes and who they are."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Row, bindparam, select
from sqlalchemy.orm import selectinload

from billing_core.adapters.models import MedicalBill, Member, PremiumInvoice
from billing_core.adapters.unit_of_work import UnitOfWork

# Built once: read on nearly every call (the balances, the payment offered, identification).
_WITH_BILLS_AND_PREMIUMS = (
    select(Member)
    .where(Member.id == bindparam("member_id"))
    .options(selectinload(Member.bills), selectinload(Member.premiums))
)
_BY_MRN_DIGEST = select(Member).where(Member.mrn_digest == bindparam("mrn_digest"))
# Who an MRN is, as identification checks it: one plain row.
_IDENTITY = select(
    Member.id,
    Member.birth_digest,
    Member.first_name,
    Member.last_name,
    Member.region_key,
    Member.language,
).where(Member.mrn_digest == bindparam("mrn_digest"))
# What a member owes, as plain rows (Core): the summary is read on nearly every call, and
# loading ORM objects for it cost more than the statements themselves.
_SUMMARY_MEMBER = select(
    Member.id,
    Member.first_name,
    Member.region_key,
    Member.state,
    Member.language,
    Member.coverage_type,
    Member.monthly_premium_cents,
    Member.credit_cents,
).where(Member.id == bindparam("member_id"))
_OPEN_BILLS = (
    select(
        MedicalBill.bill_number,
        MedicalBill.date_of_service,
        MedicalBill.facility,
        MedicalBill.provider,
        MedicalBill.amount_cents,
        MedicalBill.adjustments_cents,
        MedicalBill.paid_cents,
        MedicalBill.due_date,
    )
    .where(MedicalBill.member_id == bindparam("member_id"), MedicalBill.owes())
    .order_by(MedicalBill.due_date, MedicalBill.date_of_service, MedicalBill.id)
)
_OPEN_PREMIUMS = (
    select(PremiumInvoice.coverage_month, PremiumInvoice.amount_cents, PremiumInvoice.paid_cents)
    .where(
        PremiumInvoice.member_id == bindparam("member_id"),
        PremiumInvoice.amount_cents > PremiumInvoice.paid_cents,
    )
    .order_by(PremiumInvoice.coverage_month)
)


def identity_by_mrn_digest(uow: UnitOfWork, mrn_digest: str) -> Row[Any] | None:
    """The member's id, birth date digest and names, by MRN digest; or None."""
    return uow.session.connection().execute(_IDENTITY, {"mrn_digest": mrn_digest}).one_or_none()


def open_account(
    uow: UnitOfWork, member_id: int
) -> tuple[Row[Any], list[Row[Any]], list[Row[Any]]] | None:
    """The member's row, their bills with a balance (by due date) and unpaid premiums."""
    connection = uow.session.connection()
    params = {"member_id": member_id}
    member = connection.execute(_SUMMARY_MEMBER, params).one_or_none()
    if member is None:
        return None
    bills = list(connection.execute(_OPEN_BILLS, params))
    premiums = list(connection.execute(_OPEN_PREMIUMS, params))
    return member, bills, premiums


def member_with_bills_and_premiums(uow: UnitOfWork, member_id: int) -> Member | None:
    """The member, with their bills and premium invoices loaded, or None."""
    return uow.session.scalars(_WITH_BILLS_AND_PREMIUMS, {"member_id": member_id}).one_or_none()


def member_by_mrn_digest(uow: UnitOfWork, mrn_digest: str) -> Member | None:
    return uow.session.scalars(_BY_MRN_DIGEST, {"mrn_digest": mrn_digest}).one_or_none()
