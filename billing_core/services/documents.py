"""Members' statements and letters as PDFs, emailed as an attachment or queued for mail.

A premium statement, a medical bill statement, a payment-history letter and a year's tax
letter, made from the data the phone reads: the member's bills and premium months (as
account_summary reads them), payment_history's list, and the year's succeeded premium
payments. The English words are here; their Spanish is in billing_core/translations.
The layout is billing_core.adapters.pdf_documents.

The PDF is made once, when asked for, and kept with the request: a retried email and a
second print export carry the very document the member asked for, with the balances of
that moment.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from pathlib import Path

from babel.dates import format_date, format_skeleton

from billing_core.adapters import pdf_documents
from billing_core.adapters.models import Member
from billing_core.adapters.pdf_documents import PdfDocument, PdfTable
from billing_core.adapters.print_manifest import ManifestRow, manifest_csv
from billing_core.adapters.queries import accounts as account_queries
from billing_core.adapters.queries import documents as queries
from billing_core.adapters.queries import preferences as preference_queries
from billing_core.adapters.translations import N_, Words
from billing_core.adapters.unit_of_work import UnitOfWork
from billing_core.domain.documents import (
    EARLIEST_TAX_YEAR,
    NO_EMAIL_OR_ADDRESS,
    Delivery,
    DocumentKind,
)
from billing_core.domain.exceptions import (
    DocumentNotDeliverable,
    DocumentRequestInvalid,
    MemberNotFound,
)
from billing_core.domain.money import LOCALES, format_amount, locale_for
from billing_core.domain.payments import TargetKind
from billing_core.domain.regions import Region, RegionCatalog
from billing_core.services import audit, history, outbox
from billing_core.services.history import HistoryLine
from billing_core.services.receipts import method_words

DEFAULT_LANGUAGE = "en"
HISTORY_MONTHS = 13
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")

# The English of every document; other languages come from billing_core/translations.
_WORDS = {
    "premium_statement": N_("Premium statement"),
    "bill_statement": N_("Medical bill statement"),
    "payment_history": N_("Payment history"),
    "tax_letter": N_("Premium payments in {year}"),
    "premium_statement_name": N_("premium statement"),
    "bill_statement_name": N_("medical bill statement"),
    "payment_history_name": N_("payment history letter"),
    "tax_letter_name": N_("tax letter for {year}"),
    "member": N_("Member"),
    "mrn": N_("Medical record number"),
    "mrn_ending": N_("ending in {last4}"),
    "issued": N_("Date issued"),
    "tax_year": N_("Tax year"),
    "hello": N_("Hello {name},"),
    "premium_intro": N_(
        "These are your premium months: what each month costs, what has been paid, "
        "and what is still due."
    ),
    "premium_none": N_("There are no premium months on your account."),
    "bill_intro": N_(
        "These are your medical bills, one line per visit: what was billed, what has been "
        "paid, any adjustments, and what is still due."
    ),
    "bill_none": N_("There are no medical bills on your account."),
    "history_intro": N_(
        "These are the payments made on your account in the last 13 months, newest first."
    ),
    "history_none": N_("No payments were made on your account in the last 13 months."),
    "tax_intro": N_(
        "These are the premium payments we received from you in {year}, and their total. "
        "Please keep this letter with your tax records."
    ),
    "tax_none": N_("We received no premium payments from you in {year}."),
    "questions": N_("Questions? Call the number on your member ID card."),
    "coverage_month": N_("Coverage month"),
    "amount": N_("Amount"),
    "paid": N_("Paid"),
    "balance": N_("Balance"),
    "due_date": N_("Due date"),
    "date_of_service": N_("Date of service"),
    "facility": N_("Facility"),
    "provider": N_("Provider"),
    "billed": N_("Billed"),
    "adjustments": N_("Adjustments"),
    "date": N_("Date"),
    "paid_for": N_("Paid for"),
    "paid_with": N_("Paid with"),
    "confirmation": N_("Confirmation"),
    "status": N_("Status"),
    "date_paid": N_("Date paid"),
    "total": N_("Total"),
    "for_bill": N_("Medical bill {bill}"),
    "for_all_bills": N_("Medical bills"),
    "for_premium": N_("Premium"),
    "for_plan": N_("Payment plan"),
    "paid_web": N_("Paid online"),
    "paid_mail": N_("Paid by mail"),
    "paid_agent": N_("Paid with a billing specialist"),
    "paid_in_person": N_("Paid in person"),
    "succeeded": N_("Received"),
    "submitted": N_("Submitted"),
    "settled": N_("Received"),
    "returned": N_("Returned by the bank"),
    "voided": N_("Cancelled"),
    "refunded": N_("Refunded"),
    "pending": N_("In progress"),
    "unknown": N_("Being checked"),
    "page": N_("Page {page} of {pages}"),
    "email_subject": N_("Your {document} from {plan}"),
    "email_body": N_(
        "Hello {name},\n\n"
        "Your {document} is attached to this email as a PDF file.\n\n"
        "If you did not ask for it, please call the number on your member ID card.\n"
    ),
}


@dataclass(frozen=True)
class DocumentRequested:
    """A document made and on its way: emailed (through the outbox) or queued for mail."""

    document_id: int
    kind: DocumentKind
    delivery: Delivery
    pages: int


@dataclass(frozen=True)
class PrintExport:
    """What an export for the print vendor wrote: the documents, the manifest, what was new."""

    document_ids: tuple[int, ...]
    files: tuple[Path, ...]
    manifest: Path
    newly_exported: int


def delivery_for(uow_factory: Callable[[], UnitOfWork], member_id: int) -> Delivery | None:
    """Where the member's statements and letters go now (see preferred_delivery)."""
    with uow_factory() as uow:
        member = uow.session.get(Member, member_id)
        if member is None:
            raise MemberNotFound(member_id)
        return preferred_delivery(uow, member)


