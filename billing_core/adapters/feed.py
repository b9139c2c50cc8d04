"""The billing feed: members with their medical bills and premium invoices, from JSON or CSV.

A feed file is parsed and checked whole before anything is written: every problem is
collected with its position and field, and a file with any problem is refused
(FeedRejected). Both formats become the same document first and share one validation.
The import then adds and updates rows in one transaction; importing the same file
again changes nothing.

MRNs and birth dates live only in memory here: the database gets their keyed digests
(billing_core.domain.identity), and problem messages never repeat their values.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal, cast

from sqlalchemy import Table, bindparam, func, select
from sqlalchemy import text as sql

from billing_core.adapters.models import (
    MedicalBill,
    Member,
    Payment,
    PaymentAllocation,
    PremiumInvoice,
)
from billing_core.adapters.unit_of_work import UnitOfWork
from billing_core.domain.exceptions import FeedRejected
from billing_core.domain.identity import IdentityHasher
from billing_core.domain.members import CoverageType
from billing_core.domain.payments import PaymentStatus
from billing_core.domain.regions import LANGUAGES, RegionCatalog, normalize_phone_number

log = logging.getLogger(__name__)

FeedFormat = Literal["json", "csv"]

MEMBER_FIELDS = tuple(
    "mrn birth_date first_name last_name region state coverage_type phone email language"
    " monthly_premium bills premiums".split()
)
BILL_FIELDS = tuple("bill_number date_of_service facility provider amount paid due_date".split())
PREMIUM_FIELDS = ("coverage_month", "amount", "paid")

# The CSV header, in this order; `amount` and `paid` serve bill and premium rows alike.
CSV_COLUMNS = (
    "record",
    *(name for name in MEMBER_FIELDS if name not in ("bills", "premiums")),
    *BILL_FIELDS,
    "coverage_month",
)
_MEMBER_KNOWN = frozenset(MEMBER_FIELDS)
_BILL_KNOWN = frozenset(BILL_FIELDS)
_PREMIUM_KNOWN = frozenset(PREMIUM_FIELDS)
CSV_RECORD_COLUMNS: Mapping[str, tuple[str, ...]] = {
    "member": tuple(name for name in MEMBER_FIELDS if name not in ("bills", "premiums")),
    "bill": BILL_FIELDS,
    "premium": PREMIUM_FIELDS,
}

# Anything larger is a mistake in the source system, not a bill.
MAX_MONEY_CENTS = 1_000_000_000
_MAX_DOLLARS = Decimal(MAX_MONEY_CENTS) / 100
_MAX_DOLLAR_DIGITS = len(str(MAX_MONEY_CENTS // 100))
EARLIEST_BIRTH_DATE = date(1900, 1, 1)
MRN_DIGITS = (4, 15)
# Column sizes of billing_core.adapters.models; PostgreSQL would refuse longer text mid-import.
NAME_LENGTH = 100
PLACE_LENGTH = 200
BILL_NUMBER_LENGTH = 40
EMAIL_LENGTH = 254
# Rows per IN (...) query: well under every backend's limit on bound parameters.
LOOKUP_BATCH = 500

_MONEY_TEXT = re.compile(r"(-?)(\d+)(?:\.(\d{1,2}))?")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_ISO_MONTH = re.compile(r"\d{4}-\d{2}")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_BILL_NUMBER = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/-]*")


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

    @property
    def mrn_last4(self) -> str:
        return self.mrn[-4:]


@dataclass
class ImportReport:
    """What an import did, as counts."""

    members_created: int = 0
    members_updated: int = 0
    members_unchanged: int = 0
    bills_created: int = 0
    bills_updated: int = 0
    premiums_created: int = 0
    premiums_updated: int = 0

    @property
    def unchanged(self) -> bool:
        """True when the import created and updated nothing."""
        return not (
            self.members_created
            or self.members_updated
            or self.bills_created
            or self.bills_updated
            or self.premiums_created
            or self.premiums_updated
        )


# --- money ---------------------------------------------------------------------------


def parse_money(value: object) -> int:
    """Return integer cents of a non-negative amount with at most two decimals."""
    if isinstance(value, str):
        found = _MONEY_TEXT.fullmatch(value.strip())
        if found is None:
            raise ValueError(f"not an amount of money: {_shown(value)}")
        sign, dollars, fraction = found.groups()
        if sign:
            raise ValueError(f"must not be negative: {_shown(value)}")
        # Checked before int(): a thousand-digit amount is a mistake, not a number to build.
        if len(dollars.lstrip("0")) > _MAX_DOLLAR_DIGITS:
            raise ValueError(f"more than {format_money(MAX_MONEY_CENTS)}: {_shown(value)}")
        cents = int(dollars) * 100 + int((fraction or "0").ljust(2, "0"))
    elif isinstance(value, int) and not isinstance(value, bool):
        if value < 0:
            raise ValueError(f"must not be negative: {_shown(value)}")
        cents = value * 100 if value <= MAX_MONEY_CENTS else MAX_MONEY_CENTS + 1
    elif isinstance(value, Decimal):
        # JSON numbers arrive as Decimal (parse_float=Decimal), never as float.
        exponent = value.as_tuple().exponent
        if not value.is_finite() or not isinstance(exponent, int) or exponent < -2:
            raise ValueError(f"not an amount of money: {_shown(value)}")
        if value < 0:
            raise ValueError(f"must not be negative: {_shown(value)}")
        # Compared in dollars first so an absurd exponent never becomes a huge int.
        cents = int(value * 100) if value <= _MAX_DOLLARS else MAX_MONEY_CENTS + 1
    else:
        raise ValueError(f"not an amount of money: {_shown(value)}")
    if cents > MAX_MONEY_CENTS:
        raise ValueError(f"more than {format_money(MAX_MONEY_CENTS)}: {_shown(value)}")
    return cents


def format_money(cents: int) -> str:
    """Return cents as feed text, dollars and two decimals ("1234.50")."""
    if cents < 0:
        raise ValueError("amounts in the feed are never negative")
    return f"{cents // 100}.{cents % 100:02d}"


# --- problems and positions ----------------------------------------------------------

# Where an item sits in the document: ("members", 3) or ("members", 3, "bills", 1).
Position = tuple[str | int, ...]
Place = Callable[[Position, str | None], str]


def _json_place(path: Position, field_name: str | None) -> str:
    """Name a position the JSON way: members[3].bills[1].amount."""
    text = ""
    for part in (*path, field_name) if field_name else path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "document"


class _CsvPlaces:
    """Names positions by CSV row: row 7 (bill), field amount."""

    def __init__(self) -> None:
        self.rows: dict[Position, tuple[int, str]] = {}

    def __call__(self, path: Position, field_name: str | None) -> str:
        row, kind = self.rows.get(path, (0, "?"))
        where = f"row {row} ({kind})"
        return f"{where}, field {field_name}" if field_name else where


class _Problems:
    """Every problem found so far, each with its position and field."""

    def __init__(self, place: Place) -> None:
        self.place = place
        self.items: list[str] = []

    def add(self, path: Position, field_name: str | None, message: str) -> None:
        self.items.append(f"{self.place(path, field_name)}: {message}")


def _shown(value: object) -> str:
    text = value if isinstance(value, str) else str(value)
    # A whole row pasted into one cell would bury the message.
    return repr(text if len(text) <= 40 else text[:37] + "...")


_ABSENT = object()


class _Item:
    """One mapping of the document (a member, a bill or a premium) being read field by field."""

    def __init__(
        self, data: Mapping[str, Any], path: Position, problems: _Problems, known: frozenset[str]
    ) -> None:
        self.data = data
        self.path = path
        self.problems = problems
        self.ok = True
        if not known.issuperset(data):
            for name in data:
                if name not in known:
                    self.fail(str(name), "unknown field")

    def fail(self, name: str | None, message: str) -> None:
        self.problems.add(self.path, name, message)
        self.ok = False

    def raw(self, name: str) -> Any:
        value = self.data.get(name)
        if isinstance(value, str):
            value = value.strip()
        # An empty CSV cell and a JSON null both mean "not given".
        return _ABSENT if value is None or value == "" else value

    def text(self, name: str, *, max_length: int, required: bool = True) -> str | None:
        value = self.raw(name)
        if value is _ABSENT:
            if required:
                self.fail(name, "is required")
            return None
        if not isinstance(value, str):
            self.fail(name, f"must be text: {_shown(value)}")
            return None
        if len(value) > max_length:
            self.fail(name, f"longer than {max_length} characters")
            return None
        return value

    def money(self, name: str, *, required: bool = True) -> int | None:
        value = self.raw(name)
        if value is _ABSENT:
            if required:
                self.fail(name, "is required")
            return None
        try:
            return parse_money(value)
        except ValueError as bad:
            self.fail(name, str(bad))
            return None

    def day(self, name: str) -> date | None:
        value = self.raw(name)
        if value is _ABSENT:
            self.fail(name, "is required")
            return None
        # date.fromisoformat alone also takes 20260914 and week dates.
        if isinstance(value, str) and _ISO_DATE.fullmatch(value):
            try:
                return date.fromisoformat(value)
            except ValueError:
                pass
        self.fail(name, f"not a date (YYYY-MM-DD): {_shown(value)}")
        return None

    def month(self, name: str) -> date | None:
        value = self.raw(name)
        if value is _ABSENT:
            self.fail(name, "is required")
            return None
        if isinstance(value, str) and _ISO_MONTH.fullmatch(value):
            year, month = int(value[:4]), int(value[5:])
            if 1 <= month <= 12 and year >= 1:
                return date(year, month, 1)
        self.fail(name, f"not a month (YYYY-MM): {_shown(value)}")
        return None


# --- validation: one path for both formats ---------------------------------------------


def parse_feed_document(
    document: Any, *, regions: RegionCatalog, today: date
) -> list[MemberRecord]:
    """Check a feed document ({"members": [...]}) and return its members, or raise FeedRejected."""
    problems = _Problems(_json_place)
    records = _validate_document(document, problems, regions, today)
    if problems.items:
        raise FeedRejected(problems.items)
    return records


def _validate_document(
    document: Any, problems: _Problems, regions: RegionCatalog, today: date
) -> list[MemberRecord]:
    if not isinstance(document, Mapping):
        problems.add((), None, 'must be an object with a "members" list')
        return []
    for name in document:
        if name != "members":
            problems.add((), str(name), "unknown field")
    members = document.get("members")
    if not isinstance(members, list):
        problems.add((), "members", "must be a list of members")
        return []
    records: list[MemberRecord] = []
    first_position: dict[str, int] = {}
    for index, member in enumerate(members):
        path: Position = ("members", index)
        if not isinstance(member, Mapping):
            problems.add(path, None, "must be an object")
            continue
        record = _validate_member(member, path, problems, regions, today)
        mrn = member.get("mrn")
        if isinstance(mrn, str) and _is_mrn(mrn.strip()):
            earlier = first_position.setdefault(mrn.strip(), index)
            if earlier != index:
                # Named by position, not value: an MRN goes into no message and no log.
                where = problems.place(("members", earlier), None)
                problems.add(path, "mrn", f"the same MRN as {where}")
                continue
        if record is not None:
            records.append(record)
    return records


# The usual ways of writing a US number: formatted here, as phonenumbers would, because
# the full parser is most of the time spent checking a big file.
_US_PHONE = re.compile(r"(?:\+?1[\s.-]?)?\(?([2-9]\d{2})\)?[\s.-]?([2-9]\d{2})[\s.-]?(\d{4})")


def _e164(raw: str) -> str | None:
    found = _US_PHONE.fullmatch(raw)
    return "+1" + "".join(found.groups()) if found else normalize_phone_number(raw)


def _is_mrn(text: str) -> bool:
    return text.isascii() and text.isdigit() and MRN_DIGITS[0] <= len(text) <= MRN_DIGITS[1]


def _validate_member(
    data: Mapping[str, Any],
    path: Position,
    problems: _Problems,
    regions: RegionCatalog,
    today: date,
) -> MemberRecord | None:
    item = _Item(data, path, problems, _MEMBER_KNOWN)

    mrn = item.raw("mrn")
    if mrn is _ABSENT:
        item.fail("mrn", "is required")
    elif not (isinstance(mrn, str) and _is_mrn(mrn)):
        item.fail("mrn", f"must be {MRN_DIGITS[0]} to {MRN_DIGITS[1]} digits, nothing else")

    birth_date = None
    raw_birth = item.raw("birth_date")
    if raw_birth is _ABSENT:
        item.fail("birth_date", "is required")
    elif not (isinstance(raw_birth, str) and _ISO_DATE.fullmatch(raw_birth)):
        item.fail("birth_date", "not a date (YYYY-MM-DD)")
    else:
        try:
            birth_date = date.fromisoformat(raw_birth)
        except ValueError:
            item.fail("birth_date", "not a date (YYYY-MM-DD)")
        else:
            if birth_date > today:
                item.fail("birth_date", "is in the future")
            elif birth_date < EARLIEST_BIRTH_DATE:
                item.fail("birth_date", "is before 1900")

    first_name = item.text("first_name", max_length=NAME_LENGTH)
    last_name = item.text("last_name", max_length=NAME_LENGTH)

    region_key = item.text("region", max_length=16)
    state = item.text("state", max_length=2)
    if region_key is not None:
        region_key = region_key.lower()
        region = regions.regions.get(region_key)
        if region is None:
            item.fail(
                "region",
                f"unknown region {_shown(region_key)}; "
                f"use one of {', '.join(sorted(regions.regions))}",
            )
        elif state is not None:
            state = state.upper()
            if state not in region.states:
                item.fail(
                    "state",
                    f"{_shown(state)} is not served by region {region_key!r}; "
                    f"use one of {', '.join(sorted(region.states))}",
                )

    coverage_type = None
    coverage_text = item.text("coverage_type", max_length=40)
    if coverage_text is not None:
        try:
            coverage_type = CoverageType(coverage_text.lower())
        except ValueError:
            item.fail(
                "coverage_type",
                f"unknown coverage type {_shown(coverage_text)}; "
                f"use one of {', '.join(c.value for c in CoverageType)}",
            )

    phone = item.text("phone", max_length=40, required=False)
    if phone is not None:
        phone = _e164(phone)
        if phone is None:
            item.fail("phone", f"not a phone number: {_shown(item.raw('phone'))}")

    email = item.text("email", max_length=EMAIL_LENGTH, required=False)
    if email is not None and not _EMAIL.fullmatch(email):
        item.fail("email", f"not an email address: {_shown(email)}")

    language = item.text("language", max_length=8, required=False) or "en"
    language = language.lower()
    if language not in LANGUAGES:
        item.fail("language", f"must be one of {', '.join(sorted(LANGUAGES))}: {_shown(language)}")

    monthly_premium = item.money("monthly_premium", required=False)
    if coverage_type is CoverageType.EMPLOYER_GROUP and monthly_premium is not None:
        item.fail("monthly_premium", "employer_group members have no premium (the employer pays)")

    bills = _validate_bills(item, path, problems)
    premiums = _validate_premiums(item, path, problems, coverage_type)

    if not item.ok or bills is None or premiums is None:
        return None
    assert isinstance(mrn, str) and birth_date is not None and coverage_type is not None
    assert first_name is not None and last_name is not None
    assert region_key is not None and state is not None
    return MemberRecord(
        mrn=mrn,
        birth_date=birth_date,
        first_name=first_name,
        last_name=last_name,
        region_key=region_key,
        state=state,
        coverage_type=coverage_type,
        phone=phone,
        email=email,
        language=language,
        monthly_premium_cents=monthly_premium,
        bills=tuple(bills),
        premiums=tuple(premiums),
    )


def _entries(member: _Item, name: str) -> list[Any] | None:
    raw = member.data.get(name)
    if raw is None:
        return []
    if not isinstance(raw, list):
        member.fail(name, "must be a list")
        return None
    return raw


def _validate_bills(member: _Item, path: Position, problems: _Problems) -> list[BillRecord] | None:
    entries = _entries(member, "bills")
    if entries is None:
        return None
    bills: list[BillRecord] = []
    seen: dict[str, int] = {}
    ok = True
    for index, data in enumerate(entries):
        bill_path: Position = (*path, "bills", index)
        if not isinstance(data, Mapping):
            problems.add(bill_path, None, "must be an object")
            ok = False
            continue
        item = _Item(data, bill_path, problems, _BILL_KNOWN)
        number = item.text("bill_number", max_length=BILL_NUMBER_LENGTH)
        if number is not None and not _BILL_NUMBER.fullmatch(number):
            item.fail("bill_number", f"letters, digits and . _ / - only: {_shown(number)}")
        elif number is not None:
            earlier = seen.setdefault(number, index)
            if earlier != index:
                item.fail(
                    "bill_number",
                    f"{_shown(number)} is also {problems.place((*path, 'bills', earlier), None)}",
                )
        service = item.day("date_of_service")
        facility = item.text("facility", max_length=PLACE_LENGTH)
        provider = item.text("provider", max_length=PLACE_LENGTH)
        amount = item.money("amount")
        paid = item.money("paid", required=False)
        due = item.day("due_date")
        if amount is not None and paid is not None and paid > amount:
            item.fail(
                "paid", f"more than the amount ({format_money(paid)} > {format_money(amount)})"
            )
        if service is not None and due is not None and due < service:
            item.fail("due_date", "is before the date of service")
        if not item.ok:
            ok = False
            continue
        assert number is not None and service is not None and due is not None
        assert facility is not None and provider is not None and amount is not None
        bills.append(BillRecord(number, service, facility, provider, amount, paid or 0, due))
    return bills if ok else None


def _validate_premiums(
    member: _Item, path: Position, problems: _Problems, coverage_type: CoverageType | None
) -> list[PremiumRecord] | None:
    entries = _entries(member, "premiums")
    if entries is None:
        return None
    premiums: list[PremiumRecord] = []
    seen: dict[date, int] = {}
    ok = True
    for index, data in enumerate(entries):
        premium_path: Position = (*path, "premiums", index)
        if coverage_type is CoverageType.EMPLOYER_GROUP:
            problems.add(
                premium_path, None, "employer_group members have no premiums (the employer pays)"
            )
            ok = False
            continue
        if not isinstance(data, Mapping):
            problems.add(premium_path, None, "must be an object")
            ok = False
            continue
        item = _Item(data, premium_path, problems, _PREMIUM_KNOWN)
        month = item.month("coverage_month")
        if month is not None:
            earlier = seen.setdefault(month, index)
            if earlier != index:
                item.fail(
                    "coverage_month",
                    f"{month:%Y-%m} is also {problems.place((*path, 'premiums', earlier), None)}",
                )
        amount = item.money("amount")
        paid = item.money("paid", required=False)
        if amount is not None and paid is not None and paid > amount:
            item.fail(
                "paid", f"more than the amount ({format_money(paid)} > {format_money(amount)})"
            )
        if not item.ok:
            ok = False
            continue
        assert month is not None and amount is not None
        premiums.append(PremiumRecord(month, amount, paid or 0))
    return premiums if ok else None


# --- the two file formats ----------------------------------------------------------------


def parse_feed(
    text: str, *, format: FeedFormat, regions: RegionCatalog, today: date
) -> list[MemberRecord]:
    """Parse and check feed text in the given format; raise FeedRejected listing every problem."""
    if format == "json":
        try:
            # Decimal, never float: 0.1 + 0.2 must stay 0.30.
            document = json.loads(text, parse_float=Decimal)
        except json.JSONDecodeError as broken:
            raise FeedRejected(
                [f"line {broken.lineno}, column {broken.colno}: not valid JSON: {broken.msg}"]
            ) from None
        return parse_feed_document(document, regions=regions, today=today)
    if format == "csv":
        document, places, problems = _csv_document(text)
        records = _validate_document(document, problems, regions, today)
        if problems.items:
            # Row order, so a person can walk the file top to bottom.
            raise FeedRejected(_by_row(problems.items))
        return records
    raise ValueError(f"unknown feed format {format!r}; use 'json' or 'csv'")


def load_feed_file(
    path: str | Path, *, regions: RegionCatalog, today: date, format: FeedFormat | None = None
) -> list[MemberRecord]:
    """Read, parse and check a feed file; the format comes from the extension unless given."""
    path = Path(path)
    if format is None:
        suffix = path.suffix.lower().lstrip(".")
        if suffix not in ("json", "csv"):
            raise FeedRejected([f"{path.name}: unknown feed format; name the file .json or .csv"])
        format = "json" if suffix == "json" else "csv"
    try:
        # utf-8-sig: spreadsheets often start a CSV export with a byte-order mark.
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise FeedRejected([f"{path.name}: not UTF-8 text"]) from None
    return parse_feed(text, format=format, regions=regions, today=today)


def _csv_document(text: str) -> tuple[dict[str, Any], _CsvPlaces, _Problems]:
    """Turn CSV rows into a feed document, remembering which row each item came from."""
    places = _CsvPlaces()
    problems = _Problems(places)
    members: list[dict[str, Any]] = []
    document: dict[str, Any] = {"members": members}

    rows = csv.reader(io.StringIO(text, newline=""))
    header = next(rows, None)
    if header is None or not any(cell.strip() for cell in header):
        problems.items.append("row 1 (header): the file is empty; the first row names the columns")
        return document, places, problems
    columns = [cell.strip().lower() for cell in header]
    fatal = False
    for position, name in enumerate(columns):
        if name not in CSV_COLUMNS:
            problems.items.append(f"row 1 (header), field {name or '(blank)'}: unknown column")
        elif name in columns[:position]:
            problems.items.append(f"row 1 (header), field {name}: the column appears twice")
            fatal = True
    for needed in ("record", "mrn"):
        if needed not in columns:
            problems.items.append(f"row 1 (header): the {needed} column is missing")
            fatal = True
    if fatal:
        return document, places, problems

    width = len(columns)
    record_at, mrn_at = columns.index("record"), columns.index("mrn")
    # Per record kind: the columns it reads, and the other known columns, which must be empty.
    layout = {
        kind: (
            [(name, columns.index(name)) for name in names if name in columns],
            [
                (name, position)
                for position, name in enumerate(columns)
                if name in CSV_COLUMNS and name not in names and name not in ("record", "mrn")
            ],
        )
        for kind, names in CSV_RECORD_COLUMNS.items()
    }
    member_by_mrn: dict[str, tuple[int, dict[str, Any]]] = {}
    pending: list[tuple[int, str, str, dict[str, Any]]] = []
    for number, cells in enumerate(rows, start=2):
        if not "".join(cells).strip():
            continue  # a blank line, often at the end of an export
        if len(cells) < width:
            cells += [""] * (width - len(cells))
        elif len(cells) > width:
            if any(cell.strip() for cell in cells[width:]):
                problems.items.append(
                    f"row {number}: {len(cells)} cells but the header names {width} columns"
                )
                continue
            cells = cells[:width]  # empty trailing cells, as spreadsheets sometimes add
        kind = cells[record_at].strip().lower()
        if kind not in layout:
            problems.items.append(
                f"row {number}, field record: must be member, bill or premium: "
                f"{_shown(cells[record_at])}"
            )
            continue
        own, others = layout[kind]
        stray = [name for name, position in others if cells[position].strip()]
        for name in stray:
            problems.items.append(
                f"row {number} ({kind}), field {name}: not a {kind} column; leave it empty"
            )
        if stray:
            continue
        item: dict[str, Any] = {}
        for name, position in own:
            value = cells[position].strip()
            if value:
                item[name] = value
        mrn = cells[mrn_at].strip()
        if kind == "member":
            item["bills"], item["premiums"] = [], []
            places.rows[("members", len(members))] = (number, "member")
            member_by_mrn.setdefault(mrn, (len(members), item))
            members.append(item)
        else:
            # Linked once every member row is known, so rows may come in any order.
            pending.append((number, kind, mrn, item))

    for number, kind, mrn, item in pending:
        if not mrn:
            problems.items.append(f"row {number} ({kind}), field mrn: is required")
            continue
        owner = member_by_mrn.get(mrn)
        if owner is None:
            problems.items.append(f"row {number} ({kind}), field mrn: no member row has this MRN")
            continue
        index, member = owner
        entries = member["bills" if kind == "bill" else "premiums"]
        places.rows[("members", index, f"{kind}s", len(entries))] = (number, kind)
        entries.append(item)
    return document, places, problems


_ROW_NUMBER = re.compile(r"row (\d+)")


def _by_row(problems: list[str]) -> list[str]:
    def row(problem: str) -> int:
        found = _ROW_NUMBER.match(problem)
        return int(found.group(1)) if found else 0

    return sorted(problems, key=row)  # stable: a row's problems keep their field order


def feed_document_to_csv(document: Mapping[str, Any]) -> str:
    """Write a feed document as feed CSV: each member row, then its bills and premiums."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)

    def cells(kind: str, mrn: Any, values: Mapping[str, Any]) -> list[str]:
        row = {"record": kind, "mrn": mrn}
        row.update({name: values.get(name) for name in CSV_RECORD_COLUMNS[kind]})
        return ["" if row.get(name) is None else str(row.get(name)) for name in CSV_COLUMNS]

    for member in document.get("members", []):
        writer.writerow(cells("member", member.get("mrn"), member))
        for bill in member.get("bills") or []:
            writer.writerow(cells("bill", member.get("mrn"), bill))
        for premium in member.get("premiums") or []:
            writer.writerow(cells("premium", member.get("mrn"), premium))
    return out.getvalue()


