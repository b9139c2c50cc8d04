"""Payments a call left behind (PENDING or UNKNOWN when it ended), on every database.

The caller heard "we are still confirming your payment; we will send you a receipt":
whatever settles the payment later must tell the member how it ended, once, and a call
that has ended leaves nobody to finish its payment, so reconcile does not wait for it.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from billing_core.adapters.gateways import SandboxGateway
from billing_core.adapters.gateways.base import GatewayTimeout
from billing_core.adapters.gateways.sandbox import fixed_token
from billing_core.adapters.models import CallSession, Member, OutboxMessage, Payment
from billing_core.domain.payments import PaymentStatus, PaymentTarget
from billing_core.services import payments
from billing_core.services.payments import PaymentRequest
from tests.members import add_member, agree_to_texts

PHONE = "+15105550123"
EMAIL_ADDRESS = "ana.tester@example.org"
CALL_SID = "CA" + "7" * 32
BILLS = [("B-200", date(2026, 9, 14), "Oakland Medical Center", 12000, 0, date(2026, 11, 15))]


@pytest.fixture
def gateway(core) -> SandboxGateway:
    return SandboxGateway(core.session_factory, core.clock)


def member(core, *, language: str = "en", phone=PHONE, email=EMAIL_ADDRESS) -> int:
    member_id = add_member(core, mrn="20000417", birth_date=date(1975, 6, 30), bills=BILLS)
    with core.unit_of_work() as uow:
        row = uow.session.get(Member, member_id)
        row.phone, row.email, row.language = phone, email, language
        uow.commit()
    if phone is not None:
        agree_to_texts(core, member_id)
    return member_id


def request(member_id: int, *, outcome: str = "success", key: str = "left-1") -> PaymentRequest:
    return PaymentRequest(
        member_id=member_id,
        target=PaymentTarget.bill("B-200"),
        amount_cents=12000,
        token=fixed_token(outcome, "4242"),
        method_kind="card",
        method_brand="visa",
        method_last4="4242",
        idempotency_key=key,
        channel="phone",
        call_sid=CALL_SID,
    )


def left_pending(core, gateway, member_id: int, **options):
    """A payment committed PENDING whose worker was killed before the charge."""
    return payments.start_payment(
        core.unit_of_work(),
        request(member_id, **options),
        gateway_name=gateway.name,
        now=core.clock.now(),
    )


def end_call(core, call_sid: str = CALL_SID) -> None:
    """What the phone channel leaves when a call ends: a call-state row with ended_at."""
    now = core.clock.now()
    with core.unit_of_work() as uow:
        uow.session.add(
            CallSession(
                call_sid=call_sid,
                data={},
                created_at=now,
                updated_at=now,
                expires_at=now + timedelta(hours=1),
                ended_at=now,
            )
        )
        uow.commit()


def reconcile(core, gateway):
    return payments.reconcile(core.unit_of_work, gateway, now=core.clock.now())


def notices(core) -> list[OutboxMessage]:
    with core.unit_of_work() as uow:
        rows = list(
            uow.session.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.dedupe_key.like("not-taken:%"))
                .order_by(OutboxMessage.id)
            )
        )
        uow.session.expunge_all()
        return rows


def receipts(core) -> list[OutboxMessage]:
    with core.unit_of_work() as uow:
        rows = list(
            uow.session.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.dedupe_key.like("receipt:%"))
                .order_by(OutboxMessage.id)
            )
        )
        uow.session.expunge_all()
        return rows


def status_of(core, payment_id: int) -> PaymentStatus:
    with core.unit_of_work() as uow:
        return uow.session.get(Payment, payment_id).status


# --- Problem 1: a payment left PENDING and failed later tells the member ---------------


def test_a_payment_left_pending_that_reconcile_fails_is_reported_to_the_member_once(core, gateway):
    member_id = member(core)
    started = left_pending(core, gateway, member_id)
    end_call(core)
    core.clock.advance(11 * 60)
    report = reconcile(core, gateway)
    assert report.failed == (started.outcome.confirmation_number,)
    sent = notices(core)
    assert [(n.kind, n.recipient) for n in sent] == [("sms", PHONE), ("email", EMAIL_ADDRESS)]
    assert "did not go through" in sent[0].body
    assert started.outcome.confirmation_number in sent[0].body
    assert sent[1].subject == (
        f"Your payment did not go through, confirmation {started.outcome.confirmation_number}"
    )
    # Another run queues nothing more.
    reconcile(core, gateway)
    assert [n.id for n in notices(core)] == [n.id for n in sent]


def test_the_notice_of_a_left_payment_is_in_the_members_language(core, gateway):
    member_id = member(core, language="es", email=None)
    started = left_pending(core, gateway, member_id)
    core.clock.advance(11 * 60)
    reconcile(core, gateway)
    [notice] = notices(core)
    assert notice.kind == "sms" and started.outcome.confirmation_number in notice.body
    assert "no se" in notice.body and "did not go through" not in notice.body


def test_a_payment_left_pending_whose_charge_was_declined_is_reported_once(core, gateway):
    member_id = member(core, email=None)
    started = left_pending(core, gateway, member_id, outcome="declined")
    order = started.charge
    # The worker charged (declined) and died before recording the answer.
    gateway.charge(
        token=order.token,
        amount_cents=order.amount_cents,
        idempotency_key=order.idempotency_key,
        description=order.description,
    )
    end_call(core)
    report = reconcile(core, gateway)
    assert report.failed == (order.confirmation_number,)
    assert [n.kind for n in notices(core)] == ["sms"]


def test_a_call_that_ended_while_its_charge_was_declined_tells_the_member(core, gateway):
    member_id = member(core, email=None)
    started = left_pending(core, gateway, member_id, outcome="declined")
    # The caller hung up while the charge was under way: nobody heard the decline.
    end_call(core)
    outcome = payments.complete_payment(
        core.unit_of_work(), gateway, started.charge, now=core.clock.now()
    )
    assert outcome.status is PaymentStatus.FAILED
    assert [n.kind for n in notices(core)] == ["sms"]


def test_a_decline_the_caller_hears_sends_no_notice(core, gateway):
    member_id = member(core)
    outcome = payments.pay(
        core.unit_of_work,
        gateway,
        request(member_id, outcome="declined"),
        now=core.clock.now(),
    )
    assert outcome.status is PaymentStatus.FAILED
    assert notices(core) == []


def test_a_payment_left_unknown_then_failed_is_reported_once(core):
    class LostAnswer(SandboxGateway):
        def charge(self, **_charge):
            raise GatewayTimeout("the answer was lost")

        def find_charge(self, idempotency_key):
            return None

    gateway = LostAnswer(core.session_factory, core.clock)
    member_id = member(core)
    outcome = payments.pay(core.unit_of_work, gateway, request(member_id), now=core.clock.now())
    assert outcome.status is PaymentStatus.UNKNOWN
    end_call(core)
    core.clock.advance(25 * 3600)
    reconcile(core, gateway)
    reconcile(core, gateway)
    assert [n.kind for n in notices(core)] == ["sms", "email"]


# --- Problem 2: a charge that succeeded but was not recorded is settled at once --------


def test_a_charged_payment_whose_call_ended_is_settled_by_the_next_run_not_ten_minutes_later(
    core, gateway
):
    member_id = member(core)
    started = left_pending(core, gateway, member_id)
    order = started.charge
    # The gateway charged; the worker died before it could record the success.
    gateway.charge(
        token=order.token,
        amount_cents=order.amount_cents,
        idempotency_key=order.idempotency_key,
        description=order.description,
    )
    end_call(core)
    core.clock.advance(60)
    report = reconcile(core, gateway)
    assert report.succeeded == (order.confirmation_number,)
    with core.unit_of_work() as uow:
        assert uow.session.get(Payment, order.payment_id).status is PaymentStatus.SUCCEEDED
    assert [r.kind for r in receipts(core)] == ["sms", "email"]
    assert notices(core) == []


def test_a_payment_of_a_call_still_going_is_left_to_the_call(core, gateway):
    member_id = member(core)
    started = left_pending(core, gateway, member_id)
    order = started.charge
    gateway.charge(
        token=order.token,
        amount_cents=order.amount_cents,
        idempotency_key=order.idempotency_key,
        description=order.description,
    )
    core.clock.advance(60)
    assert reconcile(core, gateway) == payments.ReconcileReport((), (), ())
    assert status_of(core, order.payment_id) is PaymentStatus.PENDING


def test_an_uncharged_payment_whose_call_ended_still_gets_the_grace_period(core, gateway):
    member_id = member(core)
    started = left_pending(core, gateway, member_id)
    end_call(core)
    core.clock.advance(60)
    report = reconcile(core, gateway)
    # Asked about at once, but "no charge found" fails it only after the grace period.
    assert report.unsettled == (started.outcome.confirmation_number,)
    assert status_of(core, started.charge.payment_id) is PaymentStatus.PENDING
    assert notices(core) == []
    core.clock.advance(10 * 60)
    assert reconcile(core, gateway).failed == (started.outcome.confirmation_number,)
