"""Automatic premium payments: enroll, status, change method, cancel, and the daily run.

The run is idempotent in the database: each try at a member's premium month is a
payment under the key `autopay:{member}:{YYYY-MM}:{attempt}` (the payment service
charges a key once) and an autopay_attempts row unique on (member, month, attempt).
Running it twice, on many workers at once, or again after a crash charges nothing twice.
"""

from __future__ import annotations

import logging
import time as timer
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy.exc import IntegrityError

from billing_core.adapters.gateways.base import PaymentGateway
from billing_core.adapters.models import AutopayEnrollment, Member, Payment, SavedPaymentMethod
from billing_core.adapters.queries import autopay as queries
from billing_core.adapters.unit_of_work import UnitOfWork
from billing_core.domain.autopay import (
    DEFAULT_CHANGE_NOTICE_DAYS,
    AttemptOutcome,
    AutopayAuthorization,
    AutopayNotAllowed,
    MemberRange,
    RetrySchedule,
    announced_charge_day,
    charge_key,
    check_eligible,
    member_ranges,
    method_expires_before,
    needs_amount_notice,
    notice_allows_charge,
)
from billing_core.domain.exceptions import BillingError, MemberNotFound
from billing_core.domain.members import CoverageType
from billing_core.domain.payments import (
    AchAuthorization,
    MethodKind,
    PaymentStatus,
    PaymentTarget,
)
from billing_core.domain.preferences import MessageKind
from billing_core.domain.regions import RegionCatalog
from billing_core.services import (
    audit,
    autopay_notices,
    outbox,
    payments,
    preferences,
    receipts,
    wallet,
)
from billing_core.services.outbox import EMAIL, SMS
from billing_core.services.run_reports import Combined

log = logging.getLogger(__name__)

CHANNEL = "autopay"


@dataclass(frozen=True)
class AutopayStatus:
    enrolled: bool
    enrollment_id: int | None = None
    method_id: int | None = None
    method_kind: str | None = None
    method_brand: str | None = None
    method_last4: str | None = None
    max_amount_cents: int | None = None
    accepted_at: datetime | None = None
    # The next unpaid premium month, its due date (the region's rule) and balance.
    next_coverage_month: date | None = None
    next_due_date: date | None = None
    next_amount_cents: int | None = None
    # The day the run will charge it: the due date, or later when its amount's notice
    # (queued at enrollment, or by the run ten days ahead) came too late for the due date.
    next_charge_on: date | None = None


@dataclass
class RunReport(Combined):
    charged: list[int] = field(default_factory=list)  # payment ids that succeeded
    retrying: list[int] = field(default_factory=list)  # member ids, soft declined
    failed: list[int] = field(default_factory=list)  # member ids, final decline
    pending: list[int] = field(default_factory=list)  # member ids, answer unknown
    over_maximum: list[int] = field(default_factory=list)
    # Member ids whose new amount was announced by this run, and those whose charge waits
    # for its notice to be old enough.
    announced: list[int] = field(default_factory=list)
    held_for_notice: list[int] = field(default_factory=list)
    method_removed: list[int] = field(default_factory=list)  # due, but the method is gone
    skipped: int = 0  # enrollments with nothing due, or already taken
    errors: list[int] = field(default_factory=list)
    seconds: float = 0.0

    def line(self) -> str:
        return (
            f"charged: {len(self.charged)}, retrying: {len(self.retrying)}, "
            f"failed: {len(self.failed)}, pending: {len(self.pending)}, "
            f"above maximum: {len(self.over_maximum)}, "
            f"amount notices: {len(self.announced)}, "
            f"held for notice: {len(self.held_for_notice)}, "
            f"method removed: {len(self.method_removed)}, nothing due: {self.skipped}, "
            f"errors: {len(self.errors)} ({self.seconds:.1f}s)"
        )


# --- enrollment -------------------------------------------------------------------------


