"""Taking a payment exactly once: record it, charge it, record the answer; reconcile the rest.

A payment is committed as PENDING (with its allocations) before the gateway is called,
and the gateway is called with the payment's idempotency key, so whatever fails in
between, the reconcile job (billing_core.services.reconcile) can ask the gateway what
became of that key and settle the payment without ever charging twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta

from billing_core.adapters.gateways.base import GatewayError, GatewayTimeout, PaymentGateway
from billing_core.adapters.ledger_csv import ledger_csv
from billing_core.adapters.models import Payment
from billing_core.adapters.queries import consent as consent_queries
from billing_core.adapters.queries import payments as queries
from billing_core.adapters.queries import plans as plan_queries
from billing_core.adapters.unit_of_work import UnitOfWork
from billing_core.domain.exceptions import MemberNotFound
from billing_core.domain.members import CoverageType
from billing_core.domain.payments import (
    IdempotencyKeyReused,
    ItemKind,
    OpenItem,
    PaymentStatus,
    PaymentTarget,
    TargetKind,
    TargetNotPayable,
    allocate,
    check_amount,
    new_confirmation_number,
)
from billing_core.services import audit, outbox, receipts
from billing_core.services.payment_values import (
    ChargeOrder,
    PayableBalance,
    PaymentLine,
    PaymentOutcome,
    PaymentRequest,
    ReconcileReport,
    StartedPayment,
    check_request,
)
from billing_core.services.reconcile import reconcile
from billing_core.services.settlement import (
    GATEWAY_TIMEOUT,
    NOT_CHARGED,
    PROCESSING_ERROR,
    member_of,
    outcome,
    settle,
)
from billing_core.services.text_consent import consent_number

# The payment values and the reconcile job are part of this module's interface.
__all__ = [
    "GATEWAY_TIMEOUT",
    "NOT_CHARGED",
    "PROCESSING_ERROR",
    "ChargeOrder",
    "PayableBalance",
    "PaymentLine",
    "PaymentOutcome",
    "PaymentRequest",
    "ReconcileReport",
    "StartedPayment",
    "complete_payment",
    "export_payments_csv",
    "pay",
    "quote",
    "quote_in",
    "reconcile",
    "recent_payments",
    "start_payment",
    "text_receipt",
]

log = logging.getLogger(__name__)

# How often to retry the first step when a concurrent insert wins a unique key.
_START_ATTEMPTS = 5


def quote(uow: UnitOfWork, member_id: int, target: PaymentTarget) -> PayableBalance:
    """Return what can be paid on the target now: its balance less payments in progress."""
    with uow:
        return quote_in(uow, member_id, target)


def quote_in(uow: UnitOfWork, member_id: int, target: PaymentTarget) -> PayableBalance:
    """quote, in a unit of work already open."""
    items, balance = _open_items(uow, member_id, _coverage_of(uow, member_id), target, lock=False)
    payable = sum(item.payable_cents for item in items)
    return PayableBalance(target, balance, balance - payable, payable)


def pay(
    uow_factory: Callable[[], UnitOfWork],
    gateway: PaymentGateway,
    request: PaymentRequest,
    *,
    now: datetime,
) -> PaymentOutcome:
    """Take the payment exactly once; a repeated idempotency key returns the first payment."""
    started = start_payment(uow_factory(), request, gateway_name=gateway.name, now=now)
    if started.charge is None:
        return started.outcome
    return complete_payment(uow_factory(), gateway, started.charge, now=now)


def start_payment(
    uow: UnitOfWork, request: PaymentRequest, *, gateway_name: str, now: datetime
) -> StartedPayment:
    """Validate the request and commit the payment as PENDING with its allocations."""
    check_request(request)
    for attempt in range(1, _START_ATTEMPTS + 1):
        try:
            with uow:
                return _start(uow, request, gateway_name, now)
        except queries.UniqueKeyTaken:
            # A concurrent request with the same key committed first (or, very rarely,
            # took the same confirmation number): the next attempt finds or avoids it.
            if attempt == _START_ATTEMPTS:
                raise
    raise AssertionError("unreachable")


def complete_payment(
    uow: UnitOfWork, gateway: PaymentGateway, order: ChargeOrder, *, now: datetime
) -> PaymentOutcome:
    """Charge a PENDING payment once, outside any transaction, and record the answer."""
    try:
        result = gateway.charge(
            token=order.token,
            amount_cents=order.amount_cents,
            idempotency_key=order.idempotency_key,
            description=order.description,
        )
    except GatewayTimeout:
        log.warning("payment %s: gateway timed out; left for reconcile", order.payment_id)
        return settle(uow, order.payment_id, now=now, unknown=True, by="call")
    except GatewayError as error:
        log.warning("payment %s: gateway error: %s", order.payment_id, error)
        return settle(uow, order.payment_id, now=now, failure=PROCESSING_ERROR, by="call")
    return settle(
        uow, order.payment_id, now=now, result=result, by="call", receipt_phone=order.receipt_phone
    )


def recent_payments(
    uow: UnitOfWork,
    member_id: int,
    *,
    now: datetime,
    months: int = 13,
    channel: str | None = None,
    call_sid: str | None = None,
) -> tuple[PaymentLine, ...]:
    """The member's payments of the last `months` months, newest first; declined attempts excluded.

    Payments still in progress (PENDING, UNKNOWN) are listed with their status. When
    a channel is given, the read is audited.
    """
    since = _months_before(now, months)
    with uow:
        _coverage_of(uow, member_id)  # MemberNotFound for no such member
        payments = queries.member_payments_since(uow, member_id, since)
        lines = tuple(
            PaymentLine(
                made_at=p.created_at,
                amount_cents=p.amount_cents,
                target_kind=TargetKind(p.target_kind),
                bill_number=p.target_reference,
                method_kind=p.method_kind,
                method_brand=p.method_brand,
                method_last4=p.method_last4,
                confirmation_number=p.confirmation_number,
                status=p.status,
            )
            for p in payments
        )
        if channel is not None:
            audit.record(
                uow,
                at=now,
                action="payments_read",
                channel=channel,
                call_sid=call_sid,
                member_id=member_id,
                detail={"payments": len(lines)},
            )
            uow.commit()
        return lines


def export_payments_csv(uow: UnitOfWork, since: date) -> str:
    """Every payment created on or after `since` (UTC), oldest first, as CSV for the ledger."""
    start = datetime.combine(since, time(), tzinfo=UTC)
    with uow:
        return ledger_csv(queries.payments_created_since(uow, start))


def _start(
    uow: UnitOfWork, request: PaymentRequest, gateway_name: str, now: datetime
) -> StartedPayment:
    existing = queries.payment_by_key(uow, request.idempotency_key)
    if existing is not None:
        return StartedPayment(_existing_outcome(existing, request), None)
    member_id = request.member_id
    coverage = _coverage_of(uow, member_id)
    # Locking the target's rows serializes every payment on them, so the balance read
    # below already counts any payment that committed while this one waited.
    items, balance = _open_items(uow, member_id, coverage, request.target, lock=True)
    existing = queries.payment_by_key(uow, request.idempotency_key)
    if existing is not None:
        return StartedPayment(_existing_outcome(existing, request), None)
    payable = sum(item.payable_cents for item in items)
    check_amount(request.amount_cents, payable_cents=payable, held_cents=balance - payable)
    allocations = allocate(request.amount_cents, items)

    confirmation = _unused_confirmation_number(uow)
    payment = queries.add_payment(
        uow,
        dict(
            member_id=member_id,
            idempotency_key=request.idempotency_key,
            confirmation_number=confirmation,
            status=PaymentStatus.PENDING,
            amount_cents=request.amount_cents,
            target_kind=request.target.kind.value,
            target_reference=request.target.bill_number,
            plan_id=request.target.plan_id,
            plan_installment=request.plan_installment,
            method_kind=request.method_kind,
            method_brand=request.method_brand,
            method_last4=request.method_last4,
            gateway=gateway_name,
            channel=request.channel,
            call_sid=request.call_sid,
            created_at=now,
            updated_at=now,
        ),
        allocations,
        request.ach_authorization,
    )
    audit.record(
        uow,
        at=now,
        action="payment_started",
        channel=request.channel,
        call_sid=request.call_sid,
        member_id=member_id,
        detail={"payment_id": payment.id, "target": request.target.kind.value},
    )
    uow.commit()
    return StartedPayment(
        outcome(payment),
        ChargeOrder(
            payment_id=payment.id,
            confirmation_number=confirmation,
            idempotency_key=request.idempotency_key,
            token=request.token,
            amount_cents=request.amount_cents,
            description=_description(request.target, confirmation),
            receipt_phone=request.receipt_phone,
        ),
    )


def _coverage_of(uow: UnitOfWork, member_id: int) -> CoverageType:
    coverage = queries.member_coverage(uow, member_id)
    if coverage is None:
        raise MemberNotFound(member_id)
    return coverage


def _open_items(
    uow: UnitOfWork, member_id: int, coverage: CoverageType, target: PaymentTarget, *, lock: bool
) -> tuple[list[OpenItem], int]:
    """The target's bills or premium months with what each can take now, and the total balance."""
    if target.kind is TargetKind.PREMIUM:
        if not coverage.pays_premium_here:
            raise TargetNotPayable("premium_not_billed_here")
        kind = ItemKind.PREMIUM
        rows = queries.open_premiums(uow, member_id, lock=lock)
    elif target.kind is TargetKind.PLAN:
        kind = ItemKind.BILL
        rows = queries.plan_bills(uow, member_id, target.plan_id, lock=lock)
    else:
        kind = ItemKind.BILL
        number = target.bill_number if target.kind is TargetKind.BILL else None
        rows = queries.member_bills(uow, member_id, bill_number=number, lock=lock)
        if target.kind is TargetKind.ALL_BILLS:
            # Bills in an active payment plan are paid through the plan, on its schedule.
            in_plan = plan_queries.bill_ids_in_active_plans(uow, member_id)
            rows = [row for row in rows if row.id not in in_plan]
    if target.kind is TargetKind.BILL and not rows:
        raise TargetNotPayable("no_such_bill")

    held = queries.held_cents(uow, kind, [row.id for row in rows])
    items = []
    for row in rows:
        if kind is ItemKind.BILL:
            due, since = row.due_date, row.date_of_service
        else:
            due = since = row.coverage_month
        payable = max(row.balance_cents - held.get(row.id, 0), 0)
        items.append(OpenItem(kind, row.id, due, since, payable))
    return items, sum(row.balance_cents for row in rows)


