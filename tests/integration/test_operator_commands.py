"""The `ivr` commands billing staff run: reconcile, export for the ledger, deliver receipts,
unlock identification."""

from __future__ import annotations

import csv
import getpass
import io
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select

from billing_core.adapters.gateways.sandbox import fixed_token
from billing_core.adapters.models import AuditEvent, Member
from billing_core.domain.payments import PaymentStatus, PaymentTarget
from billing_core.services.payments import PaymentRequest
from tests.members import add_member


@pytest.fixture
def member(core) -> int:
    return add_member(
        core,
        mrn="90000009",
        birth_date=date(1975, 3, 3),
        first_name="Ira",
        bills=[
            ("B-900", date(2026, 9, 1), "Santa Clara Medical Center", 9000, 0, date(2026, 12, 31))
        ],
    )


def paid(core, member_id: int, token: str, key: str):
    return core.pay(
        PaymentRequest(
            member_id=member_id,
            target=PaymentTarget.bill("B-900"),
            amount_cents=4000,
            token=token,
            method_kind="card",
            method_brand="visa",
            method_last4=token.split("_")[3],
            idempotency_key=key,
            channel="phone",
            call_sid="CA-test",
        )
    )


def test_reconcile_settles_a_payment_whose_answer_was_lost(app, core, member):
    outcome = paid(core, member, fixed_token("timeout", "0341"), "key-1")
    assert outcome.status is PaymentStatus.UNKNOWN
    result = app.test_cli_runner().invoke(args=["payments", "reconcile"])
    assert result.exit_code == 0, result.output
    assert "succeeded: 1, failed: 0, still open: 0" in result.output
    assert core.account_summary(member, channel="test").medical_balance_cents == 5000


def test_export_writes_the_ledger_csv_without_card_numbers(app, core, member):
    outcome = paid(core, member, fixed_token("success", "4242"), "key-2")
    result = app.test_cli_runner().invoke(
        args=["billing", "export-payments", "--since", "2026-11-01"]
    )
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.output)))
    assert len(rows) == 1
    assert rows[0]["confirmation_number"] == outcome.confirmation_number
    assert rows[0]["amount"] == "40.00"
    assert rows[0]["member_mrn_last4"] == "0009"
    assert "4242424242424242" not in result.output


def test_the_ledger_export_carries_the_billing_system_s_account_key(app, core, member):
    with core.unit_of_work() as uow:
        uow.session.get(Member, member).account_key = "KP-00451"
        uow.commit()
    paid(core, member, fixed_token("success", "4242"), "key-3")
    result = app.test_cli_runner().invoke(
        args=["billing", "export-payments", "--since", "2026-11-01"]
    )
    rows = list(csv.DictReader(io.StringIO(result.output)))
    assert list(rows[0])[-1] == "account_key"
    assert rows[0]["account_key"] == "KP-00451"
    assert rows[0]["member_mrn_last4"] == "0009"


def test_deliver_says_when_no_sender_is_configured(app, core, member):
    result = app.test_cli_runner().invoke(args=["outbox", "deliver"])
    assert result.exit_code == 0
    assert "no sender configured" in result.output


EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_billing_import_loads_a_feed_once_and_a_second_time_changes_nothing(app, core):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["billing", "import", str(EXAMPLES / "billing-feed.json")])
    again = runner.invoke(args=["billing", "import", str(EXAMPLES / "billing-feed.csv")])
    assert first.exit_code == 0 and again.exit_code == 0, first.output + again.output
    assert "members: 3 new" in first.output
    assert "members: 0 new, 0 updated, 3 unchanged" in again.output
    assert "bills: 0 new, 0 updated; premiums: 0 new, 0 updated" in again.output


def test_a_bad_feed_is_refused_whole_naming_each_row_and_field(app, core, tmp_path):
    feed = tmp_path / "feed.csv"
    good = (EXAMPLES / "billing-feed.csv").read_text(encoding="utf-8").splitlines()
    feed.write_text(
        "\n".join([*good, good[-1].replace(",ncal,", ",atlantis,")]) + "\n", encoding="utf-8"
    )
    result = app.test_cli_runner().invoke(args=["billing", "import", str(feed)])
    assert result.exit_code == 1
    assert "rejected, nothing was imported" in result.output
    assert f"row {len(good) + 1}" in result.output
    with core.unit_of_work() as uow:
        assert uow.session.scalar(select(func.count()).select_from(Member)) == 0


