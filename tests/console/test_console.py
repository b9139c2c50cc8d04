"""The staff console in the test client: sign-in, roles, CSRF, the softphone, servicing."""

from __future__ import annotations

import logging
import re

import pytest
import yaml
from flask.sessions import SecureCookieSessionInterface
from sqlalchemy import text

from billing_core.adapters.gateways.sandbox import SandboxGateway
from billing_core.adapters.models import OutboxMessage, OutboxStatus
from ivr_sim.script import ScriptRunner, load_script, scratch_app
from staff_console import create_app
from staff_console.accounts import StaffAccounts
from tests.conftest import app_settings
from tests.console.conftest import (
    ANA_BIRTH,
    ANA_MRN,
    PASSWORD,
    Phone,
    csrf_token,
    sign_in,
)


def paid_by_card(phone: Phone) -> str:
    """Identify as Ana, pay her bill with the sandbox Visa; the confirmation number heard."""
    phone.dial()
    phone.act("keys", keys=f"{ANA_MRN}#")
    phone.act("keys", keys=ANA_BIRTH)
    phone.act("keys", keys="1")
    assert phone.state["waiting"]["kind"] == "pay"
    phone.act("card", number="4242424242424242", expiry="1230", cvc="123", postal="94612")
    before = len(phone.state["lines"])
    phone.act("keys", keys="1")
    spoken = " ".join(phone.heard_since(before))
    found = re.search(r"your confirmation number is (\d{10})", spoken)
    assert found, spoken
    return found.group(1)


# -- signing in -------------------------------------------------------------------------------


def test_a_page_asks_for_a_sign_in_first_and_comes_back_after_it(console):
    client = console.test_client()
    answer = client.get("/payments?confirmation=X")
    assert answer.status_code == 302
    assert answer.headers["Location"] == "/sign-in?next=/payments?confirmation%3DX"
    token = csrf_token(client.get("/sign-in").get_data(as_text=True))
    signed = client.post(
        "/sign-in",
        data={
            "csrf_token": token,
            "username": "bea",
            "password": PASSWORD,
            "next": "/payments?confirmation=X",
        },
    )
    assert signed.status_code == 302 and signed.headers["Location"] == "/payments?confirmation=X"


def test_a_sign_in_never_sends_the_browser_to_another_site(console):
    client = console.test_client()
    for elsewhere in ("https://evil.example/", "//evil.example/", "javascript:alert(1)"):
        # A sign-in starts a new session, and with it a new CSRF token.
        token = csrf_token(client.get("/sign-in").get_data(as_text=True))
        answer = client.post(
            "/sign-in",
            data={"csrf_token": token, "username": "bea", "password": PASSWORD, "next": elsewhere},
        )
        assert answer.headers["Location"] == "/"


def test_a_wrong_password_is_refused_and_five_lock_the_account(console):
    client = console.test_client()
    for _ in range(4):
        refused = sign_in(client, "bea", "not the password")
        assert refused.status_code == 401
        assert "do not match an account" in refused.get_data(as_text=True)
    locked = sign_in(client, "bea", "not the password")
    assert "locked" in locked.get_data(as_text=True)
    again = sign_in(client, "bea")  # the right password, while locked
    assert again.status_code == 401 and "locked" in again.get_data(as_text=True)
    assert client.get("/").status_code == 302


def test_a_form_without_its_csrf_token_is_refused(console):
    client = console.test_client()
    answer = client.post("/sign-in", data={"username": "bea", "password": PASSWORD})
    assert answer.status_code == 400
    assert "The form has expired" in answer.get_data(as_text=True)
    assert client.get("/").status_code == 302
    sign_in(client, "quinn")
    forged = client.post("/phone/calls", json={"to": "+18773659900"})
    assert forged.status_code == 400


def test_the_session_cookie_names_the_staff_member_and_nothing_else(console):
    client = console.test_client()
    sign_in(client, "dana")
    cookie = client.get_cookie("staff_session")
    assert cookie.http_only and cookie.same_site == "Strict"
    serializer = SecureCookieSessionInterface().get_signing_serializer(console)
    assert set(serializer.loads(cookie.value)) <= {"staff", "csrf_token", "_permanent"}


def test_signing_out_ends_the_session(console):
    client = console.test_client()
    sign_in(client, "bea")
    token = csrf_token(client.get("/").get_data(as_text=True))
    assert client.post("/sign-out", data={"csrf_token": token}).status_code == 302
    assert client.get("/payments").status_code == 302


