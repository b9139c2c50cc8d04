"""The feed's rows as pydantic models: a member, a medical bill, a premium invoice.

Each field's check is a validator that reads the raw value as a file gives it (text in
CSV; text, numbers or null in JSON) and returns the checked value. A check that fails
records its problem, with the row's position and the field, in the Problems given in
the validation context, and the field becomes None: every problem of a row is found in
one pass, in field order, as a person reads the row. A row with any problem gives no
record (checked_member returns None).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict, SkipValidation, ValidationInfo, model_validator
from pydantic import field_validator as checks

from billing_core.adapters.feed.records import (
    ACCOUNT_KEY,
    ACCOUNT_KEY_LENGTH,
    ADDRESS_FIELDS,
    ADDRESS_LINE_LENGTH,
    ADDRESS_REQUIRED,
    BILL_NUMBER,
    BILL_NUMBER_LENGTH,
    CITY_LENGTH,
    EARLIEST_BIRTH_DATE,
    EMAIL,
    EMAIL_LENGTH,
    ISO_DATE,
    ISO_MONTH,
    MRN_DIGITS,
    NAME_LENGTH,
    PLACE_LENGTH,
    REFERENCE_LENGTH,
    US_STATE,
    ZIP_CODE,
    BillRecord,
    MemberRecord,
    PaymentChannel,
    PaymentRecord,
    PremiumRecord,
    e164,
    history_start,
    is_mrn,
)
from billing_core.domain.members import CoverageType
from billing_core.domain.money import format_money, parse_money
from billing_core.domain.money import shown as _shown
from billing_core.domain.regions import LANGUAGES, RegionCatalog

# Where an item sits in the document: ("members", 3) or ("members", 3, "bills", 1).
Position = tuple[str | int, ...]
Place = Callable[[Position, str | None], str]


class Problems:
    """Every problem found so far, each with its position and field."""

    def __init__(self, place: Place) -> None:
        self.place = place
        self.items: list[str] = []

    def add(self, path: Position, field_name: str | None, message: str) -> None:
        self.items.append(f"{self.place(path, field_name)}: {message}")


_ABSENT = object()


def _raw(value: Any) -> Any:
    if isinstance(value, str):
        value = value.strip()
    # An empty CSV cell and a JSON null both mean "not given".
    return _ABSENT if value is None or value == "" else value


class _Row(BaseModel):
    """A row of the document; the context names its place: {"problems", "path", ...}."""

    model_config = ConfigDict(extra="ignore", validate_default=True, frozen=True)

    @model_validator(mode="before")
    @classmethod
    def _unknown_fields(cls, data: Any, info: ValidationInfo) -> Any:
        known = cls.model_fields
        for name in data:
            if name not in known:
                _fail(info, str(name), "unknown field")
        return data


def _fail(info: ValidationInfo, name: str | None, message: str) -> None:
    context = info.context
    context["problems"].add(context["path"], name, message)


def _text(info: ValidationInfo, value: Any, *, max_length: int, required: bool = True):
    name = info.field_name
    value = _raw(value)
    if value is _ABSENT:
        if required:
            _fail(info, name, "is required")
        return None
    if not isinstance(value, str):
        _fail(info, name, f"must be text: {_shown(value)}")
        return None
    if len(value) > max_length:
        _fail(info, name, f"longer than {max_length} characters")
        return None
    return value


def _money(info: ValidationInfo, value: Any, *, required: bool = True) -> int | None:
    value = _raw(value)
    if value is _ABSENT:
        if required:
            _fail(info, info.field_name, "is required")
        return None
    try:
        return parse_money(value)
    except ValueError as bad:
        _fail(info, info.field_name, str(bad))
        return None


def _day(info: ValidationInfo, value: Any) -> date | None:
    value = _raw(value)
    if value is _ABSENT:
        _fail(info, info.field_name, "is required")
        return None
    # date.fromisoformat alone also takes 20260914 and week dates.
    if isinstance(value, str) and ISO_DATE.fullmatch(value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    _fail(info, info.field_name, f"not a date (YYYY-MM-DD): {_shown(value)}")
    return None


def _paid_over_amount(info: ValidationInfo, paid: int, amount: int) -> None:
    _fail(info, "paid", f"more than the amount ({format_money(paid)} > {format_money(amount)})")


def _paid_within_amount(info: ValidationInfo, paid: int | None) -> int | None:
    amount = info.data.get("amount")
    if amount is not None and paid is not None and paid > amount:
        _paid_over_amount(info, paid, amount)
    return paid


class BillRow(_Row):
    """One medical bill of a member; context adds "seen" (bill numbers so far, by index)."""

    bill_number: str | None = None
    date_of_service: date | None = None
    facility: str | None = None
    provider: str | None = None
    amount: int | None = None
    paid: int | None = None
    due_date: date | None = None
    disputed: bool | None = None
    adjustments: int | None = None

    @checks("bill_number", mode="before")
    @classmethod
    def _bill_number(cls, value: Any, info: ValidationInfo) -> str | None:
        number = _text(info, value, max_length=BILL_NUMBER_LENGTH)
        if number is not None and not BILL_NUMBER.fullmatch(number):
            _fail(info, "bill_number", f"letters, digits and . _ / - only: {_shown(number)}")
        elif number is not None:
            context = info.context
            earlier = context["seen"].setdefault(number, context["index"])
            if earlier != context["index"]:
                where = context["problems"].place((*context["member_path"], "bills", earlier), None)
                _fail(info, "bill_number", f"{_shown(number)} is also {where}")
        return number

    @checks("date_of_service", "due_date", mode="before")
    @classmethod
    def _dates(cls, value: Any, info: ValidationInfo) -> date | None:
        return _day(info, value)

    @checks("facility", "provider", mode="before")
    @classmethod
    def _places(cls, value: Any, info: ValidationInfo) -> str | None:
        return _text(info, value, max_length=PLACE_LENGTH)

    @checks("amount", mode="before")
    @classmethod
    def _amount(cls, value: Any, info: ValidationInfo) -> int | None:
        return _money(info, value)

    @checks("paid", mode="before")
    @classmethod
    def _paid(cls, value: Any, info: ValidationInfo) -> int | None:
        return _money(info, value, required=False)

    @checks("disputed", mode="before")
    @classmethod
    def _disputed(cls, value: Any, info: ValidationInfo) -> bool | None:
        # Left out (or empty) means not disputed: each file says where every bill stands.
        value = _raw(value)
        if value is _ABSENT:
            return False
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        _fail(info, "disputed", f"must be true or false: {_shown(value)}")
        return None

    @checks("adjustments", mode="before")
    @classmethod
    def _adjustments(cls, value: Any, info: ValidationInfo) -> int | None:
        return _money(info, value, required=False)

    @model_validator(mode="after")
    def _cross_checks(self, info: ValidationInfo) -> BillRow:
        # Once the whole row is read: paid and adjustments against the amount, then the
        # due date.
        paid, amount, adjustments = self.paid, self.amount, self.adjustments
        if amount is not None and paid is not None and paid > amount:
            _fail(
                info,
                "paid",
                f"more than the amount ({format_money(paid)} > {format_money(amount)})",
            )
        elif amount is not None and adjustments is not None and adjustments > amount:
            _fail(
                info,
                "adjustments",
                f"more than the amount ({format_money(adjustments)} > {format_money(amount)})",
            )
        elif (
            amount is not None
            and paid is not None
            and adjustments is not None
            and paid + adjustments > amount
        ):
            _fail(
                info,
                "adjustments",
                f"with what was paid, more than the amount ({format_money(paid)} + "
                f"{format_money(adjustments)} > {format_money(amount)})",
            )
        service, due = self.date_of_service, self.due_date
        if service is not None and due is not None and due < service:
            _fail(info, "due_date", "is before the date of service")
        return self

    def record(self) -> BillRecord:
        assert self.bill_number is not None and self.date_of_service is not None
        assert self.facility is not None and self.provider is not None
        assert self.amount is not None and self.due_date is not None
        return BillRecord(
            self.bill_number,
            self.date_of_service,
            self.facility,
            self.provider,
            self.amount,
            self.paid or 0,
            self.due_date,
            bool(self.disputed),
            self.adjustments or 0,
        )


class PremiumRow(_Row):
    """The premium invoice of one coverage month; context adds "seen" (months so far)."""

    coverage_month: date | None = None
    amount: int | None = None
    paid: int | None = None

    @checks("coverage_month", mode="before")
    @classmethod
    def _coverage_month(cls, value: Any, info: ValidationInfo) -> date | None:
        value = _raw(value)
        if value is _ABSENT:
            _fail(info, "coverage_month", "is required")
            return None
        month = None
        if isinstance(value, str) and ISO_MONTH.fullmatch(value):
            year, number = int(value[:4]), int(value[5:])
            if 1 <= number <= 12 and year >= 1:
                month = date(year, number, 1)
        if month is None:
            _fail(info, "coverage_month", f"not a month (YYYY-MM): {_shown(value)}")
            return None
        context = info.context
        earlier = context["seen"].setdefault(month, context["index"])
        if earlier != context["index"]:
            where = context["problems"].place((*context["member_path"], "premiums", earlier), None)
            _fail(info, "coverage_month", f"{month:%Y-%m} is also {where}")
        return month

    @checks("amount", mode="before")
    @classmethod
    def _amount(cls, value: Any, info: ValidationInfo) -> int | None:
        return _money(info, value)

    @checks("paid", mode="before")
    @classmethod
    def _paid(cls, value: Any, info: ValidationInfo) -> int | None:
        return _paid_within_amount(info, _money(info, value, required=False))

    def record(self) -> PremiumRecord:
        assert self.coverage_month is not None and self.amount is not None
        return PremiumRecord(self.coverage_month, self.amount, self.paid or 0)


class PaymentRow(_Row):
    """A payment made elsewhere; context adds "seen" (references so far) and "today"."""

    paid_on: date | None = None
    amount: int | None = None
    channel: PaymentChannel | None = None
    bill_number: str | None = None
    coverage_month: date | None = None
    reference: str | None = None

    @checks("paid_on", mode="before")
    @classmethod
    def _paid_on(cls, value: Any, info: ValidationInfo) -> date | None:
        day = _day(info, value)
        if day is not None and day > info.context["today"]:
            _fail(info, "paid_on", f"is in the future: {day.isoformat()}")
            return None
        return day

    @checks("amount", mode="before")
    @classmethod
    def _amount(cls, value: Any, info: ValidationInfo) -> int | None:
        amount = _money(info, value)
        if amount == 0:
            _fail(info, "amount", "must be more than zero")
            return None
        return amount

    @checks("channel", mode="before")
    @classmethod
    def _channel(cls, value: Any, info: ValidationInfo) -> PaymentChannel | None:
        channel = _text(info, value, max_length=20)
        if channel is None:
            return None
        try:
            return PaymentChannel(channel.lower())
        except ValueError:
            _fail(
                info,
                "channel",
                f"unknown channel {_shown(channel)}; "
                f"use one of {', '.join(c.value for c in PaymentChannel)}",
            )
            return None

    @checks("bill_number", mode="before")
    @classmethod
    def _bill_number(cls, value: Any, info: ValidationInfo) -> str | None:
        number = _text(info, value, max_length=BILL_NUMBER_LENGTH, required=False)
        if number is not None and not BILL_NUMBER.fullmatch(number):
            _fail(info, "bill_number", f"letters, digits and . _ / - only: {_shown(number)}")
            return None
        return number

    @checks("coverage_month", mode="before")
    @classmethod
    def _coverage_month(cls, value: Any, info: ValidationInfo) -> date | None:
        value = _raw(value)
        if value is _ABSENT:
            return None
        month = _month(value)
        if month is None:
            _fail(info, "coverage_month", f"not a month (YYYY-MM): {_shown(value)}")
        return month

    @checks("reference", mode="before")
    @classmethod
    def _reference(cls, value: Any, info: ValidationInfo) -> str | None:
        reference = _text(info, value, max_length=REFERENCE_LENGTH)
        if reference is not None and not BILL_NUMBER.fullmatch(reference):
            _fail(info, "reference", f"letters, digits and . _ / - only: {_shown(reference)}")
        elif reference is not None:
            context = info.context
            earlier = context["seen"].setdefault(reference, context["index"])
            if earlier != context["index"]:
                where = context["problems"].place(
                    (*context["member_path"], "payments", earlier), None
                )
                _fail(info, "reference", f"{_shown(reference)} is also {where}")
        return reference

    @model_validator(mode="before")
    @classmethod
    def _paid_for(cls, data: Any, info: ValidationInfo) -> Any:
        # What it paid: one bill or one premium month, never both, never neither.
        if isinstance(data, Mapping):
            bill = _raw(data.get("bill_number")) is not _ABSENT
            month = _raw(data.get("coverage_month")) is not _ABSENT
            if bill and month:
                _fail(info, "coverage_month", "a payment pays a bill or a premium month, not both")
            elif not (bill or month):
                _fail(info, "bill_number", "bill_number or coverage_month is required")
        return data

    def record(self) -> PaymentRecord:
        assert self.reference is not None and self.paid_on is not None
        assert self.amount is not None and self.channel is not None
        return PaymentRecord(
            self.reference,
            self.paid_on,
            self.amount,
            self.channel,
            self.bill_number,
            self.coverage_month,
        )


def _month(value: Any) -> date | None:
    if isinstance(value, str) and ISO_MONTH.fullmatch(value):
        year, number = int(value[:4]), int(value[5:])
        if 1 <= number <= 12 and year >= 1:
            return date(year, number, 1)
    return None


class MemberRow(_Row):
    """One member with their bills and premiums; context adds "regions" and "today"."""

    mrn: str | None = None
    birth_date: date | None = None
    first_name: str | None = None
    last_name: str | None = None
    region: str | None = None
    state: str | None = None
    coverage_type: CoverageType | None = None
    phone: str | None = None
    email: str | None = None
    language: str | None = None
    monthly_premium: int | None = None
    address_line1: str | None = None
    address_line2: str | None = None
    address_city: str | None = None
    address_state: str | None = None
    address_zip: str | None = None
    account_key: str | None = None
    credit: int | None = None
    bills: SkipValidation[tuple[BillRecord, ...] | None] = None
    premiums: SkipValidation[tuple[PremiumRecord, ...] | None] = None
    payments: SkipValidation[tuple[PaymentRecord, ...] | None] = None

    @model_validator(mode="before")
    @classmethod
    def _address_given(cls, data: Any, info: ValidationInfo) -> Any:
        # Any part of a mailing address makes its other needed parts required.
        if isinstance(data, Mapping):
            given = any(_raw(data.get(name)) is not _ABSENT for name in ADDRESS_FIELDS)
            info.context["address_given"] = given
        return data

    @checks("mrn", mode="before")
    @classmethod
    def _mrn(cls, value: Any, info: ValidationInfo) -> str | None:
        mrn = _raw(value)
        if mrn is _ABSENT:
            _fail(info, "mrn", "is required")
        elif not (isinstance(mrn, str) and is_mrn(mrn)):
            _fail(info, "mrn", f"must be {MRN_DIGITS[0]} to {MRN_DIGITS[1]} digits, nothing else")
        else:
            return mrn
        return None

    @checks("birth_date", mode="before")
    @classmethod
    def _birth_date(cls, value: Any, info: ValidationInfo) -> date | None:
        # Never shown in a message: a birth date is half of what identifies a member.
        raw = _raw(value)
        if raw is _ABSENT:
            _fail(info, "birth_date", "is required")
            return None
        if not (isinstance(raw, str) and ISO_DATE.fullmatch(raw)):
            _fail(info, "birth_date", "not a date (YYYY-MM-DD)")
            return None
        try:
            birth_date = date.fromisoformat(raw)
        except ValueError:
            _fail(info, "birth_date", "not a date (YYYY-MM-DD)")
            return None
        if birth_date > info.context["today"]:
            _fail(info, "birth_date", "is in the future")
        elif birth_date < EARLIEST_BIRTH_DATE:
            _fail(info, "birth_date", "is before 1900")
        return birth_date

    @checks("first_name", "last_name", mode="before")
    @classmethod
    def _names(cls, value: Any, info: ValidationInfo) -> str | None:
        return _text(info, value, max_length=NAME_LENGTH)

    @checks("region", mode="before")
    @classmethod
    def _region(cls, value: Any, info: ValidationInfo) -> str | None:
        region_key = _text(info, value, max_length=16)
        return region_key.lower() if region_key is not None else None

    @checks("state", mode="before")
    @classmethod
    def _state(cls, value: Any, info: ValidationInfo) -> str | None:
        state = _text(info, value, max_length=2)
        region_key = info.data.get("region")
        if region_key is None:
            return state
        regions: RegionCatalog = info.context["regions"]
        region = regions.regions.get(region_key)
        if region is None:
            _fail(
                info,
                "region",
                f"unknown region {_shown(region_key)}; "
                f"use one of {', '.join(sorted(regions.regions))}",
            )
        elif state is not None:
            state = state.upper()
            if state not in region.states:
                _fail(
                    info,
                    "state",
                    f"{_shown(state)} is not served by region {region_key!r}; "
                    f"use one of {', '.join(sorted(region.states))}",
                )
        return state

    @checks("coverage_type", mode="before")
    @classmethod
    def _coverage_type(cls, value: Any, info: ValidationInfo) -> CoverageType | None:
        coverage_text = _text(info, value, max_length=40)
        if coverage_text is None:
            return None
        try:
            return CoverageType(coverage_text.lower())
        except ValueError:
            _fail(
                info,
                "coverage_type",
                f"unknown coverage type {_shown(coverage_text)}; "
                f"use one of {', '.join(c.value for c in CoverageType)}",
            )
            return None

    @checks("phone", mode="before")
    @classmethod
    def _phone(cls, value: Any, info: ValidationInfo) -> str | None:
        phone = _text(info, value, max_length=40, required=False)
        if phone is None:
            return None
        number = e164(phone)
        if number is None:
            _fail(info, "phone", f"not a phone number: {_shown(_raw(value))}")
        return number

    @checks("email", mode="before")
    @classmethod
    def _email(cls, value: Any, info: ValidationInfo) -> str | None:
        email = _text(info, value, max_length=EMAIL_LENGTH, required=False)
        if email is not None and not EMAIL.fullmatch(email):
            _fail(info, "email", f"not an email address: {_shown(email)}")
        return email

    @checks("language", mode="before")
    @classmethod
    def _language(cls, value: Any, info: ValidationInfo) -> str | None:
        language = (_text(info, value, max_length=8, required=False) or "en").lower()
        if language not in LANGUAGES:
            _fail(
                info,
                "language",
                f"must be one of {', '.join(sorted(LANGUAGES))}: {_shown(language)}",
            )
        return language

    @checks("monthly_premium", mode="before")
    @classmethod
    def _monthly_premium(cls, value: Any, info: ValidationInfo) -> int | None:
        premium = _money(info, value, required=False)
        if info.data.get("coverage_type") is CoverageType.EMPLOYER_GROUP and premium is not None:
            _fail(
                info,
                "monthly_premium",
                "employer_group members have no premium (the employer pays)",
            )
        return premium

    @checks("address_line1", "address_line2", mode="before")
    @classmethod
    def _address_lines(cls, value: Any, info: ValidationInfo) -> str | None:
        return _text(info, value, max_length=ADDRESS_LINE_LENGTH, required=_address_needs(info))

    @checks("address_city", mode="before")
    @classmethod
    def _address_city(cls, value: Any, info: ValidationInfo) -> str | None:
        return _text(info, value, max_length=CITY_LENGTH, required=_address_needs(info))

    @checks("address_state", mode="before")
    @classmethod
    def _address_state(cls, value: Any, info: ValidationInfo) -> str | None:
        state = _text(info, value, max_length=2, required=_address_needs(info))
        if state is not None and not US_STATE.fullmatch(state.upper()):
            _fail(info, "address_state", f"not a two-letter state code: {_shown(state)}")
            return None
        return state.upper() if state is not None else None

    @checks("address_zip", mode="before")
    @classmethod
    def _address_zip(cls, value: Any, info: ValidationInfo) -> str | None:
        raw = _raw(value)
        if isinstance(raw, int) and not isinstance(raw, bool):
            value = f"{raw:05d}"  # a JSON number loses a ZIP code's leading zero
        code = _text(info, value, max_length=10, required=_address_needs(info))
        if code is not None and not ZIP_CODE.fullmatch(code):
            _fail(info, "address_zip", f"not a ZIP code (12345 or 12345-6789): {_shown(code)}")
            return None
        return code

    @checks("account_key", mode="before")
    @classmethod
    def _account_key(cls, value: Any, info: ValidationInfo) -> str | None:
        raw = _raw(value)
        if isinstance(raw, int) and not isinstance(raw, bool):
            value = str(raw)  # an account number a JSON writer left as a number
        key = _text(info, value, max_length=ACCOUNT_KEY_LENGTH, required=False)
        if key is not None and not ACCOUNT_KEY.fullmatch(key):
            _fail(info, "account_key", f"letters, digits and . _ / - only: {_shown(key)}")
            return None
        return key

    @checks("credit", mode="before")
    @classmethod
    def _credit(cls, value: Any, info: ValidationInfo) -> int | None:
        return _money(info, value, required=False)

    @checks("bills", mode="before")
    @classmethod
    def _bills(cls, value: Any, info: ValidationInfo) -> tuple[BillRecord, ...] | None:
        entries = _entries(info, value)
        if entries is None:
            return None
        return _children(info, entries, "bills", BillRow)

    @checks("premiums", mode="before")
    @classmethod
    def _premiums(cls, value: Any, info: ValidationInfo) -> tuple[PremiumRecord, ...] | None:
        entries = _entries(info, value)
        if entries is None:
            return None
        if info.data.get("coverage_type") is CoverageType.EMPLOYER_GROUP:
            path, problems = info.context["path"], info.context["problems"]
            for index in range(len(entries)):
                problems.add(
                    (*path, "premiums", index),
                    None,
                    "employer_group members have no premiums (the employer pays)",
                )
            return None if entries else ()
        return _children(info, entries, "premiums", PremiumRow)

    @checks("payments", mode="before")
    @classmethod
    def _payments(cls, value: Any, info: ValidationInfo) -> tuple[PaymentRecord, ...] | None:
        entries = _entries(info, value)
        if entries is None:
            return None
        payments = _children(info, entries, "payments", PaymentRow)
        if payments is None:
            return None
        # Older than the history the phone reads: checked, but left out of the import.
        start = history_start(info.context["today"])
        return tuple(payment for payment in payments if payment.paid_on >= start)


def _address_needs(info: ValidationInfo) -> bool:
    """Whether this address field must be given: the address has other parts and needs it."""
    return info.field_name in ADDRESS_REQUIRED and bool(info.context.get("address_given"))


def _entries(info: ValidationInfo, raw: Any) -> list[Any] | None:
    if raw is None:
        return []
    if not isinstance(raw, list):
        _fail(info, info.field_name, "must be a list")
        return None
    return raw


def _children(
    info: ValidationInfo,
    entries: list[Any],
    kind: str,
    row: type[BillRow | PremiumRow | PaymentRow],
):
    """Check each bill or premium of a member; their records, or None if any has a problem."""
    path, problems = info.context["path"], info.context["problems"]
    seen: dict[Any, int] = {}
    records = []
    ok = True
    for index, data in enumerate(entries):
        child_path: Position = (*path, kind, index)
        if not isinstance(data, Mapping):
            problems.add(child_path, None, "must be an object")
            ok = False
            continue
        before = len(problems.items)
        checked = row.model_validate(
            data,
            context={
                "problems": problems,
                "path": child_path,
                "member_path": path,
                "seen": seen,
                "index": index,
                "today": info.context["today"],
            },
        )
        if len(problems.items) != before:
            ok = False
            continue
        records.append(checked.record())
    return tuple(records) if ok else None


def checked_member(
    data: Mapping[str, Any],
    path: Position,
    problems: Problems,
    regions: RegionCatalog,
    today: date,
) -> MemberRecord | None:
    """Check one member row with its bills and premiums; its record, or None after problems."""
    before = len(problems.items)
    row = MemberRow.model_validate(
        data, context={"problems": problems, "path": path, "regions": regions, "today": today}
    )
    if len(problems.items) != before:
        return None
    assert row.mrn is not None and row.birth_date is not None and row.coverage_type is not None
    assert row.first_name is not None and row.last_name is not None
    assert row.region is not None and row.state is not None
    assert row.language is not None and row.bills is not None and row.premiums is not None
    assert row.payments is not None
    return MemberRecord(
        mrn=row.mrn,
        birth_date=row.birth_date,
        first_name=row.first_name,
        last_name=row.last_name,
        region_key=row.region,
        state=row.state,
        coverage_type=row.coverage_type,
        phone=row.phone,
        email=row.email,
        language=row.language,
        monthly_premium_cents=row.monthly_premium,
        bills=row.bills,
        premiums=row.premiums,
        address_line1=row.address_line1,
        address_line2=row.address_line2,
        address_city=row.address_city,
        address_state=row.address_state,
        address_zip=row.address_zip,
        account_key=row.account_key,
        credit_cents=row.credit or 0,
        payments=row.payments,
    )
