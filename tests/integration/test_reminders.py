"""Reminders: bill ready, due soon, autopay and plan installments coming up; once each, as
the member chose, never in their quiet hours."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from billing_core.adapters.gateways.sandbox import fixed_token
from billing_core.adapters.models import Member, OutboxMessage, OutboxStatus
from billing_core.domain.autopay import AutopayAuthorization
from billing_core.domain.preferences import Delivery, MessageKind
from billing_core.domain.text_keywords import ConsentChannel, ConsentStatus
from billing_core.services import outbox
from billing_core.services.outbox import EMAIL, SMS, OutgoingMessage
from billing_core.services.preferences import PaperlessTerms
from tests.members import add_member, agree_to_texts
from tests.plan_helpers import member as plan_member
from tests.plan_helpers import set_up

JAN = date(2027, 1, 1)
# Noon in California (members here live in CA unless a test says otherwise).
NOV_27_NOON = datetime(2026, 11, 27, 20, tzinfo=UTC)
DEC_26_NOON = datetime(2026, 12, 26, 20, tzinfo=UTC)
DEC_28_NOON = datetime(2026, 12, 28, 20, tzinfo=UTC)
# 10 pm and 7 am in California.
DEC_26_10PM = datetime(2026, 12, 27, 6, tzinfo=UTC)
DEC_27_7AM = datetime(2026, 12, 27, 15, tzinfo=UTC)
DEC_27_8AM = datetime(2026, 12, 27, 16, tzinfo=UTC)
PHONE = "+15105550123"

_mrns = iter(range(70000000, 79999999))


class Recorder:
    """A sender that keeps what it was given."""

    def __init__(self) -> None:
        self.sent: list[OutgoingMessage] = []

    def send(self, message: OutgoingMessage) -> str:
        self.sent.append(message)
        return f"ref-{len(self.sent)}"


def member(core, **options) -> int:
    options.setdefault("premiums", [(JAN, 41200, 0)])
    options.setdefault("email", "ana@example.org")
    options.setdefault("phone", PHONE)
    return add_member(core, mrn=str(next(_mrns)), birth_date=date(1980, 1, 2), **options)


def reminders(core) -> list[OutboxMessage]:
    with core.unit_of_work() as uow:
        query = select(OutboxMessage).where(OutboxMessage.dedupe_key.startswith("reminder:"))
        found = list(uow.session.scalars(query.order_by(OutboxMessage.id)))
        uow.session.expunge_all()
    return found


def keys(rows) -> list[str]:
    return [row.dedupe_key for row in rows]


def enroll_autopay(core, member_id, max_amount=None) -> None:
    method = core.save_method(
        member_id,
        kind="card",
        token=fixed_token("success", "4242"),
        brand="visa",
        last4="4242",
        exp="1230",
        account_type=None,
    )
    authorization = AutopayAuthorization(
        accepted_at=core.clock.now(),
        method_kind="card",
        method_brand="visa",
        method_last4="4242",
        channel="phone",
        call_sid="CA-autopay",
        wording_version="autopay-v1",
        text="I authorize the plan to charge my card for each monthly premium.",
    )
    core.enroll_autopay(member_id, method.id, authorization, max_amount)


# --- bill ready -------------------------------------------------------------------------


def test_a_new_premium_bill_is_announced_once_by_email(core):
    member_id = member(core)
    report = core.run_reminders(NOV_27_NOON)
    [email] = reminders(core)
    assert email.kind == EMAIL and email.recipient == "ana@example.org"
    assert email.subject == "Your premium bill is ready"
    assert "January 2027 premium of $412.00 is ready. It is due December 31, 2026." in email.body
    assert email.dedupe_key == f"reminder:ready:premium:{member_id}:2027-01:email"
    assert report.queued[MessageKind.BILL_READY] == 1
    again = core.run_reminders(NOV_27_NOON)
    assert again.queued[MessageKind.BILL_READY] == 0
    assert len(reminders(core)) == 1


def test_a_new_medical_bill_is_announced_with_its_facility_and_balance(core):
    member(
        core,
        premiums=[],
        bills=[
            ("B-77", date(2026, 11, 2), "Oakland Medical Center", 25_100, 100, date(2027, 1, 5))
        ],
    )
    core.run_reminders(NOV_27_NOON)
    [email] = reminders(core)
    assert email.subject == "A new medical bill is ready"
    assert "bill B-77 from Oakland Medical Center for $250.00 is ready" in email.body


def test_paid_past_due_disputed_and_plan_bills_get_no_bill_reminder(core):
    bills = [
        ("B-PAID", date(2026, 10, 2), "Oakland", 10_000, 10_000, date(2026, 12, 20)),
        ("B-LATE", date(2026, 9, 2), "Oakland", 10_000, 0, date(2026, 11, 1)),
    ]
    member(core, premiums=[(JAN, 41200, 41200)], bills=bills)
    core.run_reminders(NOV_27_NOON)
    assert reminders(core) == []


def test_a_bill_a_payment_plan_holds_gets_the_installment_reminder_instead(core):
    member_id = plan_member(core, premiums=[])
    set_up(core, member_id, months=6)  # takes both of its bills
    # Before the next installment: no bill reminders, no installment reminder yet.
    core.run_reminders(NOV_27_NOON)
    assert [row for row in reminders(core) if ":bill:" in row.dedupe_key] == []
    # Three days before the second installment (due a month after the first).
    core.run_reminders(DEC_26_NOON)
    [plan] = [row for row in reminders(core) if row.dedupe_key.startswith("reminder:plan:")]
    assert plan.subject == "Your payment plan installment is coming up"
    assert "On December 27, 2026 the payment of" in plan.body and "Visa ending in 4242" in plan.body


def test_a_paperless_member_gets_the_bill_ready_email_even_with_reminders_off(core):
    member_id = member(core)
    core.choose_delivery(member_id, MessageKind.BILL_READY, Delivery.NONE, channel="phone")
    core.run_reminders(NOV_27_NOON)
    assert reminders(core) == []
    core.paperless_on(
        member_id,
        PaperlessTerms(
            text="Bills by email.",
            wording_version="paperless-v1",
            accepted_at=core.clock.now(),
            channel="phone",
        ),
    )
    core.run_reminders(NOV_27_NOON)
    [email] = reminders(core)
    assert email.kind == EMAIL and email.subject == "Your premium bill is ready"


# --- due soon ---------------------------------------------------------------------------


def test_a_premium_is_reminded_of_five_days_before_it_is_due_and_not_sooner(core):
    member_id = member(core)
    core.run_reminders(datetime(2026, 12, 25, 20, tzinfo=UTC))  # six days ahead
    assert not [key for key in keys(reminders(core)) if key.startswith("reminder:due:")]
    core.run_reminders(DEC_26_NOON)
    [due] = [row for row in reminders(core) if row.dedupe_key.startswith("reminder:due:")]
    assert due.dedupe_key == f"reminder:due:premium:{member_id}:2027-01:email"
    assert due.subject == "Your premium is due soon"
    assert "January 2027 premium of $412.00 is due December 31, 2026" in due.body


def test_the_days_ahead_are_configurable(core):
    core.reminder_rules = type(core.reminder_rules)(due_soon_days=10)
    member(core)
    core.run_reminders(datetime(2026, 12, 21, 20, tzinfo=UTC))
    assert [key for key in keys(reminders(core)) if key.startswith("reminder:due:")]


def test_a_bill_a_scheduled_payment_pays_in_time_gets_no_due_soon_reminder(core):
    from billing_core.domain.payments import PaymentTarget
    from billing_core.services.scheduled import ScheduleRequest

    bills = [("B-9", date(2026, 11, 2), "Oakland", 20_000, 0, date(2026, 12, 30))]
    member_id = member(core, premiums=[], bills=bills)
    core.schedule_payment(
        ScheduleRequest(
            member_id=member_id,
            target=PaymentTarget.bill("B-9"),
            amount_cents=20_000,
            pay_on=date(2026, 12, 29),
            token=fixed_token("success", "4242"),
            method_kind="card",
            method_brand="visa",
            method_last4="4242",
            method_exp="1230",
            request_key="CA-sched-1",
            channel="phone",
        )
    )
    core.run_reminders(DEC_26_NOON)
    assert [key for key in keys(reminders(core)) if key.startswith("reminder:due:")] == []


def test_an_autopay_member_hears_of_the_charge_coming_not_of_a_premium_due(core):
    member_id = member(core)
    core.autopay_notice_days = 0
    enroll_autopay(core, member_id)
    core.run_reminders(DEC_28_NOON)
    found = keys(reminders(core))
    assert f"reminder:autopay:{member_id}:2027-01:email" in found
    assert not [key for key in found if key.startswith("reminder:due:")]
    [autopay] = [row for row in reminders(core) if row.dedupe_key.startswith("reminder:autopay")]
    assert autopay.subject == "Your automatic premium payment is coming up"
    assert "On December 31, 2026 your automatic payment of $412.00" in autopay.body
    assert "Visa ending in 4242" in autopay.body


def test_an_autopay_charge_above_the_member_s_maximum_is_not_announced(core):
    member_id = member(core)
    core.autopay_notice_days = 0
    enroll_autopay(core, member_id, max_amount=30000)
    core.run_reminders(DEC_28_NOON)
    assert not [key for key in keys(reminders(core)) if key.startswith("reminder:autopay")]


# --- as the member chose ----------------------------------------------------------------


def test_a_member_who_chose_texts_gets_a_text_naming_the_plan_with_the_way_to_stop(core):
    member_id = member(core)
    agree_to_texts(core, member_id)
    core.choose_delivery(member_id, MessageKind.BILL_READY, Delivery.TEXT, channel="phone")
    core.run_reminders(NOV_27_NOON)
    [text] = reminders(core)
    assert text.kind == SMS and text.recipient == PHONE
    assert text.body.startswith(f"{core.regions.plan_name}: Your January 2027 premium")
    assert text.body.endswith("Reply STOP to stop texts.")


def test_both_sends_one_email_and_one_text(core):
    member_id = member(core)
    agree_to_texts(core, member_id)
    core.choose_delivery(member_id, MessageKind.BILL_READY, Delivery.BOTH, channel="phone")
    core.run_reminders(NOV_27_NOON)
    assert sorted(row.kind for row in reminders(core)) == [EMAIL, SMS]


def test_texts_chosen_without_consent_go_nowhere_and_none_sends_nothing(core):
    member_id = member(core)
    core.choose_delivery(member_id, MessageKind.BILL_READY, Delivery.TEXT, channel="phone")
    core.run_reminders(NOV_27_NOON)
    assert reminders(core) == []


def test_a_spanish_speaking_member_gets_the_reminder_in_spanish(core):
    member_id = member(core)
    with core.unit_of_work() as uow:
        uow.session.get(Member, member_id).language = "es"
        uow.commit()
    core.run_reminders(NOV_27_NOON)
    [email] = reminders(core)
    assert email.subject == "Su factura de prima está lista"
    assert "Su prima de enero 2027 por $412.00 está lista" in email.body
    assert email.unsubscribe_language == "es"


def test_a_reminder_text_is_not_sent_after_the_number_texted_stop(core):
    member_id = member(core)
    agree_to_texts(core, member_id)
    core.choose_delivery(member_id, MessageKind.BILL_READY, Delivery.TEXT, channel="phone")
    core.run_reminders(NOV_27_NOON)
    core.change_text_consent(PHONE, ConsentStatus.OPTED_OUT, channel=ConsentChannel.SMS)
    texts = Recorder()
    report = outbox.deliver_pending(core.unit_of_work, {SMS: texts}, now=NOV_27_NOON)
    assert texts.sent == [] and len(report.opted_out) == 1


# --- quiet hours ------------------------------------------------------------------------


def test_nothing_is_queued_in_the_member_s_quiet_hours_and_it_is_the_next_morning(core):
    member(core)
    at_night = core.run_reminders(DEC_26_10PM)
    early = core.run_reminders(DEC_27_7AM)
    assert reminders(core) == [] and at_night.quiet == early.quiet == 1
    morning = core.run_reminders(DEC_27_8AM)
    assert morning.quiet == 0 and len(reminders(core)) == 2  # ready, and due soon


def test_quiet_hours_are_read_on_the_member_s_own_clock(core):
    member(core, region="hi", state="HI")  # 8 pm in California is 6 pm in Honolulu
    report = core.run_reminders(datetime(2026, 12, 27, 4, 30, tzinfo=UTC))
    assert report.quiet == 0 and reminders(core)


def test_a_reminder_due_in_quiet_hours_waits_untried_in_the_outbox_until_8_am(core):
    member(core)
    core.run_reminders(datetime(2026, 12, 27, 4, 55, tzinfo=UTC))  # 8:55 pm in California
    queued = reminders(core)
    assert len(queued) == 2  # ready, and due soon
    assert {row.quiet_zone for row in queued} == {"America/Los_Angeles"}
    mail = Recorder()
    # The outbox was down until 10 pm: the reminders are not sent at night.
    report = outbox.deliver_pending(core.unit_of_work, {EMAIL: mail}, now=DEC_26_10PM)
    assert mail.sent == [] and sorted(report.deferred) == [row.id for row in queued]
    for waiting in reminders(core):
        assert waiting.status is OutboxStatus.PENDING and waiting.attempts == 0
        assert waiting.next_attempt_at == DEC_27_8AM
    outbox.deliver_pending(core.unit_of_work, {EMAIL: mail}, now=DEC_27_7AM)
    assert mail.sent == []
    outbox.deliver_pending(core.unit_of_work, {EMAIL: mail}, now=DEC_27_8AM)
    assert sorted(message.dedupe_key for message in mail.sent) == sorted(keys(queued))


def test_a_receipt_is_not_held_by_quiet_hours(core):
    with core.unit_of_work() as uow:
        outbox.enqueue(
            uow,
            OutgoingMessage(kind=EMAIL, recipient="ana@example.org", body="Paid.", dedupe_key="r1"),
            now=DEC_26_10PM,
        )
        uow.commit()
    mail = Recorder()
    outbox.deliver_pending(core.unit_of_work, {EMAIL: mail}, now=DEC_26_10PM)
    assert len(mail.sent) == 1


# --- never twice ------------------------------------------------------------------------


def test_two_workers_running_reminders_at_once_queue_each_reminder_once(core):
    if core.engine.dialect.name != "postgresql":
        pytest.skip("concurrent runs are a PostgreSQL test (SQLite serializes writers)")
    members = [member(core) for _ in range(15)]
    errors: list[Exception] = []
    start = threading.Barrier(2)

    def run():
        try:
            start.wait(timeout=10)
            core.run_reminders(DEC_26_NOON)
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    found = keys(reminders(core))
    assert len(found) == len(set(found)) == 2 * len(members)  # ready and due soon, each
    mail = Recorder()
    outbox.deliver_pending(core.unit_of_work, {EMAIL: mail}, now=DEC_26_NOON, batch=100)
    assert len(mail.sent) == 2 * len(members)


def test_the_reminders_job_queues_nothing_more_when_run_again(core, app):
    member(core)
    jobs = app.extensions["jobs"]
    first = jobs.run_now("reminders", DEC_26_NOON)
    second = jobs.run_now("reminders", DEC_26_NOON)
    assert "bill_ready: 1, due_soon: 1" in first
    assert "bill_ready: 0, due_soon: 0" in second
    assert len(reminders(core)) == 2


def test_a_member_with_nothing_owed_or_arranged_is_not_even_read(core):
    member(core, premiums=[(JAN, 41200, 41200)])
    member(core)  # owes January's premium
    report = core.run_reminders(NOV_27_NOON)
    assert report.members == 1
    assert [row.recipient for row in reminders(core)] == ["ana@example.org"]
