"""When a coverage month's premium is due."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Protocol


class DueRule(Protocol):
    name: str

    def due_date(self, coverage_month: date) -> date: ...


@dataclass(frozen=True)
class EndOfPriorMonth:
    """Coverage from June 1 is paid by May 31."""

    name: str = "end_of_prior_month"

    def due_date(self, coverage_month: date) -> date:
        return coverage_month.replace(day=1) - timedelta(days=1)


@dataclass(frozen=True)
class FirstOfCoverageMonth:
    """Coverage from June 1 is paid by June 1 (Maryland)."""

    name: str = "first_of_coverage_month"

    def due_date(self, coverage_month: date) -> date:
        return coverage_month.replace(day=1)


DUE_RULES: dict[str, DueRule] = {
    rule.name: rule for rule in (EndOfPriorMonth(), FirstOfCoverageMonth())
}
