"""Texts members send to the plan's numbers: STOP, START and HELP, answered with TwiML.

Twilio posts each incoming text to `POST /sms` (the number's "A message comes in" webhook).
The signature is checked as for the voice webhooks (ivr.calls), and no call state is read.
A keyword is the whole message (billing_core.domain.text_keywords); STOP and START change the
number's consent, which the outbox reads before every text it sends. Nothing else in a text
is acted on or kept: the log names the message by its MessageSid and the keyword recognised,
never the text or the sender's number.
"""

from __future__ import annotations

import logging
import re

import phonenumbers
from flask import Blueprint, Flask, Response, current_app, request
from twilio.twiml.messaging_response import MessagingResponse
from werkzeug.exceptions import HTTPException

from billing_core.core import BillingCore
from billing_core.domain.regions import Region, normalize_phone_number
from billing_core.domain.text_keywords import KeywordAction, keyword_of

log = logging.getLogger(__name__)

bp = Blueprint("messaging", __name__)

# Who sends the STOP and START confirmations (IVR_SMS_OPT_OUT_REPLIES).
#
# TWILIO: Twilio's opt-out handling is on for long codes and toll-free numbers by default (and
# is what Advanced Opt-Out words differently, per Messaging Service): Twilio blocks the number
# and sends the confirmation itself, then forwards the message here. A reply from the app
# would be a second confirmation, and one to a number that just opted out is refused anyway
# (Twilio error 21610). So the app records the change and answers with no message.
#
# APP: a number without Twilio's handling (a short code outside a Messaging Service, or
# Advanced Opt-Out set not to reply) gets the confirmations carriers require from the app.
REPLIES_BY_TWILIO = "twilio"
REPLIES_BY_APP = "app"
REPLY_MODES = (REPLIES_BY_TWILIO, REPLIES_BY_APP)

_MESSAGE_SID = re.compile(r"[A-Za-z0-9]{1,64}")


def check_settings(settings) -> None:
    """Stop the start-up on an IVR_SMS_OPT_OUT_REPLIES that is neither value."""
    mode = settings["IVR_SMS_OPT_OUT_REPLIES"]
    if mode not in REPLY_MODES:
        raise RuntimeError(
            f"IVR_SMS_OPT_OUT_REPLIES must be {' or '.join(REPLY_MODES)}, not {mode!r}"
        )


def install(app: Flask) -> None:
    """Check the settings and register the webhook."""
    check_settings(app.config)
    app.register_blueprint(bp)


@bp.post("/sms")
def incoming_message() -> Response:
    """Record a STOP or START, answer HELP, and tell any other text that it is not read."""
    core: BillingCore = current_app.extensions["billing"]
    sid = _shown_sid(request.form.get("MessageSid", ""))
    response = MessagingResponse()
    sender = normalize_phone_number(request.form.get("From", "")) if _has_sender() else None
    if sender is None:
        # Not a phone number (a short code, an empty From): nothing to record or answer.
        log.info("text %s: the sender is not a phone number; ignored", sid)
        return _twiml(response)
    region, _relay = core.regions.for_dialed_number(request.form.get("To"))
    keyword = keyword_of(request.form.get("Body"), request.form.get("OptOutType"))
    if keyword is None:
        if core.texts_stopped(sender):
            log.info("text %s: no keyword, from a number that opted out; no reply", sid)
        elif core.claim_text_auto_reply(sender):
            log.info("text %s: no keyword; told the number reads no texts", sid)
            response.message(not_read_text(core.regions.plan_name, region))
        else:
            log.info("text %s: no keyword; already told today", sid)
        return _twiml(response)
    log.info("text %s: keyword %s", sid, keyword.word)
    core.texted_keyword(sender, keyword)
    if keyword.action is KeywordAction.HELP:
        response.message(help_text(core.regions.plan_name, region))
    elif current_app.config["IVR_SMS_OPT_OUT_REPLIES"] == REPLIES_BY_APP:
        if keyword.action is KeywordAction.OPT_OUT:
            response.message(opted_out_text(core.regions.plan_name))
        else:
            response.message(opted_in_text(core.regions.plan_name))
    return _twiml(response)


@bp.errorhandler(Exception)
def _on_failure(error: Exception):
    if isinstance(error, HTTPException):
        return error
    # Twilio's own opt-out handling has blocked a STOP's number already; the log says what
    # failed, never what was texted (the form is not logged).
    log.exception(
        "text %s: %s failed at %s",
        _shown_sid(request.form.get("MessageSid", "")),
        type(error).__name__,
        request.path,
    )
    return _twiml(MessagingResponse())


def help_text(plan_name: str, region: Region) -> str:
    """The HELP reply: who texts, the billing number of the region texted, how to stop."""
    return (
        f"{_who(plan_name, region)}: for help with a bill or payment, call "
        f"{shown_number(region.billing.number)} (TTY {region.billing.tty}). "
        "Reply STOP to stop texts, START to get them again."
    )


def not_read_text(plan_name: str, region: Region) -> str:
    """The reply to a text that is no keyword: nobody reads it, and whom to call instead."""
    return (
        f"{_who(plan_name, region)}: texts to this number are not read. For help with a bill "
        f"or payment, call {shown_number(region.billing.number)} (TTY {region.billing.tty}). "
        "Reply STOP to stop texts."
    )


def opted_out_text(plan_name: str) -> str:
    """The STOP confirmation: one message, and how to start again."""
    return (
        f"{plan_name}: you will get no more texts from us at this number. "
        "Reply START to get them again."
    )


def opted_in_text(plan_name: str) -> str:
    """The START confirmation."""
    return (
        f"{plan_name}: texts are on again for this number (receipts and payment notices). "
        "Reply HELP for help, STOP to stop."
    )


def shown_number(number: str) -> str:
    """A phone number as written in a text: 1-800-218-1059 in North America, else +44 20 ..."""
    try:
        parsed = phonenumbers.parse(number, "US")
    except phonenumbers.NumberParseException:
        return number
    if parsed.country_code == 1:
        digits = str(parsed.national_number)
        if len(digits) == 10:
            return f"1-{digits[:3]}-{digits[3:6]}-{digits[6:]}"
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def _who(plan_name: str, region: Region) -> str:
    # The national line's name ("member billing") is no region a member would recognise.
    national = current_app.extensions["billing"].regions.national
    return plan_name if region is national else f"{plan_name} {region.name}"


def _has_sender() -> bool:
    # Only a From written as E.164 is a phone: "12345" (a short code) is not read as one.
    return request.form.get("From", "").startswith("+")


def _shown_sid(sid: str) -> str:
    return sid if _MESSAGE_SID.fullmatch(sid) else ascii(sid[:64])


def _twiml(response: MessagingResponse) -> Response:
    return Response(str(response), status=200, mimetype="text/xml")