def preferred_delivery(uow: UnitOfWork, member: Member) -> Delivery | None:
    """Where the member's documents go: email, mail, or None when neither is possible.

    A paperless member's go by email; the others' by mail, or by email when there is no
    mailing address on file but an email address.
    """
    email = member.email and _EMAIL.fullmatch(member.email.strip())
    if email and preference_queries.open_paperless(uow, member.id) is not None:
        return Delivery.EMAIL
    if mailing_address(member):
        return Delivery.MAIL
    if email:
        return Delivery.EMAIL
    return None


def mailing_address(member: Member) -> tuple[str, ...]:
    """The address lines a letter is mailed to (without the name); empty if none is on file."""
    if not (
        member.address_line1 and member.address_city and member.address_state and member.address_zip
    ):
        return ()
    lines = [member.address_line1]
    if member.address_line2:
        lines.append(member.address_line2)
    lines.append(f"{member.address_city}, {member.address_state} {member.address_zip}")
    return tuple(lines)


def request_document(
    uow_factory: Callable[[], UnitOfWork],
    *,
    member_id: int,
    kind: str,
    year: int | None,
    channel: str,
    call_sid: str | None,
    regions: RegionCatalog,
    now: datetime,
) -> DocumentRequested:
    """Make the document and email it or queue it for mail; audited, refused or not.

    Raises DocumentRequestInvalid for an unknown kind or a year that does not fit it,
    DocumentNotDeliverable when the member has neither an email nor a mailing address.
    """
    try:
        document_kind = DocumentKind(kind)
    except ValueError:
        raise DocumentRequestInvalid("unknown_kind") from None
    paid: tuple[HistoryLine, ...] = ()
    if document_kind is DocumentKind.PAYMENT_HISTORY:
        # The very list the phone reads as recent payments (not audited there: here it is).
        paid = history.payment_history(
            uow_factory, member_id, regions=regions, now=now, months=HISTORY_MONTHS
        )
    with uow_factory() as uow:
        member = account_queries.member_with_bills_and_premiums(uow, member_id)
        if member is None:
            raise MemberNotFound(member_id)
        region = regions.get(member.region_key)
        today = region.local_time(now).date()
        year = _checked_year(document_kind, year, today)
        delivery = preferred_delivery(uow, member)
        if delivery is None:
            audit.record(
                uow,
                at=now,
                action="document_refused",
                channel=channel,
                call_sid=call_sid,
                member_id=member.id,
                detail={"kind": document_kind.value, "reason": NO_EMAIL_OR_ADDRESS},
            )
            uow.commit()
            raise DocumentNotDeliverable(NO_EMAIL_OR_ADDRESS)
        language = member.language if member.language in LOCALES else DEFAULT_LANGUAGE
        words = _translated(language)
        name = f"{member.first_name} {member.last_name}"
        address = mailing_address(member) if delivery is Delivery.MAIL else ()
        document = _document(
            uow,
            document_kind,
            member=member,
            region=region,
            plan_name=regions.plan_name,
            year=year,
            history=paid,
            words=words,
            language=language,
            now=now,
            address_block=(name, *address) if address else (),
        )
        rendered = pdf_documents.render(document)
        row = queries.add_document(
            uow,
            member_id=member.id,
            kind=document_kind.value,
            year=year,
            language=language,
            delivery=delivery.value,
            member_name=name,
            mail_address=list(address) if address else None,
            file_name="",
            pdf=rendered.content,
            pages=rendered.pages,
            channel=channel,
            call_sid=call_sid,
            created_at=now,
        )
        row.file_name = f"{document_kind.value.replace('_', '-')}-{row.id}.pdf"
        if delivery is Delivery.EMAIL:
            assert member.email is not None
            fields = {
                "document": words[f"{document_kind.value}_name"].format(year=year),
                "plan": regions.plan_name,
                "name": member.first_name,
            }
            outbox.enqueue(
                uow,
                outbox.OutgoingMessage(
                    kind=outbox.EMAIL,
                    recipient=member.email.strip(),
                    subject=words["email_subject"].format(**fields),
                    body=words["email_body"].format(**fields),
                    dedupe_key=f"document:{row.id}:{outbox.EMAIL}",
                ),
                now=now,
                document_id=row.id,
            )
        audit.record(
            uow,
            at=now,
            action="document_requested",
            channel=channel,
            call_sid=call_sid,
            member_id=member.id,
            detail={
                "document_id": row.id,
                "kind": document_kind.value,
                "year": year,
                "delivery": delivery.value,
            },
        )
        uow.commit()
        return DocumentRequested(row.id, document_kind, delivery, rendered.pages)


