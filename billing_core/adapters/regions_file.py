"""regions.yaml, the regional pay lines as data: read and validated (pydantic) before use.

The file's shape is a pydantic model per level (the file, a region, its billing line and
hours, its premium rule). A bad file raises RegionConfigError naming the region and the
field, with the first problem found: the file is read region by region, each region's
fields in the order of RegionEntry. The catalog built is the domain's (Region, ...).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    SkipValidation,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from pydantic_core import PydanticCustomError

from billing_core.domain.money import parse_money
from billing_core.domain.premiums import DUE_RULES, DueRule
from billing_core.domain.regions import (
    LANGUAGES,
    US_STATES,
    BillingLine,
    OpeningHours,
    PremiumDuePolicy,
    Region,
    RegionCatalog,
    RegionConfigError,
    normalize_phone_number,
)

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_CLOCK_TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
_KEY = re.compile(r"[a-z][a-z0-9_]*")
# A region's `plans:` keys, and the PlanRules field each sets.
PLAN_SETTINGS = {
    "min_balance": "min_balance_cents",
    "terms": "terms",
    "min_installment": "min_installment_cents",
    "max_bill_age_days": "max_bill_age_days",
    "missed_to_lapse": "missed_to_lapse",
}


def _problem(field_name: str, problem: str) -> PydanticCustomError:
    """A problem of one field (a dotted path such as billing.hours[0].close), for the file."""
    return PydanticCustomError(
        "regions_file", "{problem}", {"field": field_name, "problem": problem}
    )


def _first_problem(error: ValidationError) -> tuple[str, str]:
    """The field and words of the first problem pydantic found."""
    first = error.errors()[0]
    context = first.get("ctx") or {}
    if "field" in context:
        return context["field"], context["problem"]
    where = ".".join(str(part) for part in first["loc"]) or "-"
    return where, first["msg"]


class _Checked(BaseModel):
    """Every field passes through its check, given or not (the defaults are checked too)."""

    model_config = ConfigDict(
        frozen=True, extra="ignore", validate_default=True, arbitrary_types_allowed=True
    )


class RegionsFile(_Checked):
    """The whole file: the plan's name, defaults for every region, the regions (each checked
    as a RegionEntry, in order, after these); the national line is checked last."""

    plan_name: str = ""
    defaults: dict[str, Any] = {}
    regions: list[Any] = []

    @field_validator("plan_name", mode="before")
    @classmethod
    def _plan_name(cls, raw: Any) -> str:
        if not isinstance(raw, str) or not raw.strip():
            raise _problem("plan_name", "must be a non-empty text")
        return raw.strip()

    @field_validator("defaults", mode="before")
    @classmethod
    def _defaults(cls, raw: Any) -> dict[str, Any]:
        raw = raw or {}
        if not isinstance(raw, dict):
            raise PydanticCustomError(
                "regions_file",
                "{problem}",
                {"region": "defaults", "field": "defaults", "problem": "must be a mapping"},
            )
        return raw

    @field_validator("regions", mode="before")
    @classmethod
    def _regions(cls, raw: Any) -> list[Any]:
        if not isinstance(raw, list) or not raw:
            raise _problem("regions", "must be a non-empty list")
        return raw


class HoursSpan(_Checked):
    """One span of business hours: days ("mon-fri", "sat"), open and close ("08:00")."""

    days: SkipValidation[tuple[int, ...]] = ()
    open: SkipValidation[time] = time()
    close: SkipValidation[time] = time()

    @field_validator("days", mode="before")
    @classmethod
    def _days(cls, raw: Any, info: ValidationInfo) -> tuple[int, ...]:
        days = _weekdays(str(raw))
        if not days:
            where = info.context["where"]
            raise _problem(f"{where}.days", f"not a day or range of days: {raw!r}")
        return days

    @field_validator("open", "close", mode="before")
    @classmethod
    def _clock(cls, raw: Any, info: ValidationInfo) -> time:
        text, name = str(raw), info.field_name
        example = "08:00" if name == "open" else "17:00"
        if not _CLOCK_TIME.match(text):
            raise _problem(
                f"{info.context['where']}.{name}", f"not a time like {example}: {text!r}"
            )
        value = time.fromisoformat(text)
        if name == "close" and "open" in info.data and value <= info.data["open"]:
            raise _problem(f"{info.context['where']}.close", "must be after the opening time")
        return value


class RegionEntry(_Checked):
    """One region (or the national line) as the file gives it, defaults merged in."""

    name: str = ""
    pay_lines: SkipValidation[tuple[str, ...]] = []
    relay_lines: SkipValidation[tuple[str, ...]] = []
    states: SkipValidation[frozenset[str]] = frozenset()
    time_zone: SkipValidation[ZoneInfo | None] = None
    billing: SkipValidation[BillingLine | None] = None
    check_address: SkipValidation[tuple[str, ...]] = ()
    premium_due: SkipValidation[PremiumDuePolicy | None] = None
    languages: SkipValidation[tuple[str, ...]] = ["en"]
    notes: SkipValidation[tuple[str, ...]] = []
    plans: SkipValidation[dict[str, int | tuple[int, ...]]] = {}

    @field_validator("name", mode="before")
    @classmethod
    def _name(cls, raw: Any) -> str:
        if not isinstance(raw, str) or not raw.strip():
            raise _problem("name", "must be a non-empty text")
        return raw.strip()

    @field_validator("pay_lines", "relay_lines", mode="before")
    @classmethod
    def _lines(cls, raw: Any, info: ValidationInfo) -> tuple[str, ...]:
        name = info.field_name or ""
        numbers = _phone_list(raw, name)
        if name == "pay_lines" and info.context["needs_lines"] and not numbers:
            raise _problem(name, "must list at least one number")
        return numbers

    @field_validator("states", mode="before")
    @classmethod
    def _states(cls, raw: Any) -> frozenset[str]:
        if not isinstance(raw, list) or not raw:
            raise _problem("states", "must list at least one state")
        for state in raw:
            if state not in US_STATES:
                raise _problem("states", f"unknown state code {state!r}")
        return frozenset(raw)

    @field_validator("time_zone", mode="before")
    @classmethod
    def _time_zone(cls, raw: Any) -> ZoneInfo:
        try:
            return ZoneInfo(str(raw))
        except (ZoneInfoNotFoundError, ValueError):
            raise _problem("time_zone", f"unknown time zone {raw!r}") from None

    @field_validator("billing", mode="before")
    @classmethod
    def _billing(cls, raw: Any, info: ValidationInfo) -> BillingLine:
        defaults = info.context["defaults"]
        entry = {**(defaults.get("billing") or {}), **(raw or {})}
        number = normalize_phone_number(str(entry.get("number", "")))
        if number is None:
            raise _problem("billing.number", f"not a phone number: {entry.get('number')!r}")
        return BillingLine(number, str(entry.get("tty", "711")), _hours(entry.get("hours")))

    @field_validator("check_address", mode="before")
    @classmethod
    def _check_address(cls, raw: Any) -> tuple[str, ...]:
        if (
            not isinstance(raw, list)
            or not raw
            or not all(isinstance(line, str) and line.strip() for line in raw)
        ):
            raise _problem("check_address", "must be a list of address lines")
        return tuple(line.strip() for line in raw)

    @field_validator("premium_due", mode="before")
    @classmethod
    def _premium_due(cls, raw: Any, info: ValidationInfo) -> PremiumDuePolicy:
        if not isinstance(raw, dict):
            raise _problem("premium_due", "must be a mapping with a rule")
        rule_name = raw.get("rule")
        if rule_name not in DUE_RULES:
            raise _problem(
                "premium_due.rule", f"unknown rule {rule_name!r}; use one of {sorted(DUE_RULES)}"
            )
        overrides_raw = raw.get("state_overrides") or {}
        if not isinstance(overrides_raw, dict):
            raise _problem("premium_due.state_overrides", "must map state codes to rules")
        states = info.data.get("states", frozenset())
        overrides: dict[str, DueRule] = {}
        for state, override in overrides_raw.items():
            where = f"premium_due.state_overrides.{state}"
            if state not in states:
                raise _problem(where, "is not a state of this region")
            if override not in DUE_RULES:
                raise _problem(where, f"unknown rule {override!r}")
            overrides[state] = DUE_RULES[override]
        return PremiumDuePolicy(DUE_RULES[rule_name], overrides)

    @field_validator("languages", mode="before")
    @classmethod
    def _languages(cls, raw: Any) -> tuple[str, ...]:
        if not isinstance(raw, list) or not raw or "en" not in raw:
            raise _problem("languages", "must be a list that includes 'en'")
        for language in raw:
            if language not in LANGUAGES:
                raise _problem("languages", f"unsupported language {language!r}")
        return tuple(raw)

    @field_validator("notes", mode="before")
    @classmethod
    def _notes(cls, raw: Any) -> tuple[str, ...]:
        if not isinstance(raw, list) or not all(isinstance(n, str) for n in raw):
            raise _problem("notes", "must be a list of sentences")
        return tuple(raw)

    @field_validator("plans", mode="before")
    @classmethod
    def _plans(cls, raw: Any, info: ValidationInfo) -> dict[str, int | tuple[int, ...]]:
        defaults = info.context["defaults"].get("plans") or {}
        raw = raw or {}
        if not isinstance(raw, dict) or not isinstance(defaults, dict):
            raise _problem("plans", f"must be a mapping of {', '.join(PLAN_SETTINGS)}")
        # A region's own values on top of those under `defaults`, key by key (as billing).
        changes: dict[str, int | tuple[int, ...]] = {}
        for name, value in {**defaults, **raw}.items():
            checked = _plan_setting(str(name), value)
            changes[PLAN_SETTINGS[str(name)]] = checked
        return changes

    def region(self, key: str) -> Region:
        assert self.time_zone is not None and self.billing is not None
        assert self.premium_due is not None
        return Region(
            key=key,
            name=self.name,
            pay_lines=self.pay_lines,
            relay_lines=self.relay_lines,
            states=self.states,
            time_zone=self.time_zone,
            billing=self.billing,
            check_address=self.check_address,
            premium_due=self.premium_due,
            languages=self.languages,
            notes=self.notes,
            plans=self.plans,
        )


def load_regions(path: str | Path) -> RegionCatalog:
    """Read and validate regions.yaml; raise RegionConfigError naming the region and field."""
    try:
        document = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError as missing:
        raise RegionConfigError("-", "-", f"file not found: {path}") from missing
    except yaml.YAMLError as broken:
        raise RegionConfigError("-", "-", f"not valid YAML: {broken}") from broken
    return parse_regions(document)


def parse_regions(document: Any) -> RegionCatalog:
    """Build the catalog from the parsed YAML document."""
    if not isinstance(document, dict):
        raise RegionConfigError("-", "-", "the file must be a mapping with a 'regions' list")
    try:
        checked = RegionsFile.model_validate(document)
    except ValidationError as bad:
        context = bad.errors()[0].get("ctx") or {}
        raise RegionConfigError(context.get("region", "-"), *_first_problem(bad)) from None
    defaults = checked.defaults

    regions: dict[str, Region] = {}
    by_number: dict[str, tuple[Region, bool]] = {}
    for position, entry in enumerate(checked.regions, start=1):
        if not isinstance(entry, dict):
            raise RegionConfigError(f"#{position}", "-", "each region must be a mapping")
        key = entry.get("key")
        if not isinstance(key, str) or not _KEY.fullmatch(key):
            raise RegionConfigError(f"#{position}", "key", "must be a lower-case identifier")
        if key in regions or key == "national":
            raise RegionConfigError(key, "key", "is used twice")
        region = _region(key, {**defaults, **entry}, defaults, needs_lines=True)
        regions[key] = region
        for number, relay in [(n, False) for n in region.pay_lines] + [
            (n, True) for n in region.relay_lines
        ]:
            if number in by_number:
                other = by_number[number][0].key
                raise RegionConfigError(key, "pay_lines", f"{number} is also listed by '{other}'")
            by_number[number] = (region, relay)

    national_entry = document.get("national") or {}
    if not isinstance(national_entry, dict):
        raise RegionConfigError("national", "national", "must be a mapping")
    national = _region(
        "national",
        {
            "name": "member billing",
            "time_zone": "America/Los_Angeles",
            **defaults,
            **national_entry,
            "states": sorted({s for r in regions.values() for s in r.states}),
        },
        defaults,
        needs_lines=False,
    )
    return RegionCatalog(checked.plan_name, regions, national, by_number)


def _region(
    key: str, entry: Mapping[str, Any], defaults: Mapping[str, Any], *, needs_lines: bool
) -> Region:
    try:
        checked = RegionEntry.model_validate(
            entry, context={"needs_lines": needs_lines, "defaults": defaults}
        )
    except ValidationError as bad:
        raise RegionConfigError(key, *_first_problem(bad)) from None
    return checked.region(key)


def _plan_setting(name: str, raw: Any) -> int | tuple[int, ...]:
    """One value of a region's `plans:`, checked: cents for an amount, else whole numbers."""
    where = f"plans.{name}"
    if name not in PLAN_SETTINGS:
        raise _problem(where, f"unknown plan setting; use {', '.join(PLAN_SETTINGS)}")
    if name in ("min_balance", "min_installment"):
        # YAML reads 300.00 unquoted as a float, which money never is.
        if not isinstance(raw, str | int) or isinstance(raw, bool):
            raise _problem(where, f'must be an amount in quotes, like "300.00": {raw!r}')
        try:
            cents = parse_money(raw)
        except ValueError as bad:
            raise _problem(where, str(bad)) from None
        if cents <= 0:
            raise _problem(where, "must be more than 0.00")
        return cents
    if name == "terms":
        if not isinstance(raw, list) or not raw or not all(_whole(term) for term in raw):
            raise _problem(where, f"must be a list of months, like [3, 6]: {raw!r}")
        if raw != sorted(set(raw)) or raw[0] < 2:
            raise _problem(where, "must be increasing numbers of months, two or more")
        return tuple(raw)
    if not _whole(raw) or raw <= 0:
        raise _problem(where, f"must be a whole number above 0: {raw!r}")
    return raw


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _phone_list(raw: Any, field_name: str) -> tuple[str, ...]:
    if not isinstance(raw, list):
        raise _problem(field_name, "must be a list of phone numbers")
    numbers = []
    for item in raw:
        number = normalize_phone_number(str(item))
        if number is None:
            raise _problem(field_name, f"not a phone number: {item!r}")
        numbers.append(number)
    return tuple(numbers)


