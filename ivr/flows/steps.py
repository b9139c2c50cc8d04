"""Building blocks every flow uses: asking, understanding answers, retrying, moving on.

Every prompt takes keys or speech. A caller who says nothing is asked again; after
two silences in a row they are offered relay mode (long timeouts, for TTY callers
whose relay operator types every prompt and answer); before the call ends for
silence they are warned that time is running out and told how to get more time.
"""

from __future__ import annotations

from collections.abc import Iterable

from flask import current_app, g, request, url_for
from twilio.twiml.voice_response import Gather, Hangup, Redirect, Say, VoiceResponse

from ivr.calls import call, voice, voice_for
from ivr.prompts import Prompt
from ivr.spoken_digits import spoken_to_keys
from ivr.twiml import twiml

# Keys that work at every menu once the caller is identified.
REPEAT_KEY = "*"
SPECIALIST_KEY = "0"
MAIN_MENU_KEY = "9"
RELAY_KEY = "7"
SPANISH_KEY = "8"

# Spoken words that mean a key, in either language.
SPOKEN_COMMANDS = {
    "repeat": REPEAT_KEY,
    "again": REPEAT_KEY,
    "repetir": REPEAT_KEY,
    "otra vez": REPEAT_KEY,
    "agent": SPECIALIST_KEY,
    "representative": SPECIALIST_KEY,
    "operator": SPECIALIST_KEY,
    "specialist": SPECIALIST_KEY,
    "agente": SPECIALIST_KEY,
    "representante": SPECIALIST_KEY,
    "operador": SPECIALIST_KEY,
    "main menu": MAIN_MENU_KEY,
    "menu": MAIN_MENU_KEY,
    "menú principal": MAIN_MENU_KEY,
    "menu principal": MAIN_MENU_KEY,
    "menú": MAIN_MENU_KEY,
    "relay": RELAY_KEY,
    "tty": RELAY_KEY,
    "relevo": RELAY_KEY,
    "retransmisión": RELAY_KEY,
    "español": SPANISH_KEY,
    "espanol": SPANISH_KEY,
    "spanish": SPANISH_KEY,
    "yes": "1",
    "continue": "1",
    "sí": "1",
    "si": "1",
    "continuar": "1",
}
# Recognition works better when told what callers say here.
SPEECH_HINTS = (
    "$OOV_CLASS_DIGIT_SEQUENCE, repeat, agent, relay, main menu, continue, "
    "repetir, agente, relevo, menú principal, continuar, español"
)


def relay_mode() -> bool:
    return bool(call().get("relay"))


def answer_timeout() -> int:
    """Seconds to wait for an answer: long in relay mode, where an operator types for the caller."""
    config = current_app.config
    return config["IVR_RELAY_TIMEOUT"] if relay_mode() else config["IVR_GATHER_TIMEOUT"]


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
    if call().get("asking") != answer_endpoint:
        call()["asking"] = answer_endpoint
    response = VoiceResponse()
    for say in lead:
        response.append(say)
    gather = Gather(
        input="dtmf speech",
        action=action,
        method="POST",
        timeout=answer_timeout(),
        speech_timeout="auto",
        language=voice().language.twilio_language,
        hints=SPEECH_HINTS,
        finish_on_key=finish_on_key,
        num_digits=num_digits,
    )
    for say in prompts:
        gather.append(say)
    response.append(gather)
    response.append(Redirect(action, method="POST"))
    return twiml(response)


def answered() -> str | None:
    """Return the keys the caller entered or said, or None when they gave no answer.

    Speech that is not digits or a known command comes back as "?" so that the step
    treats it as a wrong answer rather than as silence.
    """
    form = request.form
    if "Digits" in form:
        keys = form.get("Digits", "").strip()[:64]
    elif form.get("SpeechResult", "").strip():
        keys = understood(form.get("SpeechResult", ""))
    else:
        return None
    if keys:
        call().pop("silences", None)
    if keys == RELAY_KEY and not relay_mode() and call().get("asking") != "pay.other_amount_answer":
        # Asked for anywhere except as a number: relay mode takes effect at once.
        call()["relay"] = True
    return keys