def export_print(uow: UnitOfWork, *, since: date, directory: Path, now: datetime) -> PrintExport:
    """Write the documents queued for mail since the day (UTC) and their manifest CSV.

    One PDF per document (its file name) and manifest-YYYY-MM-DD.csv for the print vendor.
    Documents are marked exported the first time; exporting the same days again writes
    the same files.
    """
    start = datetime.combine(since, time(), tzinfo=UTC)
    directory.mkdir(parents=True, exist_ok=True)
    with uow:
        documents = queries.mail_documents_since(uow, start)
        files = []
        rows = []
        for document in documents:
            path = directory / document.file_name
            path.write_bytes(bytes(document.pdf))
            files.append(path)
            rows.append(
                ManifestRow(
                    document_id=document.id,
                    kind=document.kind,
                    file_name=document.file_name,
                    member_name=document.member_name,
                    address=tuple(document.mail_address or ()),
                    pages=document.pages,
                    created_at=document.created_at,
                )
            )
        manifest = directory / f"manifest-{since.isoformat()}.csv"
        manifest.write_text(manifest_csv(rows), encoding="utf-8", newline="")
        newly = queries.mark_exported(uow, [document.id for document in documents], now)
        uow.commit()
    return PrintExport(
        tuple(row.document_id for row in rows), tuple(files), manifest, newly_exported=newly
    )