def refusal(uow: UnitOfWork, member_id: int) -> str | None:
    """Why the member's coverage rules out automatic payments (AutopayNotAllowed's reason)."""
    with uow:
        member = _member(uow, member_id)
        try:
            check_eligible(
                member.coverage_type, binder_paid=_binder_paid(uow, member), has_method=True
            )
        except AutopayNotAllowed as refused:
            return refused.reason
    return None


@dataclass(frozen=True)
class NewMethod:
    """A card or bank account captured for this authorization: its token and visible digits."""

    kind: str
    token: str
    last4: str
    brand: str | None = None
    exp: str | None = None  # MMYY, for a card
    account_type: str | None = None


def enroll(
    uow: UnitOfWork,
    *,
    member_id: int,
    saved_method_id: int | None,
    authorization: AutopayAuthorization,
    max_amount_cents: int | None,
    now: datetime,
    regions: RegionCatalog,
    notice_days: int = DEFAULT_CHANGE_NOTICE_DAYS,
    new_method: NewMethod | None = None,
) -> int:
    """Record the authorization and queue its written copy, in one transaction; the id.

    The copy is queued before any debit can be made: no run charges an enrollment
    that is not committed, and it is committed with its copy. A new method is saved to
    the wallet in the same transaction. An active enrollment is replaced (cancelled,
    kept) by the new one; the same authorization accepted again records nothing new.
    """
    if max_amount_cents is not None and max_amount_cents <= 0:
        raise ValueError("a maximum is a positive amount")
    with uow:
        member = _member(uow, member_id)
        check_eligible(
            member.coverage_type,
            binder_paid=_binder_paid(uow, member),
            has_method=saved_method_id is not None or new_method is not None,
        )
        old = queries.active_enrollment(uow, member_id, lock=True)
        method = _authorized_method(uow, member_id, saved_method_id, new_method, now)
        row = _authorize(
            uow,
            member,
            old,
            method,
            authorization,
            max_amount_cents,
            now,
            action="autopay_enrolled",
            regions=regions,
            notice_days=notice_days,
        )
        uow.commit()
        return row


def _authorized_method(
    uow: UnitOfWork,
    member_id: int,
    saved_method_id: int | None,
    new_method: NewMethod | None,
    now: datetime,
) -> SavedPaymentMethod:
    """The saved method the authorization names: one on file, or the new one saved now."""
    if new_method is not None:
        return wallet.keep_method(
            uow,
            member_id=member_id,
            kind=new_method.kind,
            token=new_method.token,
            brand=new_method.brand,
            last4=new_method.last4,
            exp=new_method.exp,
            account_type=new_method.account_type,
            now=now,
        )
    method = _usable_method(uow, member_id, saved_method_id)
    if method is None:
        raise AutopayNotAllowed(AutopayNotAllowed.NO_SAVED_METHOD)
    return method


