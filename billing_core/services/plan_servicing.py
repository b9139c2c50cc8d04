"""A member servicing their payment plan: where it stands, pay ahead, pay off, another method.

A payment ahead claims the installments it pays (status "paying", with the payment's
key) by compare-and-set before anything is charged, so the daily run and a second
call leave them alone; its answer is recorded on them once, here or by the run
(billing_core.services.plans.learn_ahead) when the gateway answers late.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime

from billing_core.adapters.gateways.base import PaymentGateway
from billing_core.adapters.models import PaymentPlan, PlanInstallment
from billing_core.adapters.queries import payments as payment_queries
from billing_core.adapters.queries import plans as queries
from billing_core.adapters.unit_of_work import UnitOfWork
from billing_core.domain.autopay import AutopayAuthorization
from billing_core.domain.payments import (
    AchAuthorization,
    AmountNotAllowed,
    PaymentTarget,
    TargetNotPayable,
)
from billing_core.domain.plans import PlanNotAllowed
from billing_core.domain.regions import RegionCatalog
from billing_core.services import audit, outbox, payments, plan_notices
from billing_core.services.autopay import NewMethod
from billing_core.services.payment_values import PaymentOutcome, check_request
from billing_core.services.plans import (
    ACTIVE,
    DUE,
    LAPSED,
    PAYING,
    learn_ahead,
    member_of,
    method_for,
    payment_request,
    today_of,
)


@dataclass(frozen=True)
class PlanStatus:
    """A member's plan as the phone speaks it: what is next, what is left, the method."""

    plan_id: int
    status: str  # active or lapsed
    months: int
    # The next installment to pay: its number, day and amount (never more than is owed).
    next_number: int | None
    next_due_on: date | None
    next_amount_cents: int
    # Every installment after the first, and the day of the last one still to pay.
    monthly_cents: int
    last_due_on: date | None
    payments_left: int
    # What the installments left to pay (payments_left of them) add up to.
    scheduled_cents: int
    # What is still owed on the plan's bills, and what payments in progress hold of it.
    remaining_cents: int
    held_cents: int
    method_kind: str
    method_brand: str | None
    method_last4: str
    saved_method_id: int
    bill_numbers: frozenset[str]
    lapsed_on: date | None

    @property
    def paying(self) -> bool:
        """Whether a payment on the plan is in progress (nothing more can be paid now)."""
        return self.held_cents > 0


def status(uow: UnitOfWork, member_id: int, regions: RegionCatalog) -> PlanStatus | None:
    """The member's active plan, or their latest lapsed one with a balance left; else None."""
    with uow:
        # The plan first: most members have none, and then the member is not read.
        plan = queries.latest_plan(uow, member_id)
        if plan is None:
            return None
        member = member_of(uow, member_id)
        quote = payments.quote_in(uow, member.id, PaymentTarget.plan(plan.id))
        if plan.status == LAPSED and quote.balance_cents <= 0:
            return None
        # Installments being paid now (ahead, or a try of the run not yet answered) are
        # neither the next one nor left to pay: the payment in progress is said apart.
        open_rows = [
            row
            for row in (queries.open_installments(uow, plan.id) if plan.status == ACTIVE else [])
            if not _in_flight(row)
        ]
        upcoming = open_rows[0] if open_rows else None
        zone = regions.get(member.region_key).time_zone
        return PlanStatus(
            plan_id=plan.id,
            status=plan.status,
            months=plan.months,
            next_number=upcoming.number if upcoming else None,
            next_due_on=upcoming.due_on if upcoming else None,
            next_amount_cents=min(upcoming.amount_cents, quote.balance_cents) if upcoming else 0,
            monthly_cents=plan.monthly_cents,
            last_due_on=open_rows[-1].due_on if open_rows else None,
            payments_left=len(open_rows),
            scheduled_cents=sum(row.amount_cents for row in open_rows),
            remaining_cents=quote.balance_cents,
            held_cents=quote.held_cents,
            method_kind=plan.method_kind,
            method_brand=plan.method_brand,
            method_last4=plan.method_last4,
            saved_method_id=plan.saved_method_id,
            bill_numbers=frozenset(b.bill_number for b in queries.plan_bills(uow, plan.id)),
            lapsed_on=plan.lapsed_at.astimezone(zone).date() if plan.lapsed_at else None,
        )


def _in_flight(row: PlanInstallment) -> bool:
    return row.status == PAYING or (row.attempt > 0 and row.payment_id is None)


def ahead_key(plan_id: int, what: str, request_key: str) -> str:
    """The idempotency key of a payment ahead: fixed by the channel before the member confirms."""
    return f"plan:{plan_id}:{what}:{request_key}"[:80]


