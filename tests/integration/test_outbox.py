"""Receipts through the outbox: queued with the payment, sent once by text (Twilio) and email.

The providers are local stand-ins: an SMTP server (aiosmtpd) and an HTTP server that
answers Twilio's Messages endpoint, both on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import base64
import json
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from itertools import count
from urllib.parse import parse_qs

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from billing_core.adapters.gateways import SandboxGateway
from billing_core.adapters.gateways.sandbox import fixed_token
from billing_core.adapters.models import Member, OutboxMessage, OutboxStatus
from billing_core.adapters.senders.smtp import SmtpSender
from billing_core.adapters.senders.twilio_sms import TwilioSmsSender
from billing_core.domain.payments import PaymentRequestInvalid, PaymentTarget
from billing_core.services import outbox, payments, receipts
from billing_core.services.outbox import EMAIL, SMS, OutgoingMessage, SendError
from billing_core.services.payments import PaymentRequest
from tests.members import add_member, agree_to_texts

PHONE = "+15105550123"
EMAIL_ADDRESS = "ana.tester@example.org"
FROM_ADDRESS = "receipts@plan.example.org"
TWILIO_SID = "AC" + "0" * 32
TWILIO_TOKEN = "test-twilio-token"
TWILIO_NUMBER = "+18005550100"
BILLS = [("B-200", date(2026, 9, 14), "Oakland Medical Center", 12000, 0, date(2026, 11, 15))]


# --- Local providers -------------------------------------------------------------------


@dataclass
class Mailbox:
    """An SMTP server's handler: keeps what it accepts, turns away what it is told to."""

    received: list[EmailMessage] = field(default_factory=list)
    turn_away: int = 0
    # Seconds to wait before answering the DATA of each of the next messages (it is kept).
    slow_answers: list[float] = field(default_factory=list)
    unknown_recipients: set[str] = field(default_factory=set)
    port: int = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options) -> str:
        if address in self.unknown_recipients:
            return "550 5.1.1 No such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope) -> str:
        if self.turn_away:
            self.turn_away -= 1
            return "451 4.3.0 Try again later"
        self.received.append(message_from_bytes(envelope.content, policy=policy.default))
        if self.slow_answers:
            # Accepted, and answered only after the client has stopped waiting.
            await asyncio.sleep(self.slow_answers.pop(0))
        return "250 2.0.0 Accepted"


class LocalController(Controller):
    """aiosmtpd's Controller on a port the system picks (it checks readiness on self.port)."""

    def _trigger_server(self) -> None:
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    mailbox = Mailbox()
    controller = LocalController(mailbox, hostname="127.0.0.1", port=0)
    controller.start()
    mailbox.port = controller.port
    yield mailbox
    controller.stop()


def smtp_sender(port: int) -> SmtpSender:
    return SmtpSender("127.0.0.1", port, sender_address=FROM_ADDRESS, timeout_seconds=5)


@dataclass
class TwilioStub:
    """Twilio's Messages endpoint: records each request and answers as Twilio does."""

    requests: list[dict[str, str]] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    fail_next: list[int] = field(default_factory=list)
    sids: count = field(default_factory=lambda: count(1))
    url: str = ""

    def answer(self, form: dict[str, str]) -> tuple[int, dict]:
        if self.fail_next:
            status = self.fail_next.pop(0)
            code = 21211 if status == 400 else 20500
            return status, {
                "code": code,
                "message": "The 'To' number is not valid" if status == 400 else "Server error",
                "more_info": f"https://www.twilio.com/docs/errors/{code}",
                "status": status,
            }
        sid = f"SM{next(self.sids):032x}"
        return 201, {
            "sid": sid,
            "account_sid": TWILIO_SID,
            "to": form["To"],
            "from": form["From"],
            "body": form["Body"],
            "status": "queued",
            "direction": "outbound-api",
            "num_segments": "1",
            "api_version": "2010-04-01",
            "date_created": "Fri, 27 Nov 2026 20:00:00 +0000",
            "date_updated": "Fri, 27 Nov 2026 20:00:00 +0000",
            "date_sent": None,
            "price": None,
            "error_code": None,
            "error_message": None,
            "uri": f"/2010-04-01/Accounts/{TWILIO_SID}/Messages/{sid}.json",
        }


