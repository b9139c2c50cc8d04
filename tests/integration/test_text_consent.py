"""A number that texted STOP gets no more texts from the outbox, until it texts START."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from billing_core.adapters.gateways.sandbox import fixed_token
from billing_core.adapters.models import OutboxMessage, OutboxStatus
from billing_core.domain.payments import PaymentTarget
from billing_core.domain.text_keywords import ConsentChannel, ConsentStatus, parse_keyword
from billing_core.services import outbox
from billing_core.services.outbox import EMAIL, SMS
from billing_core.services.payments import PaymentRequest
from tests.integration.test_outbox import FakeSender
from tests.members import add_member

PHONE = "+15105550123"
EMAIL_ADDRESS = "ana.tester@example.org"
BILLS = [("B-200", date(2026, 9, 14), "Oakland Medical Center", 12000, 0, date(2026, 11, 15))]


@pytest.fixture
def member_id(core) -> int:
    return add_member(
        core,
        mrn="20000417",
        birth_date=date(1975, 6, 30),
        bills=BILLS,
        phone=PHONE,
        email=EMAIL_ADDRESS,
        texts=True,
    )


def pay_bill(core, member_id: int, cents: int = 2000):
    return core.pay(
        PaymentRequest(
            member_id=member_id,
            target=PaymentTarget.bill("B-200"),
            amount_cents=cents,
            token=fixed_token("success", "4242"),
            method_kind="card",
            method_brand="visa",
            method_last4="4242",
            idempotency_key=uuid.uuid4().hex,
            channel="test",
        )
    )


def deliver(core, sender: FakeSender) -> outbox.DeliveryReport:
    return outbox.deliver_pending(
        core.unit_of_work, {SMS: sender, EMAIL: sender}, now=core.clock.now()
    )


def texts(core) -> list[OutboxMessage]:
    with core.unit_of_work() as uow:
        rows = list(
            uow.session.scalars(
                select(OutboxMessage).where(OutboxMessage.kind == SMS).order_by(OutboxMessage.id)
            )
        )
        uow.session.expunge_all()
        return rows


def text_stop(core, number: str = PHONE, body: str = "STOP") -> None:
    core.texted_keyword(number, parse_keyword(body))


def test_a_receipt_is_texted_to_a_number_that_never_said_stop(core, member_id):
    sender = FakeSender()
    pay_bill(core, member_id)
    report = deliver(core, sender)
    [text] = texts(core)
    assert text.dedupe_key in sender.sent and text.status is OutboxStatus.SENT
    assert report.opted_out == ()


def test_after_stop_a_payment_receipt_is_not_texted_but_still_emailed(core, member_id):
    text_stop(core)
    sender = FakeSender()
    pay_bill(core, member_id)
    deliver(core, sender)
    assert [key.endswith(":email") for key in sender.sent] == [True]
    assert texts(core) == []  # an opted-out number is not even queued a text


def test_a_text_queued_before_the_stop_is_not_sent_after_it_nor_retried(core, member_id, clock):
    pay_bill(core, member_id)
    [text] = texts(core)
    assert text.status is OutboxStatus.PENDING
    text_stop(core, body=" Stop.")
    sender = FakeSender()
    deliver(core, sender)
    assert not any(key.endswith(":sms") for key in sender.sent)
    clock.advance(timedelta(hours=2).total_seconds())
    core.texted_keyword(PHONE, parse_keyword("START"))
    assert deliver(core, sender) == outbox.DeliveryReport()
    assert texts(core)[0].status is OutboxStatus.FAILED


def test_start_lets_the_next_receipts_be_texted_again(core, member_id):
    text_stop(core)
    pay_bill(core, member_id)
    deliver(core, FakeSender())
    assert texts(core) == []
    core.texted_keyword(PHONE, parse_keyword("start"))
    sender = FakeSender()
    pay_bill(core, member_id)
    deliver(core, sender)
    [text] = texts(core)
    assert text.dedupe_key in sender.sent and text.status is OutboxStatus.SENT


def test_a_stop_holds_for_the_number_however_the_receipt_number_was_written(core, member_id):
    text_stop(core, "+1 (510) 555-0123")
    sender = FakeSender()
    pay_bill(core, member_id)
    deliver(core, sender)
    assert not any(key.endswith(":sms") for key in sender.sent)


def test_another_numbers_stop_does_not_stop_this_ones_texts(core, member_id):
    text_stop(core, "+14155550199")
    sender = FakeSender()
    pay_bill(core, member_id)
    deliver(core, sender)
    assert any(key.endswith(":sms") for key in sender.sent)


def test_the_consent_record_says_when_how_and_by_which_keyword_it_changed(core, clock):
    assert core.text_consent(PHONE) is None
    assert core.texts_stopped(PHONE) is False
    text_stop(core, body="stop all")
    consent = core.text_consent(PHONE)
    assert (consent.number, consent.status, consent.keyword, consent.channel) == (
        PHONE,
        ConsentStatus.OPTED_OUT,
        "STOP ALL",
        ConsentChannel.SMS,
    )
    assert consent.changed_at == clock.now()
    assert core.texts_stopped(PHONE) is True
    clock.advance(timedelta(minutes=5).total_seconds())
    core.change_text_consent(PHONE, ConsentStatus.OPTED_IN, channel=ConsentChannel.STAFF)
    consent = core.text_consent(PHONE)
    assert (consent.status, consent.keyword, consent.channel) == (
        ConsentStatus.OPTED_IN,
        None,
        ConsentChannel.STAFF,
    )
    assert consent.changed_at == clock.now()
    assert core.texts_stopped(PHONE) is False


def test_help_changes_no_consent(core):
    assert core.texted_keyword(PHONE, parse_keyword("HELP")) is None
    assert core.text_consent(PHONE) is None


def test_a_number_that_is_not_a_phone_number_is_refused(core):
    with pytest.raises(ValueError):
        core.change_text_consent(
            "not a number", ConsentStatus.OPTED_OUT, channel=ConsentChannel.STAFF
        )
    assert core.texts_stopped("not a number") is False


def test_a_number_is_told_its_texts_are_not_read_once_a_day_at_most(core, clock):
    assert core.claim_text_auto_reply(PHONE) is True
    assert core.claim_text_auto_reply(PHONE) is False
    assert core.claim_text_auto_reply("+14155550199") is True
    clock.advance(timedelta(hours=23).total_seconds())
    assert core.claim_text_auto_reply(PHONE) is False
    clock.advance(timedelta(hours=1).total_seconds())
    assert core.claim_text_auto_reply(PHONE) is True
