"""The regional pay lines, read from regions.yaml and validated before anything uses them."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
import yaml

from billing_core.domain.premiums import DUE_RULES, DueRule

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
US_STATES = frozenset(
    "AL AK AZ AR CA CO CT DE DC FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH "
    "NJ NM NY NC ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY PR GU VI AS MP".split()
)
LANGUAGES = frozenset({"en", "es"})
_CLOCK_TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


class RegionConfigError(ValueError):
    """regions.yaml is wrong; the message names the region and the field."""

    def __init__(self, region: str, field_name: str, problem: str) -> None:
        super().__init__(f"regions.yaml: region '{region}', field '{field_name}': {problem}")
        self.region = region
        self.field = field_name


def normalize_phone_number(raw: str, default_region: str = "US") -> str | None:
    """Return the E.164 form of a number written any way a person writes it, or None."""
    try:
        parsed = phonenumbers.parse(str(raw), default_region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


@dataclass(frozen=True)
class OpeningHours:
    """One span of business hours, on the given weekdays (0 = Monday), local time."""

    weekdays: tuple[int, ...]
    opens: time
    closes: time

    def covers(self, local: datetime) -> bool:
        return local.weekday() in self.weekdays and self.opens <= local.time() < self.closes


@dataclass(frozen=True)
class BillingLine:
    """Where billing specialists answer, and when."""

    number: str
    tty: str
    hours: tuple[OpeningHours, ...]


@dataclass(frozen=True)
class PremiumDuePolicy:
    """The region's premium due rule, with per-state exceptions."""

    rule: DueRule
    state_overrides: Mapping[str, DueRule] = field(default_factory=dict)

    def due_date(self, coverage_month: date, state: str) -> date:
        return self.state_overrides.get(state, self.rule).due_date(coverage_month)


@dataclass(frozen=True)
class Region:
    key: str
    name: str
    pay_lines: tuple[str, ...]
    relay_lines: tuple[str, ...]
    states: frozenset[str]
    time_zone: ZoneInfo
    billing: BillingLine
    check_address: tuple[str, ...]
    premium_due: PremiumDuePolicy
    languages: tuple[str, ...]
    notes: tuple[str, ...] = ()

    def local_time(self, moment: datetime) -> datetime:
        return moment.astimezone(self.time_zone)

    def billing_is_open(self, moment: datetime) -> bool:
        local = self.local_time(moment)
        return any(span.covers(local) for span in self.billing.hours)


