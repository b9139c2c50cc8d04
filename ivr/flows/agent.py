"""Reach a billing specialist: dial them in business hours, tell the hours outside them."""

from __future__ import annotations

import logging

from babel.dates import get_day_names
from flask import Blueprint, current_app, request, url_for
from twilio.twiml.voice_response import Dial, Say, VoiceResponse

from billing_core.domain.regions import OpeningHours, Region
from ivr.calls import billing, call, region, voice
from ivr.flows.steps import go, goodbye, step_value
from ivr.prompts import Prompt
from ivr.speech import ClockTime, Digits, Fragment, Listing, PhoneNumber, Voice, ZoneName
from ivr.twiml import twiml

bp = Blueprint("agent", __name__, url_prefix="/voice/agent")
log = logging.getLogger(__name__)

RING_SECONDS = 30


@bp.post("")
def transfer():
    """Connect the caller to the region's billing line, or tell its hours when closed."""
    line = region()
    if line.billing_is_open(billing().clock.now()):
        log.info(
            "call %s: transferring to a billing specialist (%s)",
            call().call_sid,
            step_value("reason", "asked"),
        )
        response = VoiceResponse()
        response.append(voice().say(Prompt.TRANSFERRING))
        dial = Dial(action=url_for("agent.after_dial"), method="POST", timeout=RING_SECONDS)
        dial.number(line.billing.number)
        response.append(dial)
        return twiml(response)
    closed = [voice().say(Prompt.SPECIALIST_CLOSED), *hours_and_number(voice(), line)]
    return back_to_menu_or_goodbye(closed)


@bp.post("/after-dial")
def after_dial():
    """End the call after a specialist took it; otherwise say so and carry on."""
    if request.form.get("DialCallStatus", "") == "completed":
        call().ended = True
        return goodbye()
    return back_to_menu_or_goodbye(
        [voice().say(Prompt.SPECIALIST_BUSY), *hours_and_number(voice(), region())]
    )


def back_to_menu_or_goodbye(says: list[Say]):
    """Carry on where the caller can: the main menu, identification, or goodbye.

    A caller who could not be verified hears goodbye; one who asked for a specialist
    before identifying can still identify and go on.
    """
    if call().member_id is not None:
        return go("menu.main", *says)
    if call().get("identification_failures", 0) >= current_app.config["IVR_MAX_TRIES"]:
        return goodbye(*says)
    return go("identify.ask_mrn", *says)


def hours_and_number(speaker: Voice, line: Region) -> list[Say]:
    """Return the sentences giving the specialists' hours and their number."""
    spans = Listing(tuple(_span(speaker, span) for span in line.billing.hours))
    return [
        speaker.say(Prompt.SPECIALIST_HOURS, hours=spans, time_zone=ZoneName(line.time_zone)),
        speaker.say(
            Prompt.SPECIALIST_NUMBER,
            number=PhoneNumber(line.billing.number),
            tty=Digits(line.billing.tty),
        ),
    ]


def _span(speaker: Voice, span: OpeningHours) -> Fragment:
    names = get_day_names("wide", locale=speaker.language.locale)
    days = span.weekdays
    if len(days) > 1 and list(days) == list(range(days[0], days[-1] + 1)):
        day_text = Fragment(Prompt.DAY_RANGE, {"first": names[days[0]], "last": names[days[-1]]})
    else:
        day_text = Listing(tuple(names[day] for day in days))
    return Fragment(
        Prompt.HOURS_SPAN,
        {"days": day_text, "opens": ClockTime(span.opens), "closes": ClockTime(span.closes)},
    )