# --- import ----------------------------------------------------------------------------------

_MEMBER_COLUMNS = (
    "mrn_last4",
    "birth_digest",
    "first_name",
    "last_name",
    "region_key",
    "state",
    "coverage_type",
    "phone",
    "email",
    "language",
    "monthly_premium_cents",
)
# "feed_paid_cents" is what the billing system last said was paid; "paid_cents" adds the
# payments this line took that the billing system had not seen yet.
_BILL_COLUMNS = (
    "date_of_service",
    "facility",
    "provider",
    "amount_cents",
    "feed_paid_cents",
    "due_date",
)
_PREMIUM_COLUMNS = ("amount_cents", "feed_paid_cents")
# Core tables: the import reads and writes plain rows, skipping ORM bookkeeping per object.
_MEMBERS = cast(Table, Member.__table__)
_BILLS = cast(Table, MedicalBill.__table__)
_PREMIUMS = cast(Table, PremiumInvoice.__table__)


def import_feed(
    uow: UnitOfWork,
    *,
    records: Sequence[MemberRecord],
    hasher: IdentityHasher,
    now: datetime,
    as_of: datetime | None = None,
) -> ImportReport:
    """Add and update members, bills and premiums from checked records, all or nothing.

    Payments taken on this line are never lost to an import: a bill whose paid amount
    the file leaves as it was keeps them; a bill whose paid amount changed gets the
    file's figure plus the payments this line settled after `as_of`, the moment the
    billing system extracted the file (default: now, i.e. the file already includes
    every payment taken before the import).
    """
    if now.tzinfo is None:
        raise ValueError("import_feed needs a timezone-aware time")
    now = now.astimezone(UTC)
    as_of = (as_of or now).astimezone(UTC)
    report = ImportReport()

    wanted: dict[str, tuple[MemberRecord, dict[str, Any]]] = {}
    for index, record in enumerate(records):
        digest = hasher.mrn(record.mrn)
        if digest in wanted:
            raise FeedRejected([f"members[{index}].mrn: the same MRN as an earlier member"])
        wanted[digest] = (record, _member_values(record, digest, hasher))

    with uow:
        if uow.session.get_bind().dialect.name == "postgresql":
            # Plan each batch lookup for its own values. A plan the connection cached while
            # the tables were empty (a first import) would scan every row once per value
            # of the batch, turning the next re-import from seconds into many minutes.
            uow.session.execute(sql("SET LOCAL plan_cache_mode = force_custom_plan"))
        existing = _existing_members(uow, list(wanted))
        member_ids = [row["id"] for row in existing.values()]
        bills = _existing_children(
            uow, _BILLS, "bill_number", (*_BILL_COLUMNS, "paid_cents"), member_ids
        )
        premiums = _existing_children(
            uow, _PREMIUMS, "coverage_month", (*_PREMIUM_COLUMNS, "paid_cents"), member_ids
        )

        new_members: list[dict[str, Any]] = []
        changed_members: list[dict[str, Any]] = []
        for digest, (_record, values) in wanted.items():
            current = existing.get(digest)
            if current is None:
                new_members.append(
                    {"mrn_digest": digest, **values, "created_at": now, "updated_at": now}
                )
            elif any(current[name] != values[name] for name in _MEMBER_COLUMNS):
                changed_members.append({"row_id": current["id"], **values, "updated_at": now})
            else:
                report.members_unchanged += 1
        if new_members:
            # A plain executemany and a read-back of the ids: far faster on PostgreSQL than
            # INSERT ... RETURNING, which sends each page of rows as one long statement.
            uow.session.execute(_MEMBERS.insert(), new_members)
            existing.update(_existing_members(uow, [row["mrn_digest"] for row in new_members]))
        _update_by_id(uow, _MEMBERS, changed_members)
        report.members_created = len(new_members)
        report.members_updated = len(changed_members)

        bill_rows = [
            (
                existing[digest]["id"],
                bill.bill_number,
                {
                    "date_of_service": bill.date_of_service,
                    "facility": bill.facility,
                    "provider": bill.provider,
                    "amount_cents": bill.amount_cents,
                    "feed_paid_cents": bill.paid_cents,
                    "due_date": bill.due_date,
                },
            )
            for digest, (record, _values) in wanted.items()
            for bill in record.bills
        ]
        report.bills_created, report.bills_updated = _upsert_children(
            uow, _BILLS, "bill_number", _BILL_COLUMNS, bill_rows, bills, now, as_of
        )
        premium_rows = [
            (
                existing[digest]["id"],
                premium.coverage_month,
                {"amount_cents": premium.amount_cents, "feed_paid_cents": premium.paid_cents},
            )
            for digest, (record, _values) in wanted.items()
            for premium in record.premiums
        ]
        report.premiums_created, report.premiums_updated = _upsert_children(
            uow,
            _PREMIUMS,
            "coverage_month",
            _PREMIUM_COLUMNS,
            premium_rows,
            premiums,
            now,
            as_of,
        )
        uow.commit()
    # Counts only: nothing that identifies a member goes to the log.
    log.info("billing feed imported: %s", report)
    return report