def made_under(uow: UnitOfWork, idempotency_key: str) -> PaymentOutcome | None:
    """What became of the payment begun under this key, or None if none was begun."""
    with uow:
        payment = queries.payment_by_key(uow, idempotency_key)
        return outcome(payment) if payment is not None else None


def _existing_outcome(payment: Payment, request: PaymentRequest) -> PaymentOutcome:
    same = (
        payment.member_id == request.member_id
        and payment.amount_cents == request.amount_cents
        and payment.target_kind == request.target.kind.value
        and payment.target_reference == request.target.bill_number
        and payment.plan_id == request.target.plan_id
        and payment.method_kind == request.method_kind
    )
    if not same:
        raise IdempotencyKeyReused(payment.confirmation_number)
    return outcome(payment)


def _unused_confirmation_number(uow: UnitOfWork) -> str:
    while True:
        number = new_confirmation_number()
        if not queries.confirmation_number_taken(uow, number):
            return number


def _description(target: PaymentTarget, confirmation: str) -> str:
    what = {
        TargetKind.BILL: f"Medical bill {target.bill_number}",
        TargetKind.ALL_BILLS: "Medical bills",
        TargetKind.PREMIUM: "Premium",
        TargetKind.PLAN: "Payment plan",
    }[target.kind]
    return f"{what}, confirmation {confirmation}"