def understood(speech: str) -> str:
    """Return the keys a spoken answer stands for."""
    text = speech.strip().lower().strip(".!?¡¿ ")
    if text in SPOKEN_COMMANDS:
        return SPOKEN_COMMANDS[text]
    keys = spoken_to_keys(text)
    return keys if keys is not None else "?"


# How many steps one webhook may run in a row before handing over with a <Redirect>.
MOST_STEPS_PER_ANSWER = 6


def go(endpoint: str, *says: Say, **url_values: str):
    """Speak, then continue at another step, in this same answer.

    The next step's prompt is answered right here instead of through a <Redirect>, so a
    key press costs one webhook, not two. Only steps that ask something (and read no
    caller input) are ever gone to; the says come first in the answer they build.
    """
    depth = g.get("steps_run", 0)
    view = current_app.view_functions.get(endpoint)
    if view is not None and depth < MOST_STEPS_PER_ANSWER:
        g.steps_run = depth + 1
        g.lead = [*g.get("lead", []), *says]
        g.step_values = url_values
        g.setdefault("steps", []).append(url_for(endpoint))
        language = call().get("language", "en")
        if voice().language.code != language:
            # The step before changed the call's language: the next one speaks it.
            g.voice = voice_for(language)
        return view()
    response = VoiceResponse()
    for say in says:
        response.append(say)
    response.append(Redirect(url_for(endpoint, **url_values), method="POST"))
    return twiml(response)


def step_value(name: str, default: str = "") -> str:
    """Return a value given to this step by go(), or by the query string of a redirect."""
    return g.get("step_values", {}).get(name) or request.args.get(name, default)


def goodbye(*says: Say):
    """Speak, say goodbye and hang up: the call is over."""
    response = VoiceResponse()
    for say in says:
        response.append(say)
    response.append(voice().say(Prompt.GOODBYE))
    response.append(Hangup())
    return twiml(response)


def retry(step: str, ask_endpoint: str, reason: Prompt | Say, **url_values: str):
    """Explain what was wrong and ask again; after too many tries offer a specialist."""
    said = voice().say(reason) if isinstance(reason, Prompt) else reason
    tries = call().count_failure(step)
    if tries >= current_app.config["IVR_MAX_TRIES"]:
        call().clear_failures(step)
        return go("agent.transfer", said, voice().say(Prompt.HAVING_TROUBLE), reason="trouble")
    return go(ask_endpoint, said, **url_values)


def no_answer(step: str, ask_endpoint: str, **url_values: str):
    """Handle silence at a prompt: ask again, offer relay mode, warn before time runs out.

    Silence alone never ends a call without the caller first being asked again,
    offered relay mode, warned, and offered a specialist.
    """
    state = call()
    state["silences"] = state.get("silences", 0) + 1
    state["resume"] = {"endpoint": ask_endpoint, "values": url_values}
    if state["silences"] == 2 and not relay_mode():
        return go("assist.relay_offer")
    if state["silences"] >= current_app.config["IVR_MAX_SILENCES"]:
        return go("assist.still_there")
    says = [voice().say(Prompt.NO_INPUT)]
    if relay_mode():
        says.append(voice().say(Prompt.TAKE_YOUR_TIME))
    return go(ask_endpoint, *says, **url_values)


def resume(*says: Say):
    """Go back to the prompt the caller was at before a detour."""
    where = call().get("resume") or {"endpoint": "entry.incoming", "values": {}}
    return go(where["endpoint"], *says, **where.get("values", {}))


def global_key(digits: str, repeat_endpoint: str):
    """Answer the keys that work at every menu, or return None for any other key."""
    if digits == REPEAT_KEY:
        return go(repeat_endpoint)
    if digits == SPECIALIST_KEY:
        return go("agent.transfer")
    if digits == MAIN_MENU_KEY and call().member_id is not None:
        return go("menu.main")
    if digits == RELAY_KEY and relay_mode():
        return go(repeat_endpoint, voice().say(Prompt.RELAY_ON))
    return None


def done(step: str) -> None:
    """The caller got past a step: their earlier tries there no longer count."""
    call().clear_failures(step)
