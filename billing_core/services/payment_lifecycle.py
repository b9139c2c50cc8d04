"""A payment after it went through: a bank debit settles or comes back; staff refund or void.

Bank debits: reconcile asks the gateway what became of each SUBMITTED debit. SETTLED is
recorded; RETURNED (with its NACHA code) gives the amount back to the bills and premium
months it paid, so it is owed again, records the returned-item fee the line is set up to
charge (for the billing system to post: the ledger export carries it), and tells the
member. A returned payment plan installment counts as missed.

Refunds and voids, each recorded before the gateway is asked (status pending) under an
idempotency key of its own, then finished with the gateway's answer: a repeated command,
or one after a crash, finds the pending row and asks again under the same key, so
nothing is given back twice. A refund gives back part or all of a settled payment; a void
cancels a payment that has not settled (a bank debit still clearing, a card payment
before the next business day) in full. Both give the balance back, tell the member and
are audited with who asked.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from billing_core.adapters.gateways.base import (
    RETURNED,
    SETTLED,
    VOIDED,
    GatewayError,
    GatewayTimeout,
    PaymentGateway,
)
from billing_core.adapters.models import Payment, Refund
from billing_core.adapters.queries import payments as queries
from billing_core.adapters.queries import plans as plan_queries
from billing_core.adapters.unit_of_work import UnitOfWork
from billing_core.domain.exceptions import BillingError
from billing_core.domain.payments import PaymentStatus
from billing_core.domain.preferences import MessageKind
from billing_core.services import audit, outbox, preferences, receipts
from billing_core.services.settlement import member_of

log = logging.getLogger(__name__)

REFUND = "refund"
VOID = "void"
PENDING, DONE, FAILED = "pending", "done", "failed"


class RefundRefused(BillingError):
    """The refund or void cannot be made; `reason` says why, in words for staff."""

    NO_SUCH_PAYMENT = "no payment has this confirmation number"
    NOT_TAKEN = "the payment did not go through: there is nothing to give back"
    NOT_SETTLED = "the bank payment has not settled yet: void it instead"
    SETTLED = "the payment has settled: refund it instead"
    TOO_MUCH = "more than is left of the payment"
    NOTHING_LEFT = "the payment has been given back in full already"
    REPEATED = "a refund of this amount was made already (give --another to make one more)"

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class GivenBack:
    """A refund or void as it stands: done, still pending at the gateway, or refused by it."""

    confirmation_number: str
    kind: str
    amount_cents: int
    status: str
    gateway_reference: str | None
    failure_reason: str | None = None
    # True when this request found a refund already recorded under its key.
    repeated: bool = False


@dataclass
class DebitReport:
    """What a run learned of the bank debits: confirmation numbers settled and returned."""

    settled: list[str] = field(default_factory=list)
    returned: list[str] = field(default_factory=list)
    clearing: int = 0
    errors: int = 0

    def line(self) -> str:
        return (
            f"bank debits settled: {len(self.settled)}, returned: {len(self.returned)}, "
            f"still clearing: {self.clearing}"
            + (f", not reached: {self.errors}" if self.errors else "")
        )


# --- bank debits ------------------------------------------------------------------------


def follow_bank_debits(
    uow_factory: Callable[[], UnitOfWork],
    gateway: PaymentGateway,
    *,
    now: datetime,
    returned_item_fee_cents: int = 0,
) -> DebitReport:
    """Record what became of each bank debit still clearing: settled or returned."""
    report = DebitReport()
    with uow_factory() as uow:
        debits = queries.submitted_debits(uow, gateway.name)
    for payment_id, reference in debits:
        if reference is not None:
            _follow(
                uow_factory, gateway, payment_id, reference, returned_item_fee_cents, now, report
            )
    return report


def follow_bank_debit(
    uow_factory: Callable[[], UnitOfWork],
    gateway: PaymentGateway,
    *,
    reference: str,
    now: datetime,
    returned_item_fee_cents: int = 0,
) -> DebitReport:
    """Record what became of the one debit with this gateway reference, if it is still
    clearing (a gateway's event named it); the gateway's own record decides, not the event."""
    report = DebitReport()
    with uow_factory() as uow:
        payment_id = queries.submitted_debit_by_reference(uow, gateway.name, reference)
    if payment_id is not None:
        _follow(uow_factory, gateway, payment_id, reference, returned_item_fee_cents, now, report)
    return report


def _follow(uow_factory, gateway, payment_id, reference, fee_cents, now, report) -> None:
    try:
        found = gateway.settlement(reference)
    except (GatewayError, GatewayTimeout) as error:
        log.warning("bank debit %s: settlement not known: %s", payment_id, error)
        report.errors += 1
        return
    if found.state == SETTLED:
        confirmation = _record_settled(uow_factory(), payment_id, now)
        if confirmation:
            report.settled.append(confirmation)
    elif found.state in (RETURNED, VOIDED):
        confirmation = _record_returned(
            uow_factory(), payment_id, found.return_code, fee_cents, now
        )
        if confirmation:
            report.returned.append(confirmation)
    else:
        report.clearing += 1


def _record_settled(uow: UnitOfWork, payment_id: int, now: datetime) -> str | None:
    with uow:
        payment = queries.payment_for_update(uow, payment_id)
        if payment.status is not PaymentStatus.SUBMITTED:
            return None  # settled or voided by another run a moment ago
        _change(uow, payment, PaymentStatus.SETTLED, now, by="reconcile")
        uow.commit()
        return payment.confirmation_number


def _record_returned(
    uow: UnitOfWork, payment_id: int, code: str | None, fee_cents: int, now: datetime
) -> str | None:
    with uow:
        payment = queries.payment_for_update(uow, payment_id)
        if payment.status is not PaymentStatus.SUBMITTED:
            return None
        payment.return_code = code
        payment.returned_item_fee_cents = fee_cents or None
        queries.give_back(uow, payment, payment.amount_cents, now, None)
        _change(uow, payment, PaymentStatus.RETURNED, now, by="reconcile")
        if payment.plan_id is not None and payment.plan_installment is not None:
            # The installment was not paid after all: it counts as missed.
            installment = plan_queries.installment(uow, payment.plan_id, payment.plan_installment)
            if installment is not None and installment.status == "paid":
                installment.status, installment.updated_at = "missed", now
        _tell(
            uow,
            payment,
            "returned",
            f"returned:{payment.id}",
            now,
            return_code=code,
            fee_cents=fee_cents or None,
        )
        uow.commit()
        return payment.confirmation_number


# --- refunds and voids ------------------------------------------------------------------


def refund(
    uow_factory: Callable[[], UnitOfWork],
    gateway: PaymentGateway,
    *,
    confirmation_number: str,
    amount_cents: int | None,
    by: str,
    now: datetime,
    another: bool = False,
) -> GivenBack:
    """Refund part (amount_cents) or the rest of a payment that went through and settled."""
    with uow_factory() as uow:
        payment = _payment(uow, confirmation_number)
        pending = _pending(uow, payment.id)
        if pending is None:  # else: asked before with no answer; ask again under its key
            if not payment.status.went_through and payment.status is not PaymentStatus.REFUNDED:
                raise RefundRefused(RefundRefused.NOT_TAKEN)
            if payment.status is PaymentStatus.SUBMITTED:
                raise RefundRefused(RefundRefused.NOT_SETTLED)
            left = payment.amount_cents - payment.refunded_cents
            if left <= 0:
                raise RefundRefused(RefundRefused.NOTHING_LEFT)
            amount = left if amount_cents is None else amount_cents
            if not 0 < amount <= left:
                raise RefundRefused(RefundRefused.TOO_MUCH)
            earlier = queries.refunds_of(uow, payment.id)
            if not another and any(
                row.status == DONE and row.amount_cents == amount for row in earlier
            ):
                raise RefundRefused(RefundRefused.REPEATED)
            pending = _ask(
                uow, payment, REFUND, amount, f"refund:{payment.id}:{len(earlier) + 1}", by, now
            )
    return _finish(uow_factory, gateway, pending, now)


def void(
    uow_factory: Callable[[], UnitOfWork],
    gateway: PaymentGateway,
    *,
    confirmation_number: str,
    by: str,
    now: datetime,
) -> GivenBack:
    """Cancel a payment that has not settled, in full."""
    with uow_factory() as uow:
        payment = _payment(uow, confirmation_number)
        key = f"void:{payment.id}"
        found = next(
            (row for row in queries.refunds_of(uow, payment.id) if row.idempotency_key == key), None
        )
        if found is not None and found.status == DONE:
            return _given_back(payment, found, repeated=True)
        if found is not None and found.status == PENDING:
            refund_id = found.id  # asked before, no answer yet: ask again under its key
        else:
            if payment.status is PaymentStatus.VOIDED:
                raise RefundRefused(RefundRefused.NOTHING_LEFT)
            if not payment.status.went_through:
                raise RefundRefused(RefundRefused.NOT_TAKEN)
            if payment.status is PaymentStatus.SETTLED or payment.refunded_cents:
                raise RefundRefused(RefundRefused.SETTLED)
            if found is not None:  # refused by the gateway before: ask once more
                found.status, found.failure_reason, found.updated_at = PENDING, None, now
                uow.commit()
                refund_id = found.id
            else:
                refund_id = _ask(uow, payment, VOID, payment.amount_cents, key, by, now)
    return _finish(uow_factory, gateway, refund_id, now)


def _ask(uow, payment: Payment, kind: str, amount: int, key: str, by: str, now) -> int:
    """Record the refund as asked (committed) before the gateway hears of it."""
    row = Refund(
        payment_id=payment.id,
        idempotency_key=key,
        kind=kind,
        amount_cents=amount,
        status=PENDING,
        requested_by=by[:60],
        created_at=now,
        updated_at=now,
    )
    uow.session.add(row)
    try:
        uow.commit()
    except queries.UniqueKeyTaken:
        # The same request a moment ago from another process: that one goes on.
        raise RefundRefused(RefundRefused.REPEATED) from None
    return row.id


def _finish(uow_factory, gateway: PaymentGateway, refund_id: int, now: datetime) -> GivenBack:
    with uow_factory() as uow:
        row = uow.session.get(Refund, refund_id)
        payment = uow.session.get(Payment, row.payment_id)
        kind, key, amount, reference = (
            row.kind,
            row.idempotency_key,
            row.amount_cents,
            payment.gateway_reference,
        )
    try:
        if kind == VOID:
            result = gateway.void(reference=reference or "", idempotency_key=key)
        else:
            result = gateway.refund(
                reference=reference or "", amount_cents=amount, idempotency_key=key
            )
    except GatewayTimeout:
        # It may have been made: the row stays pending, and asking again asks under its key.
        with uow_factory() as uow:
            row = uow.session.get(Refund, refund_id)
            return _given_back(uow.session.get(Payment, row.payment_id), row)
    except GatewayError as error:
        with uow_factory() as uow:
            row = uow.session.get(Refund, refund_id)
            row.status, row.failure_reason, row.updated_at = FAILED, str(error)[:200], now
            uow.commit()
            return _given_back(uow.session.get(Payment, row.payment_id), row)
    with uow_factory() as uow:
        row = uow.session.get(Refund, refund_id)
        payment = queries.payment_for_update(uow, row.payment_id)
        if row.status == DONE:  # finished by a concurrent request
            return _given_back(payment, row, repeated=True)
        row.status, row.gateway_reference, row.updated_at = DONE, result.reference, now
        queries.give_back(uow, payment, row.amount_cents, now, row.id)
        if kind == VOID:
            _change(uow, payment, PaymentStatus.VOIDED, now, by=row.requested_by, refund=row)
            _tell(uow, payment, "voided", f"voided:{payment.id}", now)
        else:
            payment.refunded_cents += row.amount_cents
            status = (
                PaymentStatus.REFUNDED
                if payment.refunded_cents >= payment.amount_cents
                else payment.status
            )
            _change(uow, payment, status, now, by=row.requested_by, refund=row, always=True)
            _tell(
                uow, payment, "refunded", f"refunded:{row.id}", now, refund_cents=row.amount_cents
            )
        uow.commit()
        return _given_back(payment, row)


def _pending(uow: UnitOfWork, payment_id: int) -> int | None:
    for row in queries.refunds_of(uow, payment_id):
        if row.status == PENDING and row.kind == REFUND:
            return row.id
    return None


def _payment(uow: UnitOfWork, confirmation_number: str) -> Payment:
    payment = queries.payment_by_confirmation(uow, confirmation_number.strip())
    if payment is None:
        raise RefundRefused(RefundRefused.NO_SUCH_PAYMENT)
    return payment


def _given_back(payment: Payment, row: Refund, *, repeated: bool = False) -> GivenBack:
    return GivenBack(
        confirmation_number=payment.confirmation_number,
        kind=row.kind,
        amount_cents=row.amount_cents,
        status=row.status,
        gateway_reference=row.gateway_reference,
        failure_reason=row.failure_reason,
        repeated=repeated,
    )


def _change(
    uow: UnitOfWork,
    payment: Payment,
    status: PaymentStatus,
    now: datetime,
    *,
    by: str,
    refund: Refund | None = None,
    always: bool = False,
) -> None:
    """Move the payment to `status`, with its event and an audit record naming who."""
    if payment.status is status and not always:
        return
    payment.status, payment.updated_at = status, now
    refunded = refund is not None and refund.kind == REFUND
    # A partial refund leaves the status as it was; its event says "refunded", and how much.
    event = PaymentStatus.REFUNDED if refunded else status
    queries.add_event(
        uow,
        payment,
        at=now,
        status=event,
        amount_cents=refund.amount_cents if refunded else None,
        refund_id=refund.id if refund is not None else None,
    )
    audit.record(
        uow,
        at=now,
        action=f"payment_{event.value}",
        channel="staff" if refund is not None else payment.channel,
        member_id=payment.member_id,
        detail={
            "payment_id": payment.id,
            "by": by,
            **({"refund_id": refund.id, "amount_cents": refund.amount_cents} if refund else {}),
            **({"return_code": payment.return_code} if status is PaymentStatus.RETURNED else {}),
        },
    )


def _tell(uow: UnitOfWork, payment: Payment, kind: str, key: str, now: datetime, **fields) -> None:
    """Queue the member's notice of it, as they chose for payment problems (a return) or
    confirmations (a refund, a void)."""
    member = member_of(uow, payment.member_id)
    chosen = MessageKind.PAYMENT_PROBLEM if kind == "returned" else MessageKind.PAYMENT_CONFIRMATION
    phone, email = preferences.addresses(uow, member, chosen)
    notice = receipts.receipt_for(payment, member, paid_at=now)
    messages = receipts.lifecycle_messages(
        notice, kind, dedupe_key=key, phone=phone, email=email, **fields
    )
    outbox.enqueue_all(
        uow, (outbox.unsubscribable(message, notice.language) for message in messages), now=now
    )
