"""The virtual Twilio refuses what Twilio's own TwiML types refuse, from a vendored copy."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
from flask import Flask, Response
from twilio.twiml.voice_response import Gather, Pay, Prompt, Say, VoiceResponse

from ivr_sim import SimError, TwimlError, VirtualTwilio, parse_twiml
from ivr_sim.pay import Pay as PayVerb
from ivr_sim.twilio_types import allowed_values, element_types, source, voice_types
from ivr_sim.twilio_types.extract import document, extract
from ivr_sim.twiml import Gather as GatherVerb

DATA = Path(__file__).parents[2] / "ivr_sim" / "twilio_types" / "voice_response.json"
MIRROR = Path("/work/.mirror/twilio+twilio-node/repo")
COMMIT = "45d3d65a4ea87652f4c7973af0e0998f3af31322"


def refused(document: str) -> str:
    """The TwimlError message the virtual Twilio gives for `document`."""
    with pytest.raises(TwimlError) as raised:
        parse_twiml(document)
    return str(raised.value)


def pay(inner: str = "", **attributes: str) -> str:
    shown = "".join(f' {name}="{value}"' for name, value in attributes.items())
    return f'<Response><Pay paymentConnector="sandbox"{shown}>{inner}</Pay></Response>'


# -- the data and where it comes from ---------------------------------------------------------


def test_the_data_names_its_source_repository_path_version_and_commit() -> None:
    stored = json.loads(DATA.read_text(encoding="utf-8"))

    assert stored["source"] == source()
    assert source()["repository"] == "twilio/twilio-node"
    assert source()["path"] == "src/twiml/VoiceResponse.ts"
    assert source()["version"] == "6.0.2"
    assert source()["commit"] == COMMIT
    assert source()["committed"] == "2026-07-30"


@pytest.mark.parametrize(
    ("class_name", "tag"),
    [
        ("VoiceResponse", "Response"),
        ("Say", "Say"),
        ("SsmlSayAs", "say-as"),
        ("SsmlBreak", "break"),
        ("SsmlProsody", "prosody"),
        ("SsmlLang", "lang"),
        ("SsmlEmphasis", "emphasis"),
        ("SsmlSub", "sub"),
        ("SsmlW", "w"),
        ("SsmlP", "p"),
        ("SsmlS", "s"),
        ("SsmlPhoneme", "phoneme"),
        ("Gather", "Gather"),
        ("Pay", "Pay"),
        ("Prompt", "Prompt"),
        ("Parameter", "Parameter"),
        ("Dial", "Dial"),
        ("Number", "Number"),
        ("Redirect", "Redirect"),
        ("Hangup", "Hangup"),
        ("Reject", "Reject"),
        ("Pause", "Pause"),
        ("Play", "Play"),
    ],
)
def test_every_element_the_app_can_emit_is_in_the_data(class_name: str, tag: str) -> None:
    assert element_types(class_name)["tag"] == tag


def test_the_data_keeps_twilios_lists_and_marks_the_space_separated_ones() -> None:
    prompt = element_types("Prompt")["attributes"]

    assert set(prompt) == {"attempt", "cardType", "errorType", "for", "requireMatchingInputs"}
    assert prompt["errorType"]["list"] and prompt["cardType"]["list"]
    assert prompt["attempt"] == {"ts_type": "number[]", "list": True, "type": "number"}
    assert not prompt["for"]["list"]
    assert allowed_values("Prompt", "errorType") == (
        "timeout",
        "invalid-card-number",
        "invalid-card-type",
        "invalid-date",
        "invalid-security-code",
        "internal-error",
        "input-matching-failed",
    )
    assert "es-US" in allowed_values("Pay", "language")
    assert "es-MX" not in allowed_values("Pay", "language")
    assert "currency" not in allowed_values("SsmlSayAs", "interpret-as")
    assert element_types("SsmlLang")["attributes"]["xml:lang"]["type"] == "enum"
    assert element_types("Hangup")["attributes"] == {}


@pytest.mark.skipif(not MIRROR.exists(), reason="no twilio-node mirror on this machine")
def test_the_extraction_script_regenerates_the_committed_data_exactly() -> None:
    typescript = subprocess.run(
        ["git", "-C", str(MIRROR), "show", f"{COMMIT}:src/twiml/VoiceResponse.ts"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout

    regenerated = document(extract(typescript), "6.0.2", COMMIT, "2026-07-30")

    assert regenerated == voice_types()


# -- what the virtual Twilio refuses --------------------------------------------------------


def test_pay_language_es_mx_is_refused_and_es_us_accepted() -> None:
    message = refused(pay(language="es-MX"))
    (accepted,) = parse_twiml(pay(language="es-US"))

    assert "<Pay language='es-MX'>" in message
    assert "'es-MX' is not a PayLanguage" in message
    assert "es-US" in message and "en-US" in message
    assert isinstance(accepted, PayVerb) and accepted.language == "es-US"


@pytest.mark.parametrize(
    "error_type",
    ["invalid-postal-code", "invalid-bank-routing-number", "invalid-bank-account-number"],
)
def test_prompt_error_types_twilio_does_not_have_are_refused(error_type: str) -> None:
    message = refused(pay(f'<Prompt for="postal-code" errorType="timeout {error_type}"/>'))

    assert f"<Prompt errorType='timeout {error_type}'>" in message
    assert f"{error_type!r} is not a PromptErrorType" in message
    assert "space-separated list" in message
    assert "input-matching-failed" in message
    assert 'attempt="2 3"' in message


def test_say_as_currency_is_refused() -> None:
    say = Say("You owe ")
    say.say_as("$20.45", interpret_as="currency")
    response = VoiceResponse()
    response.append(say)

    message = refused(str(response))

    assert "<say-as interpret-as='currency'>" in message
    assert "'currency' is not a SsmlSayAsInterpretAs" in message
    assert "cardinal" in message and "telephone" in message


def test_say_as_takes_twilios_interpretations_and_date_formats() -> None:
    say = Say("Due ")
    say.say_as("12/01/2026", interpret_as="date", format="mdy")
    say.say_as("20.45", interpret_as="cardinal")
    response = VoiceResponse()
    response.append(say)

    assert parse_twiml(str(response))
    assert "'dmyy'" in refused(
        '<Response><Say><say-as interpret-as="date" format="dmyy">1</say-as></Say></Response>'
    )


def test_speech_model_is_accepted_on_gather() -> None:
    gather = Gather(input="speech", speech_model="phone_call", action="/voice/next")
    gather.say("Say something.")
    response = VoiceResponse()
    response.append(gather)

    (verb,) = parse_twiml(str(response))

    assert 'speechModel="phone_call"' in str(response)
    assert isinstance(verb, GatherVerb) and verb.input == "speech"


@pytest.mark.parametrize(
    ("document", "complaints"),
    [
        (
            "<Response><Gather finishonkey='#'/></Response>",
            ["<Gather finishonkey='#'>", "no attribute 'finishonkey'", "'finishOnKey'"],
        ),
        (
            "<Response><Gather speechModel='x' foo='1'/></Response>",
            ["<Gather foo='1'>", "no attribute 'foo'", "speechModel"],
        ),
        (pay(for_="x"), ["<Pay for_='x'>", "no attribute 'for_'"]),
        (
            pay('<Prompt for_="postal-code"/>'),
            ["<Prompt for_='postal-code'>", "no attribute 'for_'"],
        ),
        ("<Response><Hangup reason='done'/></Response>", ["<Hangup", "takes no attributes"]),
        ("<Response><Redirect url='/x'>/x</Redirect></Response>", ["no attribute 'url'"]),
    ],
)
def test_an_attribute_twilio_does_not_take_is_refused(document: str, complaints: list) -> None:
    message = refused(document)

    for complaint in complaints:
        assert complaint in message


@pytest.mark.parametrize(
    ("document", "complaint"),
    [
        (
            "<Response><Say voice='Polly.Nobody'>Hi</Say></Response>",
            "'Polly.Nobody' is not a SayVoice",
        ),
        ("<Response><Say language='es-XX'>Hola</Say></Response>", "not a SayLanguage"),
        ("<Response><Gather language='xx-YY'/></Response>", "not a GatherLanguage"),
        ("<Response><Gather input='dtmf video'/></Response>", "'video' is not a GatherInput"),
        (pay(validCardTypes="visa,amex"), "'visa,amex' is not a PayValidCardTypes"),
        (pay(paymentMethod="paypal"), "not a PayPaymentMethod"),
        (pay(bankAccountType="business"), "not a PayBankAccountType"),
        (pay(statusCallbackMethod="PUT"), "not a PayStatusCallbackMethod"),
        (pay('<Prompt for="postal-code" cardType="visa master-card"/>'), "'master-card'"),
        (
            "<Response><Say><lang xml:lang='es-XX'>hola</lang></Say></Response>",
            "<lang xml:lang='es-XX'>",
        ),
        ("<Response><Say><break strength='huge'/></Say></Response>", "not a SsmlBreakStrength"),
        (
            "<Response><Dial><Number statusCallbackEvent='ringing dialing'>1</Number></Dial>"
            "</Response>",
            "'dialing' is not a NumberEvent",
        ),
    ],
)
def test_a_value_outside_twilios_list_is_refused(document: str, complaint: str) -> None:
    assert complaint in refused(document)


@pytest.mark.parametrize(
    ("document", "complaint"),
    [
        ("<Response><Gather><Pay/></Gather></Response>", "<Gather> can only contain"),
        (
            "<Response><Say><say-as interpret-as='digits'><break/></say-as></Say></Response>",
            "<say-as> can only contain nothing, not <break>",
        ),
        ("<Response><Say><s><p>x</p></s></Say></Response>", "not <p>"),
        ("<Response><Pay><Say>Hi</Say></Pay></Response>", "not <Say>"),
        (pay("<Prompt for='postal-code'><Prompt/></Prompt>"), "<Prompt> can only contain"),
        ("<Response><Dial><Number><Say>x</Say></Number></Dial></Response>", "not <Say>"),
    ],
)
def test_an_element_where_twilio_does_not_place_it_is_refused(
    document: str, complaint: str
) -> None:
    assert complaint in refused(document)


def test_lists_take_several_of_twilios_values() -> None:
    (verb,) = parse_twiml(
        pay(
            '<Prompt for="security-code" cardType="visa amex" errorType="timeout '
            'invalid-security-code" attempt="2 3"><Say>Again.</Say></Prompt>',
            validCardTypes="visa mastercard amex discover",
        )
    )

    assert isinstance(verb, PayVerb)
    assert verb.valid_card_types == ("visa", "mastercard", "amex", "discover")


def test_the_apps_kind_of_pay_passes_when_it_keeps_to_twilios_values() -> None:
    response = VoiceResponse()
    verb = Pay(
        payment_connector="sandbox",
        payment_method="ach-debit",
        bank_account_type="consumer-savings",
        language="en-US",
        charge_amount="0",
        token_type="reusable",
        max_attempts=3,
    )
    verb.parameter(name="achSecCode", value="TEL")
    ask = Prompt(for_="bank-account-number", require_matching_inputs=True)
    ask.say("Enter it once more.")
    verb.append(ask)
    retry = Prompt(for_="bank-account-number", attempt="2 3")
    retry.say("That account number is not valid.")
    verb.append(retry)
    response.append(verb)

    (parsed,) = parse_twiml(str(response))

    assert isinstance(parsed, PayVerb)
    assert parsed.parameters == (("achSecCode", "TEL"),)
    assert [p.require_matching_inputs for p in parsed.prompts] == [True, False]
    assert parsed.prompts[1].attempts == (2, 3)


def test_amazon_polly_tags_pass_and_what_they_hold_is_still_checked() -> None:
    ok = "<Response><Say><amazon:effect name='whispered'>hi</amazon:effect></Say></Response>"
    bad = (
        "<Response><Say><amazon:effect name='whispered'><say-as interpret-as='currency'>"
        "$1</say-as></amazon:effect></Say></Response>"
    )

    assert parse_twiml(ok)
    assert "'currency'" in refused(bad)


def test_a_call_that_plays_refused_twiml_fails_naming_the_value() -> None:
    app = Flask(__name__)

    @app.post("/voice")
    def voice() -> Response:
        return Response(pay(language="es-MX"), mimetype="text/xml")

    twilio = VirtualTwilio.for_app(app, public_base_url="https://ivr.example.test", auth_token="t")

    with pytest.raises(SimError, match=re.escape("<Pay language='es-MX'>")) as raised:
        twilio.call(to="+18773659900", from_="+14155550123")

    assert "answered TwiML Twilio would not run" in str(raised.value)
