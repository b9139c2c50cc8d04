"""What the virtual Twilio does for each verb it runs."""

from __future__ import annotations

from ivr_sim.call import VERB_HANDLERS, Call
from ivr_sim.gather import GatherState
from ivr_sim.ids import new_sid
from ivr_sim.timing import KEY_SECONDS, PLAY_SECONDS
from ivr_sim.twiml import Dial, Gather, Hangup, Pause, Play, Redirect, Reject, Say

# Dialled calls that were answered report a duration; the others do not.
_ANSWERED = ("completed", "answered")


def handle_say(call: Call, verb: Say) -> None:
    """Speak the text, once per loop."""
    for _ in range(verb.loop):
        call.speak(verb.text, verb.break_seconds, verb.language)


def handle_play(call: Call, verb: Play) -> None:
    """Play audio or tones: the caller hears no words, only time passes."""
    each = len(verb.digits) * KEY_SECONDS if verb.digits and not verb.url else PLAY_SECONDS
    call.note(f"plays {verb.url or 'digits ' + (verb.digits or '')}")
    call.advance(each * verb.loop)


def handle_pause(call: Call, verb: Pause) -> None:
    """Stay silent for the pause's length."""
    call.advance(verb.length)


def handle_gather(call: Call, verb: Gather) -> None:
    """Play the nested prompts, then wait for the caller."""
    started = call.elapsed
    for child in verb.children:
        call.run_verb(child)
    call.wait_for(
        GatherState(
            action=call.resolve(verb.action) if verb.action else call.document_url,
            method=verb.method,
            timeout=verb.timeout,
            finish_on_key=verb.finish_on_key,
            num_digits=verb.num_digits,
            input=verb.input,
            speech_timeout=verb.speech_timeout,
            hints=verb.hints,
            language=verb.language,
            action_on_empty_result=verb.action_on_empty_result,
            barge_in=verb.barge_in,
            prompt_started=started,
            prompt_ended=call.elapsed,
        )
    )


def handle_redirect(call: Call, verb: Redirect) -> None:
    """Carry on with the document at the Redirect's URL."""
    call.fetch(verb.url, verb.method)


def handle_hangup(call: Call, verb: Hangup) -> None:
    """End the call."""
    call.end("hangup")


def handle_reject(call: Call, verb: Reject) -> None:
    """Refuse the call: Twilio reports it busy or unanswered, by the reason given."""
    if call.picked_up:
        # Only a first verb keeps the call from being answered; later it just hangs up.
        call.end("reject")
        return
    call.end("reject", status="busy" if verb.reason == "busy" else "no-answer")


def handle_dial(call: Call, verb: Dial) -> None:
    """Dial out; report to the action URL if there is one, else go on with the next verb."""
    call.dialed.extend(verb.numbers)
    outcome = call.dial_outcome
    answered = outcome in _ANSWERED
    call.note(f"dials {', '.join(verb.numbers)}: {outcome}")
    # An unanswered dial rings out its timeout; busy or failed lines give up at once.
    if answered:
        call.advance(call.dial_duration)
    elif outcome == "no-answer":
        call.advance(verb.timeout)
    if verb.action is None:
        return
    params = {"DialCallStatus": outcome, "DialCallSid": new_sid("CA")}
    if answered:
        params["DialCallDuration"] = str(int(call.dial_duration))
    call.fetch(verb.action, verb.method, params)


VERB_HANDLERS.update(
    {
        "Say": handle_say,
        "Play": handle_play,
        "Pause": handle_pause,
        "Gather": handle_gather,
        "Redirect": handle_redirect,
        "Hangup": handle_hangup,
        "Reject": handle_reject,
        "Dial": handle_dial,
    }
)