def _member_values(record: MemberRecord, digest: str, hasher: IdentityHasher) -> dict[str, Any]:
    return {
        "mrn_last4": record.mrn_last4,
        "birth_digest": hasher.birth(digest, record.birth_date),
        "first_name": record.first_name,
        "last_name": record.last_name,
        "region_key": record.region_key,
        "state": record.state,
        "coverage_type": record.coverage_type,
        "phone": record.phone,
        "email": record.email,
        "language": record.language,
        "monthly_premium_cents": record.monthly_premium_cents,
    }


def _batches(values: Sequence[Any]) -> Iterator[Sequence[Any]]:
    for start in range(0, len(values), LOOKUP_BATCH):
        yield values[start : start + LOOKUP_BATCH]


def _existing_members(uow: UnitOfWork, digests: list[str]) -> dict[str, dict[str, Any]]:
    """The stored members among these digests, by digest, read in batches."""
    table = _MEMBERS
    columns = [table.c.id, table.c.mrn_digest, *(table.c[name] for name in _MEMBER_COLUMNS)]
    found: dict[str, dict[str, Any]] = {}
    for batch in _batches(digests):
        for row in uow.session.execute(select(*columns).where(table.c.mrn_digest.in_(batch))):
            found[row.mrn_digest] = dict(row._mapping)
    return found


