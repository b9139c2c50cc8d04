"""Scheduled one-time payments: the days allowed, schedule, list, cancel, and the daily run.

Money is not held: a scheduled payment takes nothing until its day, when the run
charges what is then still owed on its target, up to the amount scheduled. The run is
idempotent in the database: a try is claimed by a compare-and-set of the row's
(status, attempt), and charged through the payment service under the key
`scheduled:{id}:{attempt}`, which it charges once. Two runs at once, a re-run, or a
run after a crash never charge a scheduled payment twice.
"""

from __future__ import annotations

import logging
import time as timer
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy.exc import IntegrityError

from billing_core.adapters.gateways.base import PaymentGateway
from billing_core.adapters.models import Member, SavedPaymentMethod, ScheduledPayment
from billing_core.adapters.queries import payments as payment_queries
from billing_core.adapters.queries import scheduled as queries
from billing_core.adapters.unit_of_work import UnitOfWork
from billing_core.domain.autopay import MemberRange, RetrySchedule, member_ranges
from billing_core.domain.exceptions import BillingError, MemberNotFound
from billing_core.domain.payments import (
    AchAuthorization,
    AmountNotAllowed,
    MethodKind,
    PaymentTarget,
    TargetKind,
    TargetNotPayable,
    new_confirmation_number,
)
from billing_core.domain.preferences import MessageKind
from billing_core.domain.regions import RegionCatalog
from billing_core.domain.scheduled import (
    ScheduledStatus,
    amount_to_charge,
    charge_key,
    check_pay_date,
    latest_pay_date,
)
from billing_core.services import audit, outbox, payments, preferences, scheduled_notices
from billing_core.services.payment_values import PaymentRequest, check_request
from billing_core.services.run_reports import Combined

log = logging.getLogger(__name__)

CHANNEL = "scheduled"
# A claimed try with no payment recorded this long after is taken up again, under its key.
RESUME_AFTER = timedelta(minutes=10)
UPCOMING = tuple(s.value for s in ScheduledStatus if s.upcoming)
CANCELLABLE = tuple(s.value for s in ScheduledStatus if s.cancellable)
_AMOUNT_TRIES = 3


@dataclass(frozen=True)
class ScheduleRequest:
    """A payment to make on a later day, as a channel asks for it; the method only a token."""

    member_id: int
    target: PaymentTarget
    amount_cents: int
    pay_on: date
    token: str
    method_kind: str
    method_brand: str | None
    method_last4: str
    # Fixed by the channel before the member confirms: asking twice schedules once.
    request_key: str
    channel: str
    call_sid: str | None = None
    saved_method_id: int | None = None
    method_exp: str | None = None
    account_type: str | None = None
    # A bank debit's authorization, in the words accepted, naming the day.
    ach_authorization: AchAuthorization | None = None


@dataclass(frozen=True)
class Scheduled:
    """A scheduled payment as the member is told it was set."""

    scheduled_id: int
    confirmation_number: str
    pay_on: date
    amount_cents: int


@dataclass(frozen=True)
class PayDateWindow:
    """The member's today in their region, the target's due date, and the last day allowed."""

    today: date
    due: date | None
    latest: date | None


@dataclass(frozen=True)
class UpcomingPayment:
    """A scheduled payment still ahead, as the member hears it."""

    scheduled_id: int
    pay_on: date
    amount_cents: int
    target_kind: TargetKind
    bill_number: str | None
    method_kind: str
    method_brand: str | None
    method_last4: str
    account_type: str | None
    confirmation_number: str
    cancellable: bool


@dataclass
class RunReport(Combined):
    charged: list[int] = field(default_factory=list)  # payment ids that succeeded
    retrying: list[int] = field(default_factory=list)  # scheduled ids, soft declined
    failed: list[int] = field(default_factory=list)  # scheduled ids, final decline
    pending: list[int] = field(default_factory=list)  # scheduled ids, answer unknown
    nothing_owed: list[int] = field(default_factory=list)  # scheduled ids, skipped
    skipped: int = 0  # not due yet, or taken by another run
    errors: list[int] = field(default_factory=list)
    seconds: float = 0.0

    def line(self) -> str:
        return (
            f"charged: {len(self.charged)}, retrying: {len(self.retrying)}, "
            f"failed: {len(self.failed)}, pending: {len(self.pending)}, "
            f"nothing owed: {len(self.nothing_owed)}, not due or taken: {self.skipped}, "
            f"errors: {len(self.errors)} ({self.seconds:.1f}s)"
        )


