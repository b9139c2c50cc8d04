"""Payment plans for medical bills: the offer, the set-up and its first installment.

A plan is set up in one transaction (the plan, the bills it takes, its installments,
the recurring authorization and the queued written copy); then its first installment
is charged through the payment service under the key `plan:{plan}:{number}:{attempt}`,
which it charges once. A member has at most one active plan, which the database
enforces, so two calls at once cannot make two; the channel's request key makes a
replayed acceptance return the plan it made.
"""

from __future__ import annotations

import logging
import time as timer
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy.exc import IntegrityError

from billing_core.adapters.gateways.base import PaymentGateway
from billing_core.adapters.models import Member, PaymentPlan, PlanInstallment, SavedPaymentMethod
from billing_core.adapters.queries import payments as payment_queries
from billing_core.adapters.queries import plans as queries
from billing_core.adapters.unit_of_work import UnitOfWork
from billing_core.domain.autopay import (
    AutopayAuthorization,
    MemberRange,
    RetrySchedule,
    member_ranges,
)
from billing_core.domain.exceptions import BillingError, MemberNotFound
from billing_core.domain.payments import (
    AchAuthorization,
    AmountNotAllowed,
    MethodKind,
    PaymentStatus,
    PaymentTarget,
    TargetNotPayable,
)
from billing_core.domain.plans import (
    BillExclusion,
    PlanBill,
    PlanNotAllowed,
    PlanOption,
    PlanRulebook,
    PlanRules,
    eligible_bills,
    installment_days,
    lapses,
    options,
)
from billing_core.domain.preferences import MessageKind
from billing_core.domain.regions import RegionCatalog
from billing_core.services import audit, outbox, payments, plan_notices, preferences, wallet
from billing_core.services.autopay import NewMethod
from billing_core.services.payment_values import PaymentOutcome, PaymentRequest
from billing_core.services.run_reports import Combined

log = logging.getLogger(__name__)

CHANNEL = "plan"
# How often a set-up is tried again when a concurrent one wins a unique key.
_CREATE_ATTEMPTS = 3
ACTIVE = "active"
CANCELLED = "cancelled"
DUE = "due"
PAID = "paid"
MISSED = "missed"
LAPSED = "lapsed"
# Every installment paid (or nothing left owed on the plan's bills).
COMPLETED = "completed"
# An installment whose day came with nothing left owed on the plan's bills: not charged.
COVERED = "covered"
# An installment the member is paying ahead, by phone, under the installment's ahead_key.
PAYING = "paying"
# A claimed try with no payment recorded this long after is taken up again, under its key.
RESUME_AFTER = timedelta(minutes=10)


@dataclass(frozen=True)
class PlanOffer:
    """What the member may be offered: the terms, or why none, and the bills left out."""

    options: tuple[PlanOption, ...]
    # Why no plan can be offered (PlanNotAllowed's reason), or None.
    refusal: str | None
    excluded: dict[str, BillExclusion]  # by bill number
    eligible_cents: int
    # The smallest medical balance a plan takes, for a caller told theirs is too small.
    minimum_cents: int


@dataclass(frozen=True)
class PlanSetUp:
    """A plan as the member is told it was set up, and what became of its first installment."""

    plan_id: int
    status: str
    installments: tuple[tuple[date, int], ...]
    first: PaymentOutcome | None


class _Collided(Exception):
    """A concurrent set-up took a unique key first; the transaction was rolled back."""


def charge_key(plan_id: int, number: int, attempt: int) -> str:
    """The idempotency key of one try at one installment."""
    return f"plan:{plan_id}:{number}:{attempt}"


# --- the offer --------------------------------------------------------------------------


def member_today(uow: UnitOfWork, member_id: int, regions: RegionCatalog, now: datetime) -> date:
    """The member's date now, in their region's zone."""
    with uow:
        return today_of(member_of(uow, member_id), regions, now)


