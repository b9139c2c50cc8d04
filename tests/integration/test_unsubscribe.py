"""Reminders and notices by email end with a signed unsubscribe link (and List-Unsubscribe);
following it, or a mail program's one-click button, stops them, never the law's copies."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from html.parser import HTMLParser

import pytest
from sqlalchemy import select

from billing_core.adapters.models import AuditEvent, EmailOptOut, Member, OutboxMessage
from billing_core.adapters.senders.smtp import SmtpSender
from billing_core.adapters.unsubscribe_links import UnsubscribeLinks
from billing_core.services import outbox
from billing_core.services.outbox import EMAIL, OutgoingMessage
from tests.conftest import IDENTITY_KEY, PUBLIC_BASE_URL
from tests.members import add_member

ADDRESS = "Ana.Tester@Example.org"
NOV_27_NOON = datetime(2026, 11, 27, 20, tzinfo=UTC)
LINKS = UnsubscribeLinks(IDENTITY_KEY, PUBLIC_BASE_URL)


class Recorder:
    def __init__(self) -> None:
        self.sent: list[OutgoingMessage] = []

    def send(self, message: OutgoingMessage) -> str:
        self.sent.append(message)
        return "ref"


class Page(HTMLParser):
    """The page's language, its text and its form's method."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.lang = None
        self.forms: list[str] = []
        self.buttons = 0
        self.text: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "html":
            self.lang = attrs.get("lang")
        elif tag == "form":
            self.forms.append(attrs.get("method", "get"))
        elif tag == "button":
            self.buttons += 1

    def handle_data(self, data):
        if data.strip():
            self.text.append(data.strip())


def sender(links=LINKS) -> SmtpSender:
    return SmtpSender(
        "127.0.0.1", 25, sender_address="billing@example.org", unsubscribe_links=links
    )


def reminder(language="en", **changes) -> OutgoingMessage:
    values = {
        "kind": EMAIL,
        "recipient": ADDRESS,
        "subject": "Your premium bill is ready",
        "body": "Hello Ana,\n\nYour January 2027 premium of $412.00 is ready.\n",
        "dedupe_key": "reminder:ready:premium:1:2027-01:email",
        "unsubscribe_language": language,
    }
    return OutgoingMessage(**{**values, **changes})


def member_with_reminder(core) -> int:
    member_id = add_member(
        core,
        mrn="80000001",
        birth_date=date(1980, 1, 2),
        premiums=[(date(2027, 1, 1), 41200, 0)],
        email=ADDRESS,
    )
    core.run_reminders(NOV_27_NOON)
    return member_id


def token_in(url: str) -> str:
    return re.search(r"/unsubscribe/([^?\s>]+)", url).group(1)


def test_a_reminder_email_carries_the_signed_link_in_its_footer_and_list_unsubscribe():
    email = sender().build(reminder())
    link = LINKS.link(ADDRESS)
    assert email["List-Unsubscribe"] == f"<{link}>"
    assert email["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    body = email.get_content()
    assert body.rstrip().endswith(f"To stop these emails, open this link: {link}")
    assert link.startswith(f"{PUBLIC_BASE_URL}/unsubscribe/")
    # The link names nobody: not the address, in any case.
    assert "ana" not in link.lower() and "example" not in link.removeprefix(PUBLIC_BASE_URL)


def test_a_spanish_reminder_gets_a_spanish_footer_and_a_spanish_page_link():
    email = sender().build(reminder("es"))
    assert email["List-Unsubscribe"].endswith("?lang=es>")
    assert "Para dejar de recibir estos correos, abra este enlace:" in email.get_content()


def test_a_copy_the_law_requires_carries_no_unsubscribe_link():
    email = sender().build(reminder(unsubscribe_language=None))
    assert email["List-Unsubscribe"] is None
    assert "To stop these emails" not in email.get_content()


def test_without_a_public_address_the_footer_says_to_call():
    email = sender(links=None).build(reminder())
    assert email["List-Unsubscribe"] is None
    assert "To stop these emails, call the number on your bill." in email.get_content()


def test_opening_the_link_only_shows_a_button_and_needs_no_signature(core, app):
    member_with_reminder(core)
    response = app.test_client().get(f"/unsubscribe/{LINKS.token(ADDRESS)}")
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    page = Page(response.get_data(as_text=True))
    assert page.lang == "en" and page.forms == ["post"] and page.buttons == 1
    assert "Stop emails from us" in page.text and "Stop these emails" in page.text
    with core.unit_of_work() as uow:
        assert uow.session.scalars(select(EmailOptOut)).all() == []


def test_pressing_the_button_stops_reminders_to_the_address_but_not_the_law_s_copies(core, app):
    member_with_reminder(core)
    client = app.test_client()
    # The address as the member typed it, or lower-cased: the same address.
    response = client.post(f"/unsubscribe/{LINKS.token(ADDRESS.lower())}")
    assert response.status_code == 200
    assert "no more reminders or notices by email" in " ".join(
        Page(response.get_data(as_text=True)).text
    )
    with core.unit_of_work() as uow:
        outbox.enqueue(
            uow,
            OutgoingMessage(
                kind=EMAIL, recipient=ADDRESS, body="Your authorization.", dedupe_key="copy:1"
            ),
            now=NOV_27_NOON,
        )
        uow.commit()
    mail = Recorder()
    report = outbox.deliver_pending(core.unit_of_work, {EMAIL: mail}, now=NOV_27_NOON)
    assert [message.dedupe_key for message in mail.sent] == ["copy:1"]
    assert len(report.opted_out) == 1
    with core.unit_of_work() as uow:
        [stopped] = uow.session.scalars(
            select(OutboxMessage).where(OutboxMessage.dedupe_key.startswith("reminder:"))
        ).all()
        assert stopped.last_error == outbox.OPTED_OUT
        [event] = uow.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "email_unsubscribed")
        ).all()
        assert event.channel == "link"