@dataclass(frozen=True)
class RegionCatalog:
    """All regions, the national fallback, and which number reaches which region."""

    plan_name: str
    regions: Mapping[str, Region]
    national: Region
    _by_number: Mapping[str, tuple[Region, bool]]

    def for_dialed_number(self, dialed: str | None) -> tuple[Region, bool]:
        """Return the region a dialed number belongs to, and whether it is a relay line."""
        number = normalize_phone_number(dialed or "")
        if number is None:
            return self.national, False
        return self._by_number.get(number, (self.national, False))

    def get(self, key: str | None) -> Region:
        """Return the region with this key; the national line for None or an unknown key."""
        return self.regions.get(key or "", self.national)

    def __iter__(self) -> Iterable[Region]:
        return iter(self.regions.values())


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
    plan_name = document.get("plan_name")
    if not isinstance(plan_name, str) or not plan_name.strip():
        raise RegionConfigError("-", "plan_name", "must be a non-empty text")
    defaults = document.get("defaults") or {}
    if not isinstance(defaults, dict):
        raise RegionConfigError("defaults", "defaults", "must be a mapping")
    entries = document.get("regions")
    if not isinstance(entries, list) or not entries:
        raise RegionConfigError("-", "regions", "must be a non-empty list")

    regions: dict[str, Region] = {}
    by_number: dict[str, tuple[Region, bool]] = {}
    for position, entry in enumerate(entries, start=1):
        if not isinstance(entry, dict):
            raise RegionConfigError(f"#{position}", "-", "each region must be a mapping")
        key = entry.get("key")
        if not isinstance(key, str) or not re.fullmatch(r"[a-z][a-z0-9_]*", key):
            raise RegionConfigError(f"#{position}", "key", "must be a lower-case identifier")
        if key in regions or key == "national":
            raise RegionConfigError(key, "key", "is used twice")
        region = _parse_region(key, {**defaults, **entry}, defaults, needs_lines=True)
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
    national = _parse_region(
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
    return RegionCatalog(plan_name.strip(), regions, national, by_number)


def _parse_region(
    key: str, entry: Mapping[str, Any], defaults: Mapping[str, Any], *, needs_lines: bool
) -> Region:
    def fail(field_name: str, problem: str) -> RegionConfigError:
        return RegionConfigError(key, field_name, problem)

    name = entry.get("name")
    if not isinstance(name, str) or not name.strip():
        raise fail("name", "must be a non-empty text")

    pay_lines = _phone_list(entry.get("pay_lines", []), "pay_lines", fail)
    if needs_lines and not pay_lines:
        raise fail("pay_lines", "must list at least one number")
    relay_lines = _phone_list(entry.get("relay_lines", []), "relay_lines", fail)

    states = entry.get("states")
    if not isinstance(states, list) or not states:
        raise fail("states", "must list at least one state")
    for state in states:
        if state not in US_STATES:
            raise fail("states", f"unknown state code {state!r}")

    zone_name = entry.get("time_zone")
    try:
        zone = ZoneInfo(str(zone_name))
    except (ZoneInfoNotFoundError, ValueError) as unknown:
        raise fail("time_zone", f"unknown time zone {zone_name!r}") from unknown

    billing_entry = {**(defaults.get("billing") or {}), **(entry.get("billing") or {})}
    billing_number = normalize_phone_number(str(billing_entry.get("number", "")))
    if billing_number is None:
        raise fail("billing.number", f"not a phone number: {billing_entry.get('number')!r}")
    hours = _hours(billing_entry.get("hours"), fail)

    address = entry.get("check_address")
    if (
        not isinstance(address, list)
        or not address
        or not all(isinstance(line, str) and line.strip() for line in address)
    ):
        raise fail("check_address", "must be a list of address lines")

    premium_due = _premium_due(entry.get("premium_due"), fail, states)

    languages = entry.get("languages", ["en"])
    if not isinstance(languages, list) or not languages or "en" not in languages:
        raise fail("languages", "must be a list that includes 'en'")
    for language in languages:
        if language not in LANGUAGES:
            raise fail("languages", f"unsupported language {language!r}")

    notes = entry.get("notes", [])
    if not isinstance(notes, list) or not all(isinstance(n, str) for n in notes):
        raise fail("notes", "must be a list of sentences")

    return Region(
        key=key,
        name=name.strip(),
        pay_lines=tuple(pay_lines),
        relay_lines=tuple(relay_lines),
        states=frozenset(states),
        time_zone=zone,
        billing=BillingLine(billing_number, str(billing_entry.get("tty", "711")), hours),
        check_address=tuple(line.strip() for line in address),
        premium_due=premium_due,
        languages=tuple(languages),
        notes=tuple(notes),
    )


def _phone_list(raw: Any, field_name: str, fail) -> list[str]:
    if not isinstance(raw, list):
        raise fail(field_name, "must be a list of phone numbers")
    numbers = []
    for item in raw:
        number = normalize_phone_number(str(item))
        if number is None:
            raise fail(field_name, f"not a phone number: {item!r}")
        numbers.append(number)
    return numbers


def _hours(raw: Any, fail) -> tuple[OpeningHours, ...]:
    if not isinstance(raw, list) or not raw:
        raise fail("billing.hours", "must list at least one span of hours")
    spans = []
    for index, span in enumerate(raw):
        where = f"billing.hours[{index}]"
        if not isinstance(span, dict):
            raise fail(where, "must be a mapping with days, open and close")
        days = _weekdays(str(span.get("days", "")))
        if not days:
            raise fail(f"{where}.days", f"not a day or range of days: {span.get('days')!r}")
        opens, closes = str(span.get("open", "")), str(span.get("close", ""))
        if not _CLOCK_TIME.match(opens):
            raise fail(f"{where}.open", f"not a time like 08:00: {opens!r}")
        if not _CLOCK_TIME.match(closes):
            raise fail(f"{where}.close", f"not a time like 17:00: {closes!r}")
        if time.fromisoformat(closes) <= time.fromisoformat(opens):
            raise fail(f"{where}.close", "must be after the opening time")
        spans.append(OpeningHours(days, time.fromisoformat(opens), time.fromisoformat(closes)))
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


def _premium_due(raw: Any, fail, states: list[str]) -> PremiumDuePolicy:
    if not isinstance(raw, dict):
        raise fail("premium_due", "must be a mapping with a rule")
    rule_name = raw.get("rule")
    if rule_name not in DUE_RULES:
        raise fail(
            "premium_due.rule", f"unknown rule {rule_name!r}; use one of {sorted(DUE_RULES)}"
        )
    overrides_raw = raw.get("state_overrides") or {}
    if not isinstance(overrides_raw, dict):
        raise fail("premium_due.state_overrides", "must map state codes to rules")
    overrides: dict[str, DueRule] = {}
    for state, override in overrides_raw.items():
        if state not in states:
            raise fail(f"premium_due.state_overrides.{state}", "is not a state of this region")
        if override not in DUE_RULES:
            raise fail(f"premium_due.state_overrides.{state}", f"unknown rule {override!r}")
        overrides[state] = DUE_RULES[override]
    return PremiumDuePolicy(DUE_RULES[rule_name], overrides)
