"""A call comes in: find the region from the number dialed and greet the caller."""

from __future__ import annotations

from flask import Blueprint, request

from ivr.calls import billing, call, voice
from ivr.flows.steps import go
from ivr.prompts import Prompt

bp = Blueprint("entry", __name__)


@bp.post("/voice")
def incoming():
    """Greet the caller for the line they dialed and start identification."""
    state = call()
    regions = billing().regions
    if "region" not in state:
        dialed = request.form.get("To") or request.form.get("Called") or ""
        region, relay_line = regions.for_dialed_number(dialed)
        state.update(
            region=region.key, national=region is regions.national, language="en", relay=relay_line
        )
    region = regions.get(state["region"])
    if state.get("national"):
        greeting = voice().say(Prompt.GREETING_NATIONAL, plan=regions.plan_name)
    else:
        greeting = voice().say(Prompt.GREETING, plan=regions.plan_name, region=region.name)
    says = [greeting]
    if state.is_new and state.get("relay"):
        # A relay or TTY line: the caller should know from the start they have time.
        says.append(voice().say(Prompt.RELAY_ON))
    if state.get("member_id") is not None:
        return go("menu.main", *says)
    return go("identify.ask_mrn", *says)
