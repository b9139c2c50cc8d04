"""The regional pay lines as values: regions, their hours, lines and premium rules.

regions.yaml is read and validated by billing_core.adapters.regions_file.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import phonenumbers

from billing_core.domain.premiums import DueRule

US_STATES = frozenset(
    "AL AK AZ AR CA CO CT DE DC FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH "
    "NJ NM NY NC ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY PR GU VI AS MP".split()
)
LANGUAGES = frozenset({"en", "es"})


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
    # The payment-plan rules this region changes (PlanRules field names); empty: none.
    plans: Mapping[str, int | tuple[int, ...]] = field(default_factory=dict)

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