def _authorize(
    uow: UnitOfWork,
    member: Member,
    old: AutopayEnrollment | None,
    method: SavedPaymentMethod,
    authorization: AutopayAuthorization,
    max_amount_cents: int | None,
    now: datetime,
    *,
    action: str,
    regions: RegionCatalog,
    notice_days: int,
) -> int:
    """Make the authorization the member's active enrollment and queue its written copy.

    The next premium's amount is announced now too, so a first charge is not held for
    want of its notice when the run gets to it.
    """
    if (
        old is not None
        and authorization.call_sid is not None
        and (old.call_sid, old.saved_method_id, old.authorization_text)
        == (authorization.call_sid, method.id, authorization.text)
    ):
        return old.id  # accepted again (a replayed answer): it is on file already
    if old is not None:
        old.cancelled_at = old.updated_at = now
        old.cancel_channel, old.cancel_call_sid = authorization.channel, authorization.call_sid
        uow.session.flush()
    row = queries.add_enrollment(
        uow,
        dict(
            member_id=member.id,
            saved_method_id=method.id,
            max_amount_cents=max_amount_cents,
            accepted_at=authorization.accepted_at,
            method_kind=authorization.method_kind,
            method_brand=authorization.method_brand,
            method_last4=authorization.method_last4,
            channel=authorization.channel,
            call_sid=authorization.call_sid,
            wording_version=authorization.wording_version,
            authorization_text=authorization.text,
            created_at=now,
            updated_at=now,
        ),
    )
    local_day = now.astimezone(receipts.zone_for_state(member.state)).date()
    _queue(
        uow,
        member,
        "copy",
        f"autopay-copy:{row.id}",
        now,
        method=(method.kind, method.brand, method.last4),
        date=local_day,
        text=authorization.text,
    )
    detail: dict[str, object] = {
        "enrollment_id": row.id,
        "wording": authorization.wording_version,
        "method_id": method.id,
    }
    if old is not None:
        detail["replaces"] = old.id
    month, due, amount = _next_premium(uow, member, regions, authorization.accepted_at)
    if month is not None and due is not None and amount and amount > 0:
        if max_amount_cents is None or amount <= max_amount_cents:
            zone = regions.get(member.region_key).time_zone
            today = now.astimezone(zone).date()
            _announce(uow, member, method, month, due, amount, now, today, zone, notice_days)
    audit.record(
        uow,
        at=now,
        action=action,
        channel=authorization.channel,
        call_sid=authorization.call_sid,
        member_id=member.id,
        detail=detail,
    )
    return row.id


def status(
    uow: UnitOfWork,
    member_id: int,
    *,
    regions: RegionCatalog,
    notice_days: int = DEFAULT_CHANGE_NOTICE_DAYS,
) -> AutopayStatus:
    """The member's enrollment, its method, and the next premium it will pay."""
    with uow:
        # The enrollment first: most members have none, and then the member is not read.
        row = queries.active_enrollment(uow, member_id)
        if row is None:
            return AutopayStatus(enrolled=False)
        member = _member(uow, member_id)
        method = queries.saved_method(uow, row.saved_method_id)
        month, due, amount = _next_premium(uow, member, regions, row.accepted_at)
        charge_on = due
        if month is not None and due is not None and amount:
            zone = regions.get(member.region_key).time_zone
            noticed = queries.first_queued_at(uow, _amount_notice_keys(member.id, month, amount))
            if noticed is not None:
                charge_on = announced_charge_day(due, noticed.astimezone(zone).date(), notice_days)
        return AutopayStatus(
            enrolled=True,
            enrollment_id=row.id,
            method_id=row.saved_method_id,
            method_kind=method.kind if method else row.method_kind,
            method_brand=method.brand if method else row.method_brand,
            method_last4=method.last4 if method else row.method_last4,
            max_amount_cents=row.max_amount_cents,
            accepted_at=row.accepted_at,
            next_coverage_month=month,
            next_due_date=due,
            next_amount_cents=amount,
            next_charge_on=charge_on,
        )


def change_method(
    uow: UnitOfWork,
    *,
    member_id: int,
    saved_method_id: int | None,
    now: datetime,
    authorization: AutopayAuthorization,
    regions: RegionCatalog,
    notice_days: int = DEFAULT_CHANGE_NOTICE_DAYS,
    new_method: NewMethod | None = None,
) -> int:
    """Charge another method from the next try on; the id of the enrollment that charges it.

    A debit needs the member's authorization for the account it debits (NACHA): the one
    accepted for that method (a saved one, or a new one saved now) becomes a new enrollment
    replacing the old one, keeping its maximum, with its written copy queued, all in one
    transaction.
    """
    with uow:
        row = queries.active_enrollment(uow, member_id, lock=True)
        if row is None:
            raise AutopayNotAllowed(AutopayNotAllowed.NOT_ENROLLED)
        method = _authorized_method(uow, member_id, saved_method_id, new_method, now)
        changed = _authorize(
            uow,
            _member(uow, member_id),
            row,
            method,
            authorization,
            row.max_amount_cents,
            now,
            action="autopay_method_changed",
            regions=regions,
            notice_days=notice_days,
        )
        uow.commit()
        return changed