def pay_ahead(
    uow_factory: Callable[[], UnitOfWork],
    gateway: PaymentGateway,
    *,
    member_id: int,
    plan_id: int,
    payoff: bool,
    request_key: str,
    channel: str,
    call_sid: str | None,
    now: datetime,
    ach_authorization: AchAuthorization | None = None,
) -> PaymentOutcome:
    """Pay the next installment now (or, with payoff, all the plan still owes), once.

    A bank debit carries the single-entry authorization the member accepted for it
    (ach_authorization), else the plan's recurring one. Asked again with the same
    request key, the same payment. Raises PlanNotAllowed when the plan is not the
    member's active one, nothing is owed, or a payment on it is in progress.
    """
    key = ahead_key(plan_id, "payoff" if payoff else "next", request_key)
    with uow_factory() as uow:
        made = payment_queries.payment_by_key(uow, key)
        made_for = made.member_id if made is not None else None
        if made is None:
            plan = _active_plan(uow, member_id, plan_id)
            rows = _claim(uow, plan, payoff, key, now)
            amount = payments.quote_in(uow, member_id, PaymentTarget.plan(plan.id)).payable_cents
            if not payoff:
                amount = min(rows[0].amount_cents, amount)
            if amount <= 0:
                uow.rollback()
                raise PlanNotAllowed(PlanNotAllowed.NOTHING_OWED)
            installment = None if payoff else rows[0].number
            request = payment_request(uow, plan, amount, key, installment, channel, call_sid)
            if ach_authorization is not None and request.ach_authorization is not None:
                request = replace(request, ach_authorization=ach_authorization)
            # A request the payment service would refuse is refused before anything is claimed.
            check_request(request)
            uow.commit()
    if made is not None:
        if made_for != member_id:
            raise PlanNotAllowed(PlanNotAllowed.NOT_ACTIVE)
        return payments.made_under(uow_factory(), key)
    try:
        result = payments.pay(uow_factory, gateway, request, now=now)
    except (AmountNotAllowed, TargetNotPayable):
        # Another payment took the plan's bills meanwhile: the installments are due again.
        with uow_factory() as uow:
            values = {"status": DUE, "ahead_key": None, "updated_at": now}
            queries.finish_ahead(uow, plan_id, key, values)
            uow.commit()
        raise PlanNotAllowed(PlanNotAllowed.PAYMENT_IN_PROGRESS) from None
    with uow_factory() as uow:
        learn_ahead(uow, uow.session.get(PaymentPlan, plan_id), key, now)
        uow.commit()
    return result


def _active_plan(uow: UnitOfWork, member_id: int, plan_id: int) -> PaymentPlan:
    plan = queries.get(uow, plan_id)
    if plan is None or plan.member_id != member_id or plan.status != ACTIVE:
        raise PlanNotAllowed(PlanNotAllowed.NOT_ACTIVE)
    return plan


def _claim(
    uow: UnitOfWork, plan: PaymentPlan, payoff: bool, key: str, now: datetime
) -> list[PlanInstallment]:
    """Take the installments this payment pays from the run, or refuse: one is being paid."""
    rows = queries.open_installments(uow, plan.id)
    if not rows:
        raise PlanNotAllowed(PlanNotAllowed.NOTHING_OWED)
    taken = rows if payoff else rows[:1]
    for row in taken:
        # A try the run claimed, not yet answered, or a payment ahead already under way.
        busy = _in_flight(row)
        values = {"status": PAYING, "ahead_key": key, "updated_at": now}
        if busy or not queries.change_installment_if(uow, row.id, [DUE], row.attempt, values):
            uow.rollback()
            raise PlanNotAllowed(PlanNotAllowed.PAYMENT_IN_PROGRESS)
    return taken


def change_method(
    uow: UnitOfWork,
    *,
    member_id: int,
    plan_id: int,
    method_id: int | None,
    new_method: NewMethod | None,
    authorization: AutopayAuthorization,
    regions: RegionCatalog,
    now: datetime,
) -> None:
    """Charge the plan's next installments to another method, under the authorization accepted.

    The plan keeps the latest authorization (its bank debits carry it); the one it
    replaces stays in the audit log, and the member gets the written copy of the new one.
    """
    with uow:
        plan = _active_plan(uow, member_id, plan_id)
        member = member_of(uow, member_id)
        method = method_for(uow, member.id, method_id, new_method, now)
        before = {"kind": plan.method_kind, "last4": plan.method_last4}
        plan.saved_method_id = method.id
        plan.method_kind = method.kind
        plan.method_brand = method.brand or method.account_type
        plan.method_last4 = method.last4
        plan.accepted_at = authorization.accepted_at
        plan.call_sid = authorization.call_sid
        plan.wording_version = authorization.wording_version
        plan.authorization_text = authorization.text
        plan.updated_at = now
        # The installments the new authorization covers: those not being paid right now.
        left = [
            (row.due_on, row.amount_cents)
            for row in queries.open_installments(uow, plan.id)
            if not _in_flight(row)
        ]
        to = plan_notices.Addressee(member.first_name, member.language, member.phone, member.email)
        if left:
            message = plan_notices.copy(
                to,
                dedupe_key=f"plan-method:{plan.id}:{now.isoformat()}",
                day=today_of(member, regions, now),
                installments=left,
                method=(plan.method_kind, plan.method_brand, plan.method_last4),
                text=authorization.text,
            )
            if message is not None:
                outbox.enqueue(uow, message, now=now)
        audit.record(
            uow,
            at=now,
            action="plan_method_changed",
            channel=authorization.channel,
            call_sid=authorization.call_sid,
            member_id=member.id,
            detail={"plan_id": plan.id, "before": before, "wording": authorization.wording_version},
        )
        uow.commit()