def offer(uow: UnitOfWork, member_id: int, today: date, rules: PlanRulebook) -> PlanOffer:
    """The plans the member's open medical bills allow today, and the bills left out."""
    with uow:
        member = member_of(uow, member_id)
        bills, numbers = _plan_bills(uow, member)
        region_rules = rules.for_region(member.region_key)
    return _offer(bills, numbers, today, region_rules)


def _offer(
    bills: list[PlanBill], numbers: dict[int, str], today: date, rules: PlanRules
) -> PlanOffer:
    eligible, excluded = eligible_bills(bills, today, rules)
    named = {numbers[bill_id]: reason for bill_id, reason in excluded.items()}
    cents = sum(bill.balance_cents for bill in eligible)
    try:
        offered = tuple(options(bills, today, rules))
    except PlanNotAllowed as refused:
        return PlanOffer((), refused.reason, named, cents, rules.min_balance_cents)
    return PlanOffer(offered, None, named, cents, rules.min_balance_cents)


def _plan_bills(uow: UnitOfWork, member: Member) -> tuple[list[PlanBill], dict[int, str]]:
    in_plan = queries.bill_ids_in_active_plans(uow, member.id)
    rows = queries.open_bills(uow, member.id)
    bills = [
        PlanBill(
            bill_id=row.id,
            balance_cents=row.balance_cents,
            date_of_service=row.date_of_service,
            in_plan=row.id in in_plan,
            disputed=row.disputed,
        )
        for row in rows
    ]
    return bills, {row.id: row.bill_number for row in rows}


# --- the set-up -------------------------------------------------------------------------


def set_up(
    uow_factory: Callable[[], UnitOfWork],
    gateway: PaymentGateway,
    *,
    member_id: int,
    months: int,
    method_id: int | None,
    authorization: AutopayAuthorization,
    now: datetime,
    regions: RegionCatalog,
    rules: PlanRulebook,
    request_key: str,
    new_method: NewMethod | None = None,
) -> PlanSetUp:
    """Set up the plan and charge its first installment once; asked again, the same plan.

    Raises PlanNotAllowed when the member already has a plan, the term is not offered,
    or the method is not theirs. A declined first installment cancels the plan.
    """
    for attempt in range(1, _CREATE_ATTEMPTS + 1):
        try:
            plan_id = _create(
                uow_factory(),
                member_id=member_id,
                months=months,
                method_id=method_id,
                new_method=new_method,
                authorization=authorization,
                now=now,
                regions=regions,
                rules=rules,
                request_key=request_key,
            )
            break
        except _Collided:
            # A concurrent set-up committed first: the next attempt finds its plan.
            if attempt == _CREATE_ATTEMPTS:
                raise PlanNotAllowed(PlanNotAllowed.ALREADY_IN_PLAN) from None
    first = _charge_first(uow_factory, gateway, plan_id, now)
    with uow_factory() as uow:
        plan = queries.get(uow, plan_id)
        days = tuple((i.due_on, i.amount_cents) for i in queries.installments(uow, plan_id))
        made = PlanSetUp(plan_id, plan.status, days, first)
        method_id = plan.saved_method_id
    if new_method is not None and first is not None and first.status is PaymentStatus.FAILED:
        # A new card or account that was declined at once is not kept for next time.
        wallet.remove_method(uow_factory(), member_id=member_id, method_id=method_id, now=now)
    return made