def set_maximum(
    uow: UnitOfWork,
    *,
    member_id: int,
    max_amount_cents: int | None,
    channel: str,
    call_sid: str | None,
    now: datetime,
) -> None:
    """Set the most one premium may be charged automatically; None removes the maximum."""
    if max_amount_cents is not None and max_amount_cents <= 0:
        raise ValueError("a maximum is a positive amount")
    with uow:
        row = queries.active_enrollment(uow, member_id, lock=True)
        if row is None:
            raise AutopayNotAllowed(AutopayNotAllowed.NOT_ENROLLED)
        previous = row.max_amount_cents
        row.max_amount_cents, row.updated_at = max_amount_cents, now
        audit.record(
            uow,
            at=now,
            action="autopay_maximum_set" if max_amount_cents else "autopay_maximum_removed",
            channel=channel,
            call_sid=call_sid,
            member_id=member_id,
            detail={
                "enrollment_id": row.id,
                "max_amount_cents": max_amount_cents,
                "previous_cents": previous,
            },
        )
        uow.commit()


def cancel(
    uow: UnitOfWork, *, member_id: int, channel: str, call_sid: str | None, now: datetime
) -> bool:
    """Stop autopay for charges not yet started; False if the member was not enrolled."""
    with uow:
        row = queries.active_enrollment(uow, member_id, lock=True)
        if row is None:
            return False
        row.cancelled_at = row.updated_at = now
        row.cancel_channel, row.cancel_call_sid = channel, call_sid
        audit.record(
            uow,
            at=now,
            action="autopay_cancelled",
            channel=channel,
            call_sid=call_sid,
            member_id=member_id,
            detail={"enrollment_id": row.id},
        )
        uow.commit()
        return True


# --- the run ----------------------------------------------------------------------------


def run_batches(uow: UnitOfWork, size: int) -> list[MemberRange]:
    """The batches of a run: ranges of `size` member ids, each holding an active enrollment."""
    with uow:
        return member_ranges(queries.active_enrollment_range_numbers(uow, size), size)


def run_autopay(
    uow_factory: Callable[[], UnitOfWork],
    gateway: PaymentGateway,
    *,
    as_of: datetime,
    regions: RegionCatalog,
    schedule: RetrySchedule | None = None,
    notice_days: int = DEFAULT_CHANGE_NOTICE_DAYS,
    members: MemberRange | None = None,
) -> RunReport:
    """Charge every active enrollment whose premium (or retry) is due on its region's day.

    `as_of` is a moment; each member's day is its date in their region's time zone. A
    month is tried first on its due date (or the first run after it, for months due
    since the member enrolled), then on each retry day after a soft decline. A first or
    changed amount is announced as soon as it is due within `notice_days`, and charged
    no sooner than `notice_days` after its notice. `members`: only this batch of them.
    """
    schedule = schedule or RetrySchedule()
    started = timer.perf_counter()
    report = RunReport()
    with uow_factory() as uow:
        if members is None:
            member_ids = queries.active_enrollment_members(uow)
        else:
            member_ids = queries.active_enrollment_members_between(uow, members.first, members.stop)
    for member_id in member_ids:
        try:
            _run_member(
                uow_factory, gateway, member_id, as_of, regions, schedule, notice_days, report
            )
        except BillingError as error:  # one member's refusal never stops the run
            log.warning("autopay: member %s: %r", member_id, error)
            report.errors.append(member_id)
    report.seconds = timer.perf_counter() - started
    return report


