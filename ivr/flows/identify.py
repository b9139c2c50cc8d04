"""Identify the caller by medical record number and date of birth.

A mismatch never says which of the two was wrong, nor whether the MRN exists,
and nothing about the member is spoken before both match.
"""

from __future__ import annotations

import logging
from datetime import date

from flask import Blueprint, current_app, g, request

from billing_core.domain.exceptions import IdentityNotVerified
from billing_core.domain.identity import normalize_mrn
from ivr.calls import billing, call, region, voice, voice_for
from ivr.flows.steps import (
    RELAY_KEY,
    REPEAT_KEY,
    SPANISH_KEY,
    SPECIALIST_KEY,
    answered,
    ask,
    done,
    go,
    no_answer,
    retry,
)
from ivr.prompts import Prompt
from ivr.speech import Day, Digits

bp = Blueprint("identify", __name__, url_prefix="/voice/identify")
log = logging.getLogger(__name__)

MRN_DIGITS = range(4, 16)
EXAMPLE_BIRTH_DATE = date(1980, 3, 5)


@bp.post("/mrn")
def ask_mrn():
    """Ask for the medical record number."""
    prompts = []
    if not call().get("offers_given"):
        # Offered once, at the start: Spanish in Spanish, relay mode in the line's language.
        call()["offers_given"] = True
        if call().get("language", "en") != "es" and "es" in region().languages:
            prompts.append(voice_for("es").say(Prompt.OFFER_SPANISH))
        if not call().get("relay"):
            prompts.append(voice().say(Prompt.OFFER_RELAY))
    prompts.append(voice().say(Prompt.ASK_MRN))
    if call().get("failures", {}).get("mrn"):
        # Help only for those who need it: every sentence costs every caller time.
        prompts.append(voice().say(Prompt.MRN_WHERE))
    return ask(prompts, "identify.mrn_answer")


@bp.post("/mrn/answer")
def mrn_answer():
    """Keep a digest of the MRN entered and ask for the date of birth."""
    digits = answered()
    if digits is None or digits == "":
        return no_answer("mrn", "identify.ask_mrn")
    if digits == REPEAT_KEY:
        return go("identify.ask_mrn")
    if digits == SPECIALIST_KEY:
        return go("agent.transfer")
    if digits == RELAY_KEY:
        return go("identify.ask_mrn", voice().say(Prompt.RELAY_ON))
    if digits == SPANISH_KEY and "es" in region().languages:
        call()["language"] = "es"
        call()["language_chosen"] = True
        spanish = voice_for("es")
        return go("identify.ask_mrn", spanish.say(Prompt.SPANISH_CHOSEN))
    mrn = normalize_mrn(digits)
    if mrn != digits or len(mrn) not in MRN_DIGITS:
        return retry("mrn", "identify.ask_mrn", Prompt.MRN_INVALID)
    done("mrn")
    # Only a keyed digest is kept between webhooks, never the MRN itself.
    call()["mrn_digest"] = billing().mrn_digest(mrn)
    return go("identify.ask_birth_date")


@bp.post("/birth-date")
def ask_birth_date():
    """Ask for the date of birth as MMDDYYYY."""
    if "mrn_digest" not in call():
        return go("identify.ask_mrn")
    example = EXAMPLE_BIRTH_DATE
    prompts = [voice().say(Prompt.ASK_BIRTH_DATE)]
    # The example is for callers who got it wrong once; relay operators get the short form.
    if call().get("failures", {}).get("birth_date") and not call().get("relay"):
        prompts.append(
            voice().say(
                Prompt.BIRTH_DATE_EXAMPLE,
                example_date=Day(example),
                example_digits=Digits(example.strftime("%m%d%Y")),
            )
        )
    return ask(prompts, "identify.birth_date_answer", num_digits=8)


@bp.post("/birth-date/answer")
def birth_date_answer():
    """Check the MRN and birth date together and move on, or refuse neutrally."""
    state = call()
    if "mrn_digest" not in state:
        return go("identify.ask_mrn")
    digits = answered()
    if digits is None or digits == "":
        return no_answer("birth_date", "identify.ask_birth_date")
    if digits == REPEAT_KEY:
        return go("identify.ask_birth_date")
    if digits == SPECIALIST_KEY:
        return go("agent.transfer")
    if digits == RELAY_KEY:
        return go("identify.ask_birth_date", voice().say(Prompt.RELAY_ON))
    birth_date = parse_birth_date(digits, today=billing().clock.now().date())
    if birth_date is None:
        return retry("birth_date", "identify.ask_birth_date", Prompt.BIRTH_DATE_INVALID)
    done("birth_date")
    mrn_digest = state.pop("mrn_digest")
    try:
        member = billing().identify(
            mrn_digest=mrn_digest,
            birth_date=birth_date,
            caller=request.form.get("From") or None,
            channel="phone",
            call_sid=state.call_sid,
        )
    except IdentityNotVerified:
        state["identification_failures"] = state.get("identification_failures", 0) + 1
        log.info(
            "call %s: identification failed (%d this call)",
            state.call_sid,
            state["identification_failures"],
        )
        if state["identification_failures"] >= current_app.config["IVR_MAX_TRIES"]:
            return go(
                "agent.transfer",
                voice().say(Prompt.NOT_MATCHED),
                voice().say(Prompt.NOT_VERIFIED),
                reason="not-verified",
            )
        return go(
            "identify.ask_mrn", voice().say(Prompt.NOT_MATCHED), voice().say(Prompt.TRY_AGAIN)
        )
    # The name is read back in a bank-debit authorization, which must name the account holder.
    state.update(
        member_id=member.member_id,
        region=member.region_key,
        national=False,
        member_name=f"{member.first_name} {member.last_name}".strip(),
    )
    if (
        member.language in ("en", "es")
        and member.language != state.get("language")
        and not state.get("language_chosen")
    ):
        # The billing record's language wins once we know who is calling.
        state["language"] = member.language
        g.voice = voice_for(member.language)
    log.info("call %s: member identified", state.call_sid)
    return go("menu.main", voice().say(Prompt.IDENTIFIED, name=member.first_name))


def parse_birth_date(digits: str, *, today: date) -> date | None:
    """Return the date keyed as MMDDYYYY, or None if it is not a real, past date."""
    if len(digits) != 8 or not digits.isdigit():
        return None
    try:
        parsed = date(int(digits[4:]), int(digits[:2]), int(digits[2:4]))
    except ValueError:
        return None
    if parsed > today or parsed.year < 1900:
        return None
    return parsed