def _create(
    uow: UnitOfWork,
    *,
    member_id: int,
    months: int,
    method_id: int | None,
    new_method: NewMethod | None,
    authorization: AutopayAuthorization,
    now: datetime,
    regions: RegionCatalog,
    rules: PlanRulebook,
    request_key: str,
) -> int:
    """Record the plan with its bills, installments and authorization; its id."""
    with uow:
        existing = queries.by_request_key(uow, request_key)
        if existing is not None:
            return _same_member(existing, member_id)
        member = member_of(uow, member_id)
        if queries.active_plan(uow, member.id) is not None:
            raise PlanNotAllowed(PlanNotAllowed.ALREADY_IN_PLAN)
        today = today_of(member, regions, now)
        bills, _numbers = _plan_bills(uow, member)
        region_rules = rules.for_region(member.region_key)
        chosen = next((o for o in options(bills, today, region_rules) if o.months == months), None)
        if chosen is None:
            raise PlanNotAllowed(PlanNotAllowed.TERM_NOT_OFFERED)
        eligible, _excluded = eligible_bills(bills, today, region_rules)
        days = installment_days(today, months)
        savepoint = uow.session.begin_nested()
        try:
            method = method_for(uow, member.id, method_id, new_method, now)
        except IntegrityError:
            # The same new method saved by a concurrent set-up (the same call, doubled).
            savepoint.rollback()
            uow.rollback()
            raise _Collided from None
        values = dict(
            member_id=member.id,
            request_key=request_key,
            status=ACTIVE,
            months=months,
            first_cents=chosen.first_cents,
            monthly_cents=chosen.monthly_cents,
            total_cents=chosen.total_cents,
            saved_method_id=method.id,
            method_kind=method.kind,
            # For a bank account the "brand" recorded is its type, as payments record it.
            method_brand=method.brand or method.account_type,
            method_last4=method.last4,
            accepted_at=authorization.accepted_at,
            channel=authorization.channel,
            call_sid=authorization.call_sid,
            wording_version=authorization.wording_version,
            authorization_text=authorization.text,
            created_at=now,
            updated_at=now,
        )
        try:
            plan = queries.add_plan(
                uow,
                values,
                [(bill.bill_id, bill.balance_cents) for bill in eligible],
                list(zip(days, chosen.installments, strict=True)),
            )
        except IntegrityError:
            # A concurrent set-up committed first: the same request is that plan; another
            # one is a second plan, which a member may not have.
            savepoint.rollback()
            uow.rollback()
            raise _Collided from None
        savepoint.commit()
        to = plan_notices.Addressee(member.first_name, member.language, member.phone, member.email)
        message = plan_notices.copy(
            to,
            dedupe_key=f"plan-copy:{plan.id}",
            day=today,
            installments=list(zip(days, chosen.installments, strict=True)),
            method=(method.kind, method.brand or method.account_type, method.last4),
            text=authorization.text,
        )
        if message is None:
            log.warning("plans: member %s has no email or phone for the plan copy", member.id)
        else:
            outbox.enqueue(uow, message, now=now)
        audit.record(
            uow,
            at=now,
            action="plan_set_up",
            channel=authorization.channel,
            call_sid=authorization.call_sid,
            member_id=member.id,
            detail={"plan_id": plan.id, "months": months, "wording": authorization.wording_version},
        )
        uow.commit()
        return plan.id


def _charge_first(
    uow_factory: Callable[[], UnitOfWork], gateway: PaymentGateway, plan_id: int, now: datetime
) -> PaymentOutcome | None:
    """Charge installment 1 under its one key; a decline cancels the plan."""
    key = charge_key(plan_id, 1, 1)
    with uow_factory() as uow:
        plan = queries.get(uow, plan_id)
        first = queries.installment(uow, plan_id, 1)
        if first.status != DUE and first.payment_id is None:
            return None
        request = payment_request(uow, plan, first.amount_cents, key, 1)
        # A replay finds attempt 1 taken and charges under the same key, which the
        # payment service charges once.
        queries.change_installment_if(uow, first.id, [DUE], 0, {"attempt": 1, "updated_at": now})
        uow.commit()
    try:
        result = payments.pay(uow_factory, gateway, request, now=now)
    except (AmountNotAllowed, TargetNotPayable) as refused:
        # Paid down since the plan was made (another payment in between): nothing charged.
        log.warning("plans: plan %s first installment refused: %r", plan_id, refused)
        _cancel(uow_factory, plan_id, now)
        return None
    _record(uow_factory, plan_id, result, key, now)
    return result


