"""Checking a feed document ({"members": [...]}), the one path both file formats share.

Every problem is collected with its position and field, and a document with any problem
is refused whole (FeedRejected). Problem messages never repeat an MRN or a birth date.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import date
from typing import Any

from billing_core.adapters.feed.records import (
    BILL_KNOWN,
    BILL_NUMBER,
    BILL_NUMBER_LENGTH,
    EARLIEST_BIRTH_DATE,
    EMAIL,
    EMAIL_LENGTH,
    ISO_DATE,
    ISO_MONTH,
    MEMBER_KNOWN,
    MRN_DIGITS,
    NAME_LENGTH,
    PLACE_LENGTH,
    PREMIUM_KNOWN,
    BillRecord,
    MemberRecord,
    PremiumRecord,
)
from billing_core.domain.exceptions import FeedRejected
from billing_core.domain.members import CoverageType
from billing_core.domain.money import format_money, parse_money
from billing_core.domain.money import shown as _shown
from billing_core.domain.regions import LANGUAGES, RegionCatalog, normalize_phone_number

# Where an item sits in the document: ("members", 3) or ("members", 3, "bills", 1).
Position = tuple[str | int, ...]
Place = Callable[[Position, str | None], str]


def _json_place(path: Position, field_name: str | None) -> str:
    """Name a position the JSON way: members[3].bills[1].amount."""
    text = ""
    for part in (*path, field_name) if field_name else path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "document"


class CsvPlaces:
    """Names positions by CSV row: row 7 (bill), field amount."""

    def __init__(self) -> None:
        self.rows: dict[Position, tuple[int, str]] = {}

    def __call__(self, path: Position, field_name: str | None) -> str:
        row, kind = self.rows.get(path, (0, "?"))
        where = f"row {row} ({kind})"
        return f"{where}, field {field_name}" if field_name else where


class Problems:
    """Every problem found so far, each with its position and field."""

    def __init__(self, place: Place) -> None:
        self.place = place
        self.items: list[str] = []

    def add(self, path: Position, field_name: str | None, message: str) -> None:
        self.items.append(f"{self.place(path, field_name)}: {message}")


_ABSENT = object()


class _Item:
    """One mapping of the document (a member, a bill or a premium) being read field by field."""

    def __init__(
        self, data: Mapping[str, Any], path: Position, problems: Problems, known: frozenset[str]
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
        if isinstance(value, str) and ISO_DATE.fullmatch(value):
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
        if isinstance(value, str) and ISO_MONTH.fullmatch(value):
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
    problems = Problems(_json_place)
    records = validate_document(document, problems, regions, today)
    if problems.items:
        raise FeedRejected(problems.items)
    return records


def validate_document(
    document: Any, problems: Problems, regions: RegionCatalog, today: date
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
    problems: Problems,
    regions: RegionCatalog,
    today: date,
) -> MemberRecord | None:
    item = _Item(data, path, problems, MEMBER_KNOWN)

    mrn = item.raw("mrn")
    if mrn is _ABSENT:
        item.fail("mrn", "is required")
    elif not (isinstance(mrn, str) and _is_mrn(mrn)):
        item.fail("mrn", f"must be {MRN_DIGITS[0]} to {MRN_DIGITS[1]} digits, nothing else")

    birth_date = None
    raw_birth = item.raw("birth_date")
    if raw_birth is _ABSENT:
        item.fail("birth_date", "is required")
    elif not (isinstance(raw_birth, str) and ISO_DATE.fullmatch(raw_birth)):
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
    if email is not None and not EMAIL.fullmatch(email):
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


def _validate_bills(member: _Item, path: Position, problems: Problems) -> list[BillRecord] | None:
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
        item = _Item(data, bill_path, problems, BILL_KNOWN)
        number = item.text("bill_number", max_length=BILL_NUMBER_LENGTH)
        if number is not None and not BILL_NUMBER.fullmatch(number):
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
    member: _Item, path: Position, problems: Problems, coverage_type: CoverageType | None
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
        item = _Item(data, premium_path, problems, PREMIUM_KNOWN)
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
