"""Identify the caller by medical record number and date of birth.

A mismatch never says which of the two was wrong, nor whether the MRN exists,
and nothing about the member is spoken before both match.
"""

from __future__ import annotations

import logging
from datetime import date

from flask import Blueprint
from twilio.twiml.voice_response import VoiceResponse

from billing_core.domain.exceptions import IdentityNotVerified
from billing_core.domain.identity import normalize_mrn
from ivr.commands import RELAY_KEY, REPEAT_KEY, SPANISH_KEY, SPECIALIST_KEY
from ivr.flows import agent, autopay, plans, snapshot
from ivr.kernel import (
    IDENTIFICATION,
    Turn,
    answered,
    ask,
    done,
    go,
    no_answer,
    retry,
    step,
)
from ivr.prompts import Prompt
from ivr.speech import Day, Digits

bp = Blueprint("identify", __name__, url_prefix="/voice/identify")
log = logging.getLogger(__name__)

MRN_DIGITS = range(4, 16)
EXAMPLE_BIRTH_DATE = date(1980, 3, 5)


@IDENTIFICATION.bind
@step(bp, "/mrn")
def ask_mrn(turn: Turn) -> VoiceResponse:
    """Ask for the medical record number."""
    state = turn.call
    prompts = [turn.say(Prompt.ASK_MRN)]
    if state.failures.get("mrn"):
        # Help only for those who need it: every sentence costs every caller time.
        prompts.append(turn.say(Prompt.MRN_WHERE))
    if not state.offers_given:
        # Offered once, at the start: Spanish in Spanish, relay mode in the line's language.
        # After the question, which most callers answer at once (barging in); those who
        # need an offer hear it while the line waits for their keys.
        state.offers_given = True
        if state.language != "es" and "es" in turn.region.languages:
            prompts.append(turn.voice_for("es").say(Prompt.OFFER_SPANISH))
        if not state.relay:
            prompts.append(turn.say(Prompt.OFFER_RELAY))
    return ask(turn, prompts, mrn_answer)


@step(bp, "/mrn/answer", answer=True)
def mrn_answer(turn: Turn) -> VoiceResponse:
    """Keep a digest of the MRN entered and ask for the date of birth."""
    digits = answered(turn)
    if digits is None or digits == "":
        return no_answer(turn, "mrn", ask_mrn)
    if digits == REPEAT_KEY:
        return go(turn, ask_mrn)
    if digits == SPECIALIST_KEY:
        return go(turn, agent.transfer)
    if digits == RELAY_KEY:
        return go(turn, ask_mrn, turn.say(Prompt.RELAY_ON))
    if digits == SPANISH_KEY and "es" in turn.region.languages:
        turn.call.language = "es"
        turn.call.language_chosen = True
        return go(turn, ask_mrn, turn.voice_for("es").say(Prompt.SPANISH_CHOSEN))
    mrn = normalize_mrn(digits)
    if mrn != digits or len(mrn) not in MRN_DIGITS:
        return retry(turn, "mrn", ask_mrn, Prompt.MRN_INVALID)
    done(turn, "mrn")
    # Only a keyed digest is kept between webhooks, never the MRN itself.
    turn.call.mrn_digest = turn.billing.mrn_digest(mrn)
    return go(turn, ask_birth_date)


@step(bp, "/birth-date")
def ask_birth_date(turn: Turn) -> VoiceResponse:
    """Ask for the date of birth as MMDDYYYY."""
    state = turn.call
    if state.mrn_digest is None:
        return go(turn, ask_mrn)
    example = EXAMPLE_BIRTH_DATE
    prompts = [turn.say(Prompt.ASK_BIRTH_DATE)]
    # The example is for callers who got it wrong once; relay operators get the short form.
    if state.failures.get("birth_date") and not state.relay:
        prompts.append(
            turn.say(
                Prompt.BIRTH_DATE_EXAMPLE,
                example_date=Day(example),
                example_digits=Digits(example.strftime("%m%d%Y")),
            )
        )
    return ask(turn, prompts, birth_date_answer, num_digits=8)


@step(bp, "/birth-date/answer", answer=True)
def birth_date_answer(turn: Turn) -> VoiceResponse:
    """Check the MRN and birth date together and move on, or refuse neutrally."""
    state = turn.call
    if state.mrn_digest is None:
        return go(turn, ask_mrn)
    digits = answered(turn)
    if digits is None or digits == "":
        return no_answer(turn, "birth_date", ask_birth_date)
    if digits == REPEAT_KEY:
        return go(turn, ask_birth_date)
    if digits == SPECIALIST_KEY:
        return go(turn, agent.transfer)
    if digits == RELAY_KEY:
        return go(turn, ask_birth_date, turn.say(Prompt.RELAY_ON))
    birth_date = parse_birth_date(digits, today=turn.billing.clock.now().date())
    if birth_date is None:
        return retry(turn, "birth_date", ask_birth_date, Prompt.BIRTH_DATE_INVALID)
    done(turn, "birth_date")
    mrn_digest, state.mrn_digest = state.mrn_digest, None
    try:
        member = turn.billing.identify(
            mrn_digest=mrn_digest,
            birth_date=birth_date,
            caller=turn.form.get("From") or None,
            channel="phone",
            call_sid=state.call_sid,
        )
    except IdentityNotVerified:
        state.identification_failures += 1
        log.info(
            "call %s: identification failed (%d this call)",
            state.call_sid,
            state.identification_failures,
        )
        if state.identification_failures >= turn.settings["IVR_MAX_TRIES"]:
            return go(
                turn,
                agent.transfer,
                turn.say(Prompt.NOT_MATCHED),
                turn.say(Prompt.NOT_VERIFIED),
                reason="not-verified",
            )
        return go(turn, ask_mrn, turn.say(Prompt.NOT_MATCHED), turn.say(Prompt.TRY_AGAIN))
    # The name is read back in a bank-debit authorization, which must name the account holder.
    state.member_id = member.member_id
    state.region = member.region_key
    state.national = False
    state.member_name = f"{member.first_name} {member.last_name}".strip()
    if (
        member.language in ("en", "es")
        and member.language != state.language
        and not state.language_chosen
    ):
        # The billing record's language wins once we know who is calling.
        state.language = member.language
        turn.voice = turn.voice_for(member.language)
    log.info("call %s: member identified", state.call_sid)
    said = [turn.say(Prompt.IDENTIFIED, name=member.first_name)]
    automatic = autopay.next_payment(turn)
    if automatic is not None:
        # An enrolled member hears what will be taken and when, not a demand to pay.
        said.append(automatic)
    status = snapshot.plan_status(turn)
    if status is not None:
        said.append(plans.plan_sentence(turn, status))
    return go(turn, snapshot.offer, *said)


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