def _record(uow_factory, plan_id: int, result: PaymentOutcome, key: str, now: datetime) -> None:
    """Mark installment 1 paid, or cancel the plan on a decline; an unknown answer waits."""
    if result.status in (PaymentStatus.PENDING, PaymentStatus.UNKNOWN):
        return  # the gateway did not answer: reconcile settles the payment
    with uow_factory() as uow:
        first = queries.installment(uow, plan_id, 1)
        values: dict[str, object] = {"payment_id": _payment_id(uow, key), "updated_at": now}
        # A declined first installment is missed and the plan cancelled together, so no
        # run can take the plan for one that is still going.
        values["status"] = PAID if result.status.went_through else MISSED
        if queries.change_installment_if(uow, first.id, [DUE], 1, values) and (
            result.status is PaymentStatus.FAILED
        ):
            _cancel_in(uow, queries.get(uow, plan_id), now)
        uow.commit()


def _cancel(uow_factory, plan_id: int, now: datetime) -> None:
    with uow_factory() as uow:
        _cancel_in(uow, queries.get(uow, plan_id), now)
        uow.commit()


def _cancel_in(uow: UnitOfWork, plan: PaymentPlan, now: datetime) -> None:
    """End a plan whose first installment was not paid: it never began."""
    if queries.change_plan_if(uow, plan.id, [ACTIVE], {"status": CANCELLED, "updated_at": now}):
        audit.record(
            uow,
            at=now,
            action="plan_cancelled",
            channel=CHANNEL,
            member_id=plan.member_id,
            detail={"plan_id": plan.id, "why": "first_installment_not_paid"},
        )


def learn_ahead(
    uow: UnitOfWork, plan: PaymentPlan, key: str, now: datetime
) -> PaymentStatus | None:
    """Record what became of the payment ahead under this key; None while it is not known.

    Paid: its installments are paid. Declined, or never begun: they are due again, on
    their own days, and a declined payment ahead is not one of their tries.
    """
    payment = payment_queries.payment_by_key(uow, key)
    if payment is None:
        ahead = queries.paid_ahead_with(uow, plan.id, key)
        if ahead and ahead[0].updated_at <= now - RESUME_AFTER:
            # Nothing was begun under the key (the PENDING payment is committed before
            # any charge), so nothing was charged.
            values = {"status": DUE, "ahead_key": None, "updated_at": now}
            queries.finish_ahead(uow, plan.id, key, values)
            return PaymentStatus.FAILED
        return None
    if payment.status in payment_queries.IN_FLIGHT:
        return None
    if payment.status.went_through:
        values = {"status": PAID, "payment_id": payment.id, "updated_at": now}
        if queries.finish_ahead(uow, plan.id, key, values):
            close_if_done(uow, plan, now)
    else:
        queries.finish_ahead(
            uow, plan.id, key, {"status": DUE, "ahead_key": None, "updated_at": now}
        )
    return payment.status


def close_if_done(uow: UnitOfWork, plan: PaymentPlan, now: datetime) -> None:
    """Complete a plan with nothing left to pay; one whose last installments were missed lapses."""
    if queries.open_installments(uow, plan.id):
        return
    if _owed(uow, plan) > 0:
        # Paid to the end with a missed installment still owed: the plan is over.
        _lapse(uow, member_of(uow, plan.member_id), plan, now, now.date())
        return
    if queries.change_plan_if(uow, plan.id, [ACTIVE], {"status": COMPLETED, "updated_at": now}):
        audit.record(
            uow,
            at=now,
            action="plan_completed",
            channel=CHANNEL,
            member_id=plan.member_id,
            detail={"plan_id": plan.id},
        )


