"""The feed's rows as the rest of the core reads them: checked members, bills and premiums.

The field names of each kind of row, the CSV header, and the limits every row is held to.
MRNs and birth dates live only in memory here: the database gets their keyed digests.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Literal

from billing_core.domain.members import CoverageType
from billing_core.domain.regions import normalize_phone_number

FeedFormat = Literal["json", "csv"]

MEMBER_FIELDS = tuple(
    "mrn birth_date first_name last_name region state coverage_type phone email language"
    " monthly_premium address_line1 address_line2 address_city address_state address_zip"
    " account_key credit bills premiums payments".split()
)
BILL_FIELDS = tuple(
    "bill_number date_of_service facility provider amount paid due_date disputed"
    " adjustments".split()
)
PREMIUM_FIELDS = ("coverage_month", "amount", "paid")
PAYMENT_FIELDS = ("paid_on", "amount", "channel", "bill_number", "coverage_month", "reference")
# A member's lists: in CSV each item is a row of its own kind.
MEMBER_LISTS = ("bills", "premiums", "payments")
_MEMBER_COLUMNS = tuple(name for name in MEMBER_FIELDS if name not in MEMBER_LISTS)
# Added after the first release's columns, at the end, so its header still reads the same.
_LATER_COLUMNS = ("account_key", "credit", "adjustments", "paid_on", "channel", "reference")

# The CSV header, in this order; `amount` serves bill, premium and payment rows alike.
CSV_COLUMNS = (
    "record",
    *(name for name in _MEMBER_COLUMNS if name not in _LATER_COLUMNS),
    *(name for name in BILL_FIELDS if name not in _LATER_COLUMNS),
    "coverage_month",
    *_LATER_COLUMNS,
)
CSV_RECORD_COLUMNS: Mapping[str, tuple[str, ...]] = {
    "member": _MEMBER_COLUMNS,
    "bill": BILL_FIELDS,
    "premium": PREMIUM_FIELDS,
    "payment": PAYMENT_FIELDS,
}

EARLIEST_BIRTH_DATE = date(1900, 1, 1)
MRN_DIGITS = (4, 15)
# Column sizes of billing_core.adapters.models; PostgreSQL would refuse longer text mid-import.
NAME_LENGTH = 100
PLACE_LENGTH = 200
BILL_NUMBER_LENGTH = 40
EMAIL_LENGTH = 254
ADDRESS_LINE_LENGTH = 100
CITY_LENGTH = 60
ACCOUNT_KEY_LENGTH = 40
REFERENCE_LENGTH = 40
# How far back the feed's payments reach: older ones are left out of the import.
PAYMENT_HISTORY_MONTHS = 13
# The fields of a mailing address, and those it cannot do without.
ADDRESS_FIELDS = ("address_line1", "address_line2", "address_city", "address_state", "address_zip")
ADDRESS_REQUIRED = ("address_line1", "address_city", "address_state", "address_zip")

ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
ISO_MONTH = re.compile(r"\d{4}-\d{2}")
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
BILL_NUMBER = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/-]*")
ACCOUNT_KEY = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/-]*")
ZIP_CODE = re.compile(r"\d{5}(?:-\d{4})?")
US_STATE = re.compile(r"[A-Z]{2}")


# The usual ways of writing a US number: formatted here, as phonenumbers would, because
# the full parser is most of the time spent checking a big file.
_US_PHONE = re.compile(r"(?:\+?1[\s.-]?)?\(?([2-9]\d{2})\)?[\s.-]?([2-9]\d{2})[\s.-]?(\d{4})")


def e164(raw: str) -> str | None:
    found = _US_PHONE.fullmatch(raw)
    return "+1" + "".join(found.groups()) if found else normalize_phone_number(raw)


def history_start(today: date, months: int = PAYMENT_HISTORY_MONTHS) -> date:
    """The first day of the payment history: the same day `months` months before today."""
    index = today.year * 12 + today.month - 1 - months
    year, month = divmod(index, 12)
    # Clamped to the month's last day: 31 March less one month is the end of February.
    following = date(year + (month + 1) // 12, (month + 1) % 12 + 1, 1)
    return date(year, month + 1, min(today.day, (following - date.resolution).day))


def is_mrn(text: str) -> bool:
    return text.isascii() and text.isdigit() and MRN_DIGITS[0] <= len(text) <= MRN_DIGITS[1]


@dataclass(frozen=True)
class BillRecord:
    """One medical bill of a member, checked."""

    bill_number: str
    date_of_service: date
    facility: str
    provider: str
    amount_cents: int
    paid_cents: int
    due_date: date
    # The member disputes it with the billing system: no payment plan may take it.
    disputed: bool = False
    # Insurance and adjustments: taken off what is owed.
    adjustments_cents: int = 0


@dataclass(frozen=True)
class PremiumRecord:
    """The premium invoice of one coverage month (the first day of that month), checked."""

    coverage_month: date
    amount_cents: int
    paid_cents: int


class PaymentChannel(enum.StrEnum):
    """Where a payment the feed reports was made: anywhere but this pay line."""

    WEB = "web"
    MAIL = "mail"
    AGENT = "agent"
    IN_PERSON = "in_person"


@dataclass(frozen=True)
class PaymentRecord:
    """A payment made elsewhere, checked: it paid one bill or one premium month."""

    reference: str
    paid_on: date
    amount_cents: int
    channel: PaymentChannel
    bill_number: str | None = None
    coverage_month: date | None = None


@dataclass(frozen=True)
class MemberRecord:
    """One member of a feed, checked; the MRN and birth date are kept out of its repr."""

    mrn: str = field(repr=False)
    birth_date: date = field(repr=False)
    first_name: str
    last_name: str
    region_key: str
    state: str
    coverage_type: CoverageType
    phone: str | None
    email: str | None
    language: str
    monthly_premium_cents: int | None
    bills: tuple[BillRecord, ...] = ()
    premiums: tuple[PremiumRecord, ...] = ()
    # The mailing address: all empty, or at least line 1, city, state and ZIP code.
    address_line1: str | None = None
    address_line2: str | None = None
    address_city: str | None = None
    address_state: str | None = None
    address_zip: str | None = None
    account_key: str | None = None
    credit_cents: int = 0
    payments: tuple[PaymentRecord, ...] = ()

    @property
    def mrn_last4(self) -> str:
        return self.mrn[-4:]
