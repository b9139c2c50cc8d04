"""What a payment plan writes to a member, English or Spanish: the written copy of its terms.

The English words are here; their Spanish is in billing_core/translations (gettext).
Each goes by email when the member has an address, else by text. Pure functions.
"""

from __future__ import annotations

from datetime import date

from babel.dates import format_date

from billing_core.adapters.translations import N_, Words
from billing_core.domain.money import LOCALES, format_amount
from billing_core.services import receipts
from billing_core.services.autopay_notices import Addressee
from billing_core.services.outbox import EMAIL, OutgoingMessage
from billing_core.services.scheduled_notices import dated_notice

__all__ = ["Addressee", "copy", "notice"]


_WORDS = {
    "greeting": N_("Hello {name},"),
    "copy_subject": N_("Your payment plan"),
    "copy_body": N_(
        "On {date} you set up a payment plan for your medical bills: {count} payments with "
        "{method}, {first} that day and then {monthly} each month, {total} in all, the last "
        "on {last}. This is what you accepted:\n\n{text}"
    ),
    "missed_subject": N_("A payment of your plan did not go through"),
    "missed_body": N_(
        "The payment of {amount} due {date} on your payment plan, with {method}, did not go "
        "through, and nothing was charged. Please call the number on your bill."
    ),
    "lapsed_subject": N_("Your payment plan has ended"),
    "lapsed_body": N_(
        "Your payment plan has ended because payments were missed. The {amount} still owed "
        "on its bills is due now. Please pay it or call the number on your bill."
    ),
}


def copy(
    to: Addressee,
    *,
    dedupe_key: str,
    day: date,
    installments: list[tuple[date, int]],
    method: tuple,
    text: str,
) -> OutgoingMessage | None:
    """The written copy of a plan's recurring authorization, or None if unreachable."""
    channel, recipient = receipts.deliverable(phone=to.phone, email=to.email)
    if channel is None:
        return None
    language = to.language if to.language in LOCALES else receipts.DEFAULT_LANGUAGE
    words = _translated(language)
    kind_of, brand, last4 = method
    locale = LOCALES[language]
    body = words["copy_body"].format(
        date=format_date(day, "long", locale=locale),
        count=len(installments),
        method=receipts.method_words(language, kind_of, brand, last4),
        first=format_amount(installments[0][1], language),
        monthly=format_amount(installments[-1][1], language),
        total=format_amount(sum(amount for _day, amount in installments), language),
        last=format_date(installments[-1][0], "long", locale=locale),
        text=text,
    )
    subject = None
    if channel == EMAIL:
        subject = words["copy_subject"]
        body = f"{words['greeting'].format(name=to.first_name)}\n\n{body}\n"
    return OutgoingMessage(
        kind=channel,
        recipient=recipient,
        subject=subject,
        body=body,
        dedupe_key=f"{dedupe_key}:{channel}",
    )


def notice(
    kind: str, to: Addressee, *, dedupe_key: str, amount: int, day: date, method: tuple
) -> OutgoingMessage | None:
    """One notice of the plan's run (missed, lapsed), or None if the member cannot be reached."""
    return dated_notice(
        _translated, kind, to, dedupe_key=dedupe_key, amount=amount, day=day, method=method
    )


_translated = Words(_WORDS)