# --- scheduling -------------------------------------------------------------------------


def window(
    uow: UnitOfWork, member_id: int, target: PaymentTarget, *, regions: RegionCatalog, now: datetime
) -> PayDateWindow:
    """The days a payment on this target may be set for, in the member's region."""
    with uow:
        member = _member(uow, member_id)
        today = _today(member, regions, now)
        due = _due_date(uow, member, target, regions)
        return PayDateWindow(today, due, latest_pay_date(today, due))


def schedule(
    uow: UnitOfWork, request: ScheduleRequest, *, regions: RegionCatalog, now: datetime
) -> Scheduled:
    """Set the payment for its day, or raise PayDateNotAllowed; asked again, the same one."""
    _check(request)
    with uow:
        existing = queries.by_request_key(uow, request.request_key)
        if existing is not None:
            return _scheduled(existing)
        member = _member(uow, request.member_id)
        due = _due_date(uow, member, request.target, regions)
        check_pay_date(request.pay_on, today=_today(member, regions, now), due=due)
        balance = _balance(uow, member, request.target)
        if request.amount_cents > balance:
            raise AmountNotAllowed("over_balance", payable_cents=balance)
        ach = request.ach_authorization
        values = dict(
            member_id=member.id,
            request_key=request.request_key,
            confirmation_number=_unused_confirmation_number(uow),
            target_kind=request.target.kind.value,
            target_reference=request.target.bill_number,
            amount_cents=request.amount_cents,
            pay_on=request.pay_on,
            saved_method_id=request.saved_method_id,
            method_kind=request.method_kind,
            method_brand=request.method_brand,
            method_last4=request.method_last4,
            method_exp=request.method_exp,
            account_type=request.account_type,
            token=request.token,
            channel=request.channel,
            call_sid=request.call_sid,
            ach_accepted_at=ach.accepted_at if ach else None,
            ach_text=ach.text if ach else None,
            status=ScheduledStatus.SCHEDULED.value,
            attempt=0,
            created_at=now,
            updated_at=now,
        )
        savepoint = uow.session.begin_nested()
        try:
            row = queries.add(uow, values)
        except IntegrityError:
            # The same request committed first (a doubled webhook): it is the one scheduled.
            savepoint.rollback()
            uow.rollback()
            existing = queries.by_request_key(uow, request.request_key)
            if existing is None:
                raise
            return _scheduled(existing)
        savepoint.commit()
        audit.record(
            uow,
            at=now,
            action="payment_scheduled",
            channel=request.channel,
            call_sid=request.call_sid,
            member_id=member.id,
            detail={"scheduled_id": row.id, "pay_on": request.pay_on.isoformat()},
        )
        uow.commit()
        return _scheduled(row)


def upcoming(uow: UnitOfWork, member_id: int) -> list[UpcomingPayment]:
    """The member's scheduled payments not yet made, soonest first."""
    with uow:
        _member(uow, member_id)
        return [
            UpcomingPayment(
                scheduled_id=row.id,
                pay_on=row.next_try_on or row.pay_on,
                amount_cents=row.amount_cents,
                target_kind=TargetKind(row.target_kind),
                bill_number=row.target_reference,
                method_kind=row.method_kind,
                method_brand=row.method_brand,
                method_last4=row.method_last4,
                account_type=row.account_type,
                confirmation_number=row.confirmation_number,
                cancellable=ScheduledStatus(row.status).cancellable,
            )
            for row in queries.member_scheduled(uow, member_id, UPCOMING)
        ]


def cancel(
    uow: UnitOfWork,
    *,
    member_id: int,
    scheduled_id: int,
    channel: str,
    call_sid: str | None,
    now: datetime,
) -> bool:
    """Call the payment off if its charge has not begun; whether it was."""
    with uow:
        row = queries.get(uow, scheduled_id)
        if row is None or row.member_id != member_id:
            return False
        cancelled = queries.change_if(
            uow, scheduled_id, CANCELLABLE, row.attempt, _cancel_values(channel, call_sid, now)
        )
        if cancelled:
            audit.record(
                uow,
                at=now,
                action="scheduled_payment_cancelled",
                channel=channel,
                call_sid=call_sid,
                member_id=member_id,
                detail={"scheduled_id": scheduled_id},
            )
        uow.commit()
        return cancelled