def _checked_year(kind: DocumentKind, year: int | None, today: date) -> int | None:
    """The tax letter's year (last year when none is given); None for the other kinds."""
    if kind is not DocumentKind.TAX_LETTER:
        if year is not None:
            raise DocumentRequestInvalid("year_not_used")
        return None
    if year is None:
        return today.year - 1
    if not EARLIEST_TAX_YEAR <= year <= today.year:
        raise DocumentRequestInvalid("bad_year")
    return year


class _Format:
    """Money, days and months as the member's language writes them."""

    def __init__(self, language: str) -> None:
        self.language = language
        self.locale = locale_for(language)

    def money(self, cents: int) -> str:
        return format_amount(cents, self.language)

    def day(self, day: date) -> str:
        return format_date(day, "medium", locale=self.locale)

    def month(self, month: date) -> str:
        return format_skeleton("yMMMM", month, locale=self.locale)


def _document(
    uow: UnitOfWork,
    kind: DocumentKind,
    *,
    member: Member,
    region: Region,
    plan_name: str,
    year: int | None,
    history: tuple[HistoryLine, ...],
    words: dict[str, str],
    language: str,
    now: datetime,
    address_block: tuple[str, ...],
) -> PdfDocument:
    """The document's words and figures, ready to lay out."""
    show = _Format(language)
    details = [
        (words["member"], f"{member.first_name} {member.last_name}"),
        # Only the last 4 of the MRN, as on every other paper the member gets.
        (words["mrn"], words["mrn_ending"].format(last4=member.mrn_last4)),
        (words["issued"], show.day(region.local_time(now).date())),
    ]
    if kind is DocumentKind.PREMIUM_STATEMENT:
        table, intro, empty = _premium_table(member, region, words, show)
    elif kind is DocumentKind.BILL_STATEMENT:
        table, intro, empty = _bill_table(member, words, show)
    elif kind is DocumentKind.PAYMENT_HISTORY:
        table, intro, empty = _history_table(history, words, show)
    else:
        assert year is not None
        details.append((words["tax_year"], str(year)))
        table, intro, empty = _tax_table(uow, member, region, year, words, show)
    return PdfDocument(
        plan_name=plan_name,
        title=words[kind.value].format(year=year),
        details=tuple(details),
        paragraphs=(words["hello"].format(name=member.first_name), intro),
        table=table,
        empty_table=empty,
        closing=(words["questions"],),
        address_block=address_block,
        page_words=words["page"],
        issued_at=now,
        language=language,
    )


def _premium_table(
    member: Member, region: Region, words: dict[str, str], show: _Format
) -> tuple[PdfTable, str, str]:
    months = member.premiums if member.coverage_type.pays_premium_here else []
    rows = tuple(
        (
            show.month(p.coverage_month),
            show.money(p.amount_cents),
            show.money(p.paid_cents),
            show.money(p.balance_cents),
            show.day(region.premium_due.due_date(p.coverage_month, member.state)),
        )
        for p in months
    )
    total = (
        words["total"],
        show.money(sum(p.amount_cents for p in months)),
        show.money(sum(p.paid_cents for p in months)),
        show.money(sum(p.balance_cents for p in months)),
        "",
    )
    table = PdfTable(
        headings=tuple(
            words[key] for key in ("coverage_month", "amount", "paid", "balance", "due_date")
        ),
        rows=rows,
        widths=(3, 2, 2, 2, 2),
        numeric=frozenset({1, 2, 3}),
        total=total,
    )
    return table, words["premium_intro"], words["premium_none"]


