"""The ledger: every change of every payment since a moment, one entry per bill or premium
month it moved money on, for the billing system to post.

An entry is a payment's status change (payment_events) times what it moved: a payment
that went through (succeeded, submitted) moves its allocations onto its bills and months;
a settlement moves nothing new but is listed per allocation so the billing system can
clear them; a return, a void or a refund moves the reversals it made, as negative
amounts. Events and allocations are never changed once written, so exporting a window
again gives the same entries, and the entries of a payment sum to what it still pays.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select

from billing_core.adapters.models import (
    MedicalBill,
    Member,
    Payment,
    PaymentAllocation,
    PaymentEvent,
    PaymentReversal,
    PremiumInvoice,
)
from billing_core.adapters.unit_of_work import UnitOfWork
from billing_core.domain.payments import PaymentStatus

# The changes that move money onto bills (their allocations), and those that take it off.
_PAYS = frozenset({PaymentStatus.SUCCEEDED.value, PaymentStatus.SUBMITTED.value})
_LISTS = frozenset({PaymentStatus.SETTLED.value})
_GIVES_BACK = frozenset(
    {PaymentStatus.RETURNED.value, PaymentStatus.VOIDED.value, PaymentStatus.REFUNDED.value}
)


@dataclass(frozen=True)
class LedgerEntry:
    """One status change of one payment on one bill or premium month."""

    event_id: int
    at: datetime
    change: str
    confirmation_number: str
    account_key: str | None
    mrn_last4: str
    item: str  # bill, premium
    bill_number: str | None
    coverage_month: date | None
    # What the change moved onto (positive) or off (negative) the item; 0 for a settlement.
    amount_cents: int
    plan_id: int | None
    plan_installment: int | None
    method_kind: str
    method_brand: str | None
    method_last4: str | None
    channel: str
    gateway: str
    gateway_reference: str | None
    return_code: str | None
    returned_item_fee_cents: int | None


def entries_since(uow: UnitOfWork, since: datetime) -> list[LedgerEntry]:
    """Every entry of the changes recorded at or after `since`, oldest change first."""
    with uow:
        return list(_entries(uow, since))


def _entries(uow: UnitOfWork, since: datetime) -> Iterator[LedgerEntry]:
    rows = uow.session.execute(
        select(PaymentEvent, Payment, Member)
        .join(Payment, Payment.id == PaymentEvent.payment_id)
        .join(Member, Member.id == Payment.member_id)
        .where(PaymentEvent.at >= since)
        .order_by(PaymentEvent.at, PaymentEvent.id)
    ).all()
    for event, payment, member in rows:
        for item, bill_number, month, cents in _moved(uow, event, payment):
            yield LedgerEntry(
                event_id=event.id,
                at=event.at,
                change=event.status,
                confirmation_number=payment.confirmation_number,
                account_key=member.account_key,
                mrn_last4=member.mrn_last4,
                item=item,
                bill_number=bill_number,
                coverage_month=month,
                amount_cents=cents,
                plan_id=payment.plan_id,
                plan_installment=payment.plan_installment,
                method_kind=payment.method_kind,
                method_brand=payment.method_brand,
                method_last4=payment.method_last4,
                channel=payment.channel,
                gateway=payment.gateway,
                gateway_reference=payment.gateway_reference,
                return_code=event.return_code,
                returned_item_fee_cents=(
                    payment.returned_item_fee_cents
                    if event.status == PaymentStatus.RETURNED.value
                    else None
                ),
            )


def _moved(uow: UnitOfWork, event: PaymentEvent, payment: Payment):
    """(item, bill number, coverage month, cents) of what the change moved."""
    session = uow.session
    if event.status in _PAYS or event.status in _LISTS:
        sign = 1 if event.status in _PAYS else 0
        query = (
            select(PaymentAllocation, MedicalBill.bill_number, PremiumInvoice.coverage_month)
            .outerjoin(MedicalBill, MedicalBill.id == PaymentAllocation.bill_id)
            .outerjoin(PremiumInvoice, PremiumInvoice.id == PaymentAllocation.premium_invoice_id)
            .where(PaymentAllocation.payment_id == payment.id)
            .order_by(PaymentAllocation.id)
        )
        for allocation, bill_number, month in session.execute(query):
            item = "bill" if allocation.bill_id is not None else "premium"
            yield item, bill_number, month, sign * allocation.amount_cents
    elif event.status in _GIVES_BACK:
        query = (
            select(PaymentReversal, MedicalBill.bill_number, PremiumInvoice.coverage_month)
            .outerjoin(MedicalBill, MedicalBill.id == PaymentReversal.bill_id)
            .outerjoin(PremiumInvoice, PremiumInvoice.id == PaymentReversal.premium_invoice_id)
            .where(PaymentReversal.payment_id == payment.id)
            .order_by(PaymentReversal.id)
        )
        if event.refund_id is not None:
            query = query.where(PaymentReversal.refund_id == event.refund_id)
        else:
            query = query.where(PaymentReversal.refund_id.is_(None))
        for reversal, bill_number, month in session.execute(query):
            item = "bill" if reversal.bill_id is not None else "premium"
            yield item, bill_number, month, -reversal.amount_cents
