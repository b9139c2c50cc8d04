"""The dialogue kernel: how a step answers a webhook, asks, understands and moves on.

A step is a function `step(turn, **values) -> VoiceResponse`: it builds the answer to
one webhook from the call's state and its voice, both carried by the turn. It reaches
the next step by calling it (`go(turn, next_step, *says)`), so a key press costs one
webhook, not two; what it says first is put before what the next step answers.

Every prompt takes keys or speech. A caller who says nothing is asked again; after
two silences in a row they are offered relay mode (long timeouts, for TTY callers
whose relay operator types every prompt and answer); before the call ends for
silence they are warned that time is running out and told how to get more time.

Flows never import the flows above them (the menu imports the payment flow, which
must come back to the menu): they leave through an `Exit`, which the flow that owns
the step binds. The kernel's own exits are below; a flow may declare more.
"""

from __future__ import annotations

import inspect
import logging
import re
import secrets
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import wraps
from typing import Any

from flask import Blueprint, Response, g, request, url_for
from twilio.twiml.voice_response import Gather, Hangup, Redirect, Say, VoiceResponse

from billing_core.core import BillingCore
from billing_core.domain.regions import Region
from ivr.call_state import CallState, Resume, Waiting
from ivr.commands import (
    MAIN_MENU_KEY,
    RELAY_KEY,
    REPEAT_KEY,
    SPECIALIST_KEY,
    SPEECH_HINTS,
    understood,
)
from ivr.i18n import Language
from ivr.intents import intents_for
from ivr.prompts import Prompt
from ivr.speech import Voice
from ivr.twiml import twiml

# How many steps one webhook may run in a row before handing over with a <Redirect>.
MOST_STEPS_PER_ANSWER = 6
# The query parameter that binds an answer to the prompt it answers.
TOKEN = "t"
# What a keypad sends (Twilio's Digits); anything else is not an answer.
_KEYS = re.compile(r"[0-9*#]*")
# Longer speech is no answer to any prompt here, and is not worth turning into digits.
MOST_SPEECH_CHARACTERS = 200
MOST_KEYS = 64

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Services:
    """What the app builds once at start-up and every turn uses."""

    billing: BillingCore
    settings: Mapping[str, Any]
    languages: Mapping[str, Language]
    translations: Mapping[str, Any]
    call_store: Any


@dataclass(eq=False)
class Turn:
    """One webhook of a call: its state, what the caller sent, and the voice that answers."""

    call: CallState
    form: Mapping[str, str]
    services: Services
    voice: Voice = field(init=False)
    # Every voice that spoke in this answer, and the steps it ran: reported with the answer.
    voices: list[Voice] = field(default_factory=list)
    steps: list[str] = field(default_factory=list)
    # The endpoint of the step running now: the one a prompt it asks belongs to.
    current: str | None = None
    # The prompt whose answer this webhook took.
    taken: Waiting | None = None
    # The spoken requests heard, as language:request: reported with the answer.
    requests: list[str] = field(default_factory=list)
    # What the billing core answered to reads two steps of this answer both make.
    reads: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.voice = self.voice_for(self.call.language)

    @property
    def billing(self) -> BillingCore:
        return self.services.billing

    @property
    def settings(self) -> Mapping[str, Any]:
        return self.services.settings

    @property
    def region(self) -> Region:
        return self.billing.regions.get(self.call.region)

    @property
    def relay(self) -> bool:
        return self.call.relay

    @property
    def today(self) -> date:
        """Today on the line's clock."""
        return self.region.local_time(self.billing.clock.now()).date()

    def voice_for(self, language: str) -> Voice:
        """Return a voice for the language; what it speaks is reported with the answer."""
        languages = self.services.languages
        code = language if language in languages else "en"
        speaker = Voice(languages[code], self.services.translations[code])
        self.voices.append(speaker)
        return speaker

    def once(self, name: str, read: Callable[[], Any]) -> Any:
        """Return read()'s answer, asked of the billing core once in this answer.

        Only for reads made before anything in the answer changes what they read (the
        greeting of an identified member, then the payment offered first).
        """
        if name not in self.reads:
            self.reads[name] = read()
        return self.reads[name]

    def say(self, prompt: Prompt, **values: Any) -> Say:
        return self.voice.say(prompt, **values)


Step = Callable[..., VoiceResponse]


