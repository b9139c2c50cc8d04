"""The statements of taking, settling and listing payments, each a named function.

Rows come back as the ORM objects of billing_core.adapters.models, attached to the unit
of work's session: a service changes them and commits the unit of work.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, func, or_, select, update
from sqlalchemy.exc import IntegrityError

from billing_core.adapters.models import (
    AchAuthorizationRecord,
    CallSession,
    MedicalBill,
    Member,
    Payment,
    PaymentAllocation,
    PaymentEvent,
    PaymentReversal,
    PlanBill,
    PremiumInvoice,
    Refund,
)
from billing_core.adapters.unit_of_work import UnitOfWork
from billing_core.domain.members import CoverageType
from billing_core.domain.payments import AchAuthorization, Allocation, ItemKind, PaymentStatus

# What a commit raises when a concurrent insert won a unique key (idempotency key, number).
UniqueKeyTaken = IntegrityError

# Payments whose money may still move: their allocations hold the balance they target.
IN_FLIGHT = (PaymentStatus.PENDING, PaymentStatus.UNKNOWN)


# Built once: a quote and a payment need only this of the member, on nearly every call.
_COVERAGE = select(Member.coverage_type).where(Member.id == bindparam("member_id"))


def member_coverage(uow: UnitOfWork, member_id: int) -> CoverageType | None:
    """The member's coverage type (which says whether premiums are paid here), or None."""
    return uow.session.connection().execute(_COVERAGE, {"member_id": member_id}).scalar()


def member(uow: UnitOfWork, member_id: int) -> Member | None:
    """The member with this id, or None."""
    return uow.session.get(Member, member_id)


# Built once: every quote and payment reads the bills or premium months it pays.
_OPEN_PREMIUMS = (
    select(PremiumInvoice)
    .where(
        PremiumInvoice.member_id == bindparam("member_id"),
        PremiumInvoice.amount_cents > PremiumInvoice.paid_cents,
    )
    .order_by(PremiumInvoice.id)
)
_OPEN_PREMIUMS_LOCKED = _OPEN_PREMIUMS.with_for_update()
_ALL_BILLS = select(MedicalBill).where(MedicalBill.member_id == bindparam("member_id"))
_ONE_BILL = _ALL_BILLS.where(MedicalBill.bill_number == bindparam("bill_number"))
_OWED_BILLS = _ALL_BILLS.where(MedicalBill.owes())
# By (one bill by number, locked).
_BILLS = {
    (True, False): _ONE_BILL.order_by(MedicalBill.id),
    (True, True): _ONE_BILL.order_by(MedicalBill.id).with_for_update(),
    (False, False): _OWED_BILLS.order_by(MedicalBill.id),
    (False, True): _OWED_BILLS.order_by(MedicalBill.id).with_for_update(),
}


def open_premiums(uow: UnitOfWork, member_id: int, *, lock: bool) -> list[PremiumInvoice]:
    """The member's premium months with a balance, by id; locked for update if asked."""
    query = _OPEN_PREMIUMS_LOCKED if lock else _OPEN_PREMIUMS
    return list(uow.session.scalars(query, {"member_id": member_id}).all())


def member_bills(
    uow: UnitOfWork, member_id: int, *, bill_number: str | None, lock: bool
) -> list[MedicalBill]:
    """One bill by number (paid or not), or else every bill with a balance, by id."""
    query = _BILLS[bill_number is not None, lock]
    values = {"member_id": member_id, "bill_number": bill_number}
    return list(uow.session.scalars(query, values).all())


def plan_bills(uow: UnitOfWork, member_id: int, plan_id: int, *, lock: bool) -> list[MedicalBill]:
    """The bills of the member's plan that still have a balance, by id."""
    query = (
        select(MedicalBill)
        .join(PlanBill, PlanBill.bill_id == MedicalBill.id)
        .where(
            PlanBill.plan_id == plan_id,
            MedicalBill.member_id == member_id,
            MedicalBill.owes(),
        )
        .order_by(MedicalBill.id)
    )
    if lock:
        query = query.with_for_update(of=MedicalBill)
    return list(uow.session.scalars(query).all())


def _held(column) -> Any:
    return (
        select(column, func.sum(PaymentAllocation.amount_cents))
        .join(Payment, Payment.id == PaymentAllocation.payment_id)
        .where(column.in_(bindparam("ids", expanding=True)), Payment.status.in_(IN_FLIGHT))
        .group_by(column)
    )


# Built once: every quote and payment asks what payments in progress hold.
_HELD = {
    ItemKind.BILL: _held(PaymentAllocation.bill_id),
    ItemKind.PREMIUM: _held(PaymentAllocation.premium_invoice_id),
}