def _hours(raw: Any) -> tuple[OpeningHours, ...]:
    if not isinstance(raw, list) or not raw:
        raise _problem("billing.hours", "must list at least one span of hours")
    spans = []
    for index, span in enumerate(raw):
        where = f"billing.hours[{index}]"
        if not isinstance(span, dict):
            raise _problem(where, "must be a mapping with days, open and close")
        # A missing key is checked as empty text.
        given = {name: span.get(name, "") for name in ("days", "open", "close")}
        try:
            checked = HoursSpan.model_validate(given, context={"where": where})
        except ValidationError as bad:
            context = bad.errors()[0]["ctx"]
            raise _problem(context["field"], context["problem"]) from None
        spans.append(OpeningHours(checked.days, checked.open, checked.close))
    return tuple(spans)


def _weekdays(text: str) -> tuple[int, ...]:
    days: list[int] = []
    for part in text.lower().replace(" ", "").split(","):
        if "-" in part:
            first, _, last = part.partition("-")
            if first not in WEEKDAYS or last not in WEEKDAYS:
                return ()
            start, end = WEEKDAYS.index(first), WEEKDAYS.index(last)
            if end < start:
                return ()
            days.extend(range(start, end + 1))
        elif part in WEEKDAYS:
            days.append(WEEKDAYS.index(part))
        else:
            return ()
    return tuple(sorted(set(days)))