def _existing_children(
    uow: UnitOfWork, table: Table, key: str, compared: Sequence[str], member_ids: list[int]
) -> dict[tuple[int, Any], dict[str, Any]]:
    """The stored bills or premiums of these members, by (member id, key), read in batches."""
    columns = [table.c.id, table.c.member_id, table.c[key], *(table.c[name] for name in compared)]
    found: dict[tuple[int, Any], dict[str, Any]] = {}
    for batch in _batches(member_ids):
        for row in uow.session.execute(select(*columns).where(table.c.member_id.in_(batch))):
            values = dict(row._mapping)
            found[(values["member_id"], values[key])] = values
    return found


def _upsert_children(
    uow: UnitOfWork,
    table: Table,
    key: str,
    compared: Sequence[str],
    rows: list[tuple[int, Any, dict[str, Any]]],
    existing: Mapping[tuple[int, Any], Mapping[str, Any]],
    now: datetime,
    as_of: datetime,
) -> tuple[int, int]:
    """Insert new and update changed bills or premiums; return (created, updated)."""
    new: list[dict[str, Any]] = []
    changed: list[dict[str, Any]] = []
    repaid: list[int] = []
    for member_id, key_value, values in rows:
        current = existing.get((member_id, key_value))
        if current is None:
            new.append(
                {
                    "member_id": member_id,
                    key: key_value,
                    **values,
                    "paid_cents": values["feed_paid_cents"],
                    "updated_at": now,
                }
            )
        elif any(current[name] != values[name] for name in compared):
            if current["feed_paid_cents"] == values["feed_paid_cents"]:
                paid = current["paid_cents"]  # the file says nothing new about payments
            else:
                paid = values["feed_paid_cents"]
                repaid.append(current["id"])
            changed.append(
                {"row_id": current["id"], **values, "paid_cents": paid, "updated_at": now}
            )
    if repaid:
        # Payments this line settled after the file was extracted are not in it yet.
        unseen = _phone_paid_since(uow, table, repaid, as_of)
        for row in changed:
            row["paid_cents"] += unseen.get(row["row_id"], 0)
    if new:
        uow.session.execute(table.insert(), new)
    _update_by_id(uow, table, changed)
    return len(new), len(changed)


def _phone_paid_since(
    uow: UnitOfWork, table: Table, item_ids: list[int], as_of: datetime
) -> dict[int, int]:
    """Return, per bill or premium, what this line's payments settled after as_of credited."""
    column = PaymentAllocation.bill_id if table is _BILLS else PaymentAllocation.premium_invoice_id
    found: dict[int, int] = {}
    for batch in _batches(item_ids):
        rows = uow.session.execute(
            select(column, func.sum(PaymentAllocation.amount_cents))
            .join(Payment, Payment.id == PaymentAllocation.payment_id)
            .where(
                column.in_(batch),
                Payment.status == PaymentStatus.SUCCEEDED,
                Payment.settled_at > as_of,
            )
            .group_by(column)
        )
        found.update({item_id: int(total) for item_id, total in rows})
    return found


def _update_by_id(uow: UnitOfWork, table: Table, rows: list[dict[str, Any]]) -> None:
    """One executemany UPDATE; each row names its id as row_id and the new values by column."""
    if rows:
        # Every row carries the same keys, so the SET clause fits them all.
        uow.session.execute(table.update().where(table.c.id == bindparam("row_id")), rows)