def _cancel_values(channel: str, call_sid: str | None, now: datetime) -> dict[str, object]:
    return {
        "status": ScheduledStatus.CANCELLED.value,
        "cancelled_at": now,
        "cancel_channel": channel,
        "cancel_call_sid": call_sid,
        "updated_at": now,
    }


# --- the run ----------------------------------------------------------------------------


def run_scheduled(
    uow_factory: Callable[[], UnitOfWork],
    gateway: PaymentGateway,
    *,
    as_of: datetime,
    regions: RegionCatalog,
    schedule: RetrySchedule | None = None,
    members: MemberRange | None = None,
) -> RunReport:
    """Charge every scheduled payment (and retry) whose day has come in its region's zone.

    members: only the payments of this batch of members.
    """
    schedule = schedule or RetrySchedule()
    started = timer.perf_counter()
    report = RunReport()
    span = None if members is None else (members.first, members.stop)
    with uow_factory() as uow:
        ids = queries.due_by(uow, UPCOMING, _last_due_day(as_of), span)
    for scheduled_id in ids:
        try:
            _run_one(uow_factory, gateway, scheduled_id, as_of, regions, schedule, report)
        except BillingError as error:  # one payment's refusal never stops the run
            log.warning("scheduled: payment %s: %r", scheduled_id, error)
            report.errors.append(scheduled_id)
    report.seconds = timer.perf_counter() - started
    return report


def run_batches(uow: UnitOfWork, as_of: datetime, size: int) -> list[MemberRange]:
    """The batches of a run: ranges of `size` member ids holding a payment due by then."""
    with uow:
        numbers = queries.due_range_numbers(uow, UPCOMING, _last_due_day(as_of), size)
        return member_ranges(numbers, size)


def _last_due_day(as_of: datetime) -> date:
    # No US region's date is ahead of UTC's: nothing later than UTC's date can be due.
    return as_of.date() + timedelta(days=1)


def _run_one(uow_factory, gateway, scheduled_id, as_of, regions, schedule, report) -> None:
    with uow_factory() as uow:
        row = queries.get(uow, scheduled_id)
        member = _member(uow, row.member_id)
        today = _today(member, regions, as_of)
        status = ScheduledStatus(row.status)
        if not status.upcoming:  # paid, cancelled or settled by another run since listed
            report.skipped += 1
            return
        if status is ScheduledStatus.CHARGING:
            _resume(uow_factory, uow, gateway, row, member, as_of, schedule, report)
            return
        day = row.next_try_on if status is ScheduledStatus.RETRYING else row.pay_on
        if day is None or day > today:
            report.skipped += 1
            return
        if _method_removed(uow, row):
            # The member took the saved method off their account: it is not charged.
            failed = {
                "status": ScheduledStatus.FAILED.value,
                "decline_code": "method_removed",
                "updated_at": as_of,
            }
            if queries.change_if(uow, scheduled_id, [status.value], row.attempt, failed):
                _queue(uow, member_id=row.member_id, kind="failed", row=row, now=as_of)
                report.failed.append(scheduled_id)
            else:
                report.skipped += 1
            uow.commit()
            return
        target = _target(row)
        member_id, scheduled_cents = row.member_id, row.amount_cents
        previous, number = row.attempt, row.attempt + 1
    amount = amount_to_charge(scheduled_cents, _payable(uow_factory, member_id, target))
    with uow_factory() as uow:
        if amount <= 0:
            skipped = {"status": ScheduledStatus.SKIPPED.value, "updated_at": as_of}
            if queries.change_if(uow, scheduled_id, [status.value], previous, skipped):
                row = queries.get(uow, scheduled_id)
                _queue(uow, member_id=member_id, kind="nothing_owed", row=row, now=as_of)
                report.nothing_owed.append(scheduled_id)
            else:
                report.skipped += 1
            uow.commit()
            return
        claim = {
            "status": ScheduledStatus.CHARGING.value,
            "attempt": number,
            "charging_cents": amount,
            "updated_at": as_of,
        }
        claimed = queries.change_if(uow, scheduled_id, [status.value], previous, claim)
        uow.commit()
    if not claimed:  # another run took this try, or the member cancelled meanwhile
        report.skipped += 1
        return
    _charge(uow_factory, gateway, scheduled_id, number, amount, as_of, schedule, report)


