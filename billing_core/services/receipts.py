"""Payment receipts in plain language, English or Spanish, as text messages and emails.

The English words are here; their Spanish is in billing_core/translations (gettext).

Pure functions of plain values: nothing here reads the database or sends anything.
A receipt names the card or account only by its brand (or account type) and last 4.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, tzinfo
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from babel.dates import format_date

from billing_core.adapters.translations import N_, Words, translations
from billing_core.domain.money import LOCALES, format_amount
from billing_core.services.outbox import EMAIL, SMS, OutgoingMessage

if TYPE_CHECKING:
    from billing_core.adapters.models import Member, Payment

DEFAULT_LANGUAGE = "en"
_E164 = re.compile(r"\+[1-9]\d{6,14}")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")

_CARD_BRANDS = {
    "visa": "Visa",
    "mastercard": "Mastercard",
    "amex": "American Express",
    "discover": "Discover",
    "jcb": "JCB",
    "diners-club": "Diners Club",
}


# Account types as Twilio's <Pay> names them.
_ACCOUNT_TYPES = {
    "consumer-checking": N_("checking account"),
    "commercial-checking": N_("checking account"),
    "consumer-savings": N_("savings account"),
}
# What a member is told of a bank debit's NACHA return code.
_RETURN_REASONS = {
    "R01": N_("there were not enough funds in the account"),
    "R02": N_("the account is closed"),
    "R03": N_("the bank could not find the account"),
    "R04": N_("the account number is not valid"),
    "R08": N_("payment was stopped on it"),
    "R10": N_("the account holder told the bank it was not authorized"),
    "R16": N_("the account is frozen"),
    "R20": N_("the account does not allow debits"),
    "R29": N_("the business account holder told the bank it was not authorized"),
}
# The English of every receipt; other languages come from billing_core/translations.
_WORDS = {
    "bill": N_("medical bill {bill}"),
    "all_bills": N_("your medical bills"),
    "premium": N_("your premium"),
    "plan": N_("your payment plan"),
    "card": N_("card"),
    "greeting": N_("Hello {name},"),
    "card_brand": N_("{brand}"),
    "bank": N_("bank account"),
    "ending": N_("{method} ending in {last4}"),
    "sms": N_(
        "Payment received: {amount} for {what}, paid with {method} on {date}. "
        "Confirmation number: {confirmation}. Thank you."
    ),
    "subject": N_("Your payment receipt, confirmation {confirmation}"),
    # A bank debit is submitted, not yet received: it settles in 1 to 3 business days.
    "sms_bank": N_(
        "Payment submitted: {amount} for {what}, from {method} on {date}. It usually takes "
        "1 to 3 business days to reach us. Confirmation number: {confirmation}. Thank you."
    ),
    "subject_bank": N_("Your bank payment was submitted, confirmation {confirmation}"),
    "email_bank": N_(
        "Hello {name},\n\n"
        "We submitted your bank payment. It usually takes 1 to 3 business days to reach "
        "us; if your bank sends it back, we will tell you.\n\n"
        "Amount: {amount}\n"
        "Paid for: {what}\n"
        "Paid from: {method}\n"
        "Date: {date}\n"
        "Confirmation number: {confirmation}\n\n"
        "Thank you.\n"
    ),
    "not_taken_sms": N_(
        "Your payment of {amount} for {what} (confirmation number {confirmation}) did not "
        "go through, and nothing was charged. Please pay again or call us."
    ),
    "not_taken_subject": N_("Your payment did not go through, confirmation {confirmation}"),
    "returned_reason": N_("it was returned by your bank"),
    "returned_subject": N_("Your bank payment was returned, confirmation {confirmation}"),
    "returned_sms": N_(
        "Your bank payment of {amount} for {what} (confirmation number {confirmation}) was "
        "returned: {reason}. It is owed again.{fee} Please pay it or call the number on your bill."
    ),
    "returned_fee": N_(" A returned payment fee of {fee} applies."),
    "refunded_subject": N_("Your refund, confirmation {confirmation}"),
    "refunded_sms": N_(
        "We refunded {refund} of your payment for {what} (confirmation number {confirmation}) "
        "to {method}. It can take 5 to 10 business days to show."
    ),
    "voided_subject": N_("Your payment was cancelled, confirmation {confirmation}"),
    "voided_sms": N_(
        "Your payment of {amount} for {what} (confirmation number {confirmation}) was "
        "cancelled before it was taken. Nothing was charged."
    ),
    "not_taken_email": N_(
        "Hello {name},\n\n"
        "Your payment of {amount} for {what}, with {method}, did not go through, and "
        "nothing was charged.\n\n"
        "Confirmation number: {confirmation}\n\n"
        "Please pay again, or call the number on your bill.\n"
    ),
    "email": N_(
        "Hello {name},\n\n"
        "We received your payment. Please keep this receipt for your records.\n\n"
        "Amount paid: {amount}\n"
        "Paid for: {what}\n"
        "Paid with: {method}\n"
        "Date: {date}\n"
        "Confirmation number: {confirmation}\n\n"
        "Thank you.\n"
    ),
}


# The main time zone of each state, for the date printed on a receipt.
_STATE_ZONES = {
    **dict.fromkeys(
        "CT DC DE FL GA KY MA MD ME NC NH NJ NY OH PA RI SC VA VT WV".split(), "America/New_York"
    ),
    **dict.fromkeys("AL AR IA IL KS LA MN MO MS ND NE OK SD TN TX WI".split(), "America/Chicago"),
    **dict.fromkeys("CO MT NM UT WY".split(), "America/Denver"),
    **dict.fromkeys("CA NV OR WA".split(), "America/Los_Angeles"),
    "AK": "America/Anchorage",
    "AZ": "America/Phoenix",
    "HI": "Pacific/Honolulu",
    "ID": "America/Boise",
    "IN": "America/Indiana/Indianapolis",
    "MI": "America/Detroit",
    "PR": "America/Puerto_Rico",
    "VI": "America/St_Thomas",
    "GU": "Pacific/Guam",
    "MP": "Pacific/Saipan",
    "AS": "Pacific/Pago_Pago",
}


@dataclass(frozen=True)
class Receipt:
    """What a receipt says about one succeeded payment."""

    language: str
    first_name: str
    amount_cents: int
    target_kind: str
    bill_number: str | None
    method_kind: str
    method_brand: str | None
    method_last4: str | None
    confirmation_number: str
    paid_on: date


def receipt_for(payment: Payment, member: Member, *, paid_at: datetime) -> Receipt:
    """The receipt of a payment, dated in the member's state's time zone."""
    return Receipt(
        language=member.language if member.language in LOCALES else DEFAULT_LANGUAGE,
        first_name=member.first_name,
        amount_cents=payment.amount_cents,
        target_kind=payment.target_kind,
        bill_number=payment.target_reference,
        method_kind=payment.method_kind,
        method_brand=payment.method_brand,
        method_last4=payment.method_last4,
        confirmation_number=payment.confirmation_number,
        paid_on=paid_at.astimezone(zone_for_state(member.state)).date(),
    )


def is_e164(phone: str) -> bool:
    """Whether the number is written in E.164 form, as texts are addressed: +15105550123."""
    return bool(_E164.fullmatch(phone))


def zone_for_state(state: str | None) -> tzinfo:
    """The time zone most of a state lives in; UTC for an unknown state."""
    name = _STATE_ZONES.get((state or "").upper())
    return ZoneInfo(name) if name else UTC


def sms_text(receipt: Receipt) -> str:
    """The receipt as one text message."""
    return _words(receipt)[_kind("sms", receipt)].format(**_fields(receipt))


def email_subject(receipt: Receipt) -> str:
    """The receipt email's subject line."""
    return _words(receipt)[_kind("subject", receipt)].format(**_fields(receipt))