def _run_member(
    uow_factory: Callable[[], UnitOfWork],
    gateway: PaymentGateway,
    member_id: int,
    as_of: datetime,
    regions: RegionCatalog,
    schedule: RetrySchedule,
    notice_days: int,
    report: RunReport,
) -> None:
    # Decide, in one read: what to try now (month, attempt number, amount, method).
    with uow_factory() as uow:
        enrollment = queries.active_enrollment(uow, member_id)
        if enrollment is None:  # cancelled since the run began
            report.skipped += 1
            return
        member = _member(uow, member_id)
        region = regions.get(member.region_key)
        today = as_of.astimezone(region.time_zone).date()
        enrolled_on = enrollment.accepted_at.astimezone(region.time_zone).date()
        method = queries.saved_method(uow, enrollment.saved_method_id)
        usable = method is not None and method.removed_at is None
        _notice_expiring(uow, member, enrollment, method, regions, as_of)
        uow.commit()
        plan = None
        for invoice in queries.premiums(uow, member_id):
            if invoice.balance_cents <= 0:
                continue
            due = region.premium_due.due_date(invoice.coverage_month, member.state)
            if due > today:
                # Looking ahead: a first or changed amount due within the notice period is
                # announced now, so that it can be charged on its due date.
                if (
                    usable
                    and (due - today).days <= notice_days
                    and due >= enrolled_on
                    and not _above_maximum(enrollment, invoice.balance_cents)
                ):
                    assert method is not None
                    _announce(
                        uow, member, method, invoice.coverage_month, due,
                        invoice.balance_cents, as_of, today, region.time_zone, notice_days,
                        report,
                    )  # fmt: skip
                    uow.commit()
                break
            tries = queries.attempts(uow, member_id, invoice.coverage_month)
            if not tries:
                if due < enrolled_on:
                    continue  # due before the member enrolled: not ours to take
                plan = (invoice.coverage_month, due, 1, invoice.balance_cents)
                break
            last = tries[-1]
            if last.outcome == AttemptOutcome.PENDING:
                _settle_pending(uow, member, last, due, schedule, report, as_of)
                uow.commit()
                return
            if (
                last.outcome == AttemptOutcome.SOFT_DECLINED
                and last.next_retry_on is not None
                and last.next_retry_on <= today
            ):
                plan = (invoice.coverage_month, due, last.attempt + 1, invoice.balance_cents)
                break
        if plan is None:
            report.skipped += 1
            return
        if not usable:
            # Removed while autopay used it: the removal told the member (this is for a
            # removal made before that notice existed; its key sends it once).
            if method is not None:
                _notice_method_removed(uow, member, enrollment, method, as_of)
                uow.commit()
            report.method_removed.append(member_id)
            return
        assert method is not None
        month, due, number, amount = plan
        if _above_maximum(enrollment, amount):
            if _record(
                uow, enrollment, month, number, AttemptOutcome.OVER_MAXIMUM, as_of, None, None, None
            ):
                _queue(
                    uow,
                    member,
                    "over_maximum",
                    f"autopay-over-maximum:{member_id}:{month:%Y-%m}",
                    as_of,
                    month=month,
                    amount=amount,
                    maximum=enrollment.max_amount_cents,
                )
                report.over_maximum.append(member_id)
            uow.commit()
            return
        # An invoice posted late (due in fewer than notice_days, or already due when first
        # seen) is announced now and charged notice_days later, after its due date:
        # Regulation E allows no debit of a varying amount without the notice, and a few
        # days late is within every premium grace period (the notice says the day, and the
        # member may pay sooner by phone; the run then finds nothing due).
        noticed_on = _announce(
            uow, member, method, month, due, amount, as_of, today, region.time_zone,
            notice_days, report,
        )  # fmt: skip
        uow.commit()
        if not notice_allows_charge(noticed_on, today, notice_days):
            report.held_for_notice.append(member_id)
            return
        request = payments.PaymentRequest(
            member_id=member_id,
            target=PaymentTarget.premium(),
            amount_cents=amount,
            token=method.token,
            method_kind=method.kind,
            method_brand=method.brand,
            method_last4=method.last4,
            idempotency_key=charge_key(member_id, month, number),
            channel=CHANNEL,
            ach_authorization=_standing_ach(enrollment, method, amount),
        )
        enrollment_id = enrollment.id
    # Charged through the payment service: PENDING committed first, one charge per key.
    try:
        payments.pay(uow_factory, gateway, request, now=as_of)
    except BillingError as error:  # e.g. another payment holds the balance now
        log.info("autopay: member %s month %s not charged: %r", member_id, month, error)
        report.skipped += 1
        return
    with uow_factory() as uow:
        payment = queries.payment_by_key(uow, request.idempotency_key)
        enrollment = uow.session.get(AutopayEnrollment, enrollment_id)
        member = _member(uow, member_id)
        _apply(uow, enrollment, member, month, due, number, payment, schedule, report, as_of)
        uow.commit()