def _bill_table(member: Member, words: dict[str, str], show: _Format) -> tuple[PdfTable, str, str]:
    bills = sorted(member.bills, key=lambda b: (b.date_of_service, b.bill_number))
    rows = tuple(
        (
            show.day(b.date_of_service),
            b.facility,
            b.provider,
            show.money(b.amount_cents),
            show.money(b.paid_cents),
            show.money(b.adjustments_cents),
            show.money(b.balance_cents),
            show.day(b.due_date),
        )
        for b in bills
    )
    total = (
        words["total"],
        "",
        "",
        show.money(sum(b.amount_cents for b in bills)),
        show.money(sum(b.paid_cents for b in bills)),
        show.money(sum(b.adjustments_cents for b in bills)),
        show.money(sum(b.balance_cents for b in bills)),
        "",
    )
    keys = (
        "date_of_service",
        "facility",
        "provider",
        "billed",
        "paid",
        "adjustments",
        "balance",
        "due_date",
    )
    table = PdfTable(
        headings=tuple(words[key] for key in keys),
        rows=rows,
        widths=(5, 8, 6, 4, 4, 5, 4, 5),
        numeric=frozenset({3, 4, 5, 6}),
        total=total,
    )
    return table, words["bill_intro"], words["bill_none"]


def _history_table(
    lines: tuple[HistoryLine, ...], words: dict[str, str], show: _Format
) -> tuple[PdfTable, str, str]:
    rows = tuple(
        (
            show.day(line.paid_on),
            show.money(line.amount_cents),
            _paid_for(line, words),
            _paid_with(line, words, show.language),
            line.reference,
            words.get(line.status.value, words["pending"]),
        )
        for line in lines
    )
    keys = ("date", "amount", "paid_for", "paid_with", "confirmation", "status")
    table = PdfTable(
        headings=tuple(words[key] for key in keys),
        rows=rows,
        widths=(4, 3, 5, 6, 4, 3),
        numeric=frozenset({1}),
    )
    return table, words["history_intro"], words["history_none"]


def _paid_with(line: HistoryLine, words: dict[str, str], language: str) -> str:
    if line.elsewhere:
        return words[f"paid_{line.channel}"]
    return method_words(language, line.method_kind, line.method_brand, line.method_last4)


def _paid_for(line: HistoryLine, words: dict[str, str]) -> str:
    if line.target_kind is TargetKind.BILL:
        return words["for_bill"].format(bill=line.bill_number or "")
    return {
        TargetKind.ALL_BILLS: words["for_all_bills"],
        TargetKind.PREMIUM: words["for_premium"],
        TargetKind.PLAN: words["for_plan"],
    }.get(line.target_kind, words["for_all_bills"])


def _tax_table(
    uow: UnitOfWork,
    member: Member,
    region: Region,
    year: int,
    words: dict[str, str],
    show: _Format,
) -> tuple[PdfTable, str, str]:
    # The year as the member's region counts it: a payment at 11 pm on December 31 is in it.
    # Compared in UTC, as the times are stored (SQLite compares them as text).
    start = datetime(year, 1, 1, tzinfo=region.time_zone).astimezone(UTC)
    end = datetime(year + 1, 1, 1, tzinfo=region.time_zone).astimezone(UTC)
    paid = queries.premium_payments_between(uow, member.id, start, end)
    rows = tuple(
        (
            show.day(region.local_time(item.made_at).date()),
            show.month(item.coverage_month),
            show.money(item.amount_cents),
            item.confirmation_number,
        )
        for item in paid
    )
    total = (words["total"], "", show.money(sum(item.amount_cents for item in paid)), "")
    table = PdfTable(
        headings=tuple(
            words[key] for key in ("date_paid", "coverage_month", "amount", "confirmation")
        ),
        rows=rows,
        widths=(3, 3, 2, 3),
        numeric=frozenset({2}),
        total=total,
    )
    return table, words["tax_intro"].format(year=year), words["tax_none"].format(year=year)


_translated = Words(_WORDS)
