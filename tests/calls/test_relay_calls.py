"""Relay (TTY) callers: an operator types every prompt and answer, so replies come late."""

from __future__ import annotations

from datetime import date

import pytest

from tests.calls.phrases import PAID
from tests.members import add_member

NCAL = "+18773659900"
LATE = 25.0  # seconds a relay answer takes: longer than any spoken-call timeout


@pytest.fixture
def member(core) -> int:
    return add_member(
        core,
        mrn="70000007",
        birth_date=date(1958, 8, 30),
        first_name="Dana",
        bills=[("B-700", date(2026, 8, 1), "Hayward Medical Center", 30000, 0, date(2026, 12, 20))],
        premiums=[(date(2027, 1, 1), 41200, 0)],
    )


def no_timeouts(call) -> int:
    """Count the prompts the caller missed because time ran out."""
    return call.heard.count("Sorry, I did not hear your answer.")


def test_a_relay_caller_answering_every_prompt_late_pays_by_card_and_bank(twilio, core, member):
    call = twilio.call(to=NCAL, from_="+15105550177")
    call.press("7", delay=3)
    assert call.heard_since_input[0] == (
        "Relay mode is on. You have more time to answer each question."
    )
    # Balances, the main menu, pay, the bill, a new card.
    for keys in ["70000007#", "08301958", "2", "9", "1", "1", "1"]:
        call.press(keys, delay=LATE)
    assert call.waiting.timeout == 60
    call.pay_card("4242424242424242", delay=LATE)
    call.press("2", delay=LATE)  # another amount, at the read-back
    call.press("100*00#", delay=LATE)
    call.press("1", delay=LATE)
    assert call.heard_since_input[0].startswith(PAID)
    for keys in ["9", "1", "1", "2", "1"]:  # pay, the bill in full, a checking account
        call.press(keys, delay=LATE)
    call.pay_bank("110000000", "000123456789", delay=LATE)
    call.press("1", delay=LATE)
    assert call.heard_since_input[0].startswith(
        "Bank payment submitted: your confirmation number is "
    )
    assert no_timeouts(call) == 0
    summary = core.account_summary(member, channel="test")
    assert summary.medical_balance_cents == 0


def test_saying_relay_turns_relay_mode_on(twilio, member):
    call = twilio.call(to=NCAL, from_="+15105550177")
    call.say("relay")
    assert call.heard_since_input[0] == (
        "Relay mode is on. You have more time to answer each question."
    )
    assert call.waiting.timeout == 45
    call.say("seven zero zero zero zero zero zero seven", delay=LATE)
    call.say("zero eight three zero nineteen fifty eight", delay=LATE)
    assert call.heard_since_input[0] == "Thank you, Dana."


def test_relay_mode_skips_the_examples_so_prompts_are_short(twilio, member):
    call = twilio.call(to=NCAL, from_="+15105550177")
    call.press("7")
    call.press("70000007#", delay=LATE)
    assert call.heard_since_input == ["Now enter your birth date as month, day, and year."]


def test_a_silent_relay_caller_is_reprompted_and_warned_never_cut_off_first(twilio, member):
    call = twilio.call(to=NCAL, from_="+15105550177")
    call.press("7")
    silences = 0
    while not call.ended:
        call.silence()
        silences += 1
    heard = call.heard
    assert heard.count("Take the time you need.") >= 3
    warning = [
        i for i, line in enumerate(heard) if line.startswith("We have not heard from you. Time")
    ]
    assert len(warning) == 1
    assert "You can also call them at (800) 218-1059. For TTY, dial 711." in heard[warning[0] :]
    assert heard[-1] == "Thank you for calling. Goodbye."
    # Relay mode: every wait was the long one, so this took minutes, not seconds.
    assert call.elapsed > 4 * 45


def test_calling_a_relay_line_listed_in_regions_yaml_starts_in_relay_mode(
    core, clock, tmp_path, member
):
    import yaml

    from ivr import create_app
    from ivr_sim import VirtualTwilio
    from tests.conftest import AUTH_TOKEN, IDENTITY_KEY, PUBLIC_BASE_URL, ROOT

    document = yaml.safe_load((ROOT / "ivr" / "regions.yaml").read_text())
    ncal = next(region for region in document["regions"] if region["key"] == "ncal")
    ncal["relay_lines"] = ["1-800-555-0142"]
    regions_file = tmp_path / "regions.yaml"
    regions_file.write_text(yaml.safe_dump(document))
    app = create_app(
        {
            "TESTING": True,
            "ENGINE": core.engine,
            "CLOCK": clock,
            "IVR_REGIONS_FILE": str(regions_file),
            "IVR_IDENTITY_KEY": IDENTITY_KEY,
            "IVR_PUBLIC_BASE_URL": PUBLIC_BASE_URL,
            "IVR_TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        }
    )
    with VirtualTwilio.for_app(app, clock=clock) as twilio:
        call = twilio.call(to="(800) 555-0142", from_="+15105550177")
        assert call.heard[:2] == [
            "Welcome to the Kaiser Permanente payment line for Northern California.",
            "Relay mode is on. You have more time to answer each question.",
        ]
        assert "For relay, press 7." not in call.heard
        assert call.waiting.timeout == 45
        call.press("70000007#", delay=LATE)
        call.press("08301958", delay=LATE)
        assert call.heard_since_input[0] == "Thank you, Dana."