def _standing_ach(
    enrollment: AutopayEnrollment, method: SavedPaymentMethod, amount: int
) -> AchAuthorization | None:
    """A bank debit's authorization: the recurring one the member accepted, as recorded.

    It names the account it was accepted for; the payment service refuses a debit of any
    other account.
    """
    if method.kind != MethodKind.BANK:
        return None
    return AchAuthorization(
        accepted_at=enrollment.accepted_at,
        amount_cents=amount,
        account_last4=enrollment.method_last4,
        call_sid=enrollment.call_sid,
        text=enrollment.authorization_text,
    )


def _above_maximum(enrollment: AutopayEnrollment, amount: int) -> bool:
    return enrollment.max_amount_cents is not None and amount > enrollment.max_amount_cents


def _announce(
    uow: UnitOfWork,
    member: Member,
    method: SavedPaymentMethod,
    month: date,
    due: date,
    amount: int,
    now: datetime,
    today: date,
    zone: ZoneInfo,
    notice_days: int,
    report: RunReport | None = None,
) -> date | None:
    """Queue the notice of a first or changed amount, once; the member's day it was queued.

    None when the member cannot be told (no email or phone): then nothing is charged.
    Without a change to announce, the day is one long enough ago to charge.
    """
    last = queries.last_autopay_charge_cents(uow, member.id, month)
    if not needs_amount_notice(amount, last):
        return date.min
    key = _amount_notice_key(member.id, month, amount)
    queued = queries.first_queued_at(uow, _amount_notice_keys(member.id, month, amount))
    if queued is not None:
        return queued.astimezone(zone).date()
    kind, extra = ("amount_first", {}) if last is None else ("amount_changed", {"previous": last})
    charge_day = announced_charge_day(due, today, notice_days)
    if not _queue(
        uow,
        member,
        kind,
        key,
        now,
        month=month,
        amount=amount,
        date=charge_day,
        method=(method.kind, method.brand, method.last4),
        **extra,
    ):
        # Queued by a concurrent run a moment ago, or it cannot go at all.
        queued = queries.first_queued_at(uow, _amount_notice_keys(member.id, month, amount))
        return None if queued is None else queued.astimezone(zone).date()
    if report is not None:
        report.announced.append(member.id)
    return today


def _retry_base(uow: UnitOfWork, member: Member, month: date, due: date, now: datetime) -> date:
    """The day retries count from: the first try's, its due date unless it was held later
    (for its amount's notice, or a run that did not happen that day)."""
    tries = queries.attempts(uow, member.id, month)
    first = tries[0].created_at if tries else now
    return max(due, first.astimezone(receipts.zone_for_state(member.state)).date())


def _amount_notice_key(member_id: int, month: date, amount: int) -> str:
    return f"autopay-amount:{member_id}:{month:%Y-%m}:{amount}"