def payment_request(
    uow: UnitOfWork,
    plan: PaymentPlan,
    amount: int,
    key: str,
    installment: int | None,
    channel: str = CHANNEL,
    call_sid: str | None = None,
) -> PaymentRequest:
    """A charge of the plan's method for its bills alone (installment None: the payoff)."""
    method = queries.saved_method(uow, plan.saved_method_id)
    return PaymentRequest(
        member_id=plan.member_id,
        target=PaymentTarget.plan(plan.id),
        plan_installment=installment,
        amount_cents=amount,
        token=method.token,
        method_kind=plan.method_kind,
        method_brand=plan.method_brand,
        method_last4=plan.method_last4,
        idempotency_key=key,
        channel=channel,
        call_sid=call_sid or plan.call_sid,
        ach_authorization=_standing_ach(plan, amount),
    )


def _standing_ach(plan: PaymentPlan, amount: int) -> AchAuthorization | None:
    """A bank debit's authorization: the recurring one accepted for the plan, as recorded."""
    if plan.method_kind != MethodKind.BANK:
        return None
    return AchAuthorization(
        accepted_at=plan.accepted_at,
        amount_cents=amount,
        account_last4=plan.method_last4,
        call_sid=plan.call_sid,
        text=plan.authorization_text,
    )


def _payment_id(uow: UnitOfWork, key: str) -> int | None:
    payment = payment_queries.payment_by_key(uow, key)
    return payment.id if payment is not None else None


def method_for(
    uow: UnitOfWork,
    member_id: int,
    method_id: int | None,
    new_method: NewMethod | None,
    now: datetime,
) -> SavedPaymentMethod:
    """The saved method the plan charges: one on file, or the new one saved now."""
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
    method = queries.saved_method(uow, method_id) if method_id is not None else None
    if method is None or method.member_id != member_id or method.removed_at is not None:
        raise PlanNotAllowed(PlanNotAllowed.NO_METHOD)
    return method


def _same_member(plan: PaymentPlan, member_id: int) -> int:
    if plan.member_id != member_id:
        raise PlanNotAllowed(PlanNotAllowed.ALREADY_IN_PLAN)
    return plan.id


def member_of(uow: UnitOfWork, member_id: int) -> Member:
    member = uow.session.get(Member, member_id)
    if member is None:
        raise MemberNotFound(member_id)
    return member


def today_of(member: Member, regions: RegionCatalog, now: datetime) -> date:
    return now.astimezone(regions.get(member.region_key).time_zone).date()


# --- the run ----------------------------------------------------------------------------


@dataclass
class RunReport(Combined):
    charged: list[int] = field(default_factory=list)  # payment ids that succeeded
    retrying: list[int] = field(default_factory=list)  # installment ids, soft declined
    missed: list[int] = field(default_factory=list)  # installment ids, final decline
    lapsed: list[int] = field(default_factory=list)  # plan ids
    pending: list[int] = field(default_factory=list)  # installment ids, answer unknown
    skipped: int = 0  # not due yet, or taken by another run
    errors: list[int] = field(default_factory=list)
    seconds: float = 0.0

    def line(self) -> str:
        return (
            f"charged: {len(self.charged)}, retrying: {len(self.retrying)}, "
            f"missed: {len(self.missed)}, lapsed: {len(self.lapsed)}, "
            f"pending: {len(self.pending)}, not due or taken: {self.skipped}, "
            f"errors: {len(self.errors)} ({self.seconds:.1f}s)"
        )


def run_plans(
    uow_factory: Callable[[], UnitOfWork],
    gateway: PaymentGateway,
    *,
    as_of: datetime,
    regions: RegionCatalog,
    rules: PlanRulebook,
    schedule: RetrySchedule | None = None,
    members: MemberRange | None = None,
) -> RunReport:
    """Charge every installment (and retry) whose day has come in its member's zone, once.

    members: only the installments of this batch of members.
    """
    schedule = schedule or RetrySchedule()
    started = timer.perf_counter()
    report = RunReport()
    span = None if members is None else (members.first, members.stop)
    with uow_factory() as uow:
        ids = queries.due_installments(uow, _last_due_day(as_of), span)
    for installment_id in ids:
        try:
            _run_one(uow_factory, gateway, installment_id, as_of, regions, rules, schedule, report)
        except BillingError as error:  # one plan's refusal never stops the run
            log.warning("plans: installment %s: %r", installment_id, error)
            report.errors.append(installment_id)
    report.seconds = timer.perf_counter() - started
    return report


