"""The call behind each webhook: signature check, state load and save, and failures."""

from __future__ import annotations

import logging
import re

from flask import Flask, current_app, g, request, url_for
from twilio.twiml.voice_response import Redirect, VoiceResponse
from werkzeug.exceptions import HTTPException

from ivr.call_state import CallState
from ivr.flows.fallback import apology, place_by_dialed_number
from ivr.kernel import (
    ANSWER_ENDPOINTS,
    CALL_START,
    NEW_CALL_ENDPOINTS,
    TOKEN,
    Services,
    Turn,
    endpoint_of,
    reply,
)
from ivr.metrics import metrics
from ivr.prompts import Prompt
from ivr.security import require_twilio_signature

log = logging.getLogger(__name__)

# Twilio's CallSids are letters and digits; anything else is not filed, and never logged raw.
_CALL_SID = re.compile(r"[A-Za-z0-9]{1,64}")
STATUS_ENDPOINT = "status.call_status"
# Blueprints whose webhooks belong to no call (incoming texts): signature only, no call state.
NOT_CALLS: set[str] = set()
# Blueprints that are no webhook at all (pages a browser or mail program opens, health
# checks, metrics): no signature, no call state, and a failure is a plain error page.
NOT_WEBHOOKS: set[str] = set()


def install(app: Flask, services: Services) -> None:
    """Wire the per-webhook steps into the app."""
    app.extensions["ivr"] = services
    app.before_request(_before_webhook)
    app.after_request(_after_webhook)
    app.teardown_request(_release_connections)
    app.register_error_handler(Exception, _on_failure)


def _services() -> Services:
    return current_app.extensions["ivr"]


def _before_webhook():
    if request.blueprint in NOT_WEBHOOKS:
        return None
    require_twilio_signature()
    if request.blueprint in NOT_CALLS:
        return None
    services = _services()
    call_sid = call_sid_of(request.form)
    # An answer to a prompt is taken as the state is read: one statement, not two.
    claiming = request.args.get(TOKEN) if request.endpoint in ANSWER_ENDPOINTS else None
    services.call_store.hold()
    services.billing.share_reads()
    state = services.call_store.load(call_sid, services.billing.clock.now(), claiming=claiming)
    g.call = state
    g.turn = turn = Turn(state, request.form, services)
    if state.has_ended and request.endpoint != STATUS_ENDPOINT:
        # Twilio said this call is over: this is a replay, or a webhook too late to matter.
        log.warning("call %s: a webhook for a call that has ended, refused", call_sid)
        g.call = None
        response = VoiceResponse()
        response.hangup()
        return reply(turn, response)
    if state.is_new and request.endpoint not in NEW_CALL_ENDPOINTS:
        # Twilio moved on without us (the state expired or was never made): start over
        # rather than guess where the caller was.
        log.info("call %s: no state at %s, restarting", call_sid, request.path)
        response = VoiceResponse()
        response.append(turn.say(Prompt.CALL_RESTARTED))
        response.append(Redirect(url_for(endpoint_of(CALL_START))))
        return reply(turn, response)
    return None


def call_sid_of(form) -> str:
    """The webhook's CallSid, or "" for one that is not a CallSid (nothing is filed under it)."""
    call_sid = form.get("CallSid", "")
    return call_sid if _CALL_SID.fullmatch(call_sid) else ""


def shown_sid(form) -> str:
    """The CallSid as a log line may show it: control characters and the like escaped."""
    return call_sid_of(form) or ascii(form.get("CallSid", "-")[:64])


def _after_webhook(response):
    state: CallState | None = g.get("call")
    if (
        state is not None
        and state.call_sid
        and response.status_code == 200
        and not state.ended
        and (data := state.unsaved()) is not None
    ):
        services = _services()
        for attempt in (1, 2):
            try:
                services.call_store.save(state, services.billing.clock.now(), data=data)
                break
            except Exception:  # noqa: BLE001 - the caller must still hear this answer
                # The answer (maybe a confirmation number) is already built: let the caller
                # hear it. If the state is still not saved, the next answer finds the earlier
                # prompt: it is told its answer was not taken and hears where it was (every
                # step that moves money is idempotent, so repeating one takes nothing twice).
                log.exception(
                    "call %s: could not save the call's state (attempt %d)", state.call_sid, attempt
                )
    return response


def _release_connections(_error: BaseException | None) -> None:
    if request.blueprint not in NOT_WEBHOOKS:
        services = _services()
        services.billing.stop_sharing_reads()
        services.call_store.release()


def _on_failure(error: Exception):
    if isinstance(error, HTTPException):
        return error
    if request.blueprint in NOT_WEBHOOKS:
        log.exception("%s failed at %s", type(error).__name__, request.path)
        return "Something went wrong; please try again later.", 500
    metrics().webhook_failures.labels(request.endpoint or "unmatched").inc()
    # The caller hears an apology and a way to a person; the log gets what failed, never
    # what the caller entered (the form is not logged, and the engine hides SQL parameters).
    log.exception(
        "call %s: %s failed at %s", shown_sid(request.form), type(error).__name__, request.path
    )
    state = g.get("call")
    g.call = None  # nothing of a failed step is saved
    # Apologise in the call's language, with its region's specialists, when they are known.
    turn = Turn(state or CallState(), request.form, _services())
    place_by_dialed_number(turn)
    return reply(turn, apology(turn))
