"""The feed's rows as the rest of the core reads them: checked members, bills and premiums.

The field names of each kind of row, the CSV header, and the limits every row is held to.
MRNs and birth dates live only in memory here: the database gets their keyed digests.
"""

from __future__ import annotations

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
    " bills premiums".split()
)
BILL_FIELDS = tuple(
    "bill_number date_of_service facility provider amount paid due_date disputed".split()
)
PREMIUM_FIELDS = ("coverage_month", "amount", "paid")

# The CSV header, in this order; `amount` and `paid` serve bill and premium rows alike.
CSV_COLUMNS = (
    "record",
    *(name for name in MEMBER_FIELDS if name not in ("bills", "premiums")),
    *BILL_FIELDS,
    "coverage_month",
)
CSV_RECORD_COLUMNS: Mapping[str, tuple[str, ...]] = {
    "member": tuple(name for name in MEMBER_FIELDS if name not in ("bills", "premiums")),
    "bill": BILL_FIELDS,
    "premium": PREMIUM_FIELDS,
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
# The fields of a mailing address, and those it cannot do without.
ADDRESS_FIELDS = ("address_line1", "address_line2", "address_city", "address_state", "address_zip")
ADDRESS_REQUIRED = ("address_line1", "address_city", "address_state", "address_zip")

ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
ISO_MONTH = re.compile(r"\d{4}-\d{2}")
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
BILL_NUMBER = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/-]*")
ZIP_CODE = re.compile(r"\d{5}(?:-\d{4})?")
US_STATE = re.compile(r"[A-Z]{2}")


# The usual ways of writing a US number: formatted here, as phonenumbers would, because
# the full parser is most of the time spent checking a big file.
_US_PHONE = re.compile(r"(?:\+?1[\s.-]?)?\(?([2-9]\d{2})\)?[\s.-]?([2-9]\d{2})[\s.-]?(\d{4})")


def e164(raw: str) -> str | None:
    found = _US_PHONE.fullmatch(raw)
    return "+1" + "".join(found.groups()) if found else normalize_phone_number(raw)


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


@dataclass(frozen=True)
class PremiumRecord:
    """The premium invoice of one coverage month (the first day of that month), checked."""

    coverage_month: date
    amount_cents: int
    paid_cents: int


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

    @property
    def mrn_last4(self) -> str:
        return self.mrn[-4:]