def test_a_removed_account_is_signed_out_at_its_next_page(console):
    client = console.test_client()
    sign_in(client, "bea")
    assert client.get("/payments").status_code == 200
    console.extensions["staff_accounts"].remove("bea")
    assert client.get("/payments").status_code == 302


def test_each_role_opens_only_its_own_pages(console):
    qa, billing = console.test_client(), console.test_client()
    sign_in(qa, "quinn")
    sign_in(billing, "bea")
    assert qa.get("/phone").status_code == 200
    assert qa.get("/payments").status_code == 403
    assert billing.get("/payments").status_code == 200
    assert billing.get("/outbox").status_code == 200
    refused = billing.get("/phone")
    assert refused.status_code == 403 and "QA role" in refused.get_data(as_text=True)
    for client in (qa, billing):
        assert client.get("/map").status_code == 200


def test_every_page_is_kept_by_no_browser_and_runs_no_script_but_its_own(console):
    client = console.test_client()
    sign_in(client, "dana")
    for path in ("/", "/phone", "/map", "/payments", "/members", "/outbox", "/sign-in"):
        headers = client.get(path).headers
        assert headers["Cache-Control"] == "no-store", path
        assert "script-src 'self'" in headers["Content-Security-Policy"], path
        assert "frame-ancestors 'none'" in headers["Content-Security-Policy"], path


def test_behind_an_sso_proxy_the_header_names_who_is_signed_in(core, clock):
    app = create_app(app_settings(core, clock, IVR_CONSOLE_TRUSTED_HEADER="X-Forwarded-User"))
    StaffAccounts(core.engine, clock).add("sam", None, ["billing"])
    client = app.test_client()
    assert client.get("/payments", headers={"X-Forwarded-User": "sam"}).status_code == 200
    assert client.get("/payments", headers={"X-Forwarded-User": "nobody"}).status_code == 403
    assert client.get("/payments").status_code == 403
    assert client.get("/sign-in").status_code == 404


def test_the_console_will_not_start_outside_the_embedded_set_up_without_its_key(core, clock):
    production = app_settings(
        core,
        clock,
        TESTING=False,
        DATABASE_URL="postgresql+psycopg://billing@db.internal/billing",
        GATEWAY=SandboxGateway(core.engine, clock),
    )
    with pytest.raises(RuntimeError, match="IVR_CONSOLE_SECRET_KEY"):
        create_app(production)
    app = create_app({**production, "IVR_CONSOLE_SECRET_KEY": "k" * 64})
    assert app.config["SESSION_COOKIE_SECURE"] is True


# -- the softphone ----------------------------------------------------------------------------


def test_a_call_from_the_browser_pays_with_a_sandbox_card_and_marks_its_path(console):
    client = console.test_client()
    sign_in(client, "quinn")
    phone = Phone(client)
    first = phone.dial()
    assert first["lines"][0]["text"].startswith("Welcome")
    assert first["waiting"]["kind"] == "gather" and first["waiting"]["finish_on_key"] == "#"
    assert first["current"] == "identify.ask_mrn"
    number = paid_by_card(phone)
    path = phone.state["path"]
    for step in ("entry.incoming", "identify.ask_mrn", "snapshot.offer", "capture.card"):
        assert step in path, path
    assert path.index("identify.ask_mrn") < path.index("capture.card")
    assert phone.state["current"] == path[-1]
    details = console.extensions["billing"].payment_details(number, by="test")
    assert details.status == "succeeded" and details.amount_cents == 20000


def test_the_prompts_carry_the_language_they_are_spoken_in(console):
    client = console.test_client()
    sign_in(client, "quinn")
    lines = Phone(client).dial()["lines"]
    languages = {line["text"]: line["language"] for line in lines}
    assert languages["Para español, oprima 8."].startswith("es")
    assert languages["For relay, press 7."] == "en-US"


def test_only_the_sandbox_cards_go_into_the_payment_entry_and_never_by_the_keypad(console, caplog):
    client = console.test_client()
    sign_in(client, "quinn")
    phone = Phone(client)
    phone.dial()
    phone.act("keys", keys=f"{ANA_MRN}#")
    phone.act("keys", keys=ANA_BIRTH)
    phone.act("keys", keys="1")
    caplog.set_level(logging.DEBUG)
    real = phone.act("card", number="4111111111111111", expiry="1230", cvc="123", postal="94612")
    assert real.status_code == 422 and "sandbox" in real.get_json()["problem"]
    typed = phone.act("keys", keys="4242424242424242#")
    assert typed.status_code == 422
    assert typed.get_json()["waiting"]["field"] == "payment-card-number"
    assert "4111111111111111" not in caplog.text and "4242424242424242" not in caplog.text


