"""Sentences and phrases several flows speak: the specialists' hours, payment methods, targets."""

from __future__ import annotations

from datetime import date, timedelta

from babel.dates import get_day_names
from twilio.twiml.voice_response import Say

from billing_core.domain.regions import OpeningHours, Region
from ivr.call_state import Method, PayTarget
from ivr.prompts import Prompt
from ivr.speech import ClockTime, Day, Digits, Fragment, Listing, PhoneNumber, Voice, ZoneName

BRAND_NAMES = {
    "visa": "Visa",
    "mastercard": "Mastercard",
    "amex": "American Express",
    "american-express": "American Express",
    "discover": "Discover",
    "diners-club": "Diners Club",
    "jcb": "JCB",
}


def hours_and_number(speaker: Voice, line: Region) -> list[Say]:
    """Return the sentences giving the specialists' hours and their number."""
    spans = Listing(tuple(_span(speaker, span) for span in line.billing.hours))
    return [
        speaker.say(Prompt.SPECIALIST_HOURS, hours=spans, time_zone=ZoneName(line.time_zone)),
        speaker.say(
            Prompt.SPECIALIST_NUMBER,
            number=PhoneNumber(line.billing.number),
            tty=Digits(line.billing.tty),
        ),
    ]


def _span(speaker: Voice, span: OpeningHours) -> Fragment:
    names = get_day_names("wide", locale=speaker.language.locale)
    days = span.weekdays
    if len(days) > 1 and list(days) == list(range(days[0], days[-1] + 1)):
        day_text = Fragment(Prompt.DAY_RANGE, {"first": names[days[0]], "last": names[days[-1]]})
    else:
        day_text = Listing(tuple(names[day] for day in days))
    return Fragment(
        Prompt.HOURS_SPAN,
        {"days": day_text, "opens": ClockTime(span.opens), "closes": ClockTime(span.closes)},
    )


def brand_name(brand: str | None) -> str | None:
    """Return the card brand as it is said, or None when Twilio did not name it."""
    return BRAND_NAMES.get((brand or "").lower())


def account_type_name(account_type: str | None) -> Fragment:
    savings = "savings" in (account_type or "")
    return Fragment(Prompt.SAVINGS if savings else Prompt.CHECKING)


def method_phrase(method: Method) -> Fragment:
    """Name a card by its brand and ending, a bank account by its type and ending."""
    last4 = Digits(method.last4)
    if method.kind == "card" and brand_name(method.brand) is None:
        return Fragment(Prompt.METHOD_CARD_UNBRANDED, {"last4": last4})
    if method.kind == "card":
        return Fragment(Prompt.METHOD_CARD, {"brand": brand_name(method.brand), "last4": last4})
    return Fragment(
        Prompt.METHOD_BANK, {"account_type": account_type_name(method.account_type), "last4": last4}
    )


def target_phrase(target: PayTarget, today: date) -> Fragment:
    """Say what a payment pays: a bill by the day of the visit, all bills, or the premium."""
    if target.kind == "bill" and target.date_of_service is not None:
        visit = target.date_of_service
        # The year only where "September 14" could be a year ago: every word costs time.
        recent = timedelta(0) <= today - visit < timedelta(days=300)
        return Fragment(Prompt.PAYING_BILL, {"date_of_service": Day(visit, year=not recent)})
    if target.kind == "all_bills":
        return Fragment(Prompt.PAYING_ALL_BILLS)
    return Fragment(Prompt.PAYING_PREMIUM)
