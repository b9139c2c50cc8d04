"""Stripe's events name a bank debit; the gateway's own record says what is recorded."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from billing_core.adapters.gateways.sandbox import fixed_token
from billing_core.adapters.models import OutboxMessage, Payment
from billing_core.domain.payments import AchAuthorization, PaymentStatus, PaymentTarget
from billing_core.services.payments import PaymentRequest
from tests.conftest import app_settings
from tests.members import add_member

SECRET = "whsec_test_secret"
TUESDAY = datetime(2026, 12, 1, 20, tzinfo=UTC)


@pytest.fixture
def stripe_app(core, clock):
    from ivr import create_app

    return create_app(app_settings(core, clock, IVR_STRIPE_WEBHOOK_SECRET=SECRET))


def signed(event: dict, secret: str = SECRET, at: int | None = None) -> tuple[bytes, str]:
    """The event's body and its Stripe-Signature header, as Stripe signs them."""
    body = json.dumps(event).encode()
    at = int(time.time()) if at is None else at
    signature = hmac.new(secret.encode(), f"{at}.".encode() + body, hashlib.sha256).hexdigest()
    return body, f"t={at},v1={signature}"


def returned_debit(core) -> Payment:
    member_id = add_member(
        core,
        mrn="20000417",
        birth_date=date(1975, 6, 30),
        bills=[("B-1", date(2026, 9, 1), "Oakland", 12000, 0, date(2026, 12, 20))],
        email="ana@example.org",
    )
    outcome = core.pay(
        PaymentRequest(
            member_id=member_id,
            target=PaymentTarget.all_bills(),
            amount_cents=12000,
            token=fixed_token("return-r01", "0101", bank=True),
            method_kind="bank",
            method_brand="consumer-checking",
            method_last4="0101",
            idempotency_key=uuid.uuid4().hex,
            channel="test",
            ach_authorization=AchAuthorization(
                accepted_at=core.clock.now(),
                amount_cents=12000,
                account_last4="0101",
                call_sid=None,
                text="You authorize one debit.",
            ),
        )
    )
    assert outcome.status is PaymentStatus.SUBMITTED
    return payment_row(core, outcome.confirmation_number)


def payment_row(core, confirmation) -> Payment:
    with core.unit_of_work() as uow:
        found = uow.session.scalars(
            select(Payment).where(Payment.confirmation_number == confirmation)
        ).one()
        uow.session.expunge(found)
        return found


def event_for(reference: str, kind: str = "payment_intent.payment_failed") -> dict:
    return {"id": "evt_1", "type": kind, "data": {"object": {"id": reference}}}


def test_a_signed_event_records_the_return_the_gateway_reports_once(core, stripe_app):
    payment = returned_debit(core)
    client = stripe_app.test_client()
    body, signature = signed(event_for(payment.gateway_reference))
    # Before the bank has answered, the gateway says it is still clearing: nothing changes.
    response = client.post("/stripe/events", data=body, headers={"Stripe-Signature": signature})
    assert response.status_code == 200
    assert payment_row(core, payment.confirmation_number).status is PaymentStatus.SUBMITTED
    core.clock.set(TUESDAY)
    for _ in range(2):  # Stripe sends an event again until it hears 200
        body, signature = signed(event_for(payment.gateway_reference))
        response = client.post("/stripe/events", data=body, headers={"Stripe-Signature": signature})
        assert response.status_code == 200 and response.get_json() == {"received": True}
    returned = payment_row(core, payment.confirmation_number)
    assert (returned.status, returned.return_code) == (PaymentStatus.RETURNED, "R01")
    with core.unit_of_work() as uow:
        notices = uow.session.scalars(
            select(OutboxMessage).where(OutboxMessage.dedupe_key.startswith("returned:"))
        ).all()
        assert len(notices) == 1


def test_an_event_not_signed_with_the_secret_or_stale_changes_nothing(core, stripe_app):
    payment = returned_debit(core)
    core.clock.set(TUESDAY)
    client = stripe_app.test_client()
    for body, signature in (
        signed(event_for(payment.gateway_reference), secret="whsec_someone_else"),
        signed(event_for(payment.gateway_reference), at=int(time.time()) - 3600),
        (b"not json", "t=1,v1=00"),
    ):
        response = client.post("/stripe/events", data=body, headers={"Stripe-Signature": signature})
        assert response.status_code == 400
    assert payment_row(core, payment.confirmation_number).status is PaymentStatus.SUBMITTED


def test_events_are_off_without_a_secret_and_other_events_are_acknowledged(core, app, stripe_app):
    body, signature = signed(event_for("pi_1"))
    assert app.test_client().post("/stripe/events", data=body).status_code == 404
    body, signature = signed({"id": "evt_2", "type": "customer.created", "data": {"object": {}}})
    response = stripe_app.test_client().post(
        "/stripe/events", data=body, headers={"Stripe-Signature": signature}
    )
    assert response.status_code == 200