def _resume(uow_factory, uow, gateway, row, member, as_of, schedule, report) -> None:
    """A try claimed earlier: read what became of its payment, or take it up again."""
    payment = payment_queries.payment_by_key(uow, charge_key(row.id, row.attempt))
    if payment is None:
        if row.updated_at > as_of - RESUME_AFTER:
            report.skipped += 1  # another run is charging it right now
            return
        number, amount = row.attempt, row.charging_cents or row.amount_cents
        scheduled_id = row.id
        uow.rollback()
        _charge(uow_factory, gateway, scheduled_id, number, amount, as_of, schedule, report)
        return
    if payment.status in payment_queries.IN_FLIGHT:
        report.pending.append(row.id)
        return
    _apply(uow, row, member, payment, as_of, schedule, report)
    uow.commit()


def _charge(uow_factory, gateway, scheduled_id, number, amount, as_of, schedule, report) -> None:
    """Charge try `number` through the payment service, then record what became of it."""
    key = charge_key(scheduled_id, number)
    for _ in range(_AMOUNT_TRIES):
        with uow_factory() as uow:
            request = _payment_request(queries.get(uow, scheduled_id), amount, key)
        try:
            payments.pay(uow_factory, gateway, request, now=as_of)
            break
        except (AmountNotAllowed, TargetNotPayable) as refused:
            # Paid down (or the bill withdrawn) since the amount was read; nothing was
            # charged under the key: take what can be paid now, or nothing.
            amount = max(getattr(refused, "payable_cents", 0), 0)
            with uow_factory() as uow:
                values = {"charging_cents": amount, "updated_at": as_of}
                if amount <= 0:
                    values["status"] = ScheduledStatus.SKIPPED.value
                queries.change_if(
                    uow, scheduled_id, [ScheduledStatus.CHARGING.value], number, values
                )
                if amount <= 0:
                    row = queries.get(uow, scheduled_id)
                    _queue(uow, member_id=row.member_id, kind="nothing_owed", row=row, now=as_of)
                    report.nothing_owed.append(scheduled_id)
                uow.commit()
            if amount <= 0:
                return
    else:
        report.errors.append(scheduled_id)
        return
    with uow_factory() as uow:
        row = queries.get(uow, scheduled_id)
        payment = payment_queries.payment_by_key(uow, key)
        if payment.status in payment_queries.IN_FLIGHT:
            seen = {"payment_id": payment.id, "updated_at": as_of}
            queries.change_if(uow, scheduled_id, [ScheduledStatus.CHARGING.value], number, seen)
            report.pending.append(scheduled_id)
        else:
            _apply(uow, row, _member(uow, row.member_id), payment, as_of, schedule, report)
        uow.commit()


def _apply(uow, row, member, payment, now, schedule, report) -> None:
    """Record the settled answer of the row's current try (once: a concurrent record wins)."""
    values: dict[str, object] = {"payment_id": payment.id, "updated_at": now}
    if payment.status.went_through:
        values["status"] = ScheduledStatus.PAID.value
    else:
        code = payment.failure_reason
        # A bank debit is authorized for its one day only (a single-entry authorization):
        # a declined one is not tried again on another day. A card is.
        next_try = (
            None
            if row.method_kind == MethodKind.BANK
            else schedule.next_retry(row.pay_on, row.attempt, code)
        )
        values["decline_code"] = code
        values["next_try_on"] = next_try
        values["status"] = (ScheduledStatus.RETRYING if next_try else ScheduledStatus.FAILED).value
    changed = queries.change_if(uow, row.id, [ScheduledStatus.CHARGING.value], row.attempt, values)
    if not changed:
        return
    if values["status"] == ScheduledStatus.PAID.value:
        report.charged.append(payment.id)  # its receipt is queued by the payment service
    elif values["status"] == ScheduledStatus.RETRYING.value:
        report.retrying.append(row.id)
    else:
        report.failed.append(row.id)
        _queue(
            uow, member_id=member.id, kind="failed", row=row, now=now, amount=payment.amount_cents
        )


# --- helpers ----------------------------------------------------------------------------


def _check(request: ScheduleRequest) -> None:
    """Refuse a malformed request the way the payment service would refuse its charge."""
    check_request(
        PaymentRequest(
            member_id=request.member_id,
            target=request.target,
            amount_cents=request.amount_cents,
            token=request.token,
            method_kind=request.method_kind,
            method_brand=request.method_brand,
            method_last4=request.method_last4,
            idempotency_key=request.request_key,
            channel=request.channel,
            call_sid=request.call_sid,
            ach_authorization=request.ach_authorization,
        )
    )
    if request.amount_cents <= 0:
        raise AmountNotAllowed("not_positive")


