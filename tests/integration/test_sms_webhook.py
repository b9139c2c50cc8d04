"""Texts to the plan's numbers: STOP, START and HELP through Twilio's signed Messaging webhook."""

from __future__ import annotations

import logging
import re
import uuid
from datetime import timedelta
from xml.etree import ElementTree

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from billing_core.adapters.models import AuditEvent, TextAutoReply, TextConsent
from billing_core.domain.text_keywords import ConsentChannel, ConsentStatus
from ivr import create_app
from ivr_sim.signing import SIGNATURE_HEADER, sign
from tests.conftest import AUTH_TOKEN, PUBLIC_BASE_URL, app_settings

SENDER = "+15105550123"
NCAL_LINE = "+18773659900"  # Northern California's pay line
UNLISTED = "+18005550100"  # a number of the plan's that no region lists


def text(
    client,
    body: str,
    *,
    sender: str = SENDER,
    to: str = NCAL_LINE,
    token=AUTH_TOKEN,
    **extra: str,
):
    params = {
        "MessageSid": "SM" + uuid.uuid4().hex,
        "AccountSid": "AC" + "0" * 32,
        "From": sender,
        "To": to,
        "Body": body,
        "NumMedia": "0",
        **extra,
    }
    signature = sign(token, PUBLIC_BASE_URL + "/sms", params)
    return client.post("/sms", data=params, headers={SIGNATURE_HEADER: signature})


def replies(response) -> list[str]:
    """The texts a MessagingResponse sends back."""
    assert response.status_code == 200, response.data[:300]
    assert response.mimetype == "text/xml"
    root = ElementTree.fromstring(response.data)
    assert root.tag == "Response"
    return [(message.text or "") for message in root.iter("Message")]


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def app_replying(core, clock):
    """The app configured to send the STOP and START confirmations itself."""
    return create_app(app_settings(core, clock, IVR_SMS_OPT_OUT_REPLIES="app"))


def test_stop_opts_the_number_out_and_leaves_the_confirmation_to_twilio(client, core, clock):
    assert replies(text(client, "Stop.")) == []
    consent = core.text_consent(SENDER)
    assert (consent.status, consent.keyword, consent.channel, consent.changed_at) == (
        ConsentStatus.OPTED_OUT,
        "STOP",
        ConsentChannel.SMS,
        clock.now(),
    )
    assert core.texts_stopped(SENDER)


def test_a_keyword_twilio_s_advanced_opt_out_classified_counts_in_any_language(client, core):
    assert replies(text(client, "PARAR", OptOutType="STOP")) == []
    assert core.texts_stopped(SENDER)
    text(client, "COMENZAR", OptOutType="START")
    assert not core.texts_stopped(SENDER)


def test_start_opts_the_number_back_in(client, core):
    text(client, "STOP")
    assert replies(text(client, "start")) == []
    assert core.text_consent(SENDER).status is ConsentStatus.OPTED_IN
    assert not core.texts_stopped(SENDER)


def test_an_app_that_confirms_stop_and_start_itself_says_so_in_one_text_each(app_replying, core):
    client = app_replying.test_client()
    [stopped] = replies(text(client, "UNSUBSCRIBE"))
    assert "no more texts" in stopped and "Reply START" in stopped
    assert stopped.startswith("Kaiser Permanente")
    assert core.texts_stopped(SENDER)
    [started] = replies(text(client, "Yes"))
    assert "texts are on again" in started and "STOP" in started
    assert not core.texts_stopped(SENDER)


def test_help_names_the_plan_and_the_billing_number_of_the_region_texted(client, core):
    [reply] = replies(text(client, "HELP"))
    assert reply.startswith("Kaiser Permanente Northern California:")
    assert "1-800-218-1059" in reply and "TTY 711" in reply
    assert "STOP" in reply
    assert core.text_consent(SENDER) is None


def test_help_to_a_number_no_region_lists_gives_the_national_billing_number(client):
    [reply] = replies(text(client, "info", to=UNLISTED))
    assert reply.startswith("Kaiser Permanente:")
    assert "1-800-218-1059" in reply


def test_any_other_text_is_told_once_a_day_that_nobody_reads_it(client, core, clock):
    [reply] = replies(text(client, "Can I pay next week instead?"))
    assert "not read" in reply and "1-800-218-1059" in reply
    assert replies(text(client, "hello?")) == []
    clock.advance(timedelta(days=1).total_seconds())
    assert len(replies(text(client, "please stop texting"))) == 1
    # "please stop texting" is not STOP: the number still gets texts.
    assert core.text_consent(SENDER) is None


def test_a_number_that_opted_out_gets_no_reply_to_other_texts(client):
    text(client, "STOP")
    assert replies(text(client, "why?")) == []