class Exit:
    """A step that flows further down the call return to, bound by the flow that owns it."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._step: Step | None = None

    def bind(self, target: Step) -> Step:
        self._step = target
        return target

    @property
    def bound(self) -> bool:
        return self._step is not None

    @property
    def step(self) -> Step:
        if self._step is None:
            raise LookupError(f"no step is bound to the {self.name} exit")
        return self._step

    def __call__(self, turn: Turn, **values: str) -> VoiceResponse:
        return self.step(turn, **values)


# Where the kernel itself sends callers: bound by the flows that own these steps.
CALL_START = Exit("call start")
IDENTIFICATION = Exit("identification")
MAIN_MENU = Exit("main menu")
SPECIALIST = Exit("billing specialist")
RELAY_OFFER = Exit("relay offer")
STILL_THERE = Exit("still there")
WAITING_PROMPT = Exit("the prompt the call waits on")
# What takes a request said in the caller's own words at a menu (None: it was none).
SPOKEN_REQUEST = Exit("a spoken request")
EXITS = (
    CALL_START,
    IDENTIFICATION,
    MAIN_MENU,
    SPECIALIST,
    RELAY_OFFER,
    STILL_THERE,
    WAITING_PROMPT,
    SPOKEN_REQUEST,
)

_ENDPOINTS: dict[Step, str] = {}
_STEPS: dict[str, Step] = {}
# Steps that read the caller's answer to a prompt: each answer carries its prompt's token.
ANSWER_ENDPOINTS: set[str] = set()
# When the previous release, which had no tokens, sent an answer a step now takes.
_LEGACY_ANSWERS: dict[str, Callable[[CallState], bool]] = {}
# Endpoints that may meet a call the app has no state for: the start and the end.
NEW_CALL_ENDPOINTS: set[str] = set()


def endpoint_of(target: Step | Exit) -> str:
    return _ENDPOINTS[target.step if isinstance(target, Exit) else target]


def all_steps() -> dict[str, Step]:
    """Every step by endpoint (the staff console's flow map draws them)."""
    return dict(_STEPS)


def step_named(endpoint: str) -> Step | None:
    """Return the step a stored endpoint name stands for (call state keeps names, not code)."""
    return _STEPS.get(endpoint)


def step(
    bp: Blueprint,
    rule: str,
    *,
    member: bool = False,
    new_call: bool = False,
    answer: bool = False,
    legacy: Callable[[CallState], bool] | None = None,
) -> Callable[[Step], Step]:
    """Make a function a step answering POST rule.

    member: the caller must be identified. new_call: the step may meet a call the app
    has no state for (the start and the end). answer: the step reads the caller's answer
    to a prompt, and runs only for the prompt the call is waiting on. legacy: for an
    answer the previous release sent without asking a <Gather> (a <Pay> or <Dial>
    result), when a call begun by it may still send one.
    """

    def register(function: Step) -> Step:
        runs = _member_required(function) if member else function
        endpoint = f"{bp.name}.{function.__name__}"
        _ENDPOINTS[runs] = endpoint
        _STEPS[endpoint] = runs
        if new_call:
            NEW_CALL_ENDPOINTS.add(endpoint)
        if answer:
            ANSWER_ENDPOINTS.add(endpoint)
        if legacy is not None:
            _LEGACY_ANSWERS[endpoint] = legacy
        # Values a step takes arrive as arguments from go(), or in a redirect's query string.
        names = tuple(inspect.signature(function).parameters)[1:]

        def view() -> Response:
            turn: Turn = g.turn
            if answer and not takes_answer(turn, endpoint):
                return reply(turn, stale_answer(turn))
            waits = WAITING_PROMPT.bound and runs is WAITING_PROMPT.step
            if not answer and not new_call and not waits and turn.call.answer_in_flight:
                # Another webhook is still handling this call's answer: wait for it.
                return reply(turn, go(turn, WAITING_PROMPT))
            turn.current = endpoint
            if answer and (requested := spoken_request(turn)) is not None:
                return reply(turn, requested)
            values = {name: request.args[name] for name in names if name in request.args}
            return reply(turn, runs(turn, **values))

        view.__doc__ = function.__doc__
        bp.add_url_rule(rule, function.__name__, view, methods=["POST"])
        return runs

    return register


def _member_required(function: Step) -> Step:
    @wraps(function)
    def guarded(turn: Turn, **values: str) -> VoiceResponse:
        if turn.call.member_id is None:
            return go(turn, IDENTIFICATION)
        return function(turn, **values)

    return guarded


def reply(turn: Turn, response: VoiceResponse) -> Response:
    """Send the response as TwiML, naming the steps run and the prompts spoken."""
    spoken = [name for speaker in turn.voices for name in speaker.spoken]
    return twiml(response, steps=turn.steps, prompts=spoken, requests=turn.requests)


def spoken_request(turn: Turn) -> VoiceResponse | None:
    """Go where a request said at a menu leads, once identified; None if none was made.

    Every one-key prompt is a menu; its answer step never sees a request, which it would
    only call "not one of the choices".
    """
    taken = turn.taken
    if taken is None or not taken.menu or turn.call.member_id is None:
        return None
    return SPOKEN_REQUEST.step(turn) if SPOKEN_REQUEST.bound else None


def bind_prompt(turn: Turn, answer_step: Step, *, menu: bool = False) -> str:
    """Make the call wait on the prompt being built; return the URL its answer goes to.

    The call then waits on this prompt alone: an answer to an earlier one (a replay, a
    double press, captured traffic) is never taken as a choice. Asking the same prompt
    again without taking an answer (a replayed redirect, say) keeps its token, so the
    caller's answer to it still counts.
    """
    endpoint = endpoint_of(answer_step)
    if endpoint not in ANSWER_ENDPOINTS:
        raise LookupError(f"{endpoint} does not take answers: declare it with answer=True")
    asked_by = turn.current
    if asked_by is None or asked_by in ANSWER_ENDPOINTS:
        # Asked while taking an answer (a <Pay> right after a choice): to ask it again is
        # to go back to the prompt that choice answered.
        asked_by = turn.taken.step if turn.taken is not None else endpoint_of(CALL_START)
    same = turn.call.waiting
    if (
        turn.taken is None
        and same is not None
        and (same.step, same.answer) == (asked_by, endpoint)
        and turn.call.stored_token == same.token  # still open to its answer
    ):
        token = same.token
    else:
        token = new_token()
    turn.call.asking = endpoint
    turn.call.waiting = Waiting(token=token, step=asked_by, answer=endpoint, menu=menu)
    return url_for(endpoint, **{TOKEN: token})


# Consonants only: a token never reads as digits or a word in a log line or a recording.
_TOKEN_LETTERS = "bcdfghjkmnpqrstvwxz"


def new_token() -> str:
    """A prompt's token: 16 letters, about 68 bits."""
    return "".join(secrets.choice(_TOKEN_LETTERS) for _ in range(16))


def takes_answer(turn: Turn, endpoint: str) -> bool:
    """Whether this webhook is the one answer to the prompt the call waits on."""
    state = turn.call
    token = request.args.get(TOKEN)
    waiting = state.waiting
    if waiting is None and token is None and state.stored_token is None:
        # A call begun by the release before prompt tokens: its answers carry none. Taken
        # once: asking is cleared, as it is whenever an answer is taken.
        legacy = _LEGACY_ANSWERS.get(endpoint)
        if state.asking == endpoint or (legacy is not None and legacy(state)):
            state.asking = None
            return True
    store = turn.services.call_store
    if waiting is None or token != waiting.token or endpoint != waiting.answer:
        if state.claimed_token is not None:
            store.unclaim(state.call_sid, state.claimed_token)  # the prompt still waits
        log.warning("call %s: an answer to a prompt it is not waiting on", state.call_sid)
        return False
    if state.claimed_token != token and not store.claim(state.call_sid, token):
        log.warning("call %s: the answer to this prompt was already taken", state.call_sid)
        return False
    turn.taken, state.waiting = waiting, None  # taken: the same answer again is refused
    state.took_answer()
    state.asking = None
    return True


def stale_answer(turn: Turn) -> VoiceResponse:
    """Say the answer was not taken and go back to the prompt the call waits on.

    Nothing changes: the call's state is kept as it was, and no money moves.
    """
    response = VoiceResponse()
    response.append(turn.say(Prompt.ANSWER_NOT_TAKEN))
    response.append(Redirect(url_for(endpoint_of(WAITING_PROMPT)), method="POST"))
    return response


def prompt_waited_on(turn: Turn) -> Step:
    """The step that asks the prompt the call waits on (the call's start if none)."""
    waiting = turn.call.waiting
    target = step_named(waiting.step) if waiting is not None else None
    if target is None or endpoint_of(target) in ANSWER_ENDPOINTS:
        return CALL_START.step
    return target


def answer_timeout(turn: Turn) -> int:
    """Seconds to wait for an answer: long in relay mode, where an operator types for the caller."""
    settings = turn.settings
    return settings["IVR_RELAY_TIMEOUT"] if turn.relay else settings["IVR_GATHER_TIMEOUT"]


def ask(
    turn: Turn,
    prompts: Iterable[Say],
    answer_step: Step,
    *,
    num_digits: int | None = None,
    finish_on_key: str = "#",
    lead: Iterable[Say] = (),
) -> VoiceResponse:
    """Speak the prompts inside a <Gather> whose answer goes to answer_step.

    When the caller says nothing, the <Redirect> after the <Gather> reaches the same
    step with no Digits, so one step deals with answers and silence alike. A prompt of
    one key is a menu: once the caller is identified it takes requests in their own words
    too, and tells Twilio's recognition the phrases to listen for.
    """
    menu = num_digits == 1 and turn.call.member_id is not None
    hints = intents_for(turn.call.language).hints if menu else SPEECH_HINTS
    action = bind_prompt(turn, answer_step, menu=menu)
    response = VoiceResponse()
    gather = Gather(
        input="dtmf speech",
        action=action,
        method="POST",
        timeout=answer_timeout(turn),
        speech_timeout="auto",
        # Named, not left to Twilio's choice: hints and class tokens suit this model.
        speech_model=turn.settings["IVR_SPEECH_MODEL"],
        language=turn.voice.language.twilio_language,
        hints=hints,
        finish_on_key=finish_on_key,
        num_digits=num_digits,
    )
    # The lead too is inside: a caller who knows what to press never waits for a sentence.
    for say in (*lead, *prompts):
        gather.append(say)
    response.append(gather)
    response.append(Redirect(action, method="POST"))
    return response


def words_said(turn: Turn) -> str:
    """Return what the caller said (not keyed) at this prompt, cut to a sane length; "" if none."""
    if "Digits" in turn.form:
        return ""
    return turn.form.get("SpeechResult", "").strip()[:MOST_SPEECH_CHARACTERS]


def answered(turn: Turn, *, relay_key: bool = True) -> str | None:
    """Return the keys the caller entered or said, or None when they gave no answer.

    Speech that is not digits or a known command comes back as "?" so that the step
    treats it as a wrong answer rather than as silence. Where 7 is a digit of a number,
    relay_key=False keeps it from turning relay mode on.
    """
    form = turn.form
    if "Digits" in form:
        keys = form.get("Digits", "").strip()
        if len(keys) > MOST_KEYS or not _KEYS.fullmatch(keys):
            keys = "?"  # not keys a phone sends: a wrong answer, never an error
    elif said := words_said(turn):
        keys = understood(said)[:MOST_KEYS]
    else:
        return None
    if keys:
        turn.call.silences = 0
    if keys == RELAY_KEY and relay_key and not turn.relay:
        # Asked for anywhere except as a number: relay mode takes effect at once.
        turn.call.relay = True
    return keys


def go(turn: Turn, next_step: Step | Exit, *says: Say, **values: str) -> VoiceResponse:
    """Speak, then continue at another step, in this same answer.

    The next step's prompt is answered right here instead of through a <Redirect>, so a
    key press costs one webhook, not two. Only steps that ask something (and read no
    caller input) are ever gone to; the says come first in the answer they build.
    """
    endpoint = endpoint_of(next_step)
    if len(turn.steps) < MOST_STEPS_PER_ANSWER:
        turn.steps.append(url_for(endpoint))
        turn.current = endpoint
        if turn.voice.language.code != turn.call.language:
            # The step before changed the call's language: the next one speaks it.
            turn.voice = turn.voice_for(turn.call.language)
        reply = next_step(turn, **values)
        speak_first(reply, says)
        return reply
    response = VoiceResponse()
    for say in says:
        response.append(say)
    response.append(Redirect(url_for(endpoint, **values), method="POST"))
    return response


def speak_first(reply: VoiceResponse, says: Iterable[Say]) -> None:
    """Put the sentences at the front of the answer: inside its <Gather> when it asks
    something, so the caller may press during them (barge-in), else before its verbs."""
    says = list(says)
    first = reply.verbs[0] if reply.verbs else None
    if isinstance(first, Gather):
        first.verbs[:0] = says
    else:
        reply.verbs[:0] = says


def goodbye(turn: Turn, *says: Say) -> VoiceResponse:
    """Speak, say goodbye and hang up: the call is over."""
    response = VoiceResponse()
    for say in says:
        response.append(say)
    response.append(turn.say(Prompt.GOODBYE))
    response.append(Hangup())
    return response


def retry(
    turn: Turn, where: str, ask_step: Step, reason: Prompt | Say, **values: str
) -> VoiceResponse:
    """Explain what was wrong and ask again; after too many tries offer a specialist."""
    said = turn.say(reason) if isinstance(reason, Prompt) else reason
    tries = turn.call.count_failure(where)
    if tries >= turn.settings["IVR_MAX_TRIES"]:
        turn.call.clear_failures(where)
        return go(turn, SPECIALIST, said, turn.say(Prompt.HAVING_TROUBLE), reason="trouble")
    return go(turn, ask_step, said, **values)


def no_answer(turn: Turn, where: str, ask_step: Step, **values: str) -> VoiceResponse:
    """Handle silence at a prompt: ask again, offer relay mode, warn before time runs out.

    Silence alone never ends a call without the caller first being asked again,
    offered relay mode, warned, and offered a specialist.
    """
    state = turn.call
    state.silences += 1
    state.resume = Resume(endpoint=endpoint_of(ask_step), values=values)
    if state.silences == 2 and not turn.relay:
        return go(turn, RELAY_OFFER)
    if state.silences >= turn.settings["IVR_MAX_SILENCES"]:
        return go(turn, STILL_THERE)
    says = [turn.say(Prompt.NO_INPUT)]
    if turn.relay:
        says.append(turn.say(Prompt.TAKE_YOUR_TIME))
    return go(turn, ask_step, *says, **values)


def resume(turn: Turn, *says: Say) -> VoiceResponse:
    """Go back to the prompt the caller was at before a detour."""
    where = turn.call.resume
    target = step_named(where.endpoint) if where is not None else None
    if where is None or target is None:
        return go(turn, CALL_START, *says)
    return go(turn, target, *says, **where.values)


def global_key(turn: Turn, digits: str, repeat_step: Step) -> VoiceResponse | None:
    """Answer the keys that work at every menu, or return None for any other key."""
    if digits == REPEAT_KEY:
        return go(turn, repeat_step)
    if digits == SPECIALIST_KEY:
        return go(turn, SPECIALIST)
    if digits == MAIN_MENU_KEY and turn.call.member_id is not None:
        return go(turn, MAIN_MENU)
    if digits == RELAY_KEY and turn.relay:
        return go(turn, repeat_step, turn.say(Prompt.RELAY_ON))
    return None


def offer(turn: Turn, options: Iterable[Prompt], answer_step: Step) -> VoiceResponse:
    """Offer a menu: each option spoken inside one <Gather> of one key."""
    prompts = [turn.say(option) for option in options]
    return ask(turn, prompts, answer_step, num_digits=1)


def choice(
    turn: Turn, choices: Mapping[str, Step | Exit], where: str, asked: Step
) -> VoiceResponse:
    """Go where the key pressed at a menu leads: its choice, a key that works everywhere,
    or the menu again (after silence, or "that is not one of the choices"). A request said
    instead never gets here: the kernel's view takes it first (spoken_request)."""
    digits = answered(turn)
    if not digits:
        return no_answer(turn, where, asked)
    if digits in choices:
        done(turn, where)
        return go(turn, choices[digits])
    handled = global_key(turn, digits, asked)
    if handled is not None:
        done(turn, where)
        return handled
    return retry(turn, where, asked, Prompt.NOT_A_CHOICE)


def agreed(turn: Turn, where: str, asked: Step, *, declined: Step) -> VoiceResponse | None:
    """Take the answer to "press 1 to accept, 2 to go back": None when the caller pressed 1.

    Otherwise the answer for it: 2 goes to `declined`, silence and other keys as at any
    prompt (asked again, the keys that work everywhere, or "not one of the choices").
    """
    digits = answered(turn)
    if not digits:
        return no_answer(turn, where, asked)
    if digits == "2":
        done(turn, where)
        return go(turn, declined)
    if digits != "1":
        return global_key(turn, digits, asked) or retry(turn, where, asked, Prompt.NOT_A_CHOICE)
    done(turn, where)
    return None


def done(turn: Turn, where: str) -> None:
    """The caller got past a step: their earlier tries there no longer count."""
    turn.call.clear_failures(where)