def _payment_request(row: ScheduledPayment, amount: int, key: str) -> PaymentRequest:
    ach = None
    if row.method_kind == "bank":
        # The authorization accepted for this day covers what is owed then, up to its amount.
        ach = AchAuthorization(
            accepted_at=row.ach_accepted_at,
            amount_cents=amount,
            account_last4=row.method_last4,
            call_sid=row.call_sid,
            text=row.ach_text or "",
        )
    return PaymentRequest(
        member_id=row.member_id,
        target=_target(row),
        amount_cents=amount,
        token=row.token,
        method_kind=row.method_kind,
        method_brand=row.method_brand,
        method_last4=row.method_last4,
        idempotency_key=key,
        channel=CHANNEL,
        ach_authorization=ach,
    )


def _target(row: ScheduledPayment) -> PaymentTarget:
    return PaymentTarget(TargetKind(row.target_kind), row.target_reference)


def _payable(uow_factory, member_id: int, target: PaymentTarget) -> int:
    try:
        return payments.quote(uow_factory(), member_id, target).payable_cents
    except TargetNotPayable:
        return 0


def _member(uow: UnitOfWork, member_id: int) -> Member:
    member = uow.session.get(Member, member_id)
    if member is None:
        raise MemberNotFound(member_id)
    return member


def _today(member: Member, regions: RegionCatalog, now: datetime) -> date:
    return now.astimezone(regions.get(member.region_key).time_zone).date()


def _due_date(uow, member: Member, target: PaymentTarget, regions: RegionCatalog) -> date | None:
    """When the target is due: a bill's due date, the earliest open bill's, the premium's."""
    if target.kind is TargetKind.PREMIUM:
        if not member.coverage_type.pays_premium_here:
            raise TargetNotPayable("premium_not_billed_here")
        months = queries.open_premiums(uow, member.id)
        if not months:
            return None
        return regions.get(member.region_key).premium_due.due_date(
            months[0].coverage_month, member.state
        )
    bills = queries.open_bills(uow, member.id, target.bill_number)
    if target.kind is TargetKind.BILL and not bills:
        raise TargetNotPayable("no_such_bill")
    return min((bill.due_date for bill in bills if bill.balance_cents), default=None)


def _balance(uow, member: Member, target: PaymentTarget) -> int:
    if target.kind is TargetKind.PREMIUM:
        return sum(m.balance_cents for m in queries.open_premiums(uow, member.id))
    return sum(b.balance_cents for b in queries.open_bills(uow, member.id, target.bill_number))


def _scheduled(row: ScheduledPayment) -> Scheduled:
    return Scheduled(row.id, row.confirmation_number, row.pay_on, row.amount_cents)


def _unused_confirmation_number(uow: UnitOfWork) -> str:
    while True:
        number = new_confirmation_number()
        if not (
            queries.confirmation_number_taken(uow, number)
            or payment_queries.confirmation_number_taken(uow, number)
        ):
            return number


def _method_removed(uow: UnitOfWork, row: ScheduledPayment) -> bool:
    """Whether the saved method the payment was scheduled with has been removed since."""
    if row.saved_method_id is None:
        return False  # a card or account entered for this payment alone
    method = uow.session.get(SavedPaymentMethod, row.saved_method_id)
    return method is None or method.removed_at is not None


def _queue(uow, *, member_id: int, kind: str, row: ScheduledPayment, now, amount=None) -> bool:
    member = _member(uow, member_id)
    chosen = MessageKind.PAYMENT_PROBLEM if kind == "failed" else MessageKind.PAYMENT_CONFIRMATION
    phone, email = preferences.addresses(uow, member, chosen)
    if phone is None and email is None:
        return False  # the member chose not to get these, or cannot be reached as chosen
    to = scheduled_notices.Addressee(member.first_name, member.language, phone, email)
    message = scheduled_notices.notice(
        kind,
        to,
        dedupe_key=f"scheduled-{kind.replace('_', '-')}:{row.id}",
        amount=amount if amount is not None else row.amount_cents,
        day=row.pay_on,
        method=(row.method_kind, row.method_brand or row.account_type, row.method_last4),
    )
    if message is None:
        log.warning("scheduled: member %s has no email or phone for the %s notice", member_id, kind)
        return False
    return outbox.enqueue(uow, outbox.unsubscribable(message, member.language), now=now)