def _months_before(now: datetime, months: int) -> datetime:
    month_index = now.year * 12 + now.month - 1 - months
    year, month = divmod(month_index, 12)
    month += 1
    # Clamp the day (31 March less one month is the last day of February).
    next_month = date(year + month // 12, month % 12 + 1, 1)
    day = min(now.day, (next_month - timedelta(days=1)).day)
    return now.replace(year=year, month=month, day=day)


def text_receipt(
    uow: UnitOfWork, *, member_id: int, confirmation_number: str, phone: str, now: datetime
) -> bool:
    """Queue a text receipt of a settled payment to a phone the member asked for.

    Returns False when the payment is not the member's or not settled, or the number
    cannot take a text or has opted out (STOP). Asked for, the text is queued whatever
    the member's preferences, once: to the phone on file under the receipt's own key (so
    a receipt the preferences queued is not sent twice), to another number under its own.
    """
    if not receipts.is_e164(phone):
        return False
    number = consent_number(phone)
    with uow:
        if number is None or consent_queries.is_opted_out(uow, number):
            return False
        payment = queries.member_payment_by_confirmation(uow, member_id, confirmation_number)
        if payment is None or not payment.status.went_through:
            return False
        member = member_of(uow, member_id)
        key = receipts.receipt_dedupe_key(payment.id, outbox.SMS)
        receipt = receipts.receipt_for(payment, member, paid_at=payment.settled_at or now)
        message = outbox.OutgoingMessage(
            kind=outbox.SMS,
            recipient=phone,
            body=receipts.sms_text(receipt),
            dedupe_key=key if phone == member.phone else f"{key}:caller",
        )
        outbox.enqueue(uow, message, now=now)
        uow.commit()
        return True
