"""Taking a payment exactly once: record it, charge it, record the answer; reconcile the rest.

A payment is committed as PENDING (with its allocations) before the gateway is called,
and the gateway is called with the payment's idempotency key, so whatever fails in
between, the reconcile job can ask the gateway what became of that key and settle
the payment without ever charging twice.
"""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from billing_core.adapters.gateways.base import (
    ChargeResult,
    GatewayError,
    GatewayTimeout,
    PaymentGateway,
)
from billing_core.adapters.models import (
    AchAuthorizationRecord,
    MedicalBill,
    Member,
    Payment,
    PaymentAllocation,
    PremiumInvoice,
)
from billing_core.adapters.unit_of_work import UnitOfWork
from billing_core.domain.exceptions import MemberNotFound
from billing_core.domain.payments import (
    AchAuthorization,
    IdempotencyKeyReused,
    ItemKind,
    MethodKind,
    OpenItem,
    PaymentRequestInvalid,
    PaymentStatus,
    PaymentTarget,
    TargetKind,
    TargetNotPayable,
    allocate,
    check_amount,
    looks_like_card_number,
    new_confirmation_number,
)
from billing_core.services import audit, outbox, receipts

log = logging.getLogger(__name__)

PROCESSING_ERROR = "processing_error"
NOT_CHARGED = "not_charged"
GATEWAY_TIMEOUT = "gateway_timeout"
# Payments whose money may still move: their allocations hold the balance they target.
IN_FLIGHT = (PaymentStatus.PENDING, PaymentStatus.UNKNOWN)
# How often to retry the first step when a concurrent insert wins a unique key.
_START_ATTEMPTS = 5


@dataclass(frozen=True)
class PaymentRequest:
    """One payment as a channel asks for it; card and bank details are only a token."""

    member_id: int
    target: PaymentTarget
    amount_cents: int
    token: str
    method_kind: str
    method_brand: str | None
    method_last4: str | None
    idempotency_key: str
    channel: str
    call_sid: str | None = None
    ach_authorization: AchAuthorization | None = None
    # Where to text the receipt (E.164) instead of the member's phone on file.
    receipt_phone: str | None = None


@dataclass(frozen=True)
class PayableBalance:
    """What a target owes, how much of it payments in progress hold, and what can be paid now."""

    target: PaymentTarget
    balance_cents: int
    held_cents: int
    payable_cents: int


@dataclass(frozen=True)
class PaymentOutcome:
    """Where a payment stands, as a caller is told it."""

    status: PaymentStatus
    confirmation_number: str
    amount_cents: int
    decline_code: str | None


@dataclass(frozen=True)
class ChargeOrder:
    """A PENDING payment, committed, waiting for its one charge."""

    payment_id: int
    confirmation_number: str
    idempotency_key: str
    token: str
    amount_cents: int
    description: str
    receipt_phone: str | None = None


@dataclass(frozen=True)
class StartedPayment:
    """The first step's result; charge is None when the payment already existed."""

    outcome: PaymentOutcome
    charge: ChargeOrder | None


@dataclass(frozen=True)
class ReconcileReport:
    """Confirmation numbers the reconcile run settled, and those it had to leave open."""

    succeeded: tuple[str, ...]
    failed: tuple[str, ...]
    unsettled: tuple[str, ...]


@dataclass(frozen=True)
class PaymentLine:
    """A payment as the member hears it in their history."""

    made_at: datetime
    amount_cents: int
    target_kind: TargetKind
    bill_number: str | None
    method_kind: str
    method_brand: str | None
    method_last4: str | None
    confirmation_number: str
    status: PaymentStatus