def _amount_notice_keys(member_id: int, month: date, amount: int) -> list[str]:
    """The outbox keys the notice of this amount goes under, by email and by text."""
    key = _amount_notice_key(member_id, month, amount)
    return [f"{key}:{EMAIL}", f"{key}:{SMS}"]


def _apply(uow, enrollment, member, month, due, number, payment, schedule, report, now) -> None:
    """Record what became of try `number` (once: a concurrent run's record wins)."""
    status = payment.status
    next_retry = None
    code = payment.failure_reason if status is PaymentStatus.FAILED else None
    if status.went_through:
        outcome = AttemptOutcome.SUCCEEDED
    elif status is PaymentStatus.FAILED:
        next_retry = schedule.next_retry(_retry_base(uow, member, month, due, now), number, code)
        outcome = AttemptOutcome.SOFT_DECLINED if next_retry else AttemptOutcome.FAILED
    else:
        outcome = AttemptOutcome.PENDING
    existing = queries.attempt(uow, member.id, month, number, lock=True)
    if existing is None:
        if _record(uow, enrollment, month, number, outcome, now, payment.id, code, next_retry):
            _report(report, outcome, member, month, payment, now, uow)
            return
        # A concurrent run recorded this try first (perhaps as still pending): read it.
        existing = queries.attempt(uow, member.id, month, number, lock=True)
    if existing.outcome != AttemptOutcome.PENDING or outcome == AttemptOutcome.PENDING:
        return  # already recorded as settled, or nothing new to record
    existing.outcome, existing.decline_code = outcome.value, code
    existing.next_retry_on, existing.updated_at = next_retry, now
    _report(report, outcome, member, month, payment, now, uow)


def _report(report, outcome, member, month, payment, now, uow) -> None:
    if outcome == AttemptOutcome.SUCCEEDED:
        report.charged.append(payment.id)  # its receipt is queued by the payment service
    elif outcome == AttemptOutcome.SOFT_DECLINED:
        report.retrying.append(member.id)
    elif outcome == AttemptOutcome.PENDING:
        report.pending.append(member.id)
    else:
        report.failed.append(member.id)
        _queue(
            uow,
            member,
            "failed",
            f"autopay-failed:{member.id}:{month:%Y-%m}",
            now,
            month=month,
            amount=payment.amount_cents,
            method=(payment.method_kind, payment.method_brand, payment.method_last4),
        )


def _settle_pending(uow, member, attempt, due, schedule, report, now) -> None:
    """A try whose answer was unknown: read what reconcile has since recorded."""
    payment = uow.session.get(Payment, attempt.payment_id) if attempt.payment_id else None
    if payment is None or payment.status in (PaymentStatus.PENDING, PaymentStatus.UNKNOWN):
        report.pending.append(member.id)
        return
    enrollment = uow.session.get(AutopayEnrollment, attempt.enrollment_id)
    _apply(
        uow,
        enrollment,
        member,
        attempt.coverage_month,
        due,
        attempt.attempt,
        payment,
        schedule,
        report,
        now,
    )


def _record(uow, enrollment, month, number, outcome, now, payment_id, code, next_retry) -> bool:
    """Insert the try's row; False when a concurrent run inserted it first."""
    values = dict(
        enrollment_id=enrollment.id,
        member_id=enrollment.member_id,
        coverage_month=month,
        attempt=number,
        payment_id=payment_id,
        outcome=outcome.value,
        decline_code=code,
        next_retry_on=next_retry,
        created_at=now,
        updated_at=now,
    )
    savepoint = uow.session.begin_nested()
    try:
        queries.add_attempt(uow, values)
        uow.session.flush()
    except IntegrityError:
        savepoint.rollback()
        return False
    savepoint.commit()
    return True


# --- helpers ----------------------------------------------------------------------------


def _member(uow: UnitOfWork, member_id: int) -> Member:
    member = queries.member(uow, member_id)
    if member is None:
        raise MemberNotFound(member_id)
    return member


