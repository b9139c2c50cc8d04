"""Twilio waits 15 seconds for a webhook: a slow gateway or a locked table still gets an answer."""

from __future__ import annotations

import threading
import time
from datetime import date

import pytest
from sqlalchemy import func, select, text

from billing_core.adapters.gateways.sandbox import SandboxGateway
from billing_core.adapters.models import Payment, SandboxCharge
from billing_core.domain.payments import PaymentStatus
from ivr_sim import VirtualTwilio
from tests.conftest import AUTH_TOKEN, IDENTITY_KEY, PUBLIC_BASE_URL
from tests.members import add_member

NCAL = "+18773659900"
CALLER = "+14155550123"


class SlowGateway:
    """The sandbox, answering a charge only after `seconds` (or when released)."""

    def __init__(self, inner: SandboxGateway, seconds: float) -> None:
        self.inner = inner
        self.name = inner.name
        self.verifies_postal_code = inner.verifies_postal_code
        self.seconds = seconds
        self.release = threading.Event()
        self.finished = threading.Event()

    def charge(self, **charge):
        self.release.wait(self.seconds)
        try:
            return self.inner.charge(**charge)
        finally:
            self.finished.set()

    def find_charge(self, idempotency_key: str):
        return self.inner.find_charge(idempotency_key)


@pytest.fixture
def member(core) -> int:
    return add_member(
        core,
        mrn="60000006",
        birth_date=date(1985, 2, 14),
        first_name="Maya",
        bills=[("B-1", date(2026, 9, 14), "Oakland Medical Center", 25000, 0, date(2026, 12, 15))],
        monthly_premium_cents=None,
    )


def test_a_gateway_that_answers_in_20_seconds_leaves_the_caller_hearing_in_under_10_seconds(
    core, clock, member
):
    from ivr import create_app

    slow = SlowGateway(SandboxGateway(core.session_factory, clock), seconds=20)
    app = create_app(
        {
            "TESTING": True,
            "ENGINE": core.engine,
            "CLOCK": clock,
            "GATEWAY": slow,
            "IVR_PUBLIC_BASE_URL": PUBLIC_BASE_URL,
            "IVR_TWILIO_AUTH_TOKEN": AUTH_TOKEN,
            "IVR_IDENTITY_KEY": IDENTITY_KEY,
        }
    )
    assert app.config["IVR_GATEWAY_TIMEOUT"] == 8  # the default deadline is what is tested
    with VirtualTwilio.for_app(app, clock=clock) as twilio:
        call = twilio.call(to=NCAL, from_=CALLER)
        call.press("60000006#")
        call.press("02141985")
        call.press("1")  # pay: one bill, so straight to the amount
        call.press("1")  # in full
        call.press("1")  # a new card
        call.pay_card("4242424242424242", expiry="1230", cvc="123", postal="94612")
        started = time.monotonic()
        call.press("1")  # pay now
        waited = time.monotonic() - started
        heard = call.heard_since_input
    try:
        assert waited < 10
        assert heard[0].startswith("We are still confirming your payment of $250.00")
        with core.unit_of_work() as uow:
            assert uow.session.scalar(select(Payment.status)) is PaymentStatus.UNKNOWN
    finally:
        slow.release.set()
        assert slow.finished.wait(10)
    report = app.extensions["billing"].reconcile()
    assert len(report.succeeded) == 1
    with core.unit_of_work() as uow:
        assert uow.session.scalar(select(Payment.status)) is PaymentStatus.SUCCEEDED
        assert uow.session.scalar(select(func.count()).select_from(SandboxCharge)) == 1


def test_a_table_locked_for_40_seconds_gives_the_apology_within_twilios_deadline(
    core, clock, member, database_url
):
    from ivr import create_app

    # The app's own engine, so the configured lock and statement timeouts are the ones used.
    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": database_url,
            "CLOCK": clock,
            "IVR_PUBLIC_BASE_URL": PUBLIC_BASE_URL,
            "IVR_TWILIO_AUTH_TOKEN": AUTH_TOKEN,
            "IVR_IDENTITY_KEY": IDENTITY_KEY,
        }
    )
    with VirtualTwilio.for_app(app, clock=clock) as twilio:
        call = twilio.call(to=NCAL, from_=CALLER)
        call.press("60000006#")
        with core.engine.connect() as locker:
            # Another process holds the members table (PostgreSQL) or the whole file (SQLite).
            if locker.dialect.name == "postgresql":
                locker.execute(text("LOCK TABLE members IN ACCESS EXCLUSIVE MODE"))
            else:
                locker.exec_driver_sql("COMMIT")
                locker.exec_driver_sql("BEGIN EXCLUSIVE")
            started = time.monotonic()
            call.press("02141985")
            waited = time.monotonic() - started
            heard = call.heard_since_input
            locker.exec_driver_sql("ROLLBACK")
    app.extensions["billing"].engine.dispose()
    assert waited < 10
    assert heard[0] == "We are sorry. We are having trouble on our end right now."
    assert "Please hold while we connect you to a billing specialist." in heard
