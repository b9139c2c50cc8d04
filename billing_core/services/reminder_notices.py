"""What a reminder says, English or Spanish, by email and by text: a bill ready, a bill due
soon, an automatic payment or a plan installment about to be charged.

The English words are here; their Spanish is in billing_core/translations (gettext).
A reminder goes to every channel the member chose for its kind (email, text or both), one
message each. Texts name the plan and say how to stop them, as carriers ask of every
recurring text. Pure functions.
"""

from __future__ import annotations

from dataclasses import dataclass

from billing_core.adapters.translations import N_, Words
from billing_core.domain.money import LOCALES
from billing_core.services import receipts
from billing_core.services.autopay_notices import format_fields
from billing_core.services.outbox import EMAIL, SMS, OutgoingMessage

_WORDS = {
    "greeting": N_("Hello {name},"),
    "text": N_("{plan}: {body} Reply STOP to stop texts."),
    "premium_ready_subject": N_("Your premium bill is ready"),
    "premium_ready_body": N_("Your {month} premium of {amount} is ready. It is due {date}."),
    "bill_ready_subject": N_("A new medical bill is ready"),
    "bill_ready_body": N_(
        "Your bill {bill} from {facility} for {amount} is ready. It is due {date}."
    ),
    "premium_due_subject": N_("Your premium is due soon"),
    "premium_due_body": N_(
        "Your {month} premium of {amount} is due {date}. To pay, call the number on your bill."
    ),
    "bill_due_subject": N_("Your medical bill is due soon"),
    "bill_due_body": N_(
        "Your bill {bill} from {facility} has {amount} due {date}. To pay, call the number on "
        "your bill."
    ),
    "autopay_subject": N_("Your automatic premium payment is coming up"),
    "autopay_body": N_(
        "On {date} your automatic payment of {amount} for your {month} premium will be charged "
        "to {method}. Nothing needs doing."
    ),
    "plan_subject": N_("Your payment plan installment is coming up"),
    "plan_body": N_(
        "On {date} the payment of {amount} on your payment plan will be charged to {method}."
    ),
    "footer": N_("To stop these emails, open this link: {link}"),
    "footer_call": N_("To stop these emails, call the number on your bill."),
}
# The page the unsubscribe link opens (ivr.unsubscribe).
_PAGE_WORDS = {
    "title": N_("Stop emails from us"),
    "ask": N_(
        "Press the button to stop reminders and notices by email to this address: bills "
        "ready, due dates, payments coming up, receipts and payment problems."
    ),
    "button": N_("Stop these emails"),
    "done": N_(
        "Done: this address will get no more reminders or notices by email. Copies the law "
        "requires, and documents you ask for by phone, are still sent."
    ),
    "invalid": N_("This link is not valid. To stop these emails, call the number on your bill."),
}


@dataclass(frozen=True)
class Recipients:
    """Who a reminder goes to: the member's name and language, and the addresses chosen."""

    first_name: str
    language: str
    plan_name: str
    phone: str | None
    email: str | None


def reminder(
    kind: str, to: Recipients, *, dedupe_key: str, **fields: object
) -> list[OutgoingMessage]:
    """The reminder (a kind of _WORDS: premium_ready, bill_due, autopay ...), one per channel."""
    language = to.language if to.language in LOCALES else receipts.DEFAULT_LANGUAGE
    words = _translated(language)
    body = words[f"{kind}_body"].format(**format_fields(language, fields))
    messages = []
    if to.email:
        messages.append(
            OutgoingMessage(
                kind=EMAIL,
                recipient=to.email,
                subject=words[f"{kind}_subject"],
                body=f"{words['greeting'].format(name=to.first_name)}\n\n{body}\n",
                dedupe_key=f"{dedupe_key}:{EMAIL}",
                unsubscribe_language=language,
            )
        )
    if to.phone and receipts.is_e164(to.phone):
        messages.append(
            OutgoingMessage(
                kind=SMS,
                recipient=to.phone,
                body=words["text"].format(plan=to.plan_name, body=body),
                dedupe_key=f"{dedupe_key}:{SMS}",
            )
        )
    return messages


def unsubscribe_footer(language: str, link: str | None) -> str:
    """The line an email that can be unsubscribed from ends with, in the member's language."""
    words = _translated(language if language in LOCALES else receipts.DEFAULT_LANGUAGE)
    return words["footer"].format(link=link) if link else words["footer_call"]


def page_words(language: str) -> dict[str, str]:
    """The unsubscribe page's words (title, ask, button, done, invalid) in a language."""
    return _translated(language if language in LOCALES else receipts.DEFAULT_LANGUAGE)


_translated = Words({**_WORDS, **_PAGE_WORDS})
