"""A call comes in: find the region from the number dialed and greet the caller."""

from __future__ import annotations

from flask import Blueprint
from twilio.twiml.voice_response import VoiceResponse

from ivr.flows import identify, menu
from ivr.kernel import CALL_START, WAITING_PROMPT, Turn, go, step
from ivr.prompts import Prompt

bp = Blueprint("entry", __name__)


@CALL_START.bind
@step(bp, "/voice", new_call=True)
def incoming(turn: Turn) -> VoiceResponse:
    """Greet the caller for the line they dialed and start identification."""
    state = turn.call
    if state.waiting is not None and not turn.steps:
        # Twilio posts a call's start once: this call is under way, so this is a replay.
        # Nothing changes, and the prompt the caller is at keeps its token.
        return go(turn, WAITING_PROMPT)
    regions = turn.billing.regions
    if state.region is None:
        dialed = turn.form.get("To") or turn.form.get("Called") or ""
        region, relay_line = regions.for_dialed_number(dialed)
        state.region = region.key
        state.national = region is regions.national
        state.language = "en"
        state.relay = relay_line
    if state.national:
        greeting = turn.say(Prompt.GREETING_NATIONAL, plan=regions.plan_name)
    else:
        greeting = turn.say(Prompt.GREETING, plan=regions.plan_name, region=turn.region.name)
    says = [greeting]
    if state.is_new and state.relay:
        # A relay or TTY line: the caller should know from the start they have time.
        says.append(turn.say(Prompt.RELAY_ON))
    if state.member_id is not None:
        return go(turn, menu.main, *says)
    return go(turn, identify.ask_mrn, *says)