def _usable_method(
    uow: UnitOfWork, member_id: int, method_id: int | None
) -> SavedPaymentMethod | None:
    if method_id is None:
        return None
    method = queries.saved_method(uow, method_id)
    if method is None or method.member_id != member_id or method.removed_at is not None:
        return None
    return method


def _binder_paid(uow: UnitOfWork, member: Member) -> bool:
    """Whether the first premium (the exchange's binder payment) is paid in full."""
    if member.coverage_type is not CoverageType.INDIVIDUAL_EXCHANGE:
        return True
    months = queries.premiums(uow, member.id)
    return bool(months) and months[0].balance_cents == 0


def _next_premium(
    uow: UnitOfWork, member: Member, regions: RegionCatalog, enrolled_at: datetime
) -> tuple[date | None, date | None, int | None]:
    """The next unpaid premium month autopay will take: its month, due date and balance.

    As the run does, a month due before the enrollment is the member's to pay, unless
    autopay has tried it already (a retry under an enrollment since replaced).
    """
    region = regions.get(member.region_key)
    enrolled_on = enrolled_at.astimezone(region.time_zone).date()
    for invoice in queries.premiums(uow, member.id):
        if invoice.balance_cents <= 0:
            continue
        due = region.premium_due.due_date(invoice.coverage_month, member.state)
        if due < enrolled_on and not queries.attempts(uow, member.id, invoice.coverage_month):
            continue
        return invoice.coverage_month, due, invoice.balance_cents
    return None, None, None


def _notice_expiring(uow, member, enrollment, method, regions, now) -> None:
    """Tell the member, once per expiry, that the method lapses before the next due date."""
    if method is None or method.exp_month is None:
        return
    _month, due, _amount = _next_premium(uow, member, regions, enrollment.accepted_at)
    if due is None or not method_expires_before(method.exp_month, method.exp_year, due):
        return
    _queue(
        uow,
        member,
        "expiring",
        f"autopay-expiring:{method.id}:{method.exp_year}-{method.exp_month:02d}",
        now,
        method=(method.kind, method.brand, method.last4),
        date=due,
    )


# The notices that tell of a payment problem, which follow the member's choices; the
# others (the authorization's copy, its amounts) are the law's and always go.
_PROBLEMS = frozenset({"failed", "over_maximum", "expiring", "method_removed"})


def _queue(uow, member: Member, kind: str, dedupe_key: str, now: datetime, **fields) -> bool:
    chosen = MessageKind.PAYMENT_PROBLEM if kind in _PROBLEMS else None
    phone, email = preferences.notice_contacts(uow, member, chosen)
    if chosen is not None and phone is None and email is None:
        return False  # the member chose not to get these, or cannot be reached as chosen
    to = autopay_notices.Addressee(member.first_name, member.language, phone, email)
    message = autopay_notices.notice(kind, to, dedupe_key=dedupe_key, **fields)
    if message is None:
        log.warning("autopay: member %s has no email or phone for the %s notice", member.id, kind)
        return False
    if chosen is not None:  # the law's notices (a copy, an amount) cannot be unsubscribed
        message = outbox.unsubscribable(message, member.language)
    return outbox.enqueue(uow, message, now=now)


def notify_method_removed(
    uow: UnitOfWork, member_id: int, method: SavedPaymentMethod, now: datetime
) -> bool:
    """In the caller's transaction: tell the member to choose another method, if autopay
    charges the one being removed; whether a notice was queued."""
    enrollment = queries.active_enrollment(uow, member_id)
    if enrollment is None or enrollment.saved_method_id != method.id:
        return False
    return _notice_method_removed(uow, _member(uow, member_id), enrollment, method, now)


def _notice_method_removed(uow, member, enrollment, method, now) -> bool:
    return _queue(
        uow,
        member,
        "method_removed",
        f"autopay-method-removed:{enrollment.id}:{method.id}",
        now,
        method=(method.kind, method.brand, method.last4),
    )
