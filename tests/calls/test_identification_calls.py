"""Identification on the phone: neutral refusals, three tries, lock-outs across calls."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from tests.calls.phrases import ASK_BIRTH_DATE, ASK_MRN, MAIN_MENU
from tests.members import add_member

MRN = "20000002"
BIRTH_KEYS = "07221975"
NCAL = "+18773659900"
NOT_MATCHED = "The information you entered does not match our records."


@pytest.fixture
def member(core) -> int:
    return add_member(
        core,
        mrn=MRN,
        birth_date=date(1975, 7, 22),
        first_name="Rosa",
        bills=[
            ("B-1", date(2026, 9, 14), "Oakland Medical Center", 25000, 5000, date(2026, 12, 15))
        ],
    )


def identify(call, mrn=MRN, birth=BIRTH_KEYS):
    call.press(mrn + "#")
    call.press(birth)


def test_the_right_mrn_and_birth_date_reach_the_main_menu_by_name(twilio, member):
    call = twilio.call(to=NCAL, from_="+14155550123")
    identify(call)
    heard = call.heard_since_input
    assert heard[0] == "Thank you, Rosa."
    # Rosa owes one bill and has no saved card: it is offered first, by card.
    assert heard[1:] == [
        "To pay $200.00 for your 9/14 visit by card, press 1.",
        "For the main menu, press 9.",
    ]
    call.press("9")
    assert call.heard_since_input == MAIN_MENU


def test_three_wrong_birth_dates_end_identification_neutrally_with_a_specialist(
    twilio, member, clock
):
    call = twilio.call(to=NCAL, from_="+14155550123")
    spoken_after_mrn = []
    for _ in range(3):
        identify(call, birth="01011990")
        spoken_after_mrn.extend(call.heard_since_input)
    # Each failure says the same neutral sentence, never which field or that the MRN exists.
    assert spoken_after_mrn.count(NOT_MATCHED) == 3
    assert "We could not verify your information on this call." in spoken_after_mrn
    assert "Please hold while we connect you to a billing specialist." in spoken_after_mrn
    assert call.dialed == ["+18002181059"]
    whole_call = " ".join(call.heard)
    for member_fact in ["Rosa", "Tester", "Oakland", "$200.00", "balance is"]:
        assert member_fact not in whole_call


def test_after_hours_the_unverified_caller_hears_the_hours_and_goodbye(twilio, member, clock):
    clock.set(datetime(2026, 11, 29, 18, 0, tzinfo=UTC))  # Sunday 10:00 in California
    call = twilio.call(to=NCAL, from_="+14155550123")
    for _ in range(3):
        identify(call, birth="01011990")
    said = call.heard_since_input
    assert "Our billing specialists are not available right now." in said
    assert said[-1] == "Thank you for calling. Goodbye."
    assert call.ended and call.end_reason == "hangup" and call.dialed == []


def test_a_locked_mrn_is_refused_even_with_the_right_birth_date(twilio, member, clock):
    first = twilio.call(to=NCAL, from_="+14155550100")
    for _ in range(3):
        identify(first, birth="12121962")
    assert first.ended  # handed to a specialist
    # Three failures from this phone lock the MRN for it: the right birth date is refused.
    second = twilio.call(to=NCAL, from_="+14155550100")
    identify(second)
    assert second.heard_since_input[:2] == [NOT_MATCHED, "Please try again."]
    assert "Rosa" not in " ".join(second.heard)
    second.hang_up()
    # The member on her own phone is not held back by someone else's guesses.
    own = twilio.call(to=NCAL, from_="+16505550199")
    identify(own)
    assert own.heard_since_input[0] == "Thank you, Rosa."
    own.hang_up()
    clock.advance(timedelta(minutes=16).total_seconds())
    third = twilio.call(to=NCAL, from_="+14155550100")
    identify(third)
    assert third.heard_since_input[0] == "Thank you, Rosa."


def test_guesses_from_many_phones_lock_the_mrn_for_every_caller_for_a_minute(twilio, member, clock):
    for phone, guesses in [("+14155550100", 3), ("+14155550101", 3), ("+14155550102", 3)]:
        call = twilio.call(to=NCAL, from_=phone)
        for _ in range(guesses):
            identify(call, birth="12121962")
    last = twilio.call(to=NCAL, from_="+14155550103")
    identify(last, birth="12121962")  # the tenth failure of the MRN
    last.hang_up()
    own = twilio.call(to=NCAL, from_="+16505550199")
    identify(own)
    assert own.heard_since_input[:2] == [NOT_MATCHED, "Please try again."]
    assert "Rosa" not in " ".join(own.heard)
    own.hang_up()
    clock.advance(61)
    again = twilio.call(to=NCAL, from_="+16505550199")
    identify(again)
    assert again.heard_since_input[0] == "Thank you, Rosa."


def test_withheld_callers_share_one_throttle_that_spares_the_member_on_her_own_phone(
    twilio, member, clock
):
    for withheld in ["anonymous", "client:alice", "sip:guess@example.com"]:
        call = twilio.call(to=NCAL, from_=withheld)
        for _ in range(3):
            identify(call, birth="12121962")
        clock.advance(20 * 60)
    # From any withheld number the MRN is throttled, even with the right birth date...
    hidden = twilio.call(to=NCAL, from_="restricted")
    identify(hidden)
    assert hidden.heard_since_input[:2] == [NOT_MATCHED, "Please try again."]
    hidden.hang_up()
    # ...but nine guesses without a number do not lock the member out of her own phone.
    own = twilio.call(to=NCAL, from_="+16505550199")
    identify(own)
    assert own.heard_since_input[0] == "Thank you, Rosa."


def test_an_unknown_mrn_hears_exactly_what_a_wrong_birth_date_hears(twilio, member):
    unknown = twilio.call(to=NCAL, from_="+14155550101")
    identify(unknown, mrn="99999999")
    wrong = twilio.call(to=NCAL, from_="+14155550102")
    identify(wrong, birth="01011990")
    assert unknown.heard_since_input == wrong.heard_since_input


@pytest.mark.parametrize(
    ("keys", "reason"),
    [
        ("12#", "That is not a complete medical record number."),
        ("1234567890123456#", "That is not a complete medical record number."),
        ("12*34#", "That is not a complete medical record number."),
    ],
)
def test_a_malformed_mrn_is_explained_and_asked_again(twilio, member, keys, reason):
    call = twilio.call(to=NCAL, from_="+14155550123")
    call.press(keys)
    assert call.heard_since_input[:2] == [
        reason,
        ASK_MRN,
    ]


@pytest.mark.parametrize("birth", ["13011980", "02301980", "01012090", "1980"])
def test_an_impossible_birth_date_is_explained_and_asked_again(twilio, member, birth):
    call = twilio.call(to=NCAL, from_="+14155550123")
    call.press(MRN + "#")
    call.press(birth + ("#" if len(birth) < 8 else ""))
    assert call.heard_since_input[0] == "That is not a valid date of birth."
    assert call.heard_since_input[1] == ASK_BIRTH_DATE


def test_silence_is_asked_again_then_relay_mode_is_offered_and_taken(twilio, member):
    call = twilio.call(to=NCAL, from_="+14155550123")
    call.silence()
    assert call.heard_since_input == [
        "Sorry, I did not hear your answer.",
        ASK_MRN,
    ]
    assert call.waiting.timeout == 6
    call.silence()
    assert call.heard_since_input == [
        "Sorry, I did not hear your answer.",
        "If you are using a relay service and need more time to answer, press 7 or say relay. "
        "To go on as before, press 1.",
    ]
    call.silence()
    assert call.heard_since_input == [
        "Relay mode is on. You have more time to answer each question.",
        ASK_MRN,
    ]
    assert call.waiting.timeout == 45


def test_a_silent_caller_is_warned_and_offered_a_specialist_before_the_call_ends(
    twilio, member, clock
):
    clock.set(datetime(2026, 11, 29, 18, 0, tzinfo=UTC))  # Sunday 10:00 in California
    call = twilio.call(to=NCAL, from_="+14155550123")
    for _ in range(20):
        if call.ended:
            break
        call.silence()
    assert call.ended and call.end_reason == "hangup"
    heard = call.heard
    warning = heard.index(
        "We have not heard from you. Time to answer is running out. "
        "To keep going, press 1 or say continue. To reach a billing specialist, press 0."
    )
    assert heard.count(ASK_MRN) >= 4
    assert heard[warning + 1 :] == [
        "We have not heard from you, so we will end this call.",
        "Billing specialists are available Monday through Friday, from 7:00 AM to 7:00 PM "
        "and Saturday, "
        "from 8:00 AM to 4:00 PM, Pacific Time.",
        "You can also call them at (800) 218-1059. For TTY, dial 711.",
        "Thank you for calling. Goodbye.",
    ]


def test_pressing_1_at_the_warning_gives_more_time(twilio, member):
    call = twilio.call(to=NCAL, from_="+14155550123")
    while not call.text_since_input.startswith("We have not heard from you. Time"):
        call.silence()
    call.press("1")
    assert call.heard_since_input == [ASK_MRN]
    identify(call)
    assert call.heard_since_input[0] == "Thank you, Rosa."