@pytest.fixture
def twilio() -> Iterator[TwilioStub]:
    stub = TwilioStub()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
            stub.paths.append(self.path)
            stub.headers.append(dict(self.headers))
            stub.requests.append(form)
            status, body = stub.answer(form)
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    stub.url = f"http://127.0.0.1:{server.server_address[1]}"
    yield stub
    server.shutdown()
    server.server_close()
    thread.join()


def sms_sender(twilio: TwilioStub) -> TwilioSmsSender:
    return TwilioSmsSender(TWILIO_SID, TWILIO_TOKEN, TWILIO_NUMBER, api_base=twilio.url)


class FakeSender:
    """A sender that fails as told and records what it sent, safe to share between threads."""

    def __init__(self, *errors: Exception, pause: float = 0) -> None:
        self.errors = list(errors)
        self.sent: list[str] = []
        self.pause = pause
        self._lock = threading.Lock()

    def send(self, message: OutgoingMessage) -> str:
        time.sleep(self.pause)
        with self._lock:
            if self.errors:
                raise self.errors.pop(0)
            self.sent.append(message.dedupe_key)
            return f"fake-{len(self.sent)}"


# --- Helpers ---------------------------------------------------------------------------


@pytest.fixture
def gateway(core) -> SandboxGateway:
    return SandboxGateway(core.session_factory, core.clock)


@pytest.fixture
def member_id(core) -> int:
    member_id = add_member(core, mrn="20000417", birth_date=date(1975, 6, 30), bills=BILLS)
    set_contact(core, member_id, phone=PHONE, email=EMAIL_ADDRESS)
    return member_id


def set_contact(core, member_id: int, *, phone=None, email=None, language="en") -> None:
    """Put the contacts on file; a member with a phone agreed to texts on it."""
    with core.unit_of_work() as uow:
        member = uow.session.get(Member, member_id)
        member.phone, member.email, member.language = phone, email, language
        uow.commit()
    if phone is not None and receipts.is_e164(phone):
        agree_to_texts(core, member_id)


def card(member_id: int, amount: int = 12000, *, outcome="success", **extra) -> PaymentRequest:
    return PaymentRequest(
        member_id=member_id,
        target=PaymentTarget.bill("B-200"),
        amount_cents=amount,
        token=fixed_token(outcome, "4242"),
        method_kind="card",
        method_brand="visa",
        method_last4="4242",
        idempotency_key=extra.pop("key", uuid.uuid4().hex),
        channel="test",
        **extra,
    )


def pay(core, gateway, request):
    return payments.pay(core.unit_of_work, gateway, request, now=core.clock.now())


