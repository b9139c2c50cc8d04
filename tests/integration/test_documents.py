"""Statements and letters: PDFs made from what the phone reads, emailed or queued for mail.

Each PDF is opened with pypdf and read as a member would read it.
"""

from __future__ import annotations

import csv
import io
import uuid
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from billing_core.adapters.gateways.sandbox import fixed_token
from billing_core.adapters.models import (
    AuditEvent,
    DocumentRequest,
    FeedPayment,
    MedicalBill,
    Member,
    OutboxMessage,
)
from billing_core.adapters.pdf_documents import PdfDocument, PdfTable, printable, render
from billing_core.domain.exceptions import DocumentNotDeliverable, DocumentRequestInvalid
from billing_core.domain.payments import PaymentStatus, PaymentTarget
from billing_core.services import outbox
from billing_core.services.feed_import import import_feed, load_feed_file
from billing_core.services.outbox import EMAIL
from billing_core.services.payments import PaymentRequest
from tests.integration.test_outbox import mailbox, smtp_sender  # noqa: F401 (a fixture)
from tests.members import add_member

ROOT = Path(__file__).resolve().parents[2]
MRN = "20000417"
EMAIL_ADDRESS = "ana.tester@example.org"
BILLS = [
    ("B-200", date(2026, 9, 14), "Oakland Medical Center", 12000, 0, date(2026, 12, 15)),
    ("B-201", date(2026, 10, 2), "Richmond Medical Offices", 8050, 2050, date(2026, 12, 31)),
]
PREMIUMS = [(date(2026, 11, 1), 41200, 41200), (date(2026, 12, 1), 41200, 0)]


@pytest.fixture
def member_id(core) -> int:
    member_id = add_member(
        core, mrn=MRN, birth_date=date(1975, 6, 30), bills=BILLS, premiums=PREMIUMS
    )
    contact(core, member_id, email=EMAIL_ADDRESS)
    return member_id


def contact(core, member_id: int, *, email=None, address=None, language="en", **names) -> None:
    with core.unit_of_work() as uow:
        member = uow.session.get(Member, member_id)
        member.email, member.language = email, language
        line1, line2, city, state, zip_code = address or (None,) * 5
        member.address_line1, member.address_line2 = line1, line2
        member.address_city, member.address_state, member.address_zip = city, state, zip_code
        for name, value in names.items():
            setattr(member, name, value)
        uow.commit()


def pay(
    core, member_id: int, target: PaymentTarget, cents: int, *, outcome="success", last4="4242"
):
    return core.pay(
        PaymentRequest(
            member_id=member_id,
            target=target,
            amount_cents=cents,
            token=fixed_token(outcome, last4),
            method_kind="card",
            method_brand="visa",
            method_last4=last4,
            idempotency_key=uuid.uuid4().hex,
            channel="phone",
        )
    )


def document_row(core, document_id: int) -> DocumentRequest:
    with core.unit_of_work() as uow:
        row = uow.session.get(DocumentRequest, document_id)
        uow.session.expunge(row)
        return row