def email_body(receipt: Receipt) -> str:
    """The receipt email's plain-text body."""
    return _words(receipt)[_kind("email", receipt)].format(**_fields(receipt))


def _kind(part: str, receipt: Receipt) -> str:
    """A bank debit's receipt says it was submitted; a card's, that it was received."""
    return f"{part}_bank" if receipt.method_kind == "bank" else part


def receipt_messages(
    receipt: Receipt, *, payment_id: int, phone: str | None, email: str | None
) -> tuple[OutgoingMessage, ...]:
    """A text to the phone and an email to the address, for whichever of them is usable."""
    messages = []
    if phone and is_e164(phone):
        messages.append(
            OutgoingMessage(
                kind=SMS,
                recipient=phone,
                body=sms_text(receipt),
                dedupe_key=receipt_dedupe_key(payment_id, SMS),
            )
        )
    if email and _EMAIL.fullmatch(email.strip()):
        messages.append(
            OutgoingMessage(
                kind=EMAIL,
                recipient=email.strip(),
                subject=email_subject(receipt),
                body=email_body(receipt),
                dedupe_key=receipt_dedupe_key(payment_id, EMAIL),
            )
        )
    return tuple(messages)


def lifecycle_messages(
    receipt: Receipt,
    kind: str,
    *,
    dedupe_key: str,
    phone: str | None,
    email: str | None,
    refund_cents: int = 0,
    return_code: str | None = None,
    fee_cents: int | None = None,
) -> tuple[OutgoingMessage, ...]:
    """What a member is told when a payment comes back: returned, refunded or voided.

    The text's words are the email's too, after a greeting; each goes once per dedupe key.
    """
    words = _words(receipt)
    fields = _fields(receipt)
    reason = _RETURN_REASONS.get(return_code or "")
    fields["reason"] = (
        translations(receipt.language).gettext(reason) if reason else words["returned_reason"]
    )
    fields["fee"] = (
        words["returned_fee"].format(fee=format_amount(fee_cents, receipt.language))
        if fee_cents
        else ""
    )
    fields["refund"] = format_amount(refund_cents, receipt.language)
    text = words[f"{kind}_sms"].format(**fields)
    messages = []
    if phone and is_e164(phone):
        messages.append(
            OutgoingMessage(kind=SMS, recipient=phone, body=text, dedupe_key=f"{dedupe_key}:sms")
        )
    if email and _EMAIL.fullmatch(email.strip()):
        greeting = words["greeting"].format(name=receipt.first_name)
        messages.append(
            OutgoingMessage(
                kind=EMAIL,
                recipient=email.strip(),
                subject=words[f"{kind}_subject"].format(**fields),
                body=f"{greeting}\n\n{text}\n",
                dedupe_key=f"{dedupe_key}:email",
            )
        )
    return tuple(messages)


