"""Building blocks every flow uses: asking, retrying, the global keys, moving on."""

from __future__ import annotations

from collections.abc import Iterable

from flask import current_app, request, url_for
from twilio.twiml.voice_response import Gather, Hangup, Redirect, Say, VoiceResponse

from ivr.calls import call, voice
from ivr.prompts import Prompt
from ivr.twiml import twiml

# Keys that work at every menu once the caller is identified.
REPEAT_KEY = "*"
SPECIALIST_KEY = "0"
MAIN_MENU_KEY = "9"


def ask(
    prompts: Iterable[Say],
    answer_endpoint: str,
    *,
    num_digits: int | None = None,
    finish_on_key: str = "#",
    lead: Iterable[Say] = (),
    **url_values: str,
):
    """Speak the prompts inside a <Gather> whose answer goes to answer_endpoint.

    When the caller says nothing, the <Redirect> after the <Gather> reaches the same
    endpoint with no Digits, so one handler deals with answers and silence alike.
    """
    action = url_for(answer_endpoint, **url_values)
    response = VoiceResponse()
    for say in lead:
        response.append(say)
    gather = Gather(
        input="dtmf",
        action=action,
        method="POST",
        timeout=current_app.config["IVR_GATHER_TIMEOUT"],
        finish_on_key=finish_on_key,
        num_digits=num_digits,
    )
    for say in prompts:
        gather.append(say)
    response.append(gather)
    response.append(Redirect(action, method="POST"))
    return twiml(response)


def answered() -> str | None:
    """Return the keys the caller entered, or None when they entered nothing."""
    if "Digits" not in request.form:
        return None
    digits = request.form.get("Digits", "").strip()
    call().pop("silences", None)
    return digits[:64]


def go(endpoint: str, *says: Say, **url_values: str):
    """Speak, then continue at another step."""
    response = VoiceResponse()
    for say in says:
        response.append(say)
    response.append(Redirect(url_for(endpoint, **url_values), method="POST"))
    return twiml(response)


def goodbye(*says: Say):
    """Speak, say goodbye and hang up: the call is over."""
    response = VoiceResponse()
    for say in says:
        response.append(say)
    response.append(voice().say(Prompt.GOODBYE))
    response.append(Hangup())
    return twiml(response)


def retry(step: str, ask_endpoint: str, reason: Prompt, **url_values: str):
    """Explain what was wrong and ask again; after too many tries offer a specialist."""
    tries = call().count_failure(step)
    if tries >= current_app.config["IVR_MAX_TRIES"]:
        call().clear_failures(step)
        return go(
            "agent.transfer",
            voice().say(reason),
            voice().say(Prompt.HAVING_TROUBLE),
            reason="trouble",
        )
    return go(ask_endpoint, voice().say(reason), **url_values)


def no_answer(step: str, ask_endpoint: str, **url_values: str):
    """Handle silence at a prompt: ask again, and end the call only after long silence."""
    state = call()
    state["silences"] = state.get("silences", 0) + 1
    if state["silences"] >= current_app.config["IVR_MAX_SILENCES"]:
        return goodbye(voice().say(Prompt.STILL_THERE))
    return retry(step, ask_endpoint, Prompt.NO_INPUT, **url_values)


def global_key(digits: str, repeat_endpoint: str):
    """Answer the keys that work at every menu, or return None for any other key."""
    if digits == REPEAT_KEY:
        return go(repeat_endpoint)
    if digits == SPECIALIST_KEY:
        return go("agent.transfer")
    if digits == MAIN_MENU_KEY and call().member_id is not None:
        return go("menu.main")
    return None


def done(step: str) -> None:
    """The caller got past a step: their earlier tries there no longer count."""
    call().clear_failures(step)