def queued(core) -> list[OutboxMessage]:
    with core.unit_of_work() as uow:
        rows = list(uow.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
        # Detached before the unit of work's rollback, which would expire them.
        uow.session.expunge_all()
        return rows


def deliver(core, senders, **options) -> outbox.DeliveryReport:
    return outbox.deliver_pending(core.unit_of_work, senders, now=core.clock.now(), **options)


def queue(core, how_many: int = 1, *, kind: str = EMAIL) -> list[str]:
    """Queue messages straight into the outbox; return their dedupe keys."""
    keys = [f"test:{uuid.uuid4().hex[:8]}:{i}" for i in range(how_many)]
    with core.unit_of_work() as uow:
        for key in keys:
            message = OutgoingMessage(kind, EMAIL_ADDRESS, "Body", key, subject="Subject")
            outbox.enqueue(uow, message, now=core.clock.now())
        uow.commit()
    return keys


# --- Queuing receipts with the payment -------------------------------------------------


def test_a_succeeded_payment_queues_a_text_and_an_email_receipt_with_it(core, gateway, member_id):
    outcome = pay(core, gateway, card(member_id))
    sms, email = queued(core)
    assert (sms.kind, sms.recipient, sms.status, sms.subject) == (
        SMS,
        PHONE,
        OutboxStatus.PENDING,
        None,
    )
    assert (email.kind, email.recipient) == (EMAIL, EMAIL_ADDRESS)
    for message in (sms, email):
        assert outcome.confirmation_number in message.body
        assert "$120.00" in message.body and "Visa ending in 4242" in message.body
        assert message.next_attempt_at == core.clock.now() and message.attempts == 0
    assert sms.dedupe_key.startswith("receipt:") and sms.dedupe_key.endswith(":sms")


def test_a_declined_payment_queues_no_receipt(core, gateway, member_id):
    pay(core, gateway, card(member_id, outcome="declined"))
    assert queued(core) == []


def test_a_member_who_speaks_spanish_gets_a_spanish_receipt(core, gateway, member_id):
    set_contact(core, member_id, phone=PHONE, email=None, language="es")
    pay(core, gateway, card(member_id))
    [sms] = queued(core)
    assert sms.body.startswith("Pago recibido: $120.00 para la factura médica B-200")


def test_the_receipt_text_goes_to_the_number_given_for_it_rather_than_the_one_on_file(
    core, gateway, member_id
):
    pay(core, gateway, card(member_id, receipt_phone="+14155550199"))
    assert [m.recipient for m in queued(core)] == ["+14155550199", EMAIL_ADDRESS]


def test_a_receipt_number_not_written_in_e164_is_refused_before_any_charge(
    core, gateway, member_id
):
    with pytest.raises(PaymentRequestInvalid) as refused:
        pay(core, gateway, card(member_id, receipt_phone="415-555-0199"))
    assert str(refused.value) == "bad_receipt_phone"


def test_a_member_with_no_phone_or_email_on_file_gets_no_receipt(core, gateway, member_id):
    set_contact(core, member_id)
    pay(core, gateway, card(member_id))
    assert queued(core) == []


def test_paying_again_with_the_same_key_queues_no_second_receipt(core, gateway, member_id):
    request = card(member_id, key="same-key")
    pay(core, gateway, request)
    pay(core, gateway, request)
    assert len(queued(core)) == 2


def test_a_payment_settled_by_reconcile_gets_its_receipts_then(core, gateway, member_id):
    outcome = pay(core, gateway, card(member_id, outcome="timeout"))
    assert queued(core) == []
    report = payments.reconcile(core.unit_of_work, gateway, now=core.clock.now())
    assert report.succeeded == (outcome.confirmation_number,)
    assert [m.kind for m in queued(core)] == [SMS, EMAIL]
    payments.reconcile(core.unit_of_work, gateway, now=core.clock.now())
    assert len(queued(core)) == 2


def test_a_message_queued_in_a_transaction_that_rolls_back_is_never_sent(core):
    with core.unit_of_work() as uow:
        message = OutgoingMessage(EMAIL, EMAIL_ADDRESS, "Body", "rolled-back", subject="S")
        assert outbox.enqueue(uow, message, now=core.clock.now())
    assert queued(core) == []


def test_a_dedupe_key_already_queued_is_not_queued_again(core):
    [key] = queue(core)
    with core.unit_of_work() as uow:
        again = OutgoingMessage(EMAIL, "someone@example.org", "Other", key)
        assert not outbox.enqueue(uow, again, now=core.clock.now())
        uow.commit()
    assert [m.recipient for m in queued(core)] == [EMAIL_ADDRESS]


# --- Email through SMTP ----------------------------------------------------------------


def test_a_receipt_email_reaches_the_smtp_server_once_with_its_details(
    core, gateway, member_id, mailbox
):
    outcome = pay(core, gateway, card(member_id))
    report = deliver(core, {EMAIL: smtp_sender(mailbox.port)})
    [email] = mailbox.received
    assert email["To"] == EMAIL_ADDRESS and email["From"] == FROM_ADDRESS
    assert email["Subject"] == f"Your payment receipt, confirmation {outcome.confirmation_number}"
    body = email.get_content()
    assert body.startswith("Hello Ana,") and "Amount paid: $120.00" in body
    [_, sent] = queued(core)
    assert report == outbox.DeliveryReport(sent=(sent.id,))
    assert (sent.status, sent.attempts, sent.sent_at) == (OutboxStatus.SENT, 1, core.clock.now())
    # The dedupe key is the Message-ID, so a repeat of this email would be recognizable.
    assert sent.provider_reference == email["Message-ID"]
    assert email["Message-ID"] == f"<{sent.dedupe_key.replace(':', '.')}@plan.example.org>"
    assert deliver(core, {EMAIL: smtp_sender(mailbox.port)}) == outbox.DeliveryReport()
    assert len(mailbox.received) == 1


def test_an_email_the_server_turns_away_for_now_is_sent_by_a_later_run_exactly_once(core, mailbox):
    queue(core)
    mailbox.turn_away = 1
    first = deliver(core, {EMAIL: smtp_sender(mailbox.port)})
    [message] = queued(core)
    assert first.retrying == (message.id,) and mailbox.received == []
    assert (message.status, message.last_error) == (
        OutboxStatus.PENDING,
        "SMTP message refused (451)",
    )
    assert message.next_attempt_at == core.clock.now() + timedelta(minutes=1)

    core.clock.advance(60)
    second = deliver(core, {EMAIL: smtp_sender(mailbox.port)})
    assert second.sent == (message.id,)
    assert [m["Subject"] for m in mailbox.received] == ["Subject"]
    core.clock.advance(3600)
    deliver(core, {EMAIL: smtp_sender(mailbox.port)})
    assert len(mailbox.received) == 1


def test_an_email_is_sent_by_a_later_run_when_the_smtp_server_could_not_be_reached(core, mailbox):
    queue(core)
    # Port 9 (discard) has nothing listening here: the connection is refused.
    down = deliver(core, {EMAIL: smtp_sender(9)})
    [message] = queued(core)
    assert down.retrying == (message.id,)
    assert message.last_error == "SMTP server unreachable: ConnectionRefusedError"
    core.clock.advance(60)
    assert deliver(core, {EMAIL: smtp_sender(mailbox.port)}).sent == (message.id,)
    assert len(mailbox.received) == 1


def test_an_email_to_a_mailbox_that_does_not_exist_fails_without_retries(core, mailbox):
    queue(core)
    mailbox.unknown_recipients.add(EMAIL_ADDRESS)
    report = deliver(core, {EMAIL: smtp_sender(mailbox.port)})
    [message] = queued(core)
    assert report.failed == (message.id,)
    assert (message.status, message.last_error) == (
        OutboxStatus.FAILED,
        "SMTP recipient refused (550)",
    )


# --- Texts through Twilio --------------------------------------------------------------


def test_a_receipt_text_reaches_twilio_from_the_plan_number(core, gateway, member_id, twilio):
    outcome = pay(core, gateway, card(member_id))
    report = deliver(core, {SMS: sms_sender(twilio)})
    [request] = twilio.requests
    assert twilio.paths == [f"/2010-04-01/Accounts/{TWILIO_SID}/Messages.json"]
    assert (request["To"], request["From"]) == (PHONE, TWILIO_NUMBER)
    assert request["Body"].startswith("Payment received: $120.00 for medical bill B-200")
    assert outcome.confirmation_number in request["Body"]
    sms, email = queued(core)
    assert report.sent == (sms.id,)
    assert (sms.status, sms.provider_reference) == (OutboxStatus.SENT, f"SM{1:032x}")
    # No email sender was given: the email waits, its attempts untouched.
    assert (email.status, email.attempts) == (OutboxStatus.PENDING, 0)


def test_a_text_is_posted_as_twilio_s_library_posts_it(core, twilio):
    queue(core, kind=SMS)
    deliver(core, {SMS: sms_sender(twilio)})
    [headers] = twilio.headers
    credentials = base64.b64encode(f"{TWILIO_SID}:{TWILIO_TOKEN}".encode()).decode()
    assert headers["Authorization"] == f"Basic {credentials}"
    assert headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert headers["Accept"] == "application/json"
    assert sorted(twilio.requests[0]) == ["Body", "From", "To"]


def test_a_twilio_that_cannot_be_reached_leaves_the_text_for_a_retry(core):
    queue(core, kind=SMS)
    sender = TwilioSmsSender(TWILIO_SID, TWILIO_TOKEN, TWILIO_NUMBER, api_base="http://127.0.0.1:9")
    report = deliver(core, {SMS: sender})
    [message] = queued(core)
    assert report.retrying == (message.id,)
    assert message.last_error == "Twilio unreachable: ConnectionError"


def test_a_text_twilio_fails_with_a_server_error_is_sent_by_a_later_run_exactly_once(core, twilio):
    queue(core, kind=SMS)
    twilio.fail_next.append(500)
    first = deliver(core, {SMS: sms_sender(twilio)})
    [message] = queued(core)
    assert first.retrying == (message.id,)
    assert message.last_error == "Twilio HTTP 500 error 20500"
    assert TWILIO_TOKEN not in message.last_error
    core.clock.advance(60)
    assert deliver(core, {SMS: sms_sender(twilio)}).sent == (message.id,)
    core.clock.advance(3600)
    assert deliver(core, {SMS: sms_sender(twilio)}) == outbox.DeliveryReport()
    assert len(twilio.requests) == 2
    [message] = queued(core)
    assert (message.status, message.attempts) == (OutboxStatus.SENT, 2)


def test_a_number_twilio_refuses_fails_without_retries(core, twilio):
    queue(core, kind=SMS)
    twilio.fail_next.append(400)
    report = deliver(core, {SMS: sms_sender(twilio)})
    [message] = queued(core)
    assert report.failed == (message.id,)
    assert (message.status, message.last_error) == (
        OutboxStatus.FAILED,
        "Twilio HTTP 400 error 21211",
    )


# --- Retries, claims and concurrency ---------------------------------------------------


def test_retries_wait_twice_as_long_each_time_up_to_an_hour_then_give_up(core):
    queue(core)
    sender = FakeSender(*(SendError("down") for _ in range(8)))
    waits = []
    for _ in range(7):
        deliver(core, {EMAIL: sender}, max_attempts=8)
        [message] = queued(core)
        waits.append(message.next_attempt_at - core.clock.now())
        core.clock.set(message.next_attempt_at)
    assert [w.total_seconds() / 60 for w in waits] == [1, 2, 4, 8, 16, 32, 60]
    assert queued(core)[0].status is OutboxStatus.PENDING
    report = deliver(core, {EMAIL: sender}, max_attempts=8)
    [message] = queued(core)
    assert report.failed == (message.id,)
    assert (message.status, message.attempts, message.last_error) == (
        OutboxStatus.FAILED,
        8,
        "down",
    )
    core.clock.advance(86400)
    assert deliver(core, {EMAIL: sender}) == outbox.DeliveryReport()


def test_a_message_waiting_for_its_retry_is_not_sent_early(core):
    queue(core)
    sender = FakeSender(SendError("down"))
    deliver(core, {EMAIL: sender})
    core.clock.advance(59)
    assert deliver(core, {EMAIL: sender}) == outbox.DeliveryReport()
    core.clock.advance(1)
    assert len(deliver(core, {EMAIL: sender}).sent) == 1


def test_an_unexpected_error_is_recorded_by_its_type_alone(core):
    queue(core)
    deliver(core, {EMAIL: FakeSender(RuntimeError("login as admin with password hunter2"))})
    [message] = queued(core)
    assert (message.status, message.last_error) == (
        OutboxStatus.PENDING,
        "unexpected RuntimeError",
    )


def test_a_long_error_is_cut_short(core):
    queue(core)
    deliver(core, {EMAIL: FakeSender(SendError("x" * 500))})
    assert len(queued(core)[0].last_error) == 200


def test_a_message_whose_deliverer_died_mid_send_is_sent_again_once_its_claim_lapses(core):
    [key] = queue(core)
    with core.unit_of_work() as uow:
        # What a deliverer that died after claiming leaves behind.
        message = uow.session.scalars(select(OutboxMessage)).one()
        message.status, message.attempts = OutboxStatus.SENDING, 1
        message.next_attempt_at = core.clock.now() + outbox.CLAIM_LEASE
        uow.commit()
    sender = FakeSender()
    assert deliver(core, {EMAIL: sender}) == outbox.DeliveryReport()
    core.clock.advance(outbox.CLAIM_LEASE.total_seconds())
    deliver(core, {EMAIL: sender})
    assert sender.sent == [key]
    [message] = queued(core)
    assert (message.status, message.attempts) == (OutboxStatus.SENT, 2)


def test_two_deliverers_at_once_never_send_a_message_twice(core):
    keys = queue(core, 24)
    sender = FakeSender(pause=0.005)
    barrier = threading.Barrier(2)
    errors: list[Exception] = []

    def run() -> None:
        barrier.wait()
        try:
            while deliver(core, {EMAIL: sender}, batch=3).sent:
                pass
        except Exception as error:  # collected so the test can assert on it
            errors.append(error)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(sender.sent) == sorted(keys)
    assert {m.status for m in queued(core)} == {OutboxStatus.SENT}
    assert all(m.attempts == 1 for m in queued(core))


# --- A batch slower than its claim lease ------------------------------------------------


class SlowSender(FakeSender):
    """A sender each of whose sends takes 4 minutes of the test's clock."""

    def __init__(self, clock, sent: list[str], started: threading.Event) -> None:
        super().__init__(pause=0.02)
        self.clock, self.sent, self.started = clock, sent, started

    def send(self, message: OutgoingMessage) -> str:
        self.started.set()
        self.clock.advance(4 * 60)
        return super().send(message)


def test_a_batch_slower_than_the_claim_lease_is_never_sent_twice_by_two_deliverers(core):
    """Six messages at 4 minutes each outlive a 10-minute lease; a second deliverer running
    all the while must not take over messages the first one still means to send."""
    keys = queue(core, 6)
    sent: list[str] = []
    started = threading.Event()
    slow = SlowSender(core.clock, sent, started)
    fast = FakeSender()
    fast.sent = sent
    errors: list[Exception] = []
    done = threading.Event()

    def first() -> None:
        try:
            deliver(core, {EMAIL: slow}, clock=core.clock.now)
        except Exception as error:  # collected so the test can assert on it
            errors.append(error)
        finally:
            done.set()

    def second() -> None:
        started.wait(10)
        try:
            while not done.is_set():
                deliver(core, {EMAIL: fast}, clock=core.clock.now)
                time.sleep(0.002)
            deliver(core, {EMAIL: fast}, clock=core.clock.now)
        except Exception as error:  # collected so the test can assert on it
            errors.append(error)

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(sent) == sorted(keys)
    assert {(m.status, m.attempts) for m in queued(core)} == {(OutboxStatus.SENT, 1)}


def test_each_message_of_a_slow_run_is_claimed_just_before_it_is_sent(core):
    keys = queue(core, 3)
    seen: list[tuple[str, object]] = []

    class Watching(FakeSender):
        def send(self, message: OutgoingMessage) -> str:
            claimed = {m.dedupe_key: m for m in queued(core)}
            seen.append((message.dedupe_key, claimed[message.dedupe_key].next_attempt_at))
            # Nothing not yet being sent is held by this run.
            assert [m.status for m in claimed.values()].count(OutboxStatus.SENDING) == 1
            core.clock.advance(6 * 60)
            return super().send(message)

    report = deliver(core, {EMAIL: Watching()}, clock=core.clock.now)
    assert len(report.sent) == 3
    start = queued(core)[0].created_at
    lease = outbox.CLAIM_LEASE
    assert seen == [(key, start + timedelta(minutes=6 * i) + lease) for i, key in enumerate(keys)]


# --- An SMTP server that answers after the client stopped waiting ------------------------


def slow_smtp_sender(port: int) -> SmtpSender:
    return SmtpSender("127.0.0.1", port, sender_address=FROM_ADDRESS, timeout_seconds=0.4)


def wait_for(mailbox: Mailbox, count: int) -> None:
    deadline = time.monotonic() + 5
    while len(mailbox.received) < count and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(0.8)  # any late delivery would have arrived by now


def test_an_email_whose_answer_comes_too_late_is_retried_once_then_left_as_unknown(core, mailbox):
    [key] = queue(core)
    mailbox.slow_answers = [1.0] * 5
    sender = slow_smtp_sender(mailbox.port)
    reports = []
    for _ in range(5):
        reports.append(deliver(core, {EMAIL: sender}))
        core.clock.advance(outbox.LONGEST_RETRY.total_seconds())
    wait_for(mailbox, 2)
    [message] = queued(core)
    # The server took it each time: it went out twice at most, never a third time.
    assert len(mailbox.received) == 2
    # Both carry the one Message-ID of this outbox message, so the receiver can deduplicate.
    assert {m["Message-ID"] for m in mailbox.received} == {
        f"<{key.replace(':', '.')}@plan.example.org>"
    }
    assert reports[0].retrying == (message.id,) and reports[1].unknown == (message.id,)
    assert all(r == outbox.DeliveryReport() for r in reports[2:])
    assert (message.status, message.attempts) == (OutboxStatus.UNKNOWN, 2)
    assert message.last_error.startswith(outbox.ANSWER_LOST)
    assert "no answer after the message was sent" in message.last_error


def test_an_email_whose_first_answer_was_lost_is_sent_once_more_under_its_message_id(core, mailbox):
    [key] = queue(core)
    mailbox.slow_answers = [1.0]
    sender = slow_smtp_sender(mailbox.port)
    first = deliver(core, {EMAIL: sender})
    [message] = queued(core)
    assert first.retrying == (message.id,) and message.status is OutboxStatus.PENDING
    assert message.last_error.startswith(outbox.ANSWER_LOST)
    wait_for(mailbox, 1)
    core.clock.advance(outbox.FIRST_RETRY.total_seconds())
    second = deliver(core, {EMAIL: sender})
    assert second.sent == (message.id,)
    ids = [m["Message-ID"] for m in mailbox.received]
    assert ids == [f"<{key.replace(':', '.')}@plan.example.org>"] * 2
    [message] = queued(core)
    assert (message.status, message.last_error) == (OutboxStatus.SENT, None)


def test_a_server_that_cannot_be_reached_is_not_mistaken_for_a_lost_answer(core):
    queue(core)
    # Nothing listens on this port: the message was never sent, so plain retries are right.
    sender = SmtpSender("127.0.0.1", 9, sender_address=FROM_ADDRESS, timeout_seconds=1)
    for _ in range(3):
        report = deliver(core, {EMAIL: sender})
        core.clock.advance(outbox.LONGEST_RETRY.total_seconds())
        assert len(report.retrying) == 1
    [message] = queued(core)
    assert message.status is OutboxStatus.PENDING
    assert not message.last_error.startswith(outbox.ANSWER_LOST)
