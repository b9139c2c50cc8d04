"""Quiet hours on the member's own clock, and the days ahead a reminder goes."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from billing_core.domain.reminders import QuietHours, within

PACIFIC = ZoneInfo("America/Los_Angeles")
NIGHT = QuietHours()


def local(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=PACIFIC)


def test_9_pm_to_8_am_is_quiet_and_the_day_is_not():
    assert NIGHT.holds(local(2026, 12, 1, 21, 0))
    assert NIGHT.holds(local(2026, 12, 2, 3, 0))
    assert NIGHT.holds(local(2026, 12, 2, 7, 59))
    assert not NIGHT.holds(local(2026, 12, 2, 8, 0))
    assert not NIGHT.holds(local(2026, 12, 2, 20, 59))


def test_in_the_quiet_hours_the_next_allowed_moment_is_8_am_that_morning_or_the_next():
    evening = local(2026, 12, 1, 22, 30).astimezone(UTC)
    early = local(2026, 12, 2, 6, 0).astimezone(UTC)
    assert NIGHT.next_allowed(evening, PACIFIC) == local(2026, 12, 2, 8, 0)
    assert NIGHT.next_allowed(early, PACIFIC) == local(2026, 12, 2, 8, 0)
    noon = local(2026, 12, 2, 12, 0).astimezone(UTC)
    assert NIGHT.next_allowed(noon, PACIFIC) == noon


def test_quiet_hours_that_do_not_cross_midnight_hold_between_their_times():
    lunch = QuietHours(time(12), time(13))
    assert lunch.holds(local(2026, 12, 2, 12, 30)) and not lunch.holds(local(2026, 12, 2, 13, 0))
    assert lunch.next_allowed(local(2026, 12, 2, 12, 30), PACIFIC) == local(2026, 12, 2, 13, 0)


def test_the_night_the_clocks_go_back_still_ends_at_8_am():
    # November 1, 2026: 2 am happens twice in California.
    moment = local(2026, 11, 1, 1, 30).astimezone(UTC)
    allowed = NIGHT.next_allowed(moment, PACIFIC)
    assert allowed.astimezone(PACIFIC).time() == time(8) and allowed > moment


@given(
    st.datetimes(
        min_value=datetime(2026, 1, 1), max_value=datetime(2028, 12, 31), timezones=st.just(UTC)
    ),
    st.sampled_from(["America/Los_Angeles", "Pacific/Honolulu", "America/New_York"]),
)
def test_the_next_allowed_moment_is_never_quiet_never_earlier_and_at_most_a_night_on(
    moment, zone_name
):
    zone = ZoneInfo(zone_name)
    allowed = NIGHT.next_allowed(moment, zone)
    assert not NIGHT.holds(allowed.astimezone(zone))
    # 11 hours; 12 the night the clocks go back.
    assert moment <= allowed <= moment + timedelta(hours=12)


def test_within_counts_today_and_the_days_ahead_only():
    today = date(2026, 12, 26)
    assert within(5, today, today) and within(5, today, date(2026, 12, 31))
    assert not within(5, today, date(2027, 1, 1)) and not within(5, today, date(2026, 12, 25))