def test_regions_list_gives_the_webhook_urls_and_every_pay_line(app):
    app.config["IVR_PUBLIC_BASE_URL"] = "https://pay.example.org"
    result = app.test_cli_runner().invoke(args=["regions", "list"])
    assert result.exit_code == 0, result.output
    assert "POST https://pay.example.org/voice\n" in result.output
    assert "POST https://pay.example.org/voice/status\n" in result.output
    lines = [line for line in result.output.splitlines() if "specialists +1" in line]
    assert len(lines) == 8
    assert any(line.startswith("mas   Maryland") and "+18882551400" in line for line in lines)


def test_calls_purge_removes_expired_call_state_and_keeps_live_calls(app, core, clock):
    from ivr.call_state import CallState

    store = app.extensions["call_store"]
    store.save(CallState.restore("CA-old", {"region": "ncal"}, is_new=True), clock.now())
    clock.advance(3 * 3600)  # beyond the two-hour expiry
    store.save(CallState.restore("CA-live", {"region": "ncal"}, is_new=True), clock.now())
    result = app.test_cli_runner().invoke(args=["calls", "purge"])
    assert result.exit_code == 0, result.output
    assert "removed 1 expired call(s)" in result.output
    assert not store.load("CA-live", clock.now()).is_new


def failed_identification(core, *, mrn="90000009", birth=date(2001, 1, 1), caller):
    from billing_core.domain.exceptions import IdentityNotVerified

    try:
        core.identify(
            mrn_digest=core.mrn_digest(mrn), birth_date=birth, caller=caller, channel="test"
        )
    except IdentityNotVerified:
        return True
    return False


def identified(core, caller: str) -> bool:
    return not failed_identification(core, birth=date(1975, 3, 3), caller=caller)


def unlock_events(core) -> list[AuditEvent]:
    with core.unit_of_work() as uow:
        events = uow.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "identity_unlocked")
        ).all()
        uow.session.expunge_all()
        return list(events)


def test_unlock_member_lifts_an_mrns_lockout_and_audits_who_did_it(app, core, member):
    for n in range(10):  # ten guesses from ten numbers lock the MRN for every caller
        assert failed_identification(core, caller=f"+1650555{n:04d}")
    assert not identified(core, "+14155550123")
    result = app.test_cli_runner().invoke(
        args=["identity", "unlock-member", "9000-0009", "--by", "Dana Reyes"]
    )
    assert result.exit_code == 0, result.output
    assert "unlocked MRN ending 0009 (was locked;" in result.output
    assert "by Dana Reyes" in result.output
    assert identified(core, "+14155550123")
    [event] = unlock_events(core)
    assert event.member_id == member and event.channel == "operator"
    assert event.detail["by"] == "Dana Reyes" and event.detail["was_locked"] is True
    # The MRN itself is neither printed nor stored.
    assert "90000009" not in result.output and "90000009" not in str(event.detail)


def test_unlock_number_lifts_a_numbers_lockout_by_the_os_user_by_default(app, core, member):
    for n in range(6):  # six guesses at six MRNs lock the number
        assert failed_identification(core, mrn=f"5555{n:04d}", caller="+14155550123")
    assert not identified(core, "+14155550123")
    result = app.test_cli_runner().invoke(args=["identity", "unlock-number", "(415) 555-0123"])
    assert result.exit_code == 0, result.output
    assert "unlocked calling number ending 0123 (was locked;" in result.output
    assert identified(core, "+14155550123")
    [event] = unlock_events(core)
    assert event.detail == {
        "what": "number",
        "by": getpass.getuser(),
        "records": 1,
        "was_locked": True,
    }


def test_unlock_number_withheld_lifts_the_shared_bucket(app, core, member):
    for n in range(10):  # ten guesses from withheld numbers lock them all
        assert failed_identification(core, mrn=f"5555{n:04d}", caller="anonymous")
    assert not identified(core, "client:ira")
    result = app.test_cli_runner().invoke(
        args=["identity", "unlock-number", "withheld", "--by", "ops"]
    )
    assert result.exit_code == 0, result.output
    assert "unlocked the withheld numbers' shared record (was locked;" in result.output
    assert identified(core, "sip:ira@example.com")
    assert unlock_events(core)[0].detail["what"] == "withheld"


def test_unlock_refuses_what_is_not_a_number_or_an_mrn(app, core):
    runner = app.test_cli_runner()
    bad_number = runner.invoke(args=["identity", "unlock-number", "client:alice"])
    assert bad_number.exit_code == 2
    assert "not a usable calling number, nor 'withheld'" in bad_number.output
    bad_mrn = runner.invoke(args=["identity", "unlock-member", "abc"])
    assert bad_mrn.exit_code == 2
    assert unlock_events(core) == []
