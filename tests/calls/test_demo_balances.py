"""Every demo member, calling their region's line, hears exactly what they owe."""

from __future__ import annotations

import pytest

from ivr_sim.demo import demo_feed, load_demo

PAY_LINES = {
    "ncal": "+18773659900",
    "scal": "+18662886729",
    "co": "+18777994700",
    "ga": "+18776997407",
    "hi": "+18775782700",
    "mas": "+18882551400",
    "nw": "+18777295590",
    "wa": "+18336981220",
}
MEMBERS = {member["mrn"]: member for member in demo_feed()["members"]}

# What each member hears after identifying and pressing 2 (balances): their name, each
# open bill with its due date, the total when there are several, the premium by the
# region's rule (Maryland on the first of the coverage month, Virginia the day before),
# and what their coverage means for paying here. Maria's record says Spanish.
EXPECTED = {
    "10000001": [
        "Thank you, Ana.",
        "You have 1 medical bill.",
        "For your visit on 9/14/2026 at Oakland Medical Center, you owe $200.00, due 12/15/2026.",
        "Your monthly premium is $412.00.",
        "Your premium for January 2027 coverage is $412.00, due 12/31/2026.",
        "To hear your balances again, press star.",
        "For the details of a bill, press 1.",
        "To return to the main menu, press 9.",
    ],
    "10000002": [
        "Gracias, María.",
        "Tiene 1 factura médica.",
        (
            "Por su visita del 20/10/2026 en Los Angeles Medical Center, debe $85.00. Vence "
            "el 5/1/2027."
        ),
        "Su prima mensual es de $38.50.",
        "Su prima por la cobertura de enero de 2027 es de $38.50. Vence el 31/12/2026.",
        "Para escuchar sus saldos otra vez, oprima asterisco.",
        "Para escuchar los detalles de una factura, oprima 1.",
        "Para volver al menú principal, oprima 9.",
    ],
    "10000003": [
        "Thank you, David.",
        "You have 3 medical bills.",
        "For your visit on 8/3/2026 at Franklin Medical Offices, you owe $145.00, due 12/10/2026.",
        "For your visit on 9/22/2026 at Lakewood Medical Offices, you owe $62.40, due 12/20/2026.",
        (
            "For your visit on 10/30/2026 at Rock Creek Medical Offices, you owe $210.00, "
            "due 1/8/2027."
        ),
        "Your total medical balance is $417.40.",
        "Your employer pays your premium, so there is no premium to pay on this line.",
        "To hear your balances again, press star.",
        "For the details of a bill, press 1.",
        "To return to the main menu, press 9.",
    ],
    "10000004": [
        "Thank you, Grace.",
        "You have 1 medical bill.",
        (
            "For your visit on 10/2/2026 at Southwood Comprehensive Medical Center, you owe "
            "$95.00, due 12/18/2026."
        ),
        "Your monthly premium is $689.25.",
        "Your premium for January 2027 coverage is $689.25, due 12/31/2026.",
        "To hear your balances again, press star.",
        "For the details of a bill, press 1.",
        "To return to the main menu, press 9.",
    ],
    "10000005": [
        "Thank you, Keoni.",
        "You have 1 medical bill.",
        "For your visit on 11/5/2026 at Moanalua Medical Center, you owe $60.00, due 1/12/2027.",
        "Your monthly premium is $356.00.",
        "Your premium for January 2027 coverage is $356.00, due 12/31/2026.",
        (
            "If this is your first premium payment, please make it through your health "
            "benefit exchange, not on this line."
        ),
        "To hear your balances again, press star.",
        "For the details of a bill, press 1.",
        "To return to the main menu, press 9.",
    ],
    "10000006": [
        "Thank you, Sarah.",
        "You have no medical bills to pay.",
        "Your monthly premium is $298.00.",
        "Your premium for January 2027 coverage is $298.00, due 1/1/2027.",
        "To hear your balances again, press star.",
        "To return to the main menu, press 9.",
    ],
    "10000007": [
        "Thank you, Michael.",
        "You have no medical bills to pay.",
        "Your monthly premium is $298.00.",
        "Your premium for January 2027 coverage is $298.00, due 12/31/2026.",
        "To hear your balances again, press star.",
        "To return to the main menu, press 9.",
    ],
    "10000008": [
        "Thank you, Robert.",
        "You have 1 medical bill.",
        (
            "For your visit on 9/2/2026 at Sunnyside Medical Center, you owe $4,500.00, due "
            "12/31/2026."
        ),
        "Your monthly premium is $524.00.",
        "Your premium for January 2027 coverage is $524.00, due 12/31/2026.",
        "To hear your balances again, press star.",
        "For the details of a bill, press 1.",
        "To return to the main menu, press 9.",
    ],
    "10000009": [
        "Thank you, Emily.",
        "You have no medical bills to pay.",
        "Your monthly premium is $445.00.",
        "You have no premium to pay right now.",
        "To hear your balances again, press star.",
        "To return to the main menu, press 9.",
    ],
    "10000010": [
        "Thank you, Sofia.",
        "You have 2 medical bills.",
        (
            "For your visit on 8/20/2026 at Panorama City Medical Center, you owe $100.00, "
            "which was due 10/30/2026. It is past due."
        ),
        (
            "For your visit on 10/12/2026 at Baldwin Park Medical Center, you owe $95.00, "
            "due 12/28/2026."
        ),
        "Your total medical balance is $195.00.",
        "Your monthly premium is $305.00.",
        "Your premium for January 2027 coverage is $305.00, due 12/31/2026.",
        "You have a credit of $20.00 on your account.",
        (
            "Our billing office applies it to your bills. Until it does, the amounts you owe "
            "do not count it."
        ),
        "To hear your balances again, press star.",
        "For the details of a bill, press 1.",
        "To return to the main menu, press 9.",
    ],
}


@pytest.fixture
def demo(core):
    load_demo(core)


@pytest.mark.parametrize("mrn", sorted(EXPECTED))
def test_each_demo_member_hears_exactly_their_bills_and_premium(twilio, demo, mrn):
    member = MEMBERS[mrn]
    birth = member["birth_date"]
    call = twilio.call(to=PAY_LINES[member["region"]], from_="+14155550100")
    call.press(f"{mrn}#")
    call.press(birth[5:7] + birth[8:10] + birth[:4])
    greeting = call.heard_since_input[0]
    call.press("2")
    assert [greeting, *call.heard_since_input] == EXPECTED[mrn]


def test_a_demo_member_calls_each_regions_line():
    # The call test above only runs for members listed here: every region must be among them.
    assert {MEMBERS[mrn]["region"] for mrn in EXPECTED} == set(PAY_LINES)
