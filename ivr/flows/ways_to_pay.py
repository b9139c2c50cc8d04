"""Other ways to pay: the region's address for checks, and online."""

from __future__ import annotations

from flask import Blueprint, current_app

from ivr.calls import region, voice
from ivr.flows.identified import member_required
from ivr.flows.info import after_page, page
from ivr.prompts import Prompt

bp = Blueprint("ways_to_pay", __name__, url_prefix="/voice/ways-to-pay")


@bp.post("")
@member_required
def read():
    """Tell the caller where to mail a check and where else they can pay."""
    say = voice().say
    address = region().check_address
    sentences = [
        say(Prompt.CHECK_PAYABLE, payee=address[0]),
        say(Prompt.CHECK_ADDRESS, address=", ".join(address[1:]) or address[0]),
        say(Prompt.CHECK_MRN_NOTE),
        say(Prompt.PAY_ONLINE, website=current_app.config["IVR_WEBSITE"]),
    ]
    return page(sentences, Prompt.WAYS_AGAIN, "ways_to_pay.after")


@bp.post("/after")
@member_required
def after():
    """Repeat the ways to pay or go back to the main menu."""
    return after_page("ways_to_pay.read")