def test_a_sender_that_is_no_phone_number_changes_nothing(client, core):
    assert replies(text(client, "STOP", sender="12345")) == []
    assert replies(text(client, "STOP", sender="")) == []
    with core.unit_of_work() as uow:
        assert uow.session.scalar(select(func.count()).select_from(TextConsent)) == 0


def test_a_forged_or_unsigned_text_is_refused_and_changes_nothing(client, core):
    params = {"MessageSid": "SM" + "1" * 32, "From": SENDER, "To": NCAL_LINE, "Body": "STOP"}
    unsigned = client.post("/sms", data=params)
    forged = text(client, "STOP", token="not-the-auth-token")
    signature = sign(AUTH_TOKEN, PUBLIC_BASE_URL + "/sms", params)
    tampered = client.post(
        "/sms", data={**params, "From": "+14155550199"}, headers={SIGNATURE_HEADER: signature}
    )
    assert [unsigned.status_code, forged.status_code, tampered.status_code] == [403, 403, 403]
    with core.unit_of_work() as uow:
        assert uow.session.scalar(select(func.count()).select_from(TextConsent)) == 0
        assert uow.session.scalar(select(func.count()).select_from(TextAutoReply)) == 0


def test_the_log_names_the_keyword_and_never_the_text_or_the_number(client, caplog):
    with caplog.at_level(logging.DEBUG):
        text(client, "My card is 4242424242424242, call me")
        text(client, " STOP!")
    # The texts' SIDs are random hex: "4242" may be in them by chance.
    logged = re.sub(r"\bSM[0-9a-f]{32}\b", "SM…", caplog.text)
    assert "keyword STOP" in logged
    assert "4242" not in logged and "call me" not in logged and "5550123" not in logged


def test_a_failure_still_answers_twiml_and_says_nothing_of_the_text(client, core, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("database down")

    monkeypatch.setattr(type(core), "texted_keyword", broken)
    assert replies(text(client, "STOP")) == []


def test_a_bad_reply_setting_stops_the_start_up(core, clock):
    with pytest.raises(RuntimeError, match="IVR_SMS_OPT_OUT_REPLIES"):
        create_app(
            {
                "TESTING": True,
                "ENGINE": core.engine,
                "CLOCK": clock,
                "IVR_SMS_OPT_OUT_REPLIES": "carrier",
            }
        )


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    body=st.text(max_size=200).map(lambda value: value.replace("\x00", "")),
    sender=st.one_of(st.just(SENDER), st.text(max_size=20).map(lambda v: v.replace("\x00", ""))),
    to=st.one_of(st.just(NCAL_LINE), st.text(max_size=20).map(lambda v: v.replace("\x00", ""))),
)
def test_whatever_is_texted_the_answer_is_valid_twiml(client, body, sender, to):
    assert len(replies(text(client, body, sender=sender, to=to))) <= 1


def test_a_billing_specialist_stops_and_restarts_a_numbers_texts_and_is_audited(app, core):
    runner = app.test_cli_runner()
    stopped = runner.invoke(args=["texts", "stop", "(510) 555-0123", "--by", "pat"])
    assert stopped.exit_code == 0, stopped.output
    assert "number ending 0123: opted out" in stopped.output and "by pat" in stopped.output
    assert core.texts_stopped(SENDER)
    assert core.text_consent(SENDER).channel is ConsentChannel.STAFF
    status = runner.invoke(args=["texts", "status", SENDER])
    assert "opted out" in status.output and "by staff" in status.output
    started = runner.invoke(args=["texts", "start", SENDER, "--by", "pat"])
    assert started.exit_code == 0 and "opted in" in started.output
    assert not core.texts_stopped(SENDER)
    with core.unit_of_work() as uow:
        events = uow.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "text_consent_changed")
        ).all()
        assert [(e.channel, e.detail) for e in events] == [
            ("staff", {"status": "opted_out", "number_last4": "0123", "by": "pat"}),
            ("staff", {"status": "opted_in", "number_last4": "0123", "by": "pat"}),
        ]


def test_the_status_of_a_number_never_heard_from_is_that_it_gets_texts(app, client):
    text(client, "STOP")
    runner = app.test_cli_runner()
    assert "texts are sent" in runner.invoke(args=["texts", "status", "+14155550199"]).output
    assert "(STOP by text)" in runner.invoke(args=["texts", "status", SENDER]).output
    refused = runner.invoke(args=["texts", "stop", "not-a-number"])
    assert refused.exit_code != 0 and "not a usable phone number" in refused.output


def test_regions_list_names_the_messaging_webhook(app):
    output = app.test_cli_runner().invoke(args=["regions", "list"]).output
    assert f"POST {PUBLIC_BASE_URL}/sms" in output
