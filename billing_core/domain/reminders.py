"""When reminders go: how many days ahead of a due date, and never in the member's quiet hours.

Pure values and rules. Quiet hours are read on the member's own clock (the time zone of
the state they live in): 9 pm to 8 am by default, as the carriers' and the TCPA's
guidance for texts puts it; emails keep them too, so nobody's phone lights up at night.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo


@dataclass(frozen=True)
class QuietHours:
    """The part of the night no reminder is sent in: from `start` to `end`, local time."""

    start: time = time(21)
    end: time = time(8)

    def __post_init__(self) -> None:
        if self.start == self.end:
            raise ValueError("quiet hours must start and end at different times")

    def holds(self, local: datetime) -> bool:
        """Whether this local time falls in the quiet hours."""
        now = local.timetz().replace(tzinfo=None)
        if self.start > self.end:  # across midnight: 21:00 to 08:00
            return now >= self.start or now < self.end
        return self.start <= now < self.end

    def next_allowed(self, moment: datetime, zone: tzinfo) -> datetime:
        """The moment itself if it is outside the quiet hours, else when they end (UTC)."""
        local = moment.astimezone(zone)
        if not self.holds(local):
            return moment
        end = datetime.combine(local.date(), self.end, tzinfo=zone)
        if end <= local:
            end = datetime.combine(local.date() + timedelta(days=1), self.end, tzinfo=zone)
        # combine() on a day the clocks change may name a time that does not exist or
        # exists twice; going through UTC settles it on a real instant.
        return end.astimezone(moment.tzinfo)


@dataclass(frozen=True)
class ReminderRules:
    """How many days ahead each reminder goes, and the quiet hours."""

    # A bill or premium still owed is reminded of this many days before it is due.
    due_soon_days: int = 5
    # The automatic premium payment is announced this many days before it is charged.
    autopay_days: int = 3
    # A plan installment is announced this many days before it is charged.
    plan_days: int = 3
    quiet: QuietHours = QuietHours()

    def __post_init__(self) -> None:
        for name in ("due_soon_days", "autopay_days", "plan_days"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1")


def within(days: int, today: date, day: date) -> bool:
    """Whether `day` is today or one of the next `days` days."""
    return 0 <= (day - today).days <= days
