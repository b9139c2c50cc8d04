"""After a payment went through: bank debits that settle or come back, refunds and voids,
each once, with the balance given back and the member told."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select

from billing_core.adapters.gateways.base import GatewayTimeout
from billing_core.adapters.gateways.sandbox import fixed_token
from billing_core.adapters.models import (
    AuditEvent,
    OutboxMessage,
    PaymentEvent,
    Refund,
    SandboxRefund,
)
from billing_core.adapters.models import Payment as PaymentRow
from billing_core.domain.payments import AchAuthorization, PaymentStatus, PaymentTarget
from billing_core.services.payment_lifecycle import RefundRefused
from billing_core.services.payments import PaymentRequest
from tests.members import add_member

BILLS = [
    ("B-100", date(2026, 8, 2), "Richmond Medical Offices", 4550, 0, date(2026, 12, 1)),
    ("B-200", date(2026, 9, 14), "Oakland Medical Center", 12000, 0, date(2026, 12, 15)),
]
# The test clock's Friday, then the Tuesday two business days on.
FRIDAY = datetime(2026, 11, 27, 20, tzinfo=UTC)
MONDAY = datetime(2026, 11, 30, 20, tzinfo=UTC)
TUESDAY = datetime(2026, 12, 1, 20, tzinfo=UTC)


@pytest.fixture
def member_id(core) -> int:
    return add_member(
        core, mrn="20000417", birth_date=date(1975, 6, 30), bills=BILLS, email="ana@example.org"
    )


def card(member_id, amount=16550, outcome="success") -> PaymentRequest:
    return PaymentRequest(
        member_id=member_id,
        target=PaymentTarget.all_bills(),
        amount_cents=amount,
        token=fixed_token(outcome, "4242"),
        method_kind="card",
        method_brand="visa",
        method_last4="4242",
        idempotency_key=uuid.uuid4().hex,
        channel="test",
        call_sid="CA-test",
    )


def bank(member_id, outcome="success", amount=16550, last4="6789") -> PaymentRequest:
    return PaymentRequest(
        member_id=member_id,
        target=PaymentTarget.all_bills(),
        amount_cents=amount,
        token=fixed_token(outcome, last4, bank=True),
        method_kind="bank",
        method_brand="consumer-checking",
        method_last4=last4,
        idempotency_key=uuid.uuid4().hex,
        channel="test",
        call_sid="CA-test",
        ach_authorization=AchAuthorization(
            accepted_at=FRIDAY,
            amount_cents=amount,
            account_last4=last4,
            call_sid="CA-test",
            text="You authorize one debit.",
        ),
    )


def balances(core, member_id) -> dict[str, int]:
    summary = core.account_summary(member_id, channel="test")
    return {line.bill_number: line.balance_cents for line in summary.bills}


def row(core, confirmation) -> PaymentRow:
    with core.unit_of_work() as uow:
        found = uow.session.scalars(
            select(PaymentRow).where(PaymentRow.confirmation_number == confirmation)
        ).one()
        uow.session.expunge(found)
        return found


def events(core, confirmation) -> list[tuple[str, int]]:
    payment = row(core, confirmation)
    with core.unit_of_work() as uow:
        return [
            (event.status, event.amount_cents)
            for event in uow.session.scalars(
                select(PaymentEvent)
                .where(PaymentEvent.payment_id == payment.id)
                .order_by(PaymentEvent.id)
            )
        ]


def count(core, model, *where) -> int:
    with core.unit_of_work() as uow:
        return uow.session.scalar(select(func.count()).select_from(model).where(*where))


def notices(core, prefix) -> list[OutboxMessage]:
    with core.unit_of_work() as uow:
        found = list(
            uow.session.scalars(
                select(OutboxMessage).where(OutboxMessage.dedupe_key.startswith(prefix))
            )
        )
        uow.session.expunge_all()
        return found


# --- bank debits ------------------------------------------------------------------------


def test_a_bank_payment_is_submitted_then_settled_two_business_days_later(core, member_id):
    outcome = core.pay(bank(member_id))
    assert outcome.status is PaymentStatus.SUBMITTED
    assert balances(core, member_id) == {}  # it pays the bills while it clears
    core.clock.set(MONDAY)
    assert core.follow_bank_debits().clearing == 1
    core.clock.set(TUESDAY)
    report = core.follow_bank_debits()
    assert report.settled == [outcome.confirmation_number] and report.returned == []
    assert row(core, outcome.confirmation_number).status is PaymentStatus.SETTLED
    assert events(core, outcome.confirmation_number) == [("submitted", 16550), ("settled", 16550)]
    assert core.follow_bank_debits().settled == []  # nothing more to learn


def test_a_returned_debit_is_owed_again_the_member_is_told_once_and_it_is_exported(core, member_id):
    outcome = core.pay(bank(member_id, outcome="return-r01", last4="0101"))
    core.clock.set(TUESDAY)
    report = core.follow_bank_debits()
    assert report.returned == [outcome.confirmation_number]
    payment = row(core, outcome.confirmation_number)
    assert (payment.status, payment.return_code) == (PaymentStatus.RETURNED, "R01")
    assert payment.returned_item_fee_cents is None
    assert balances(core, member_id) == {"B-100": 4550, "B-200": 12000}
    [email] = notices(core, f"returned:{payment.id}")
    assert (
        email.subject
        == f"Your bank payment was returned, confirmation {payment.confirmation_number}"
    )
    assert "was returned: there were not enough funds in the account. It is owed again." in (
        email.body
    )
    assert email.unsubscribe_language == "en"  # a notice the member chose: it can be stopped
    assert events(core, outcome.confirmation_number)[-1] == ("returned", 16550)
    core.follow_bank_debits()
    assert len(notices(core, "returned:")) == 1
    assert balances(core, member_id) == {"B-100": 4550, "B-200": 12000}


@pytest.mark.parametrize("code", ["R01", "R02", "R03", "R04", "R08", "R10", "R16", "R20", "R29"])
def test_each_return_code_is_recorded_and_explained(core, member_id, code):
    last4 = f"01{code[1:]}"
    outcome = core.pay(bank(member_id, outcome=f"return-{code.lower()}", last4=last4))
    core.clock.set(TUESDAY)
    core.follow_bank_debits()
    assert row(core, outcome.confirmation_number).return_code == code
    [email] = notices(core, "returned:")
    assert "it was returned by your bank" not in email.body  # a reason of its own


def test_a_configured_returned_item_fee_is_recorded_and_told(core, member_id):
    core.returned_item_fee_cents = 2500
    outcome = core.pay(bank(member_id, outcome="return-r01", last4="0101"))
    core.clock.set(TUESDAY)
    core.follow_bank_debits()
    assert row(core, outcome.confirmation_number).returned_item_fee_cents == 2500
    [email] = notices(core, "returned:")
    assert "A returned payment fee of $25.00 applies." in email.body


# --- refunds ----------------------------------------------------------------------------


def test_a_full_refund_gives_the_balance_back_once_however_often_asked(core, member_id):
    outcome = core.pay(card(member_id))
    done = core.refund_payment(outcome.confirmation_number, by="maria")
    assert (done.status, done.amount_cents) == ("done", 16550)
    payment = row(core, outcome.confirmation_number)
    assert (payment.status, payment.refunded_cents) == (PaymentStatus.REFUNDED, 16550)
    assert balances(core, member_id) == {"B-100": 4550, "B-200": 12000}
    for _ in range(2):
        with pytest.raises(RefundRefused) as refused:
            core.refund_payment(outcome.confirmation_number, by="maria")
        assert refused.value.reason == RefundRefused.NOTHING_LEFT
    assert count(core, SandboxRefund) == 1
    [email] = notices(core, "refunded:")
    assert "We refunded $165.50 of your payment" in email.body
    assert count(core, AuditEvent, AuditEvent.action == "payment_refunded") == 1


def test_a_partial_refund_is_made_once_unless_another_is_asked_for(core, member_id):
    outcome = core.pay(card(member_id))
    core.refund_payment(outcome.confirmation_number, 3000, by="maria")
    payment = row(core, outcome.confirmation_number)
    assert (payment.status, payment.refunded_cents) == (PaymentStatus.SUCCEEDED, 3000)
    # The last allocated is given back first: the later bill owes $30.00 again.
    assert balances(core, member_id) == {"B-200": 3000}
    with pytest.raises(RefundRefused) as refused:
        core.refund_payment(outcome.confirmation_number, 3000, by="maria")
    assert refused.value.reason == RefundRefused.REPEATED
    core.refund_payment(outcome.confirmation_number, 3000, by="maria", another=True)
    with pytest.raises(RefundRefused) as too_much:
        core.refund_payment(outcome.confirmation_number, 20000, by="maria")
    assert too_much.value.reason == RefundRefused.TOO_MUCH
    assert row(core, outcome.confirmation_number).refunded_cents == 6000
    assert count(core, SandboxRefund) == 2
    assert [status for status, _ in events(core, outcome.confirmation_number)] == [
        "succeeded",
        "refunded",
        "refunded",
    ]


def test_a_refund_whose_answer_is_lost_is_finished_by_asking_again_never_twice(
    core, member_id, monkeypatch
):
    outcome = core.pay(card(member_id))
    real = type(core.gateway).refund

    def lost(self, **request):
        real(self, **request)
        raise GatewayTimeout("the answer was lost")

    monkeypatch.setattr(type(core.gateway), "refund", lost)
    first = core.refund_payment(outcome.confirmation_number, 5000, by="maria")
    assert first.status == "pending"
    assert balances(core, member_id) == {}  # not given back until the gateway says so
    monkeypatch.setattr(type(core.gateway), "refund", real)
    again = core.refund_payment(outcome.confirmation_number, 5000, by="maria")
    assert again.status == "done"
    assert count(core, SandboxRefund) == 1 and count(core, Refund) == 1
    assert row(core, outcome.confirmation_number).refunded_cents == 5000


def test_a_bank_payment_still_clearing_is_voided_not_refunded(core, member_id):
    outcome = core.pay(bank(member_id))
    with pytest.raises(RefundRefused) as refused:
        core.refund_payment(outcome.confirmation_number, by="maria")
    assert refused.value.reason == RefundRefused.NOT_SETTLED
    done = core.void_payment(outcome.confirmation_number, by="maria")
    assert done.status == "done" and done.amount_cents == 16550
    assert row(core, outcome.confirmation_number).status is PaymentStatus.VOIDED
    assert balances(core, member_id) == {"B-100": 4550, "B-200": 12000}
    again = core.void_payment(outcome.confirmation_number, by="maria")
    assert again.repeated and count(core, SandboxRefund) == 1
    core.clock.set(TUESDAY)
    assert core.follow_bank_debits().returned == []  # no longer clearing: nothing to learn
    [text] = notices(core, "voided:")
    assert "was cancelled before it was taken. Nothing was charged." in text.body


def test_a_card_payment_is_voided_the_day_it_is_made_and_refunded_after(core, member_id):
    today = core.pay(card(member_id, amount=4550))
    assert core.void_payment(today.confirmation_number, by="maria").status == "done"
    earlier = core.pay(card(member_id, amount=4550))
    core.clock.set(TUESDAY)
    refused = core.void_payment(earlier.confirmation_number, by="maria")
    assert refused.status == "failed" and "refund it instead" in refused.failure_reason
    assert row(core, earlier.confirmation_number).status is PaymentStatus.SUCCEEDED
    assert core.refund_payment(earlier.confirmation_number, by="maria").status == "done"


def test_a_declined_payment_or_an_unknown_number_cannot_be_refunded(core, member_id):
    declined = core.pay(card(member_id, outcome="declined"))
    for confirmation in (declined.confirmation_number, "0000000000"):
        with pytest.raises(RefundRefused):
            core.refund_payment(confirmation, by="maria")


# --- the command ------------------------------------------------------------------------


def test_staff_refund_and_void_from_the_command_line_with_their_name_audited(core, app, member_id):
    outcome = core.pay(card(member_id))
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=[
            "payments",
            "refund",
            outcome.confirmation_number,
            "--amount",
            "10.00",
            "--by",
            "maria",
        ]
    )
    assert result.exit_code == 0, result.output
    assert f"refund of $10.00 on {outcome.confirmation_number}: done" in result.output
    repeated = runner.invoke(
        args=["payments", "refund", outcome.confirmation_number, "--amount", "10.00"]
    )
    assert repeated.exit_code == 1 and "a refund of this amount was made already" in repeated.output
    bad = runner.invoke(args=["payments", "refund", outcome.confirmation_number, "--amount", "ten"])
    assert bad.exit_code == 2
    with core.unit_of_work() as uow:
        [event] = uow.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "payment_refunded")
        ).all()
        assert event.detail["by"] == "maria" and event.detail["amount_cents"] == 1000
    voided = runner.invoke(args=["payments", "void", outcome.confirmation_number])
    assert voided.exit_code == 1 and "refund it instead" in voided.output


# --- servicing --------------------------------------------------------------------------


def test_staff_find_a_payment_by_its_number_with_its_history_masked_and_audited(
    core, app, member_id
):
    outcome = core.pay(bank(member_id))
    core.clock.set(TUESDAY)
    core.follow_bank_debits()
    runner = app.test_cli_runner()
    result = runner.invoke(args=["payments", "show", outcome.confirmation_number, "--by", "maria"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == f"payment {outcome.confirmation_number}: settled, $165.50"
    assert "  member: Ana T. (MRN ending 0417)" in lines
    assert "  for: all_bills; with: bank consumer-checking ending 6789" in lines
    assert [line.split("UTC  ")[1] for line in lines if "UTC  " in line] == [
        "submitted $165.50",
        "settled $165.50",
    ]
    assert "20000417" not in result.output and "1975" not in result.output
    assert runner.invoke(args=["payments", "show", "0000000000"]).exit_code == 1
    with core.unit_of_work() as uow:
        [event] = uow.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "staff_payment_viewed")
        ).all()
        assert event.detail["by"] == "maria" and event.member_id == member_id


def test_staff_see_a_member_s_calls_and_payments_by_mrn_without_the_mrn_kept(core, app, member_id):
    identified = core.identify(
        mrn_digest=core.mrn_digest("20000417"),
        birth_date=date(1975, 6, 30),
        caller="+15105550123",
        channel="phone",
        call_sid="CA-servicing",
    )
    assert identified.member_id == member_id
    first = core.pay(card(member_id, amount=4550))
    runner = app.test_cli_runner()
    result = runner.invoke(args=["members", "show", "20000417", "--by", "maria"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("Ana T. (MRN ending 0417), region ncal")
    # The call that identified the member, and the one that paid (the payment's own call).
    assert "calls in the last 90 days: 2" in result.output
    assert "CA-servicing  identified" in result.output
    assert "CA-test  payment_started, payment_succeeded" in result.output
    assert f"{first.confirmation_number} $45.50 succeeded all_bills, card visa ending 4242" in (
        result.output
    )
    assert runner.invoke(args=["members", "show", "99999999"]).exit_code == 1
    assert count(core, AuditEvent, AuditEvent.action == "staff_member_viewed") == 1


# --- the ledger -------------------------------------------------------------------------


def ledger(core, since=FRIDAY) -> list[dict[str, str]]:
    import csv
    import io

    return list(csv.DictReader(io.StringIO(core.export_ledger(since))))


def cents(text: str) -> int:
    return round(float(text) * 100)


def test_the_ledger_has_one_entry_per_bill_and_change_and_sums_to_what_payments_still_pay(
    core, member_id
):
    card_payment = core.pay(card(member_id, amount=10000))  # B-100 in full, $54.50 of B-200
    debit = core.pay(bank(member_id, outcome="return-r01", amount=6550, last4="0101"))
    core.refund_payment(card_payment.confirmation_number, 2000, by="maria")
    core.clock.set(TUESDAY)
    core.follow_bank_debits()
    entries = ledger(core)
    by_payment: dict[str, list[tuple[str, str, int]]] = {}
    for entry in entries:
        by_payment.setdefault(entry["confirmation_number"], []).append(
            (entry["change"], entry["bill_number"], cents(entry["amount"]))
        )
    assert by_payment[card_payment.confirmation_number] == [
        ("succeeded", "B-100", 4550),
        ("succeeded", "B-200", 5450),
        ("refunded", "B-200", -2000),
    ]
    assert by_payment[debit.confirmation_number] == [
        ("submitted", "B-200", 6550),
        ("returned", "B-200", -6550),
    ]
    # What the payments still pay: $80.00 by card, nothing from the returned debit.
    assert sum(cents(entry["amount"]) for entry in entries) == 8000
    [returned] = [entry for entry in entries if entry["change"] == "returned"]
    assert (returned["return_code"], returned["member_mrn_last4"]) == ("R01", "0417")
    # The same window again: the same entries; a later window: only what came later.
    assert ledger(core) == entries
    assert [entry["change"] for entry in ledger(core, MONDAY)] == ["returned"]


def test_the_ledger_in_json_lists_the_same_entries_with_the_billing_system_s_key(
    core, member_id, app
):
    import json

    from billing_core.adapters.models import Member

    with core.unit_of_work() as uow:
        uow.session.get(Member, member_id).account_key = "ACCT-77-0417"
        uow.commit()
    core.pay(card(member_id, amount=4550))
    result = app.test_cli_runner().invoke(
        args=["payments", "export-ledger", "--since", "2026-11-27", "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    [entry] = json.loads(result.output)["entries"]
    assert (entry["change"], entry["bill_number"], entry["amount"], entry["item"]) == (
        "succeeded",
        "B-100",
        "45.50",
        "bill",
    )
    assert entry["account_key"] == "ACCT-77-0417" and entry["plan_id"] is None


def test_a_returned_plan_installment_counts_as_missed(core):
    from tests.plan_helpers import accepted, installment, set_up
    from tests.plan_helpers import bank as plan_bank
    from tests.plan_helpers import member as plan_member

    member_id = plan_member(core)
    plan = set_up(
        core,
        member_id,
        method=plan_bank(outcome="return-r01", last4="0101"),
        authorization=accepted(core, kind="bank", last4="0101"),
    )
    assert plan.first.status is PaymentStatus.SUBMITTED
    assert installment(core, plan.plan_id, 1).status == "paid"
    core.clock.set(TUESDAY)
    assert core.follow_bank_debits().returned == [plan.first.confirmation_number]
    assert installment(core, plan.plan_id, 1).status == "missed"
