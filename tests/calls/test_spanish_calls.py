"""The whole call in Spanish: chosen at the start, or from the member's billing record."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from sqlalchemy import select

from billing_core.adapters.models import Member
from ivr_sim.demo import load_demo

SCAL = "+18662886729"
# Words that would give away an English sentence; none of them is Spanish.
ENGLISH_WORDS = {"press", "your", "the", "you", "enter", "to", "for", "thank", "please", "is"}


@pytest.fixture
def demo(core):
    load_demo(core)


def says_after(call, turn: int) -> list[tuple[str, str]]:
    """Return (language, text) of every <Say> the app answered from the given turn on."""
    spoken = []
    for entry in call.transcript[turn:]:
        root = ET.fromstring(entry.twiml)
        for say in root.iter("Say"):
            spoken.append((say.get("language"), "".join(say.itertext())))
    return spoken


def assert_all_spanish(spoken: list[tuple[str, str]]) -> None:
    assert len(spoken) >= 10
    for language, text in spoken:
        assert language == "es-US", text
        words = {word.strip(".,:;¿?¡!").lower() for word in text.split()}
        assert not words & ENGLISH_WORDS, text


def test_pressing_8_turns_the_whole_call_and_a_card_payment_into_spanish(twilio, core, demo):
    call = twilio.call(to=SCAL, from_="+13105550100")
    assert call.heard[2] == "Para español, oprima 8."
    call.press("8")
    switched = len(call.transcript) - 1
    assert call.heard_since_input[0] == "Continuaremos en español."
    call.press("10000001#")  # Ana's record says English: the caller's choice wins
    call.press("04121980")
    assert call.heard_since_input[0] == "Gracias, Ana."
    call.press("2")  # balances
    call.press("9")
    call.press("1")  # pay
    call.press("1")  # the bill, in full
    call.press("1")  # a new card
    call.pay_card("4242424242424242")
    assert not any(prompt.built_in for prompt in call.pay_prompts)
    call.press("1")
    assert call.heard_since_input[0].startswith("Pago completado: su número de confirmación es ")
    assert_all_spanish(says_after(call, switched))
    with core.unit_of_work() as uow:
        ana = uow.session.scalars(
            select(Member.id).where(Member.mrn_digest == core.mrn_digest("10000001"))
        ).one()
    assert core.account_summary(ana, channel="test").medical_balance_cents == 0


def test_a_member_whose_record_says_spanish_is_served_in_spanish_after_identifying(twilio, demo):
    call = twilio.call(to=SCAL, from_="+13105550100")
    call.press("10000002#")
    call.press("07041951")
    identified = len(call.transcript) - 1
    assert call.heard_since_input[0] == "Gracias, María."
    call.press("9")  # the main menu, past the offer to pay by card
    call.press("1")  # pay
    call.press("1")  # the bill, in full
    call.press("2")  # a bank account
    call.press("1")  # checking
    call.pay_bank("110000000", "000123456789")
    assert not any(prompt.built_in for prompt in call.pay_prompts)
    call.press("1")
    assert call.heard_since_input[0].startswith("Pago bancario enviado: su número de confirmación")
    assert_all_spanish(says_after(call, identified))


def test_spanish_digits_said_aloud_identify_the_caller(twilio, demo):
    call = twilio.call(to=SCAL, from_="+13105550100")
    call.say("español")
    call.say("uno cero cero cero cero cero cero dos")
    call.say("cero siete cero cuatro diecinueve cincuenta y uno")
    assert call.heard_since_input[0] == "Gracias, María."
