"""TwiML documents become the verbs a caller would experience."""

from __future__ import annotations

import re

import pytest
from twilio.twiml.voice_response import Gather, Say, VoiceResponse

from ivr_sim.twiml import (
    Dial,
    Hangup,
    Pause,
    Play,
    Redirect,
    Reject,
    TwimlError,
    parse_twiml,
)
from ivr_sim.twiml import Gather as GatherVerb
from ivr_sim.twiml import Say as SayVerb


def test_say_keeps_its_voice_and_language_and_flattens_ssml_to_what_is_heard() -> None:
    say = Say("Your member number is", voice="Polly.Joanna", language="en-US")
    say.say_as("1234", interpret_as="digits")
    say.break_(time="500ms")
    say.p("Thank you.")
    say.s("Goodbye")
    say.emphasis("now")
    say.prosody("slowly", rate="slow")
    say.lang("adios", xml_lang="es-ES")
    say.sub("W3C", alias="World Wide Web Consortium")
    response = VoiceResponse()
    response.append(say)

    [verb] = parse_twiml(str(response))

    assert verb == SayVerb(
        text="Your member number is 1234 Thank you. Goodbye now slowly adios "
        "World Wide Web Consortium",
        voice="Polly.Joanna",
        language="en-US",
        break_seconds=0.5,
    )


def test_amazon_effects_need_no_namespace_declaration() -> None:
    document = (
        "<Response><Say>I can <amazon:effect name='whispered'>whisper</amazon:effect>."
        "</Say></Response>"
    )

    [verb] = parse_twiml(document)

    assert isinstance(verb, SayVerb) and verb.text == "I can whisper."


def test_play_pause_redirect_hangup_and_reject_parse_with_twilios_defaults() -> None:
    response = VoiceResponse()
    response.play("https://cdn.example.test/hold.mp3", loop=2)
    response.pause()
    response.pause(length=3)
    response.redirect("/voice/next")
    response.hangup()
    response.reject()

    assert parse_twiml(str(response)) == [
        Play(url="https://cdn.example.test/hold.mp3", loop=2),
        Pause(length=1.0),
        Pause(length=3.0),
        Redirect(url="/voice/next", method="POST"),
        Hangup(),
        Reject(reason="rejected"),
    ]


def test_gather_takes_its_attributes_and_nested_prompts() -> None:
    gather = Gather(
        action="/voice/amount",
        method="GET",
        timeout=7,
        finish_on_key="*",
        num_digits=6,
        input="dtmf speech",
        speech_timeout="auto",
        hints="pay, balance",
        language="en-GB",
        action_on_empty_result=True,
    )
    gather.say("Enter the amount.")
    gather.pause(length=2)
    gather.play("https://cdn.example.test/beep.mp3")
    response = VoiceResponse()
    response.append(gather)

    [verb] = parse_twiml(str(response))

    assert verb == GatherVerb(
        action="/voice/amount",
        method="GET",
        timeout=7,
        finish_on_key="*",
        num_digits=6,
        input="dtmf speech",
        speech_timeout="auto",
        hints="pay, balance",
        language="en-GB",
        action_on_empty_result=True,
        children=(
            SayVerb(text="Enter the amount."),
            Pause(length=2.0),
            Play(url="https://cdn.example.test/beep.mp3"),
        ),
    )


def test_an_empty_gather_gets_twilios_defaults() -> None:
    [verb] = parse_twiml("<Response><Gather/></Response>")

    assert verb == GatherVerb()
    assert (verb.timeout, verb.finish_on_key, verb.input, verb.method) == (5, "#", "dtmf", "POST")


def test_dial_takes_its_number_from_text_or_number_children() -> None:
    response = VoiceResponse()
    response.dial("+18005550100")
    dial = response.dial(action="/voice/dialed", timeout=15, caller_id="+18773659900")
    dial.number("+18005550111")
    dial.number("+18005550122")

    assert parse_twiml(str(response)) == [
        Dial(numbers=("+18005550100",)),
        Dial(
            numbers=("+18005550111", "+18005550122"),
            action="/voice/dialed",
            timeout=15,
            caller_id="+18773659900",
        ),
    ]


@pytest.mark.parametrize(
    ("document", "complaint"),
    [
        ("", "empty"),
        ("<Response><Say>unclosed</Response>", "not well-formed XML"),
        ("<Reply><Say>Hi</Say></Reply>", "root element is <Reply>"),
        ("<Response><Pay/></Response>", "<Pay>"),
        ("<Response><Gather><Dial>1</Dial></Gather></Response>", "not <Dial>"),
        ("<Response><Gather finishOnKey='##'/></Response>", "finishOnKey"),
        ("<Response><Gather input='video'/></Response>", "input"),
        ("<Response><Gather numDigits='0'/></Response>", "numDigits"),
        ("<Response><Gather timeout='soon'/></Response>", "timeout"),
        ("<Response><Gather actionOnEmptyResult='yes'/></Response>", "actionOnEmptyResult"),
        ("<Response><Redirect/></Response>", "needs a URL"),
        ("<Response><Redirect method='PUT'>/x</Redirect></Response>", "GET or POST"),
        ("<Response><Dial/></Response>", "no number"),
        ("<Response><Dial><Conference>room</Conference></Dial></Response>", "<Conference>"),
        ("<Response><Reject reason='rude'/></Response>", "reason"),
        ("<Response><Say>Hi <blink>there</blink></Say></Response>", "<blink>"),
    ],
)
def test_twiml_that_twilio_would_refuse_raises_a_clear_error(document: str, complaint: str) -> None:
    with pytest.raises(TwimlError, match=re.escape(complaint)):
        parse_twiml(document)