def not_taken_messages(
    receipt: Receipt, *, payment_id: int, phone: str | None, email: str | None
) -> tuple[OutgoingMessage, ...]:
    """Tell a member a payment they were told was being confirmed did not go through."""
    words, fields = _words(receipt), _fields(receipt)
    messages = []
    if phone and is_e164(phone):
        messages.append(
            OutgoingMessage(
                kind=SMS,
                recipient=phone,
                body=words["not_taken_sms"].format(**fields),
                dedupe_key=f"not-taken:{payment_id}:{SMS}",
            )
        )
    if email and _EMAIL.fullmatch(email.strip()):
        messages.append(
            OutgoingMessage(
                kind=EMAIL,
                recipient=email.strip(),
                subject=words["not_taken_subject"].format(**fields),
                body=words["not_taken_email"].format(**fields),
                dedupe_key=f"not-taken:{payment_id}:{EMAIL}",
            )
        )
    return tuple(messages)


def receipt_dedupe_key(payment_id: int, kind: str) -> str:
    """The one key a payment's receipt of this kind is queued and sent under."""
    return f"receipt:{payment_id}:{kind}"


def _words(receipt: Receipt) -> dict[str, str]:
    language = receipt.language if receipt.language in LOCALES else DEFAULT_LANGUAGE
    return _translated(language)


def _account_type(brand: str, language: str) -> str | None:
    english = _ACCOUNT_TYPES.get(brand)
    return translations(language).gettext(english) if english else None


def _fields(receipt: Receipt) -> dict[str, str]:
    words = _words(receipt)
    locale = LOCALES.get(receipt.language, LOCALES[DEFAULT_LANGUAGE])
    if receipt.target_kind == "bill":
        what = words["bill"].format(bill=receipt.bill_number or "")
    else:
        what = words.get(receipt.target_kind, words["all_bills"])
    return {
        "amount": format_amount(receipt.amount_cents, receipt.language),
        "what": what,
        "method": _method(receipt, words),
        "date": format_date(receipt.paid_on, "long", locale=locale),
        "confirmation": receipt.confirmation_number,
        "name": receipt.first_name,
    }


def _method(receipt: Receipt, words: dict[str, str]) -> str:
    """The card's brand or the account's type, and its last 4: nothing more of it."""
    brand = (receipt.method_brand or "").lower()
    if receipt.method_kind == "bank":
        language = receipt.language if receipt.language in LOCALES else DEFAULT_LANGUAGE
        method = _account_type(brand, language) or words["bank"]
    else:
        # Only brands known here are printed, so nothing else from the request reaches a receipt.
        known = _CARD_BRANDS.get(brand)
        method = words["card_brand"].format(brand=known) if known else words["card"]
    last4 = receipt.method_last4
    # A card shows its last 4 digits; Twilio shows only the last 2 of a bank account.
    if last4 and 2 <= len(last4) <= 4 and last4.isdigit():
        return words["ending"].format(method=method, last4=last4)
    return method


def method_words(language: str, kind: str, brand: str | None, last4: str | None) -> str:
    """A card or account as a receipt names it (brand or account type, last 4), in a language."""
    language = language if language in LOCALES else DEFAULT_LANGUAGE
    receipt = Receipt(language, "", 0, "premium", None, kind, brand, last4, "", date.min)
    return _method(receipt, _translated(language))


def deliverable(*, phone: str | None, email: str | None) -> tuple[str, str] | tuple[None, None]:
    """Where one written notice goes: the email on file if usable, else a text to the phone."""
    if email and _EMAIL.fullmatch(email.strip()):
        return EMAIL, email.strip()
    if phone and is_e164(phone):
        return SMS, phone
    return None, None


_translated = Words(_WORDS)