def test_a_mail_program_s_one_click_post_unsubscribes_once_however_often_sent(core, app):
    member_with_reminder(core)
    client = app.test_client()
    url = f"/unsubscribe/{LINKS.token(ADDRESS)}"
    for _ in range(3):
        response = client.post(url, data={"List-Unsubscribe": "One-Click"})
        assert response.status_code == 200
    with core.unit_of_work() as uow:
        [opt_out] = uow.session.scalars(select(EmailOptOut)).all()
        assert opt_out.channel == "one-click"
        assert ADDRESS.lower() not in opt_out.address_digest


@pytest.mark.parametrize("method", ["get", "post"])
def test_a_forged_or_damaged_link_is_refused_with_a_way_forward(core, app, method):
    forged = UnsubscribeLinks("someone-else's-key", PUBLIC_BASE_URL).token(ADDRESS)
    client = app.test_client()
    for token in (forged, LINKS.token(ADDRESS)[:-2], "x"):
        response = getattr(client, method)(f"/unsubscribe/{token}")
        assert response.status_code == 404
        assert "call the number on your bill" in response.get_data(as_text=True)
    with core.unit_of_work() as uow:
        assert uow.session.scalars(select(EmailOptOut)).all() == []


def test_the_page_speaks_spanish_when_the_link_says_so(core, app):
    response = app.test_client().get(f"/unsubscribe/{LINKS.token(ADDRESS)}?lang=es")
    page = Page(response.get_data(as_text=True))
    assert page.lang == "es" and "Dejar de recibir nuestros correos" in page.text


def test_the_jobs_email_sender_uses_the_app_s_public_address_for_its_links(core, app):
    from ivr.jobs import receipt_senders

    settings = {**app.config, "IVR_SMTP_HOST": "smtp.example.org"}
    email = receipt_senders(settings)[EMAIL].build(reminder())
    assert token_in(email["List-Unsubscribe"]) == LINKS.token(ADDRESS)
    with core.unit_of_work() as uow:
        assert uow.session.scalars(select(Member)).all() == []


def test_receipts_by_email_can_be_unsubscribed_from_too(core):
    import uuid

    from billing_core.adapters.gateways.sandbox import fixed_token
    from billing_core.domain.payments import PaymentTarget
    from billing_core.services.payments import PaymentRequest

    member_id = member_with_reminder(core)
    core.pay(
        PaymentRequest(
            member_id=member_id,
            target=PaymentTarget.premium(),
            amount_cents=41200,
            token=fixed_token("success", "4242"),
            method_kind="card",
            method_brand="visa",
            method_last4="4242",
            idempotency_key=uuid.uuid4().hex,
            channel="phone",
        )
    )
    with core.unit_of_work() as uow:
        emails = {
            row.dedupe_key.split(":")[0]: row.unsubscribe_language
            for row in uow.session.scalars(select(OutboxMessage))
        }
    assert emails["receipt"] == "en" and emails["reminder"] == "en"
