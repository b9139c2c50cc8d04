"""Request phrases are Twilio hints only where they are taken: menus, once identified."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import date

from tests.members import add_member


def gather_hints(call) -> str:
    gather = ET.fromstring(call.transcript[-1].twiml).find("Gather")
    assert gather is not None
    return gather.get("hints", "")


def test_menus_hint_the_request_phrases_and_identification_does_not(twilio, core):
    add_member(core, mrn="30000003", birth_date=date(1990, 1, 31), region="ga", state="GA")
    call = twilio.call(to="+18776997407", from_="+14045550111")
    before = gather_hints(call)
    assert "repeat" in before and "pay premium" not in before
    call.press("30000003#")
    call.press("01311990")
    call.press("9")  # the main menu
    at_menu = gather_hints(call)
    assert at_menu.startswith(before)  # the commands still come first
    assert "pay premium" in at_menu and "payment plan" in at_menu


def test_a_spanish_menu_hints_the_spanish_phrases(twilio, core):
    add_member(core, mrn="30000003", birth_date=date(1990, 1, 31), region="ga", state="GA")
    call = twilio.call(to="+18776997407", from_="+14045550111")
    call.press("8")
    call.press("30000003#")
    call.press("01311990")
    call.press("9")
    hints = gather_hints(call)
    assert "pagar prima" in hints and "pay premium" not in hints


def test_every_prompt_of_one_key_hints_the_phrases_once_identified(twilio, core):
    add_member(core, mrn="30000003", birth_date=date(1990, 1, 31), region="ga", state="GA")
    call = twilio.call(to="+18776997407", from_="+14045550111")
    call.press("30000003#")
    call.press("01311990")
    assert "pay premium" in gather_hints(call)  # the first offer
    call.press("9")
    call.press("8")  # questions about your bill
    assert "why premium" in gather_hints(call)
    call.press("3")  # when the premium is due: the answer's own menu
    assert "when premium due" in gather_hints(call)