def test_a_call_is_heard_and_driven_only_by_who_placed_it(console):
    owner, other = console.test_client(), console.test_client()
    sign_in(owner, "quinn")
    sign_in(other, "dana")
    state = Phone(owner).dial()
    stranger = Phone(other)
    assert other.get(f"/phone/calls/{state['id']}").status_code == 404
    stranger.state = state
    assert stranger.act("keys", keys="1").status_code == 404


def test_a_number_that_is_no_phone_number_is_refused_with_words(console):
    client = console.test_client()
    sign_in(client, "quinn")
    phone = Phone(client)
    answer = phone.post("/phone/calls", {"to": "", "other": "not a number"})
    assert answer.status_code == 400 and "not a phone number" in answer.get_json()["problem"]
    late = phone.post("/phone/calls", {"to": "+18773659900", "at": "Friday"})
    assert late.status_code == 400 and "date and time" in late.get_json()["problem"]


def test_an_unlisted_number_reaches_the_national_line(console):
    client = console.test_client()
    sign_in(client, "quinn")
    state = Phone(client).dial(to="", other="(415) 555-0199")
    assert state["to"] == "+14155550199"
    assert state["lines"][0]["text"].startswith("Welcome")


def test_the_call_downloads_as_a_call_script_that_plays_the_same(console, tmp_path):
    client = console.test_client()
    sign_in(client, "quinn")
    phone = Phone(client)
    paid_by_card(phone)
    phone.act("hangup")
    assert phone.state["ended"]
    answer = client.get(f"/phone/calls/{phone.state['id']}/script")
    assert answer.status_code == 200
    assert "attachment" in answer.headers["Content-Disposition"]
    text = answer.get_data(as_text=True)
    document = yaml.safe_load(text)
    assert document["dial"] == "+18773659900"
    presses = [step["press"] for step in document["steps"] if "press" in step]
    assert presses[:2] == [f"{ANA_MRN}#", ANA_BIRTH]
    assert any("pay" in step for step in document["steps"])
    path = tmp_path / "recorded.yaml"
    path.write_text(text, encoding="utf-8")
    script = load_script(path)
    assert script.title.startswith("Recorded in the console")
    # Played on a fresh database with the demo members, it hears what was heard: it passes.
    with scratch_app(console.config, folder=tmp_path) as app:
        result = ScriptRunner(app).run(script)
    assert len(result.calls) == 1


def test_the_softphone_is_off_where_the_gateway_is_not_the_sandbox(core, clock):
    app = create_app(
        app_settings(core, clock, IVR_GATEWAY="stripe", GATEWAY=SandboxGateway(core.engine, clock))
    )
    StaffAccounts(core.engine, clock).add("quinn", PASSWORD, ["qa"])
    client = app.test_client()
    sign_in(client, "quinn")
    page = client.get("/phone")
    assert page.status_code == 409 and "sandbox" in page.get_data(as_text=True)


# -- servicing --------------------------------------------------------------------------------


@pytest.fixture
def paid(console):
    """A billing staff member's browser, and a card payment QA made on the softphone."""
    qa, billing = console.test_client(), console.test_client()
    sign_in(qa, "quinn")
    sign_in(billing, "bea")
    return billing, paid_by_card(Phone(qa))


def test_billing_staff_find_a_payment_by_its_confirmation_number(console, paid):
    billing, number = paid
    page = billing.get(f"/payments?confirmation={number}").get_data(as_text=True)
    assert f"Payment {number}" in page
    assert "$200.00" in page and "Ana L. (MRN ending 0001)" in page
    assert "card visa ending 4242" in page
    missing = billing.get("/payments?confirmation=0000000000")
    assert missing.status_code == 404 and "no payment has" in missing.get_data(as_text=True)


def test_a_refund_is_made_once_and_only_when_confirmed(console, paid):
    billing, number = paid
    asked = billing.get(f"/payments/{number}/refund")
    token = csrf_token(asked.get_data(as_text=True))
    unconfirmed = billing.post(
        f"/payments/{number}/refund", data={"csrf_token": token, "amount": "50.00"}
    )
    assert unconfirmed.status_code == 422
    assert console.extensions["billing"].payment_details(number, by="t").refunded_cents == 0
    form = {"csrf_token": token, "amount": "50.00", "confirm": "yes"}
    done = billing.post(f"/payments/{number}/refund", data=form)
    assert done.status_code == 200 and "Refund of $50.00 done" in done.get_data(as_text=True)
    twice = billing.post(f"/payments/{number}/refund", data=form)
    assert twice.status_code == 422 and "tick the box" in twice.get_data(as_text=True)
    details = console.extensions["billing"].payment_details(number, by="t")
    assert details.refunded_cents == 5000 and len(details.refunds) == 1
    assert details.refunds[0].requested_by == "bea"