def run_batches(uow: UnitOfWork, as_of: datetime, size: int) -> list[MemberRange]:
    """The batches of a run: ranges of `size` member ids holding an installment due by then."""
    with uow:
        return member_ranges(queries.due_range_numbers(uow, _last_due_day(as_of), size), size)


def _last_due_day(as_of: datetime) -> date:
    # No US region's date is ahead of UTC's: nothing later than UTC's date can be due.
    return as_of.date() + timedelta(days=1)


def _run_one(uow_factory, gateway, installment_id, as_of, regions, rules, schedule, report):
    with uow_factory() as uow:
        row = uow.session.get(PlanInstallment, installment_id)
        plan = queries.get(uow, row.plan_id)
        member = member_of(uow, plan.member_id)
        if row.status == PAYING:
            # Paid ahead by the member (even if the plan has ended since): the run only
            # learns what became of that payment.
            if learn_ahead(uow, plan, row.ahead_key, as_of) is None:
                report.pending.append(row.id)
            uow.commit()
            return
        if plan.status != ACTIVE or row.status != DUE:
            report.skipped += 1
            return
        if (row.next_try_on or row.due_on) > today_of(member, regions, as_of):
            report.skipped += 1
            return
        if row.attempt > 0 and row.payment_id is None:
            # A try claimed earlier whose answer is not recorded: read it, or take it up.
            payment = payment_queries.payment_by_key(
                uow, charge_key(plan.id, row.number, row.attempt)
            )
            if payment is not None and payment.status in payment_queries.IN_FLIGHT:
                report.pending.append(row.id)
                return
            if payment is not None:
                _apply(uow, plan, row, member, payment, as_of, rules, schedule, report)
                uow.commit()
                return
            if row.updated_at > as_of - RESUME_AFTER:
                report.skipped += 1  # another run is charging it right now
                return
            number = row.attempt
        else:
            paid = queries.succeeded_payment_for(uow, plan.id, row.number)
            if paid is not None:
                # A try recorded as declined that the gateway later found charged: it paid.
                values = {"status": PAID, "payment_id": paid, "updated_at": as_of}
                if queries.change_installment_if(uow, row.id, [DUE], row.attempt, values):
                    close_if_done(uow, plan, as_of)
                uow.commit()
                report.skipped += 1
                return
            if queries.saved_method(uow, plan.saved_method_id).removed_at is not None:
                # The member removed the method the plan charges: nothing is charged, the
                # installment is missed and they are told.
                values = {"status": MISSED, "updated_at": as_of}
                if queries.change_installment_if(uow, row.id, [DUE], row.attempt, values):
                    _missed(uow, plan, row, member, as_of, rules, report)
                uow.commit()
                return
            number = row.attempt + 1
            claimed = queries.change_installment_if(
                uow,
                row.id,
                [DUE],
                row.attempt,
                {"attempt": number, "payment_id": None, "updated_at": as_of},
            )
            uow.commit()
            if not claimed:  # another run took this try
                report.skipped += 1
                return
        key = charge_key(plan.id, row.number, number)
        # Never more than is still owed on the plan's bills.
        amount = min(row.amount_cents, _owed(uow, plan))
        request = payment_request(uow, plan, amount, key, row.number) if amount > 0 else None
        plan_id, row_id = plan.id, row.id
    if request is None:
        with uow_factory() as uow:
            queries.settle_installment_if(
                uow, row_id, number, {"status": COVERED, "updated_at": as_of}
            )
            close_if_done(uow, queries.get(uow, plan_id), as_of)
            uow.commit()
        report.skipped += 1
        return
    try:
        payments.pay(uow_factory, gateway, request, now=as_of)
    except (AmountNotAllowed, TargetNotPayable) as refused:
        log.warning("plans: installment %s refused: %r", row_id, refused)
        report.errors.append(row_id)
        return
    with uow_factory() as uow:
        row = uow.session.get(PlanInstallment, row_id)
        plan = queries.get(uow, plan_id)
        payment = payment_queries.payment_by_key(uow, key)
        if payment.status in payment_queries.IN_FLIGHT:
            report.pending.append(row_id)
            return
        _apply(
            uow, plan, row, member_of(uow, plan.member_id), payment, as_of, rules, schedule, report
        )
        uow.commit()


