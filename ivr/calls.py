"""The call behind each webhook: signature check, state load and save, voice, and failures."""

from __future__ import annotations

import logging

from flask import Flask, current_app, g, request, url_for
from twilio.twiml.voice_response import Dial, Hangup, Redirect, VoiceResponse
from werkzeug.exceptions import HTTPException

from billing_core.core import BillingCore
from billing_core.domain.regions import Region
from ivr.call_state import CallState, CallStore
from ivr.prompts import Prompt
from ivr.security import require_twilio_signature
from ivr.speech import Voice
from ivr.twiml import twiml

log = logging.getLogger(__name__)

# Webhooks that may meet a call the app has no state for: the start and the end.
CALL_STARTS = frozenset({"entry.incoming", "status.call_status"})


def billing() -> BillingCore:
    return current_app.extensions["billing"]


def call() -> CallState:
    return g.call


def voice() -> Voice:
    return g.voice


def region() -> Region:
    return billing().regions.get(call().get("region"))


def voice_for(language: str) -> Voice:
    """Return a voice for the language; what it speaks is reported with the response."""
    languages = current_app.extensions["languages"]
    code = language if language in languages else "en"
    speaker = Voice(languages[code], current_app.extensions["translations"][code])
    if g:
        g.setdefault("voices", []).append(speaker)
    return speaker


def install(app: Flask) -> None:
    """Wire the per-webhook steps into the app."""
    app.before_request(_before_webhook)
    app.after_request(_after_webhook)
    app.register_error_handler(Exception, _on_failure)


def _before_webhook():
    g.voices = []
    require_twilio_signature()
    store: CallStore = current_app.extensions["call_store"]
    call_sid = request.form.get("CallSid", "")[:64]
    g.call = store.load(call_sid, billing().clock.now())
    g.voice = voice_for(g.call.get("language", "en"))
    if g.call.is_new and request.endpoint not in CALL_STARTS:
        # Twilio moved on without us (the state expired or was never made): start over
        # rather than guess where the caller was.
        log.info("call %s: no state at %s, restarting", call_sid, request.path)
        return restart()
    return None


def _after_webhook(response):
    state: CallState | None = g.get("call")
    if (
        state is not None
        and state.call_sid
        and response.status_code == 200
        and not state.ended
        and state.changed
    ):
        try:
            current_app.extensions["call_store"].save(state, billing().clock.now())
        except Exception:  # noqa: BLE001 - the caller must still hear this answer
            # The answer (maybe a confirmation number) is already built: let the caller
            # hear it. The next webhook finds the earlier state, and every step that moves
            # money is idempotent, so repeating one takes nothing twice.
            log.exception("call %s: could not save the call's state", state.call_sid)
    return response


def restart():
    response = VoiceResponse()
    response.append(voice().say(Prompt.CALL_RESTARTED))
    response.append(Redirect(url_for("entry.incoming")))
    return twiml(response)


def _on_failure(error: Exception):
    if isinstance(error, HTTPException):
        return error
    # The caller hears an apology and a way to a person; the log gets what failed, never
    # what the caller entered (the form is not logged, and the engine hides SQL parameters).
    log.exception(
        "call %s: %s failed at %s",
        request.form.get("CallSid", "-")[:64],
        type(error).__name__,
        request.path,
    )
    state = g.get("call")
    g.call = None  # nothing of a failed step is saved
    # Apologise in the call's language, with its region's specialists, when they are known.
    speaker = voice_for(state.get("language", "en") if state else "en")
    g.voice = speaker
    national = current_app.extensions["billing"].regions.get(state.get("region") if state else None)
    response = VoiceResponse()
    response.append(speaker.say(Prompt.SYSTEM_TROUBLE))
    try:
        is_open = national.billing_is_open(billing().clock.now())
    except Exception:  # noqa: BLE001 - a broken clock must not stop the apology
        is_open = False
    if is_open:
        response.append(speaker.say(Prompt.TRANSFERRING))
        # No action URL: while this app is failing, the call must not come back to it.
        # When the specialist call ends, the goodbye below is all that is left to say.
        response.append(Dial(national.billing.number))
        response.append(speaker.say(Prompt.GOODBYE))
        response.append(Hangup())
    else:
        from ivr.flows.agent import hours_and_number

        for say in hours_and_number(speaker, national):
            response.append(say)
        response.append(speaker.say(Prompt.GOODBYE))
        response.append(Hangup())
    return twiml(response)
