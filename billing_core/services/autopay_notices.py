"""What autopay writes to a member, English or Spanish: the copy of the authorization and
the notices of a run (not charged, above the maximum, method expiring, an amount to be
charged for the first time or changed) and of a removed method that autopay was using.

The English words are here; their Spanish is in billing_core/translations (gettext).
Each goes by email when the member has an address, else by text. Pure functions.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from babel.dates import format_date

from billing_core.adapters.translations import N_, Words
from billing_core.domain.money import LOCALES, format_amount
from billing_core.services import receipts
from billing_core.services.outbox import EMAIL, OutgoingMessage

_WORDS = {
    "greeting": N_("Hello {name},"),
    "copy_subject": N_("Your automatic premium payments: a copy of your authorization"),
    "copy_body": N_(
        "You set up automatic payments of your premium with {method} on {date}. "
        "This is what you agreed to: {text} "
        "To stop automatic payments, call the number on your bill."
    ),
    "failed_subject": N_("Your automatic premium payment did not go through"),
    "failed_body": N_(
        "Your automatic payment of {amount} for your {month} premium, with {method}, did not "
        "go through, and nothing was charged. Please pay it or call the number on your bill."
    ),
    "over_maximum_subject": N_("Your premium was not paid automatically"),
    "over_maximum_body": N_(
        "Your {month} premium of {amount} is above the {maximum} maximum you set for "
        "automatic payments, so it was not charged. Please pay it or call the number on "
        "your bill."
    ),
    "expiring_subject": N_("Please update the card for your automatic premium payments"),
    "expiring_body": N_(
        "The {method} that pays your premium automatically expires before your next "
        "payment on {date}. Please call the number on your bill to update it."
    ),
    "amount_first_subject": N_("Your first automatic premium payment"),
    "amount_first_body": N_(
        "Your {month} premium of {amount} will be paid automatically with {method} on "
        "{date}. To stop automatic payments, call the number on your bill."
    ),
    "amount_changed_subject": N_("The amount of your automatic premium payment has changed"),
    "amount_changed_body": N_(
        "Your {month} premium is {amount}, not the {previous} paid automatically last time. "
        "{amount} will be paid automatically with {method} on {date}. To stop automatic "
        "payments, call the number on your bill."
    ),
    "method_removed_subject": N_("Please choose another way to pay your premium automatically"),
    "method_removed_body": N_(
        "The {method} that paid your premium automatically was removed, so your premium "
        "cannot be paid automatically. Please call the number on your bill to choose "
        "another card or bank account."
    ),
}


@dataclass(frozen=True)
class Addressee:
    first_name: str
    language: str
    phone: str | None
    email: str | None


def notice(
    kind: str, to: Addressee, *, dedupe_key: str, **fields: object
) -> OutgoingMessage | None:
    """One written notice (a kind of _WORDS, e.g. copy or failed), or None if it cannot go."""
    channel, recipient = receipts.deliverable(phone=to.phone, email=to.email)
    if channel is None:
        return None
    language = to.language if to.language in LOCALES else receipts.DEFAULT_LANGUAGE
    words = _translated(language)
    body = words[f"{kind}_body"].format(**format_fields(language, fields))
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


def format_fields(language: str, fields: dict[str, object]) -> dict[str, str]:
    """The fields of a notice in words of the language: amounts, months, dates, methods."""
    locale = LOCALES[language]
    out: dict[str, str] = {}
    for name, value in fields.items():
        if name in ("amount", "maximum", "previous"):
            out[name] = format_amount(int(value), language)  # type: ignore[arg-type]
        elif name == "month":
            out[name] = format_date(value, "LLLL y", locale=locale)  # type: ignore[arg-type]
        elif name == "date" and isinstance(value, date):
            out[name] = format_date(value, "long", locale=locale)
        elif name == "method":
            kind, brand, last4 = value  # type: ignore[misc]
            out[name] = receipts.method_words(language, kind, brand, last4)
        else:
            out[name] = str(value)
    return out


_translated = Words(_WORDS)