def test_a_members_activity_is_found_by_a_posted_mrn_and_shown_masked(console, paid):
    billing, number = paid
    token = csrf_token(billing.get("/members").get_data(as_text=True))
    answer = billing.post("/members", data={"csrf_token": token, "mrn": ANA_MRN, "do": "show"})
    page = answer.get_data(as_text=True)
    assert answer.status_code == 200 and number in page
    assert "Ana L. (MRN ending 0001)" in page and "identified" in page
    assert ANA_MRN not in page and ANA_BIRTH not in page
    unknown = billing.post("/members", data={"csrf_token": token, "mrn": "99999999", "do": "show"})
    assert unknown.status_code == 404 and "MRN ending 9999" in unknown.get_data(as_text=True)


def test_billing_staff_lift_a_lock_out_and_the_member_can_identify_again(console):
    qa, billing = console.test_client(), console.test_client()
    sign_in(qa, "quinn")
    sign_in(billing, "bea")
    phone = Phone(qa)
    phone.dial()
    for _ in range(3):
        phone.act("keys", keys=f"{ANA_MRN}#")
        phone.act("keys", keys="01011999")
    assert not identifies_as_ana(Phone(qa))
    token = csrf_token(billing.get("/members").get_data(as_text=True))
    answer = billing.post("/members", data={"csrf_token": token, "mrn": ANA_MRN, "do": "unlock"})
    page = answer.get_data(as_text=True)
    assert "MRN ending 0001: the lock-out is lifted" in page and ANA_MRN not in page
    assert identifies_as_ana(Phone(qa))


def identifies_as_ana(phone: Phone) -> bool:
    phone.dial()
    phone.act("keys", keys=f"{ANA_MRN}#")
    before = len(phone.state["lines"])
    phone.act("keys", keys=ANA_BIRTH)
    return "Thank you, Ana." in phone.heard_since(before)


def test_the_outbox_page_counts_messages_and_names_failures_without_their_recipients(console):
    core = console.extensions["billing"]
    now = core.clock.now()
    with core.unit_of_work() as uow:
        for index, status in enumerate((OutboxStatus.PENDING, OutboxStatus.FAILED)):
            uow.session.add(
                OutboxMessage(
                    kind="sms",
                    recipient="+14155550123",
                    body="Your receipt",
                    dedupe_key=f"test:{index}",
                    status=status,
                    attempts=index * 3,
                    next_attempt_at=now,
                    created_at=now,
                    last_error="carrier refused" if index else None,
                )
            )
        uow.commit()
    client = console.test_client()
    sign_in(client, "bea")
    page = client.get("/outbox").get_data(as_text=True)
    assert "1 waiting to be sent" in page and "carrier refused" in page
    assert "+14155550123" not in page and "Your receipt" not in page
    assert "reconcile" in page  # a scheduled task, with its schedule


def test_the_jobs_page_counts_postgresqls_jobs_and_says_where_sqlites_are(console):
    core = console.extensions["billing"]
    client = console.test_client()
    sign_in(client, "bea")
    if core.engine.dialect.name != "postgresql":
        page = client.get("/outbox").get_data(as_text=True)
        assert "in the memory of the process serving the webhooks" in page
        return
    with core.engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO procrastinate_jobs (queue_name, task_name, args, status, attempts)"
                " VALUES ('default', 'console_check', '{}', 'failed', 3)"
            )
        )
    try:
        page = client.get("/outbox").get_data(as_text=True)
        assert "<td>console_check</td><td>failed</td><td>1</td>" in page
    finally:
        with core.engine.begin() as connection:
            connection.execute(
                text("DELETE FROM procrastinate_jobs WHERE task_name = 'console_check'")
            )


def test_a_call_left_idle_for_half_an_hour_is_hung_up_and_forgotten(console, monkeypatch):
    from staff_console import live_calls

    client = console.test_client()
    sign_in(client, "quinn")
    phone = Phone(client)
    state = phone.dial()
    calls = console.extensions["live_calls"]
    live = calls.get(state["id"], "quinn")
    later = live.touched + live_calls.IDLE_SECONDS + 1
    monkeypatch.setattr(live_calls.time, "monotonic", lambda: later)
    calls.sweep()
    assert live.call.ended and not live.folder.exists()
    assert client.get(f"/phone/calls/{state['id']}").status_code == 404