def quote(uow: UnitOfWork, member_id: int, target: PaymentTarget) -> PayableBalance:
    """Return what can be paid on the target now: its balance less payments in progress."""
    with uow:
        member = _member(uow.session, member_id)
        items, balance = _open_items(uow.session, member, target, lock=False)
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
    _check_request(request)
    for attempt in range(1, _START_ATTEMPTS + 1):
        try:
            with uow:
                return _start(uow, request, gateway_name, now)
        except IntegrityError:
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
        return _settle(uow, order.payment_id, now=now, unknown=True, by="call")
    except GatewayError as error:
        log.warning("payment %s: gateway error: %s", order.payment_id, error)
        return _settle(uow, order.payment_id, now=now, failure=PROCESSING_ERROR, by="call")
    return _settle(
        uow, order.payment_id, now=now, result=result, by="call", receipt_phone=order.receipt_phone
    )


def reconcile(
    uow_factory: Callable[[], UnitOfWork],
    gateway: PaymentGateway,
    *,
    now: datetime,
    older_than: timedelta = timedelta(minutes=10),
    unknown_for: timedelta = timedelta(hours=24),
) -> ReconcileReport:
    """Settle stale PENDING and all UNKNOWN payments from the gateway's record; never charge.

    A gateway's search can lag behind its charges, so "no charge found" only fails a
    PENDING payment after `older_than`, and an UNKNOWN one (its charge was sent and the
    answer lost) only after `unknown_for`, past the gateway's idempotency window.
    """
    cutoff = now - older_than
    unknown_cutoff = now - unknown_for
    with uow_factory() as uow:
        open_payments = uow.session.execute(
            select(
                Payment.id,
                Payment.idempotency_key,
                Payment.confirmation_number,
                Payment.created_at,
                Payment.status,
            )
            .where(
                Payment.gateway == gateway.name,
                or_(
                    and_(Payment.status == PaymentStatus.PENDING, Payment.created_at <= cutoff),
                    Payment.status == PaymentStatus.UNKNOWN,
                ),
            )
            .order_by(Payment.id)
        ).all()

    settled: dict[PaymentStatus, list[str]] = {
        PaymentStatus.SUCCEEDED: [],
        PaymentStatus.FAILED: [],
    }
    unsettled: list[str] = []
    for payment_id, key, confirmation, created_at, status in open_payments:
        try:
            found = gateway.find_charge(key)
        except (GatewayError, GatewayTimeout) as error:
            log.warning("reconcile: payment %s not settled: %s", payment_id, error)
            unsettled.append(confirmation)
            continue
        if found is not None:
            outcome = _settle(uow_factory(), payment_id, now=now, result=found, by="reconcile")
        elif created_at <= (unknown_cutoff if status is PaymentStatus.UNKNOWN else cutoff):
            # No charge under this key long after the payment began: it never happened.
            outcome = _settle(
                uow_factory(), payment_id, now=now, failure=NOT_CHARGED, by="reconcile"
            )
        else:
            # A recent timeout: the charge may still be landing; ask again next run.
            unsettled.append(confirmation)
            continue
        settled.get(outcome.status, unsettled).append(confirmation)
    return ReconcileReport(
        succeeded=tuple(settled[PaymentStatus.SUCCEEDED]),
        failed=tuple(settled[PaymentStatus.FAILED]),
        unsettled=tuple(unsettled),
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
        _member(uow.session, member_id)
        payments = uow.session.scalars(
            select(Payment)
            .where(
                Payment.member_id == member_id,
                Payment.created_at >= since,
                Payment.status != PaymentStatus.FAILED,
            )
            .order_by(Payment.created_at.desc(), Payment.id.desc())
        ).all()
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


EXPORT_COLUMNS = (
    "confirmation_number",
    "created_at",
    "settled_at",
    "member_mrn_last4",
    "amount",
    "target",
    "bill_number",
    "method_kind",
    "method_brand",
    "method_last4",
    "status",
    "failure_reason",
    "gateway",
    "gateway_reference",
    "channel",
)


def export_payments_csv(uow: UnitOfWork, since: date) -> str:
    """Every payment created on or after `since` (UTC), oldest first, as CSV for the ledger."""
    start = datetime.combine(since, time(), tzinfo=UTC)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(EXPORT_COLUMNS)
    with uow:
        rows = uow.session.execute(
            select(Payment, Member.mrn_last4)
            .join(Member, Member.id == Payment.member_id)
            .where(Payment.created_at >= start)
            .order_by(Payment.created_at, Payment.id)
            # A year of payments is streamed, not held in memory at once.
            .execution_options(yield_per=1000)
        )
        for p, mrn_last4 in rows:
            writer.writerow(
                _cell(value)
                for value in (
                    p.confirmation_number,
                    p.created_at.isoformat(),
                    p.settled_at.isoformat() if p.settled_at else "",
                    mrn_last4,
                    f"{p.amount_cents // 100}.{p.amount_cents % 100:02d}",
                    p.target_kind,
                    p.target_reference or "",
                    p.method_kind,
                    p.method_brand or "",
                    p.method_last4 or "",
                    p.status.value,
                    p.failure_reason or "",
                    p.gateway,
                    p.gateway_reference or "",
                    p.channel,
                )
            )
    return out.getvalue()


def _check_request(request: PaymentRequest) -> None:
    """Refuse a malformed request, and above all one that carries card data."""
    if not isinstance(request.target, PaymentTarget):
        raise PaymentRequestInvalid("bad_target")
    if request.method_kind not in tuple(MethodKind):
        raise PaymentRequestInvalid("unknown_method")
    if not request.token or len(request.token) > 200:
        raise PaymentRequestInvalid("bad_token")
    if looks_like_card_number(request.token) or looks_like_card_number(request.method_brand):
        # A full card number must never reach a column, a log or a gateway description.
        raise PaymentRequestInvalid("card_number_in_request")
    # Twilio shows a card's last 4 digits, but only the last 2 of a bank account.
    if request.method_last4 is not None and not (
        2 <= len(request.method_last4) <= 4 and request.method_last4.isdigit()
    ):
        raise PaymentRequestInvalid("bad_last4")
    if request.method_brand is not None and len(request.method_brand) > 30:
        raise PaymentRequestInvalid("bad_brand")
    if not request.idempotency_key or len(request.idempotency_key) > 80:
        raise PaymentRequestInvalid("bad_idempotency_key")
    if not request.channel or len(request.channel) > 20:
        raise PaymentRequestInvalid("bad_channel")
    if request.receipt_phone is not None and not receipts.is_e164(request.receipt_phone):
        raise PaymentRequestInvalid("bad_receipt_phone")
    ach = request.ach_authorization
    if request.method_kind == MethodKind.CARD:
        if ach is not None:
            raise PaymentRequestInvalid("ach_authorization_for_card")
        return
    # A bank debit needs the caller's authorization of exactly this debit (NACHA rules).
    if ach is None:
        raise PaymentRequestInvalid("ach_authorization_missing")
    if ach.amount_cents != request.amount_cents:
        raise PaymentRequestInvalid("ach_authorization_amount")
    if ach.account_last4 != request.method_last4:
        raise PaymentRequestInvalid("ach_authorization_account")
    if ach.accepted_at.tzinfo is None:
        raise PaymentRequestInvalid("ach_authorization_time")
    if not ach.text or len(ach.text) > 2000:
        raise PaymentRequestInvalid("ach_authorization_text")


def _start(
    uow: UnitOfWork, request: PaymentRequest, gateway_name: str, now: datetime
) -> StartedPayment:
    session = uow.session
    existing = _payment_by_key(session, request.idempotency_key)
    if existing is not None:
        return StartedPayment(_existing_outcome(existing, request), None)
    member = _member(session, request.member_id)
    # Locking the target's rows serializes every payment on them, so the balance read
    # below already counts any payment that committed while this one waited.
    items, balance = _open_items(session, member, request.target, lock=True)
    existing = _payment_by_key(session, request.idempotency_key)
    if existing is not None:
        return StartedPayment(_existing_outcome(existing, request), None)
    payable = sum(item.payable_cents for item in items)
    check_amount(request.amount_cents, payable_cents=payable, held_cents=balance - payable)
    allocations = allocate(request.amount_cents, items)

    confirmation = _unused_confirmation_number(session)
    payment = Payment(
        member_id=member.id,
        idempotency_key=request.idempotency_key,
        confirmation_number=confirmation,
        status=PaymentStatus.PENDING,
        amount_cents=request.amount_cents,
        target_kind=request.target.kind.value,
        target_reference=request.target.bill_number,
        method_kind=request.method_kind,
        method_brand=request.method_brand,
        method_last4=request.method_last4,
        gateway=gateway_name,
        channel=request.channel,
        call_sid=request.call_sid,
        created_at=now,
        updated_at=now,
    )
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
    ach = request.ach_authorization
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
    audit.record(
        uow,
        at=now,
        action="payment_started",
        channel=request.channel,
        call_sid=request.call_sid,
        member_id=member.id,
        detail={"payment_id": payment.id, "target": request.target.kind.value},
    )
    uow.commit()
    return StartedPayment(
        _outcome(payment),
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


def _settle(
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
    sent if and only if the success is recorded.
    """
    with uow:
        session = uow.session
        payment = session.scalars(
            select(Payment).where(Payment.id == payment_id).with_for_update()
        ).one()
        before = payment.status
        if result is not None and result.succeeded:
            # The gateway's word that money moved wins over anything recorded, even a
            # FAILED "not_charged" written while a slow charge was still landing.
            if payment.status is not PaymentStatus.SUCCEEDED:
                _apply_allocations(session, payment.id, now)
                payment.status = PaymentStatus.SUCCEEDED
                payment.gateway_reference = result.reference
                payment.failure_reason = None
                payment.settled_at = now
                _queue_receipts(session, payment, now, receipt_phone)
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
        if before is PaymentStatus.UNKNOWN and payment.status is PaymentStatus.FAILED:
            # The caller heard "we are still confirming it": they must hear how it ended.
            member = _member(session, payment.member_id)
            notice = receipts.receipt_for(payment, member, paid_at=now)
            outbox.enqueue_all(
                session,
                receipts.not_taken_messages(
                    notice, payment_id=payment.id, phone=member.phone, email=member.email
                ),
                now=now,
            )
        if payment.status is not before:
            payment.updated_at = now
            audit.record(
                uow,
                at=now,
                action=f"payment_{payment.status.value}",
                channel=payment.channel,
                call_sid=payment.call_sid,
                member_id=payment.member_id,
                detail={"payment_id": payment.id, "by": by},
            )
        uow.commit()
        return _outcome(payment)


def _queue_receipts(
    session: Session, payment: Payment, now: datetime, receipt_phone: str | None
) -> None:
    """Queue a text and an email receipt, to the phone given for it or the one on file."""
    member = _member(session, payment.member_id)
    receipt = receipts.receipt_for(payment, member, paid_at=now)
    messages = receipts.receipt_messages(
        receipt, payment_id=payment.id, phone=receipt_phone or member.phone, email=member.email
    )
    outbox.enqueue_all(session, messages, now=now)


def _apply_allocations(session: Session, payment_id: int, now: datetime) -> None:
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


def _member(session: Session, member_id: int) -> Member:
    member = session.get(Member, member_id)
    if member is None:
        raise MemberNotFound(member_id)
    return member


def _open_items(
    session: Session, member: Member, target: PaymentTarget, *, lock: bool
) -> tuple[list[OpenItem], int]:
    """The target's bills or premium months with what each can take now, and the total balance."""
    if target.kind is TargetKind.PREMIUM:
        if not member.coverage_type.pays_premium_here:
            raise TargetNotPayable("premium_not_billed_here")
        query = select(PremiumInvoice).where(
            PremiumInvoice.member_id == member.id,
            PremiumInvoice.amount_cents > PremiumInvoice.paid_cents,
        )
        column = PaymentAllocation.premium_invoice_id
        kind = ItemKind.PREMIUM
        model = PremiumInvoice
    else:
        query = select(MedicalBill).where(MedicalBill.member_id == member.id)
        if target.kind is TargetKind.BILL:
            query = query.where(MedicalBill.bill_number == target.bill_number)
        else:
            query = query.where(MedicalBill.amount_cents > MedicalBill.paid_cents)
        column = PaymentAllocation.bill_id
        kind = ItemKind.BILL
        model = MedicalBill
    query = query.order_by(model.id)
    if lock:
        query = query.with_for_update()
    rows = session.scalars(query).all()
    if target.kind is TargetKind.BILL and not rows:
        raise TargetNotPayable("no_such_bill")

    held = _held_cents(session, column, [row.id for row in rows])
    items = []
    for row in rows:
        if kind is ItemKind.BILL:
            due, since = row.due_date, row.date_of_service
        else:
            due = since = row.coverage_month
        payable = max(row.balance_cents - held.get(row.id, 0), 0)
        items.append(OpenItem(kind, row.id, due, since, payable))
    return items, sum(row.balance_cents for row in rows)


def _held_cents(session: Session, column, ids: list[int]) -> dict[int, int]:
    """What payments in progress have allocated to each item."""
    if not ids:
        return {}
    return dict(
        session.execute(
            select(column, func.sum(PaymentAllocation.amount_cents))
            .join(Payment, Payment.id == PaymentAllocation.payment_id)
            .where(column.in_(ids), Payment.status.in_(IN_FLIGHT))
            .group_by(column)
        ).all()
    )


def _payment_by_key(session: Session, idempotency_key: str) -> Payment | None:
    return session.scalars(
        select(Payment).where(Payment.idempotency_key == idempotency_key)
    ).one_or_none()


def _existing_outcome(payment: Payment, request: PaymentRequest) -> PaymentOutcome:
    same = (
        payment.member_id == request.member_id
        and payment.amount_cents == request.amount_cents
        and payment.target_kind == request.target.kind.value
        and payment.target_reference == request.target.bill_number
        and payment.method_kind == request.method_kind
    )
    if not same:
        raise IdempotencyKeyReused(payment.confirmation_number)
    return _outcome(payment)


def _outcome(payment: Payment) -> PaymentOutcome:
    return PaymentOutcome(
        status=payment.status,
        confirmation_number=payment.confirmation_number,
        amount_cents=payment.amount_cents,
        decline_code=payment.failure_reason if payment.status is PaymentStatus.FAILED else None,
    )


def _unused_confirmation_number(session: Session) -> str:
    while True:
        number = new_confirmation_number()
        taken = session.scalar(select(Payment.id).where(Payment.confirmation_number == number))
        if taken is None:
            return number


def _description(target: PaymentTarget, confirmation: str) -> str:
    what = {
        TargetKind.BILL: f"Medical bill {target.bill_number}",
        TargetKind.ALL_BILLS: "Medical bills",
        TargetKind.PREMIUM: "Premium",
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


def _cell(value: str) -> str:
    # A text cell starting with = + - @ would run as a formula in a spreadsheet.
    return "'" + value if value[:1] in ("=", "+", "-", "@") else value


def text_receipt(
    uow: UnitOfWork, *, member_id: int, confirmation_number: str, phone: str, now: datetime
) -> bool:
    """Queue a text receipt of a settled payment to a phone the member asked for.

    Returns False when the payment is not the member's or not settled, or the number
    cannot take a text. The member's phone on file already gets one: asking again for
    that number queues nothing new.
    """
    if not receipts.is_e164(phone):
        return False
    with uow:
        payment = uow.session.scalars(
            select(Payment).where(
                Payment.member_id == member_id,
                Payment.confirmation_number == confirmation_number,
            )
        ).one_or_none()
        if payment is None or payment.status is not PaymentStatus.SUCCEEDED:
            return False
        member = _member(uow.session, member_id)
        if phone != member.phone:
            receipt = receipts.receipt_for(payment, member, paid_at=payment.settled_at or now)
            message = outbox.OutgoingMessage(
                kind=outbox.SMS,
                recipient=phone,
                body=receipts.sms_text(receipt),
                dedupe_key=f"{receipts.receipt_dedupe_key(payment.id, outbox.SMS)}:caller",
            )
            outbox.enqueue(uow.session, message, now=now)
            uow.commit()
        return True