def text_of(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def pdf_text(core, document_id: int) -> str:
    return text_of(document_row(core, document_id).pdf)


def audit_actions(core) -> list[tuple[str, dict]]:
    with core.unit_of_work() as uow:
        events = uow.session.scalars(select(AuditEvent).order_by(AuditEvent.id))
        return [(event.action, event.detail) for event in events]


def outbox_rows(core) -> list[OutboxMessage]:
    with core.unit_of_work() as uow:
        rows = list(uow.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
        uow.session.expunge_all()
        return rows


# --- what each document says -------------------------------------------------------------


def test_a_premium_statement_shows_each_premium_month_paid_and_due_with_the_totals(core, member_id):
    sent = core.request_document(member_id, "premium_statement", channel="phone")
    text = pdf_text(core, sent.document_id)

    assert "Kaiser Permanente" in text and "Premium statement" in text
    assert "Ana Tester" in text
    assert "November 2026" in text and "December 2026" in text
    assert "$412.00" in text
    # Billed $824.00 in all, $412.00 paid, $412.00 still due.
    assert "$824.00" in text
    # Due as the region's rule says: the last day of the month before.
    assert "Oct 31, 2026" in text and "Nov 30, 2026" in text
    assert "Date issued" in text and "Nov 27, 2026" in text
    assert sent.pages == 1 and "Page 1 of 1" in text


def test_only_the_last_four_of_the_mrn_are_printed(core, member_id):
    for kind in ("premium_statement", "bill_statement", "payment_history", "tax_letter"):
        text = pdf_text(core, core.request_document(member_id, kind, channel="phone").document_id)
        assert "ending in 0417" in text
        assert MRN not in text.replace(" ", "")


def test_a_medical_bill_statement_shows_each_visit_and_the_total(core, member_id):
    sent = core.request_document(member_id, "bill_statement", channel="phone")
    text = pdf_text(core, sent.document_id)

    assert "Medical bill statement" in text
    assert "Oakland Medical Center" in text and "Richmond Medical Offices" in text
    assert "Dr. Test" in text
    assert "Sep 14, 2026" in text and "Oct 2, 2026" in text
    assert "$120.00" in text and "$80.50" in text and "$20.50" in text and "$60.00" in text
    assert "Adjustments" in text and "$0.00" in text
    # Billed $200.50, paid $20.50, $180.00 due.
    assert "$200.50" in text and "$180.00" in text
    assert "Total" in text


def test_a_bill_statement_paid_on_the_phone_shows_the_payment(core, member_id):
    pay(core, member_id, PaymentTarget.bill("B-200"), 5000)
    text = pdf_text(
        core, core.request_document(member_id, "bill_statement", channel="phone").document_id
    )
    assert "$50.00" in text and "$70.00" in text
    # Paid $70.50 of $200.50 in all: $130.00 due.
    assert "$70.50" in text and "$130.00" in text


def test_a_payment_history_letter_lists_exactly_the_recent_payments_newest_first(
    core, member_id, clock
):
    clock.set(datetime(2025, 9, 1, 18, tzinfo=UTC))
    too_old = pay(core, member_id, PaymentTarget.bill("B-200"), 1111)
    clock.set(datetime(2026, 3, 2, 18, tzinfo=UTC))
    first = pay(core, member_id, PaymentTarget.bill("B-200"), 2500)
    clock.set(datetime(2026, 10, 5, 18, tzinfo=UTC))
    declined = pay(core, member_id, PaymentTarget.bill("B-201"), 1000, outcome="declined")
    second = pay(core, member_id, PaymentTarget.premium(), 41200, last4="1881")
    clock.set(datetime(2026, 11, 27, 20, tzinfo=UTC))
    assert declined.status is PaymentStatus.FAILED

    recent = core.recent_payments(member_id)
    text = pdf_text(
        core, core.request_document(member_id, "payment_history", channel="phone").document_id
    )

    assert [line.confirmation_number for line in recent] == [
        second.confirmation_number,
        first.confirmation_number,
    ]
    for line in recent:
        assert line.confirmation_number in text
    assert "$412.00" in text and "$25.00" in text
    assert too_old.confirmation_number not in text and "$11.11" not in text
    assert declined.confirmation_number not in text
    # Newest first, as the phone reads them.
    assert text.index(second.confirmation_number) < text.index(first.confirmation_number)
    assert "Premium" in text and "Medical bill B-200" in text
    assert "Visa ending in 1881" in text and "Visa ending in 4242" in text
    assert "Oct 5, 2026" in text and "Mar 2, 2026" in text


def paid_elsewhere(core, member_id: int, *payments: tuple) -> None:
    """Store payments as the billing feed reports them: (reference, day, cents, channel, bill)."""
    with core.unit_of_work() as uow:
        for reference, day, cents, channel, bill in payments:
            uow.session.add(
                FeedPayment(
                    member_id=member_id, reference=reference, paid_on=day, amount_cents=cents,
                    channel=channel, bill_number=bill,
                    coverage_month=None if bill else date(2026, 11, 1),
                    updated_at=core.clock.now(),
                )
            )  # fmt: skip
        uow.commit()


def test_a_payment_history_letter_lists_payments_made_elsewhere_as_the_phone_reads_them(
    core, member_id, clock
):
    clock.set(datetime(2026, 10, 5, 18, tzinfo=UTC))
    own = pay(core, member_id, PaymentTarget.premium(), 41200)
    clock.set(datetime(2026, 11, 27, 20, tzinfo=UTC))
    paid_elsewhere(
        core,
        member_id,
        ("WEB-77", date(2026, 11, 2), 2050, "web", "B-201"),
        ("CHK-12", date(2026, 9, 1), 41200, "mail", None),
        ("AG-5", date(2025, 10, 1), 999, "agent", "B-200"),  # 13 months back and more
    )

    heard = core.payment_history(member_id)
    text = pdf_text(
        core, core.request_document(member_id, "payment_history", channel="phone").document_id
    )

    assert [line.reference for line in heard] == ["WEB-77", own.confirmation_number, "CHK-12"]
    positions = [text.index(line.reference) for line in heard]
    assert positions == sorted(positions)  # the letter's order is the phone's
    assert "Paid online" in text and "Paid by mail" in text
    assert "$20.50" in text and "Medical bill B-201" in text
    assert "AG-5" not in text and "$9.99" not in text


def test_a_bill_statement_shows_each_bill_s_insurance_and_adjustments(core, member_id):
    with core.unit_of_work() as uow:
        bill = uow.session.scalars(select(MedicalBill).where(MedicalBill.bill_number == "B-200"))
        bill.one().adjustments_cents = 4500
        uow.commit()

    text = pdf_text(
        core, core.request_document(member_id, "bill_statement", channel="phone").document_id
    )

    # B-200: $120.00 billed, $45.00 of adjustments, nothing paid: $75.00 due.
    assert "$45.00" in text and "$75.00" in text
    # Both bills: $60.00 + $75.00 = $135.00 still due.
    assert "$135.00" in text


def test_a_payment_history_letter_with_no_payments_says_so(core, member_id):
    text = pdf_text(
        core, core.request_document(member_id, "payment_history", channel="phone").document_id
    )
    assert "No payments were made on your account in the last 13 months." in text


def test_a_tax_letter_lists_the_year_s_succeeded_premium_payments_and_their_total(
    core, member_id, clock
):
    with core.unit_of_work() as uow:
        member = uow.session.get(Member, member_id)
        from billing_core.adapters.models import PremiumInvoice

        for month in (date(2025, 1, 1), date(2025, 12, 1)):
            member.premiums.append(
                PremiumInvoice(
                    coverage_month=month,
                    amount_cents=40000,
                    paid_cents=0,
                    feed_paid_cents=0,
                    updated_at=clock.now(),
                )
            )
        uow.commit()
    clock.set(datetime(2025, 1, 10, 18, tzinfo=UTC))
    january = pay(core, member_id, PaymentTarget.premium(), 40000)
    declined = pay(core, member_id, PaymentTarget.premium(), 40000, outcome="declined")
    not_premium = pay(core, member_id, PaymentTarget.bill("B-200"), 3000)
    # 7 pm on December 31 in California is already 2026 in UTC: still a 2025 payment.
    clock.set(datetime(2026, 1, 1, 3, tzinfo=UTC))
    december = pay(core, member_id, PaymentTarget.premium(), 40000)
    clock.set(datetime(2026, 1, 10, 18, tzinfo=UTC))
    next_year = pay(core, member_id, PaymentTarget.premium(), 41200)
    clock.set(datetime(2026, 11, 27, 20, tzinfo=UTC))

    sent = core.request_document(member_id, "tax_letter", 2025, channel="phone")
    text = pdf_text(core, sent.document_id)

    assert "Premium payments in 2025" in text and "Tax year" in text
    assert january.confirmation_number in text and december.confirmation_number in text
    assert "Jan 10, 2025" in text and "Dec 31, 2025" in text
    assert "January 2025" in text and "December 2025" in text
    assert "$800.00" in text
    for other in (declined, not_premium, next_year):
        assert other.confirmation_number not in text
    assert document_row(core, sent.document_id).year == 2025


def test_a_tax_letter_without_a_year_is_for_last_year(core, member_id):
    sent = core.request_document(member_id, "tax_letter", channel="phone")
    text = pdf_text(core, sent.document_id)
    assert "Premium payments in 2025" in text
    assert "We received no premium payments from you in 2025." in text


def test_a_tax_letter_for_a_year_to_come_or_a_year_for_a_statement_is_refused(core, member_id):
    with pytest.raises(DocumentRequestInvalid) as future:
        core.request_document(member_id, "tax_letter", 2027, channel="phone")
    with pytest.raises(DocumentRequestInvalid) as statement:
        core.request_document(member_id, "premium_statement", 2025, channel="phone")
    with pytest.raises(DocumentRequestInvalid) as unknown:
        core.request_document(member_id, "love_letter", channel="phone")
    assert (future.value.reason, statement.value.reason, unknown.value.reason) == (
        "bad_year",
        "year_not_used",
        "unknown_kind",
    )


def test_a_spanish_speaking_member_gets_the_document_and_its_email_in_spanish(core, member_id):
    contact(core, member_id, email=EMAIL_ADDRESS, language="es", first_name="Begoña")
    sent = core.request_document(member_id, "premium_statement", channel="phone")
    text = pdf_text(core, sent.document_id)

    assert "Estado de cuenta de la prima" in text
    assert "Hola, Begoña:" in text and "Hello" not in text
    assert "Begoña Tester" in text
    assert "Miembro" in text and "Fecha de emisión" in text and "terminado en 0417" in text
    assert "noviembre de 2026" in text
    assert "Página 1 de 1" in text
    assert "¿Preguntas?" in text
    [email] = outbox_rows(core)
    assert email.subject == "Su estado de cuenta de la prima de Kaiser Permanente"
    assert email.body.startswith("Hola, Begoña:")


def test_a_name_outside_latin_1_is_printed_with_its_plain_letters():
    assert printable("Nguyễn Thị Ánh") == "Nguyen Thi Ánh"
    assert printable("Zoë Muñoz") == "Zoë Muñoz"
    document = PdfDocument(
        plan_name="Plan",
        title="Title",
        details=(("Member", "Trần Nguyễn"),),
        paragraphs=(),
        table=PdfTable(headings=("A",), rows=(("Łódź",),), widths=(1,)),
        empty_table="",
    )
    assert "Tran Nguyen" in text_of(render(document).content)


def test_a_long_statement_runs_to_more_pages_numbered_on_each(core, member_id):
    with core.unit_of_work() as uow:
        from billing_core.adapters.models import MedicalBill

        member = uow.session.get(Member, member_id)
        for number in range(80):
            member.bills.append(
                MedicalBill(
                    bill_number=f"L-{number}",
                    date_of_service=date(2026, 1, 1),
                    facility="Oakland Medical Center",
                    provider="Dr. Test",
                    amount_cents=1000,
                    paid_cents=0,
                    feed_paid_cents=0,
                    due_date=date(2026, 12, 31),
                    updated_at=core.clock.now(),
                )
            )
        uow.commit()
    sent = core.request_document(member_id, "bill_statement", channel="phone")
    text = pdf_text(core, sent.document_id)
    assert sent.pages >= 2
    assert f"Page {sent.pages} of {sent.pages}" in text
    # 80 bills of $10.00 and the two others: $1,000.50 billed.
    assert "$1,000.50" in text


# --- where it goes -----------------------------------------------------------------------


def test_an_email_on_file_queues_an_email_with_the_pdf_attached(core, member_id):
    sent = core.request_document(member_id, "bill_statement", channel="phone", call_sid="CA1")
    assert (sent.kind, sent.delivery) == ("bill_statement", "email")
    [message] = outbox_rows(core)
    assert (message.kind, message.recipient, message.document_id) == (
        EMAIL,
        EMAIL_ADDRESS,
        sent.document_id,
    )
    assert message.subject == "Your medical bill statement from Kaiser Permanente"
    assert "attached to this email as a PDF" in message.body
    row = document_row(core, sent.document_id)
    assert (row.delivery, row.mail_address, row.file_name) == (
        "email",
        None,
        f"bill-statement-{sent.document_id}.pdf",
    )
    assert audit_actions(core)[-1] == (
        "document_requested",
        {
            "document_id": sent.document_id,
            "kind": "bill_statement",
            "year": None,
            "delivery": "email",
        },
    )


def test_the_email_reaches_smtp_as_a_multipart_message_with_the_pdf(core, member_id, mailbox):  # noqa: F811
    sent = core.request_document(member_id, "payment_history", channel="phone")
    report = outbox.deliver_pending(
        core.unit_of_work, {EMAIL: smtp_sender(mailbox.port)}, now=core.clock.now()
    )
    [email] = mailbox.received
    assert len(report.sent) == 1
    assert email.is_multipart() and email.get_content_type() == "multipart/mixed"
    body, attachment = list(email.iter_parts())
    assert body.get_content_type() == "text/plain"
    assert "attached to this email as a PDF" in body.get_content()
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_filename() == f"payment-history-{sent.document_id}.pdf"
    pdf = attachment.get_content()
    assert pdf == document_row(core, sent.document_id).pdf
    assert "Payment history" in text_of(pdf)


def test_a_receipt_email_still_goes_as_plain_text_without_an_attachment(core, member_id, mailbox):  # noqa: F811
    pay(core, member_id, PaymentTarget.bill("B-200"), 5000)
    outbox.deliver_pending(
        core.unit_of_work, {EMAIL: smtp_sender(mailbox.port)}, now=core.clock.now()
    )
    [email] = mailbox.received
    assert not email.is_multipart() and email.get_content_type() == "text/plain"


def test_without_an_email_a_document_is_queued_for_mail_to_the_address_on_file(core, member_id):
    address = ("12 Grand Ave", "Unit 3", "Oakland", "CA", "94612")
    contact(core, member_id, address=address)
    sent = core.request_document(member_id, "premium_statement", channel="phone")
    assert sent.delivery == "mail"
    assert outbox_rows(core) == []
    row = document_row(core, sent.document_id)
    assert row.mail_address == ["12 Grand Ave", "Unit 3", "Oakland, CA 94612"]
    # The address sits on the page for a window envelope.
    text = text_of(row.pdf)
    assert "12 Grand Ave" in text and "Oakland, CA 94612" in text


def test_with_neither_email_nor_address_the_request_is_refused_with_the_reason(core, member_id):
    contact(core, member_id, email=None)
    with pytest.raises(DocumentNotDeliverable) as refused:
        core.request_document(member_id, "tax_letter", channel="phone", call_sid="CA2")
    assert refused.value.reason == "no_email_or_address"
    with core.unit_of_work() as uow:
        assert uow.session.scalars(select(DocumentRequest)).all() == []
    assert outbox_rows(core) == []
    assert audit_actions(core) == [
        ("document_refused", {"kind": "tax_letter", "reason": "no_email_or_address"})
    ]


# --- the print vendor's export -----------------------------------------------------------


def mailed_member(core, mrn: str, first_name: str, address) -> int:
    member_id = add_member(core, mrn=mrn, birth_date=date(1980, 1, 1), first_name=first_name)
    contact(core, member_id, address=address)
    return member_id


def test_export_print_writes_each_mailed_pdf_and_a_manifest_then_the_same_again(
    app, core, member_id, clock, tmp_path
):
    lena = mailed_member(core, "30000001", "Lena", ("1 Elm St", None, "Denver", "CO", "80202"))
    omar = mailed_member(core, "30000002", "Omar", ("9 Oak Rd", "Apt 7", "Atlanta", "GA", "30303"))
    clock.set(datetime(2026, 11, 30, 15, tzinfo=UTC))
    before = core.request_document(lena, "tax_letter", channel="phone")
    clock.set(datetime(2026, 12, 1, 15, tzinfo=UTC))
    first = core.request_document(lena, "premium_statement", channel="phone")
    emailed = core.request_document(member_id, "premium_statement", channel="phone")
    second = core.request_document(omar, "payment_history", channel="phone")
    clock.set(datetime(2026, 12, 2, 9, tzinfo=UTC))

    runner = app.test_cli_runner()
    out = tmp_path / "print"
    result = runner.invoke(
        args=["documents", "export-print", "--since", "2026-12-01", "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "documents: 2 (2 not exported before)" in result.output

    names = sorted(path.name for path in out.iterdir())
    assert names == sorted(
        [
            "manifest-2026-12-01.csv",
            f"premium-statement-{first.document_id}.pdf",
            f"payment-history-{second.document_id}.pdf",
        ]
    )
    assert f"-{before.document_id}.pdf" not in " ".join(names)
    assert f"-{emailed.document_id}.pdf" not in " ".join(names)
    manifest = list(csv.DictReader(io.StringIO((out / "manifest-2026-12-01.csv").read_text())))
    assert manifest == [
        {
            "document_id": str(first.document_id),
            "kind": "premium_statement",
            "file_name": f"premium-statement-{first.document_id}.pdf",
            "member_name": "Lena Tester",
            "address_line1": "1 Elm St",
            "address_line2": "Denver, CO 80202",
            "address_line3": "",
            "pages": "1",
            "created_at": "2026-12-01T15:00:00Z",
        },
        {
            "document_id": str(second.document_id),
            "kind": "payment_history",
            "file_name": f"payment-history-{second.document_id}.pdf",
            "member_name": "Omar Tester",
            "address_line1": "9 Oak Rd",
            "address_line2": "Apt 7",
            "address_line3": "Atlanta, GA 30303",
            "pages": "1",
            "created_at": "2026-12-01T15:00:00Z",
        },
    ]
    pdf = (out / f"premium-statement-{first.document_id}.pdf").read_bytes()
    assert "Lena Tester" in text_of(pdf) and "Premium statement" in text_of(pdf)
    assert document_row(core, first.document_id).exported_at == clock.now()
    assert document_row(core, before.document_id).exported_at is None

    written = {path.name: path.read_bytes() for path in out.iterdir()}
    clock.set(datetime(2026, 12, 3, 9, tzinfo=UTC))
    again = runner.invoke(
        args=["documents", "export-print", "--since", "2026-12-01", "-o", str(out)]
    )
    assert again.exit_code == 0, again.output
    assert "documents: 2 (0 not exported before)" in again.output
    assert {path.name: path.read_bytes() for path in out.iterdir()} == written
    # Still the day of the first export.
    assert document_row(core, first.document_id).exported_at == datetime(2026, 12, 2, 9, tzinfo=UTC)


def test_export_print_with_a_bad_day_is_refused(app):
    result = app.test_cli_runner().invoke(args=["documents", "export-print", "--since", "Monday"])
    assert result.exit_code != 0
    assert "Monday" in result.output


# --- from the billing feed ---------------------------------------------------------------


def test_a_member_the_feed_gives_an_address_and_no_email_gets_spanish_letters_by_mail(core):
    records = load_feed_file(
        ROOT / "examples" / "billing-feed.json", regions=core.regions, today=date(2026, 11, 27)
    )
    import_feed(core.unit_of_work(), records=records, hasher=core.hasher, now=core.clock.now())
    with core.unit_of_work() as uow:
        luis = uow.session.scalars(select(Member).where(Member.first_name == "Luis")).one()
        assert (luis.address_line1, luis.address_zip) == ("4820 Fallstaff Road", "21215")
        luis_id = luis.id
    sent = core.request_document(luis_id, "premium_statement", channel="phone")
    assert sent.delivery == "mail"
    text = pdf_text(core, sent.document_id)
    assert "Estado de cuenta de la prima" in text and "Baltimore, MD 21215" in text
    assert "$615.50" in text
