"""The statements behind members' documents: a tax year's premium payments, the mail queue."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select, update

from billing_core.adapters.models import (
    DocumentRequest,
    Payment,
    PaymentAllocation,
    PremiumInvoice,
)
from billing_core.adapters.unit_of_work import UnitOfWork
from billing_core.domain.payments import WENT_THROUGH

MAIL = "mail"


@dataclass(frozen=True)
class PremiumPaid:
    """The part of one succeeded payment that paid one premium month."""

    made_at: datetime
    confirmation_number: str
    coverage_month: date
    amount_cents: int


def premium_payments_between(
    uow: UnitOfWork, member_id: int, start: datetime, end: datetime
) -> list[PremiumPaid]:
    """What the member's succeeded payments made in [start, end) paid on premiums, oldest first."""
    rows = uow.session.execute(
        select(
            Payment.created_at,
            Payment.confirmation_number,
            PremiumInvoice.coverage_month,
            PaymentAllocation.amount_cents,
        )
        .join(PaymentAllocation, PaymentAllocation.payment_id == Payment.id)
        .join(PremiumInvoice, PremiumInvoice.id == PaymentAllocation.premium_invoice_id)
        .where(
            Payment.member_id == member_id,
            Payment.status.in_(WENT_THROUGH),
            Payment.created_at >= start,
            Payment.created_at < end,
        )
        .order_by(Payment.created_at, Payment.id, PremiumInvoice.coverage_month)
    )
    return [PremiumPaid(*row) for row in rows]


def add_document(uow: UnitOfWork, **values) -> DocumentRequest:
    """Add a document request and give it its id (the caller's commit keeps it)."""
    row = DocumentRequest(**values)
    uow.session.add(row)
    uow.session.flush()
    return row


def mail_documents_since(uow: UnitOfWork, since: datetime) -> list[DocumentRequest]:
    """The documents queued for mail since then, oldest first (by id)."""
    return list(
        uow.session.scalars(
            select(DocumentRequest)
            .where(DocumentRequest.delivery == MAIL, DocumentRequest.created_at >= since)
            .order_by(DocumentRequest.id)
        ).all()
    )


def mark_exported(uow: UnitOfWork, ids: list[int], now: datetime) -> int:
    """Note the first export of these documents; how many had not been exported before."""
    if not ids:
        return 0
    result = uow.session.execute(
        update(DocumentRequest)
        .where(DocumentRequest.id.in_(ids), DocumentRequest.exported_at.is_(None))
        .values(exported_at=now)
    )
    return result.rowcount