def held_cents(uow: UnitOfWork, kind: ItemKind, item_ids: Sequence[int]) -> dict[int, int]:
    """What payments in progress have allocated to each bill or premium month."""
    if not item_ids:
        return {}
    rows = uow.session.execute(_HELD[kind], {"ids": list(item_ids)}).all()
    # PostgreSQL sums a bigint column as numeric: cents stay whole numbers here.
    return {item_id: int(total) for item_id, total in rows}


# Built once: each payment taken runs them.
_BY_KEY = select(Payment).where(Payment.idempotency_key == bindparam("key"))
_NUMBER_TAKEN = select(Payment.id).where(Payment.confirmation_number == bindparam("number"))


def payment_by_key(uow: UnitOfWork, idempotency_key: str) -> Payment | None:
    return uow.session.scalars(_BY_KEY, {"key": idempotency_key}).one_or_none()


def confirmation_number_taken(uow: UnitOfWork, number: str) -> bool:
    return uow.session.scalar(_NUMBER_TAKEN, {"number": number}) is not None


def add_payment(
    uow: UnitOfWork,
    values: dict[str, Any],
    allocations: Sequence[Allocation],
    ach: AchAuthorization | None,
) -> Payment:
    """Add a payment with its allocations (and its bank-debit authorization); return it."""
    session = uow.session
    payment = Payment(**values)
    session.add(payment)
    session.flush()
    for allocation in allocations:
        session.add(
            PaymentAllocation(
                payment_id=payment.id,
                bill_id=allocation.item_id if allocation.kind is ItemKind.BILL else None,
                premium_invoice_id=(
                    allocation.item_id if allocation.kind is ItemKind.PREMIUM else None
                ),
                amount_cents=allocation.amount_cents,
            )
        )
    if ach is not None:
        session.add(
            AchAuthorizationRecord(
                payment_id=payment.id,
                accepted_at=ach.accepted_at,
                amount_cents=ach.amount_cents,
                account_last4=ach.account_last4,
                call_sid=ach.call_sid,
                text=ach.text,
            )
        )
    return payment


def payment_for_update(uow: UnitOfWork, payment_id: int) -> Payment:
    """The payment, its row locked until the unit of work ends."""
    return uow.session.scalars(
        select(Payment).where(Payment.id == payment_id).with_for_update()
    ).one()


def credit_allocations(uow: UnitOfWork, payment_id: int, now: datetime) -> None:
    """Add a payment's allocations to the paid amounts of its bills and premium months."""
    session = uow.session
    allocations = session.scalars(
        select(PaymentAllocation).where(PaymentAllocation.payment_id == payment_id)
    ).all()
    # Bills then premiums, each by id: the same lock order as taking a payment.
    for allocation in sorted(
        allocations, key=lambda a: (a.bill_id is None, a.bill_id or a.premium_invoice_id)
    ):
        table = MedicalBill if allocation.bill_id is not None else PremiumInvoice
        item_id = (
            allocation.bill_id if allocation.bill_id is not None else allocation.premium_invoice_id
        )
        session.execute(
            update(table)
            .where(table.id == item_id)
            .values(paid_cents=table.paid_cents + allocation.amount_cents, updated_at=now)
        )


def payments_to_reconcile(
    uow: UnitOfWork, gateway_name: str, pending_before: datetime
) -> list[tuple[int, str, str, datetime, PaymentStatus]]:
    """(id, idempotency key, confirmation, created at, status) of PENDING payments created
    before the cutoff or taken in a call that has ended, and of every UNKNOWN one, through
    this gateway, oldest first.

    Once its call has ended nobody is left to finish a PENDING payment, so it is not made
    to wait for the cutoff.
    """
    call_ended = (
        select(CallSession.call_sid)
        .where(CallSession.call_sid == Payment.call_sid, CallSession.ended_at.is_not(None))
        .exists()
    )
    rows = uow.session.execute(
        select(
            Payment.id,
            Payment.idempotency_key,
            Payment.confirmation_number,
            Payment.created_at,
            Payment.status,
        )
        .where(
            Payment.gateway == gateway_name,
            or_(
                and_(
                    Payment.status == PaymentStatus.PENDING,
                    or_(Payment.created_at <= pending_before, call_ended),
                ),
                Payment.status == PaymentStatus.UNKNOWN,
            ),
        )
        .order_by(Payment.id)
    ).all()
    return [tuple(row) for row in rows]


def call_has_ended(uow: UnitOfWork, call_sid: str | None) -> bool:
    """Whether the call with this CallSid is marked as ended (False for no call)."""
    if call_sid is None:
        return False
    ended = uow.session.scalar(select(CallSession.ended_at).where(CallSession.call_sid == call_sid))
    return ended is not None


def member_payments_since(uow: UnitOfWork, member_id: int, since: datetime) -> list[Payment]:
    """The member's payments created since then, declined attempts excluded, newest first."""
    return list(
        uow.session.scalars(
            select(Payment)
            .where(
                Payment.member_id == member_id,
                Payment.created_at >= since,
                Payment.status != PaymentStatus.FAILED,
            )
            .order_by(Payment.created_at.desc(), Payment.id.desc())
        ).all()
    )


