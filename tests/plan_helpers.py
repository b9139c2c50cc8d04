"""Payment plans made for tests through the billing core, and what they left in the database."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import func, select

from billing_core.adapters.gateways.sandbox import fixed_token
from billing_core.adapters.models import (
    OutboxMessage,
    Payment,
    PaymentPlan,
    PlanInstallment,
    SavedPaymentMethod,
)
from billing_core.domain.autopay import AutopayAuthorization
from billing_core.services.autopay import NewMethod
from tests.members import add_member

# The members' today in their region (the test clock's day, Pacific time).
TODAY = date(2026, 11, 27)
DUE = date(2026, 12, 20)
WORDS = "You authorize the plan to charge your method for 6 monthly payments, the first today."

_mrns = iter(range(50000000, 59999999))
_keys = iter(range(1, 10**6))


def member(core, bills=None, **options) -> int:
    options.setdefault("email", "ana@example.org")
    bills = bills or [
        ("B-1", date(2026, 10, 2), "Oakland Medical Center", 100_000, 0, DUE),
        ("B-2", date(2026, 11, 2), "Oakland Medical Center", 25_100, 0, date(2026, 12, 28)),
    ]
    return add_member(
        core, mrn=str(next(_mrns)), birth_date=date(1980, 1, 2), bills=bills, **options
    )


def accepted(core, *, kind="card", last4="4242", call_sid="CA-plan") -> AutopayAuthorization:
    return AutopayAuthorization(
        accepted_at=core.clock.now(),
        method_kind=kind,
        method_brand="visa" if kind == "card" else None,
        method_last4=last4,
        channel="phone",
        call_sid=call_sid,
        wording_version="plan-v1",
        text=WORDS,
    )


def card(outcome="success", last4="4242") -> NewMethod:
    return NewMethod(
        kind="card", token=fixed_token(outcome, last4), last4=last4, brand="visa", exp="1230"
    )


def bank(outcome="success", last4="6789") -> NewMethod:
    return NewMethod(
        kind="bank",
        token=fixed_token(outcome, last4, bank=True),
        last4=last4,
        account_type="consumer-checking",
    )


def set_up(core, member_id, *, months=6, method=None, key=None, authorization=None):
    method = method or card()
    return core.set_up_plan(
        member_id,
        months,
        None,
        authorization or accepted(core, kind=method.kind, last4=method.last4),
        request_key=key or f"CA-plan:{next(_keys)}",
        new_method=method,
    )


def count(core, model, *where) -> int:
    with core.unit_of_work() as uow:
        return uow.session.scalar(select(func.count()).select_from(model).where(*where))


def rows(core, query) -> list:
    with core.unit_of_work() as uow:
        found = list(uow.session.scalars(query))
        uow.session.expunge_all()
        return found


def payments_of(core, member_id) -> list[Payment]:
    return rows(core, select(Payment).where(Payment.member_id == member_id).order_by(Payment.id))


def messages(core, prefix) -> list[OutboxMessage]:
    return rows(core, select(OutboxMessage).where(OutboxMessage.dedupe_key.startswith(prefix)))


DEC_27_NOON = datetime(2026, 12, 27, 12, tzinfo=UTC)
DEC_28_NOON = datetime(2026, 12, 28, 12, tzinfo=UTC)
DEC_30_NOON = datetime(2026, 12, 30, 12, tzinfo=UTC)
JAN_27_NOON = datetime(2027, 1, 27, 12, tzinfo=UTC)


def installment(core, plan_id, number) -> PlanInstallment:
    [found] = rows(
        core,
        select(PlanInstallment).where(
            PlanInstallment.plan_id == plan_id, PlanInstallment.number == number
        ),
    )
    return found


def plan_row(core, plan_id) -> PaymentPlan:
    [found] = rows(core, select(PaymentPlan).where(PaymentPlan.id == plan_id))
    return found


def change_token(core, plan_id, outcome, last4="4242") -> None:
    """Make the plan's card answer differently from now on."""
    with core.unit_of_work() as uow:
        plan = uow.session.get(PaymentPlan, plan_id)
        uow.session.get(SavedPaymentMethod, plan.saved_method_id).token = fixed_token(
            outcome, last4
        )
        uow.commit()
