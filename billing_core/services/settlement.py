"""Recording what became of a charge, once, with the receipts or notices that go with it."""

from __future__ import annotations

from datetime import datetime

from billing_core.adapters.gateways.base import ChargeResult
from billing_core.adapters.models import Member, Payment
from billing_core.adapters.queries import payments as queries
from billing_core.adapters.queries.payments import IN_FLIGHT
from billing_core.adapters.unit_of_work import UnitOfWork
from billing_core.domain.events import PaymentSettled
from billing_core.domain.exceptions import MemberNotFound
from billing_core.domain.payments import MethodKind, PaymentStatus
from billing_core.domain.preferences import MessageKind
from billing_core.services import audit, outbox, preferences, receipts
from billing_core.services.payment_values import PaymentOutcome

PROCESSING_ERROR = "processing_error"
NOT_CHARGED = "not_charged"
GATEWAY_TIMEOUT = "gateway_timeout"


def settle(
    uow: UnitOfWork,
    payment_id: int,
    *,
    now: datetime,
    by: str,
    result: ChargeResult | None = None,
    failure: str | None = None,
    unknown: bool = False,
    receipt_phone: str | None = None,
) -> PaymentOutcome:
    """Record what became of the charge, once: the payment row is locked while it changes.

    A payment that succeeds gets its receipts queued in the same transaction, so they are
    sent if and only if the success is recorded. A bank debit the gateway accepted is
    SUBMITTED, not SUCCEEDED: it settles, or comes back, days later (payment_lifecycle).
    """
    with uow:
        payment = queries.payment_for_update(uow, payment_id)
        before = payment.status
        if result is not None and result.succeeded:
            # The gateway's word that money moved wins over anything recorded, even a
            # FAILED "not_charged" written while a slow charge was still landing.
            if payment.status in (*IN_FLIGHT, PaymentStatus.FAILED):
                queries.credit_allocations(uow, payment.id, now)
                payment.status = (
                    PaymentStatus.SUBMITTED
                    if payment.method_kind == MethodKind.BANK
                    else PaymentStatus.SUCCEEDED
                )
                payment.gateway_reference = result.reference
                payment.failure_reason = None
                payment.settled_at = now
                _queue_receipts(uow, payment, now, receipt_phone)
        elif payment.status in IN_FLIGHT:
            if result is not None:
                payment.status = PaymentStatus.FAILED
                payment.gateway_reference = result.reference
                payment.failure_reason = result.decline_code or "declined"
                payment.settled_at = now
            elif failure is not None:
                payment.status = PaymentStatus.FAILED
                payment.failure_reason = failure
                payment.settled_at = now
            elif unknown:
                payment.status = PaymentStatus.UNKNOWN
                payment.failure_reason = GATEWAY_TIMEOUT
        if (
            before in IN_FLIGHT
            and payment.status is PaymentStatus.FAILED
            and _caller_not_told(uow, payment, before, by)
        ):
            # The caller heard "we are still confirming it" (or had hung up): they must hear
            # how it ended. The dedupe keys send each notice once, whichever path fails it.
            member = member_of(uow, payment.member_id)
            notice = receipts.receipt_for(payment, member, paid_at=now)
            phone, email = preferences.addresses(uow, member, MessageKind.PAYMENT_PROBLEM)
            messages = receipts.not_taken_messages(
                notice, payment_id=payment.id, phone=phone, email=email
            )
            outbox.enqueue_all(
                uow,
                (outbox.unsubscribable(message, notice.language) for message in messages),
                now=now,
            )
        if payment.status is not before:
            payment.updated_at = now
            queries.add_event(uow, payment, at=now)
            audit.record(
                uow,
                at=now,
                action=f"payment_{payment.status.value}",
                channel=payment.channel,
                call_sid=payment.call_sid,
                member_id=payment.member_id,
                detail={"payment_id": payment.id, "by": by},
            )
            uow.publish(
                PaymentSettled(
                    status=payment.status.value,
                    method=payment.method_kind,
                    channel=payment.channel,
                    decline_code=(
                        payment.failure_reason if payment.status is PaymentStatus.FAILED else None
                    ),
                )
            )
        uow.commit()
        return outcome(payment)


def _caller_not_told(uow: UnitOfWork, payment: Payment, before: PaymentStatus, by: str) -> bool:
    """Whether a payment failing now is news to its member: no call is there to say it.

    It was UNKNOWN (the caller heard "we are still confirming"), or it is settled after
    the call by anything but the call's own charge (reconcile), or its call has ended.
    """
    return (
        before is PaymentStatus.UNKNOWN
        or by != "call"
        or queries.call_has_ended(uow, payment.call_sid)
    )


def _queue_receipts(
    uow: UnitOfWork, payment: Payment, now: datetime, receipt_phone: str | None
) -> None:
    """Queue the receipts the member chose (email, text, both), or a text to the phone given."""
    member = member_of(uow, payment.member_id)
    receipt = receipts.receipt_for(payment, member, paid_at=now)
    phone, email = preferences.addresses(uow, member, MessageKind.PAYMENT_CONFIRMATION)
    messages = receipts.receipt_messages(
        receipt, payment_id=payment.id, phone=receipt_phone or phone, email=email
    )
    outbox.enqueue_all(
        uow, (outbox.unsubscribable(message, receipt.language) for message in messages), now=now
    )


def member_of(uow: UnitOfWork, member_id: int) -> Member:
    """The member with this id; MemberNotFound if there is none."""
    member = queries.member(uow, member_id)
    if member is None:
        raise MemberNotFound(member_id)
    return member


def outcome(payment: Payment) -> PaymentOutcome:
    return PaymentOutcome(
        status=payment.status,
        confirmation_number=payment.confirmation_number,
        amount_cents=payment.amount_cents,
        decline_code=payment.failure_reason if payment.status is PaymentStatus.FAILED else None,
    )
