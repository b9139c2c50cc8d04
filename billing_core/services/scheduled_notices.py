"""What a scheduled payment's run writes to a member, English or Spanish: not made, failed.

The English words are here; their Spanish is in billing_core/translations (gettext).
Each goes by email when the member has an address, else by text. Pure functions.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from babel.dates import format_date

from billing_core.adapters.translations import N_, Words
from billing_core.domain.money import LOCALES, format_amount
from billing_core.services import receipts
from billing_core.services.autopay_notices import Addressee
from billing_core.services.outbox import EMAIL, OutgoingMessage

__all__ = ["Addressee", "notice"]


_WORDS = {
    "greeting": N_("Hello {name},"),
    "nothing_owed_subject": N_("Your scheduled payment was not needed"),
    "nothing_owed_body": N_(
        "You scheduled a payment of {amount} for {date} with {method}. On that day nothing "
        "was owed on what it was to pay, so nothing was charged."
    ),
    "failed_subject": N_("Your scheduled payment did not go through"),
    "failed_body": N_(
        "Your scheduled payment of {amount} for {date}, with {method}, did not go through, "
        "and nothing was charged. Please pay it or call the number on your bill."
    ),
}


def notice(
    kind: str, to: Addressee, *, dedupe_key: str, amount: int, day: date, method: tuple
) -> OutgoingMessage | None:
    """One written notice (nothing_owed, failed), or None if the member cannot be reached."""
    return dated_notice(
        _translated, kind, to, dedupe_key=dedupe_key, amount=amount, day=day, method=method
    )


def dated_notice(
    words_in: Callable[[str], dict[str, str]],
    kind: str,
    to: Addressee,
    *,
    dedupe_key: str,
    amount: int,
    day: date,
    method: tuple,
) -> OutgoingMessage | None:
    """A notice of an amount, a day and a method, in the words `words_in(language)` gives."""
    channel, recipient = receipts.deliverable(phone=to.phone, email=to.email)
    if channel is None:
        return None
    language = to.language if to.language in LOCALES else receipts.DEFAULT_LANGUAGE
    words = words_in(language)
    kind_of, brand, last4 = method
    body = words[f"{kind}_body"].format(
        amount=format_amount(amount, language),
        date=format_date(day, "long", locale=LOCALES[language]),
        method=receipts.method_words(language, kind_of, brand, last4),
    )
    subject = None
    if channel == EMAIL:
        subject = words[f"{kind}_subject"]
        body = f"{words['greeting'].format(name=to.first_name)}\n\n{body}\n"
    return OutgoingMessage(
        kind=channel,
        recipient=recipient,
        subject=subject,
        body=body,
        dedupe_key=f"{dedupe_key}:{channel}",
    )


_translated = Words(_WORDS)
