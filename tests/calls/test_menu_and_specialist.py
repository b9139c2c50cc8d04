"""The main menu, its global keys, ways to pay, and the billing specialist in and out of hours."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from tests.calls.phrases import MAIN_MENU
from tests.members import add_member


@pytest.fixture
def georgia_member(core) -> int:
    return add_member(
        core,
        mrn="30000003",
        birth_date=date(1990, 1, 31),
        first_name="Lee",
        region="ga",
        state="GA",
    )


def identified_call(twilio, to="+18776997407"):
    call = twilio.call(to=to, from_="+14045550111")
    call.press("30000003#")
    call.press("01311990")
    assert call.heard_since_input[0] == "Thank you, Lee."
    return call


def test_star_repeats_the_main_menu_and_nine_returns_to_it(twilio, georgia_member):
    call = identified_call(twilio)
    call.press("*")
    assert call.heard_since_input == MAIN_MENU
    call.press("5")
    call.press("9")
    assert call.heard_since_input == MAIN_MENU


def test_an_answer_the_menu_does_not_offer_is_explained_with_the_options(twilio, georgia_member):
    call = identified_call(twilio)
    call.say("purple")  # every key of the main menu leads somewhere
    assert call.heard_since_input == ["Sorry, that is not one of the choices.", *MAIN_MENU]


def test_ways_to_pay_gives_the_regions_check_address(twilio, core, georgia_member):
    call = identified_call(twilio)
    call.press("6")
    assert call.heard_since_input[:4] == [
        "To pay by check, make it payable to Kaiser Permanente, and mail it to:",
        "P.O. Box 7158, Pasadena, CA 91109-7158.",
        "Please write your medical record number on your check.",
        "You can also pay online at kp.org.",
    ]


def test_washington_members_mail_checks_to_their_own_box(twilio, core):
    add_member(
        core, mrn="40000004", birth_date=date(1970, 6, 1), first_name="Sam", region="wa", state="WA"
    )
    call = twilio.call(to="+18336981220", from_="+12065550100")
    call.press("40000004#")
    call.press("06011970")
    call.press("6")
    assert call.heard_since_input[1] == "P.O. Box 7172, Pasadena, CA 91109-7172."


def test_a_national_caller_is_placed_in_their_own_region_once_identified(twilio, georgia_member):
    call = twilio.call(to="+18005550199", from_="+14045550111")
    assert call.heard[0] == "Welcome to the Kaiser Permanente member payment line."
    call.press("30000003#")
    call.press("01311990")
    call.press("6")
    assert "P.O. Box 7158, Pasadena, CA 91109-7158." in call.heard_since_input


def test_zero_dials_the_billing_line_in_business_hours(twilio, clock, georgia_member):
    clock.set(datetime(2026, 11, 27, 15, 0, tzinfo=UTC))  # Friday 10:00 in Georgia
    call = identified_call(twilio)
    call.press("0")
    assert call.heard_since_input[0] == "Please hold while we connect you to a billing specialist."
    assert call.dialed == ["+18002181059"]
    assert call.ended and call.heard[-1] == "Thank you for calling. Goodbye."


def test_outside_business_hours_zero_speaks_the_hours_and_returns_to_the_menu(
    twilio, clock, georgia_member
):
    clock.set(datetime(2026, 11, 28, 2, 0, tzinfo=UTC))  # Friday 21:00 in Georgia
    call = identified_call(twilio)
    call.press("0")
    assert call.dialed == []
    assert call.heard_since_input[:3] == [
        "Our billing specialists are not available right now.",
        "Billing specialists are available Monday through Friday, from 7:00 AM to 7:00 PM "
        "and Saturday, "
        "from 8:00 AM to 4:00 PM, Eastern Time.",
        "You can also call them at (800) 218-1059. For TTY, dial 711.",
    ]
    assert call.heard_since_input[3:] == MAIN_MENU


def test_hawaii_keeps_its_own_hours_in_its_own_time_zone(twilio, core, clock):
    add_member(
        core,
        mrn="50000005",
        birth_date=date(1960, 12, 25),
        first_name="Kai",
        region="hi",
        state="HI",
    )
    clock.set(datetime(2026, 11, 28, 18, 0, tzinfo=UTC))  # Saturday 08:00 in Honolulu
    call = twilio.call(to="+18775782700", from_="+18085550100")
    call.press("50000005#")
    call.press("12251960")
    call.press("0")
    assert call.heard_since_input[1] == (
        "Billing specialists are available Monday through Friday, from 7:00 AM to 5:00 PM, "
        "Hawaii Time."
    )


def test_a_specialist_who_does_not_answer_brings_the_caller_back_to_the_menu(
    twilio, clock, georgia_member
):
    clock.set(datetime(2026, 11, 27, 15, 0, tzinfo=UTC))
    twilio.dial_outcome = "no-answer"
    call = identified_call(twilio)
    call.press("0")
    assert call.dialed == ["+18002181059"]
    assert call.heard_since_input[1] == "Sorry, no billing specialist could take your call."
    assert call.heard_since_input[-len(MAIN_MENU) :] == MAIN_MENU
    assert not call.ended


def test_the_status_callback_wipes_the_calls_state(twilio, app, georgia_member):
    call = identified_call(twilio)
    store = app.extensions["call_store"]
    now = app.extensions["billing"].clock.now()
    assert store.load(call.call_sid, now).member_id == georgia_member
    call.hang_up()
    assert store.load(call.call_sid, now).is_new