def member_payment_by_confirmation(
    uow: UnitOfWork, member_id: int, confirmation_number: str
) -> Payment | None:
    return uow.session.scalars(
        select(Payment).where(
            Payment.member_id == member_id,
            Payment.confirmation_number == confirmation_number,
        )
    ).one_or_none()


def payments_created_since(
    uow: UnitOfWork, start: datetime
) -> Iterator[tuple[Payment, str, str | None]]:
    """Each payment created since then, its member's MRN last 4 and account key; oldest first."""
    rows = uow.session.execute(
        select(Payment, Member.mrn_last4, Member.account_key)
        .join(Member, Member.id == Payment.member_id)
        .where(Payment.created_at >= start)
        .order_by(Payment.created_at, Payment.id)
        # A year of payments is streamed, not held in memory at once.
        .execution_options(yield_per=1000)
    )
    yield from rows.tuples()


def add_event(
    uow: UnitOfWork,
    payment: Payment,
    *,
    at: datetime,
    status: PaymentStatus | None = None,
    amount_cents: int | None = None,
    refund_id: int | None = None,
) -> None:
    """Write the payment's status (or the change named) to its history, the ledger's."""
    uow.session.add(
        PaymentEvent(
            payment_id=payment.id,
            status=(status or payment.status).value,
            amount_cents=payment.amount_cents if amount_cents is None else amount_cents,
            at=at,
            return_code=payment.return_code,
            refund_id=refund_id,
        )
    )


def give_back(
    uow: UnitOfWork, payment: Payment, amount_cents: int, now: datetime, refund_id: int | None
) -> int:
    """Take up to `amount_cents` of the payment off what its bills and months show as paid,
    the last allocated first; record each as a reversal; return how much was given back."""
    session = uow.session
    allocations = session.scalars(
        select(PaymentAllocation)
        .where(PaymentAllocation.payment_id == payment.id)
        .order_by(PaymentAllocation.id.desc())
    ).all()
    reversed_by_item: dict[tuple[int | None, int | None], int] = {}
    for bill_id, premium_id, cents in session.execute(
        select(
            PaymentReversal.bill_id,
            PaymentReversal.premium_invoice_id,
            PaymentReversal.amount_cents,
        ).where(PaymentReversal.payment_id == payment.id)
    ):
        key = (bill_id, premium_id)
        reversed_by_item[key] = reversed_by_item.get(key, 0) + cents
    left = amount_cents
    for allocation in allocations:
        if left <= 0:
            break
        key = (allocation.bill_id, allocation.premium_invoice_id)
        take = min(left, allocation.amount_cents - reversed_by_item.get(key, 0))
        if take <= 0:
            continue
        table = MedicalBill if allocation.bill_id is not None else PremiumInvoice
        item_id = (
            allocation.bill_id if allocation.bill_id is not None else allocation.premium_invoice_id
        )
        session.execute(
            update(table)
            .where(table.id == item_id)
            .values(paid_cents=table.paid_cents - take, updated_at=now)
        )
        session.add(
            PaymentReversal(
                payment_id=payment.id,
                refund_id=refund_id,
                bill_id=allocation.bill_id,
                premium_invoice_id=allocation.premium_invoice_id,
                amount_cents=take,
                at=now,
            )
        )
        left -= take
    return amount_cents - left


def submitted_debits(uow: UnitOfWork, gateway_name: str) -> list[tuple[int, str | None]]:
    """(id, gateway reference) of the bank debits through this gateway still clearing."""
    rows = uow.session.execute(
        select(Payment.id, Payment.gateway_reference)
        .where(Payment.gateway == gateway_name, Payment.status == PaymentStatus.SUBMITTED)
        .order_by(Payment.id)
    ).all()
    return [tuple(row) for row in rows]


def submitted_debit_by_reference(uow: UnitOfWork, gateway_name: str, reference: str) -> int | None:
    """The id of the bank debit through this gateway with this reference, still clearing."""
    return uow.session.scalar(
        select(Payment.id).where(
            Payment.gateway == gateway_name,
            Payment.gateway_reference == reference,
            Payment.status == PaymentStatus.SUBMITTED,
        )
    )


def payment_by_confirmation(uow: UnitOfWork, confirmation_number: str) -> Payment | None:
    return uow.session.scalars(
        select(Payment).where(Payment.confirmation_number == confirmation_number)
    ).one_or_none()


def refunds_of(uow: UnitOfWork, payment_id: int) -> list[Refund]:
    return list(
        uow.session.scalars(
            select(Refund).where(Refund.payment_id == payment_id).order_by(Refund.id)
        ).all()
    )