def _apply(uow, plan, row, member, payment, now, rules, schedule, report) -> None:
    """Record the settled answer of the installment's current try (once)."""
    values: dict[str, object] = {"payment_id": payment.id, "updated_at": now}
    next_try = None
    if payment.status.went_through:
        values["status"] = PAID
    elif row.number == 1:
        # The first installment is the plan's start: a plan whose first did not go
        # through was never set up (its answer came late, after the call).
        values["status"] = MISSED
    else:
        # A soft decline is tried again on its retry day, under the next try's key.
        next_try = schedule.next_retry(row.due_on, row.attempt, payment.failure_reason)
        if next_try is not None:
            values["next_try_on"] = next_try
        else:
            values["status"] = MISSED
    if not queries.settle_installment_if(uow, row.id, row.attempt, values):
        return
    if payment.status.went_through:
        report.charged.append(payment.id)
        close_if_done(uow, plan, now)
        return
    if next_try is not None:
        report.retrying.append(row.id)
        return
    if row.number == 1:
        report.missed.append(row.id)
        _cancel_in(uow, plan, now)
        return
    _missed(uow, plan, row, member, now, rules, report)


def _missed(uow, plan, row, member, now, rules, report) -> None:
    """Tell the member an installment was missed; lapse the plan at the configured count."""
    report.missed.append(row.id)
    _notify(
        uow,
        member,
        plan,
        "missed",
        f"plan-missed:{row.id}",
        now,
        amount=row.amount_cents,
        day=row.due_on,
    )
    over = not queries.open_installments(uow, plan.id)
    if over or lapses(queries.missed_count(uow, plan.id), rules.for_region(member.region_key)):
        if _lapse(uow, member, plan, now, row.due_on):
            report.lapsed.append(plan.id)


def _lapse(uow: UnitOfWork, member: Member, plan: PaymentPlan, now: datetime, day: date) -> bool:
    """End the plan for missed installments: the rest of its balance is due (notified)."""
    lapsed = {"status": LAPSED, "lapsed_at": now, "updated_at": now}
    if not queries.change_plan_if(uow, plan.id, [ACTIVE], lapsed):
        return False
    owed = _owed(uow, plan)
    _notify(uow, member, plan, "lapsed", f"plan-lapsed:{plan.id}", now, amount=owed, day=day)
    audit.record(
        uow,
        at=now,
        action="plan_lapsed",
        channel=CHANNEL,
        member_id=member.id,
        detail={"plan_id": plan.id},
    )
    return True


def _owed(uow: UnitOfWork, plan: PaymentPlan) -> int:
    return sum(bill.balance_cents for bill in queries.plan_bills(uow, plan.id))


def _notify(uow, member: Member, plan: PaymentPlan, kind: str, key: str, now, **fields) -> None:
    # A missed installment and a lapse are payment problems: they follow the member's choice.
    phone, email = preferences.addresses(uow, member, MessageKind.PAYMENT_PROBLEM)
    if phone is None and email is None:
        return
    to = plan_notices.Addressee(member.first_name, member.language, phone, email)
    message = plan_notices.notice(
        kind,
        to,
        dedupe_key=key,
        method=(plan.method_kind, plan.method_brand, plan.method_last4),
        **fields,
    )
    if message is None:
        log.warning("plans: member %s has no email or phone for the %s notice", member.id, kind)
        return
    outbox.enqueue(uow, outbox.unsubscribable(message, member.language), now=now)
