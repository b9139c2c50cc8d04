"""The virtual Twilio plays calls against a small voice app as Twilio would."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import pytest
from flask import Flask, Response, request, session
from twilio.request_validator import RequestValidator
from twilio.twiml.voice_response import VoiceResponse
from werkzeug.serving import make_server

from billing_core.domain.clock import ManualClock
from ivr_sim import Call, CallEnded, FlaskTransport, GatherState, SimError, VirtualTwilio
from ivr_sim.twiml import Verb

PUBLIC = "https://ivr.example.test"
TOKEN = "sim-test-auth-token"
TO = "+18773659900"
FROM = "+14155550123"

Route = Callable[[dict[str, str]], VoiceResponse | str]


class StubIvr:
    """A tiny voice app: checks Twilio's signature, answers TwiML, records every request."""

    def __init__(self, routes: dict[str, Route], clock: ManualClock | None = None) -> None:
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        self.times: list[tuple[str, datetime]] = []
        self.app = Flask(__name__)
        self.app.config.update(
            IVR_PUBLIC_BASE_URL=PUBLIC, IVR_TWILIO_AUTH_TOKEN=TOKEN, SECRET_KEY="stub"
        )
        validator = RequestValidator(TOKEN)

        @self.app.before_request
        def check_signature() -> tuple[str, int] | None:
            query = request.query_string.decode()
            url = self.app.config["IVR_PUBLIC_BASE_URL"] + request.path
            url += f"?{query}" if query else ""
            signature = request.headers.get("X-Twilio-Signature", "")
            if not validator.validate(url, request.form, signature):
                return "bad signature", 403
            self.requests.append((request.method, request.path, request.values.to_dict()))
            if clock is not None:
                self.times.append((request.path, clock.now()))
            return None

        @self.app.post("/voice/status")
        def status() -> tuple[str, int]:
            return "", 204

        for path, route in routes.items():
            self.app.add_url_rule(
                path, path, self._view(route), methods=["GET", "POST"], strict_slashes=False
            )

    @staticmethod
    def _view(route: Route) -> Callable[[], Response]:
        def view() -> Response:
            return Response(str(route(request.values.to_dict())), mimetype="text/xml")

        return view

    def posted(self, path: str) -> list[dict[str, str]]:
        """Return the parameters of every request the app received at `path`."""
        return [params for _, seen, params in self.requests if seen == path]


def dial_in(routes: dict[str, Route], clock: ManualClock | None = None) -> tuple[Call, StubIvr]:
    """Place a call from FROM to TO against a StubIvr serving `routes`."""
    ivr = StubIvr(routes, clock)
    call = VirtualTwilio.for_app(ivr.app, clock=clock).call(
        to=TO, from_=FROM, voice_path="/voice", status_path="/voice/status"
    )
    return call, ivr


# -- the member-number menu most tests call ---------------------------------------------

PROMPT = "Please enter your member number, then press pound."  # 8 words: 3.2 s
FALLBACK = "We did not get that."  # 5 words: 2.0 s


def member_menu(params: dict[str, str], **gather: object) -> VoiceResponse:
    """Ask for the member number; with no input, say so and ask again."""
    response = VoiceResponse()
    response.gather(action="/voice/member", **gather).say(PROMPT)
    response.say(FALLBACK)
    response.redirect("/voice")
    return response


def member_received(params: dict[str, str]) -> VoiceResponse:
    """Read back the member number, or note that there was none."""
    response = VoiceResponse()
    if params.get("Digits"):
        response.say(f"Thank you. Member number {params['Digits']}.")
    else:
        response.say("No member number was entered.")
    response.hangup()
    return response


MENU: dict[str, Route] = {"/voice": member_menu, "/voice/member": member_received}


def menu_with(**gather: object) -> dict[str, Route]:
    """The member menu with other Gather attributes."""
    return {
        "/voice": lambda params: member_menu(params, **gather),
        "/voice/member": member_received,
    }


def say_then(*verbs: Callable[[VoiceResponse], object]) -> Route:
    """A route whose TwiML is built by applying `verbs` to a fresh VoiceResponse."""

    def route(params: dict[str, str]) -> VoiceResponse:
        response = VoiceResponse()
        for verb in verbs:
            verb(response)
        return response

    return route


# -- requests and signatures ------------------------------------------------------------


def test_every_webhook_is_signed_and_carries_twilios_call_parameters() -> None:
    call, ivr = dial_in(MENU)
    call.press("12345678#")

    first, second = ivr.posted("/voice")[0], ivr.posted("/voice/member")[0]
    assert re.fullmatch(r"CA[0-9a-f]{32}", first["CallSid"])
    assert re.fullmatch(r"AC[0-9a-f]{32}", first["AccountSid"])
    assert first["CallSid"] == call.call_sid == second["CallSid"]
    assert (first["From"], first["Caller"], first["To"], first["Called"]) == (FROM, FROM, TO, TO)
    assert first["Direction"] == "inbound"
    assert first["ApiVersion"] == "2010-04-01"
    assert first["CallStatus"] == "ringing"
    assert second["CallStatus"] == "in-progress"


def test_a_request_signed_with_the_wrong_token_is_refused_and_the_sim_says_so() -> None:
    ivr = StubIvr(MENU)
    forger = VirtualTwilio.for_app(ivr.app, auth_token="not-the-real-token")

    with pytest.raises(SimError) as raised:
        forger.call(to=TO, from_=FROM)

    assert "HTTP 403" in str(raised.value)
    assert "POST /voice" in str(raised.value)
    assert ivr.requests == []


def test_the_transcript_records_each_request_and_the_twiml_it_got() -> None:
    call, _ = dial_in(MENU)
    call.press("42#")

    paths = [turn.path for turn in call.transcript]
    assert paths == ["/voice", "/voice/member", "/voice/status"]
    path, params, twiml, at = call.transcript[1]
    assert params["Digits"] == "42"
    assert "Member number 42" in twiml
    assert at == pytest.approx(3.2 + 1.0 + 0.9)


# -- Gather: keys -------------------------------------------------------------------------


def test_keys_up_to_the_finish_key_are_posted_as_digits_without_it() -> None:
    call, ivr = dial_in(MENU)
    assert call.heard == [PROMPT]

    call.press("12345678#", delay=1.0)

    assert ivr.posted("/voice/member")[0]["Digits"] == "12345678"
    assert ivr.posted("/voice/member")[0]["FinishedOnKey"] == "#"
    assert call.heard_since_input == ["Thank you. Member number 12345678."]


def test_the_gather_submits_as_soon_as_num_digits_keys_arrive_and_drops_the_rest() -> None:
    call, ivr = dial_in(menu_with(num_digits=2))

    call.press("1234", delay=0.5)

    assert [p["Digits"] for p in ivr.posted("/voice/member")] == ["12"]
    assert ivr.posted("/voice/member")[0]["FinishedOnKey"] == ""
    # No wait for a timeout: two keys after half a second, then the answer.
    assert call.transcript[1].at == pytest.approx(3.2 + 0.5 + 0.6)


def test_keys_without_the_finish_key_are_submitted_when_the_timeout_runs_out() -> None:
    call, ivr = dial_in(menu_with(timeout=3))

    call.press("987", delay=1.0)

    assert ivr.posted("/voice/member")[0]["Digits"] == "987"
    assert call.transcript[1].at == pytest.approx(3.2 + 1.0 + 0.9 + 3)
    assert "Member number 987" in call.text_since_input


def test_the_waiting_gather_shows_twilios_defaults() -> None:
    call, _ = dial_in(MENU)

    waiting = call.waiting
    assert isinstance(waiting, GatherState)
    assert waiting.action == f"{PUBLIC}/voice/member"
    assert (waiting.input, waiting.timeout, waiting.finish_on_key) == ("dtmf", 5, "#")
    assert waiting.num_digits is None
    assert waiting.action_on_empty_result is False
    assert waiting.language == "en-US"


def test_silence_plays_the_verbs_after_the_gather() -> None:
    call, ivr = dial_in(MENU)

    call.silence()

    assert call.heard_since_input == [FALLBACK, PROMPT]
    assert ivr.posted("/voice/member") == []
    assert call.waiting is not None
    assert call.elapsed == pytest.approx(3.2 + 5 + 2.0 + 3.2)


def test_a_late_key_press_lands_in_the_reprompt_after_the_timeout() -> None:
    call, ivr = dial_in(MENU)

    # Timeout at 5 s, "we did not get that" 2 s, reprompt 3.2 s: 12 s lands 1.8 s after it.
    call.press("555#", delay=12.0)

    assert call.heard_since_input == [FALLBACK, PROMPT, "Thank you. Member number 555."]
    assert [p["Digits"] for p in ivr.posted("/voice/member")] == ["555"]
    assert call.transcript[-2].at == pytest.approx(3.2 + 12.0 + 4 * 0.3)


def test_a_caller_who_types_during_the_reprompt_barges_in() -> None:
    call, ivr = dial_in(MENU)

    # 9 s after the first prompt is 1.2 s before the reprompt would finish.
    call.press("42#", delay=9.0)

    assert [p["Digits"] for p in ivr.posted("/voice/member")] == ["42"]
    assert "Thank you. Member number 42." in call.text_since_input
    assert call.transcript[-2].at == pytest.approx(3.2 + 9.0 + 0.9)


def test_a_press_that_outlasts_every_prompt_meets_the_goodbye() -> None:
    goodbye = say_then(
        lambda r: r.gather(action="/voice/member").say(PROMPT),
        lambda r: r.say("Goodbye."),
    )
    call, ivr = dial_in({"/voice": goodbye, "/voice/member": member_received})

    call.press("1#", delay=30.0)

    assert call.ended and call.end_reason == "completed"
    assert call.heard_since_input == ["Goodbye."]
    assert ivr.posted("/voice/member") == []


def test_action_on_empty_result_posts_the_action_without_digits_on_silence() -> None:
    call, ivr = dial_in(menu_with(action_on_empty_result=True))

    call.silence()

    assert len(ivr.posted("/voice/member")) == 1
    assert "Digits" not in ivr.posted("/voice/member")[0]
    assert call.heard_since_input == ["No member number was entered."]


def test_a_late_press_with_action_on_empty_result_posts_the_empty_result_first() -> None:
    call, ivr = dial_in(menu_with(action_on_empty_result=True))

    call.press("1#", delay=8.0)

    assert [p.get("Digits") for p in ivr.posted("/voice/member")] == [None]
    assert call.end_reason == "hangup"


def test_a_lone_finish_key_ends_the_gather_at_once_with_no_input_and_falls_through() -> None:
    call, ivr = dial_in(MENU)
    gather = call.waiting
    assert gather is not None

    call.press("#", delay=1.0)

    assert ivr.posted("/voice/member") == []
    assert call.heard_since_input == [FALLBACK, PROMPT]
    # No timeout was waited out: the fallback began as the key was pressed.
    assert call.waiting is not None
    assert call.waiting.prompt_started == pytest.approx(gather.prompt_ended + 1.0 + 0.3 + 2.0)


def test_a_lone_finish_key_with_action_on_empty_result_posts_empty_digits_at_once() -> None:
    call, ivr = dial_in(menu_with(action_on_empty_result=True))

    call.press("#", delay=1.0)

    posted = ivr.posted("/voice/member")[0]
    assert (posted["Digits"], posted["FinishedOnKey"]) == ("", "#")
    # The key ended the Gather: no timeout was waited out.
    assert call.transcript[1].at == pytest.approx(3.2 + 1.0 + 0.3)


def test_silence_with_action_on_empty_result_posts_no_digits_after_the_timeout() -> None:
    call, ivr = dial_in(menu_with(action_on_empty_result=True))

    call.silence()

    assert "Digits" not in ivr.posted("/voice/member")[0]
    assert call.transcript[1].at == pytest.approx(3.2 + 5)


def test_a_gather_without_a_finish_key_takes_the_pound_as_a_digit() -> None:
    call, ivr = dial_in(menu_with(finish_on_key="", num_digits=2))

    call.press("#1")

    assert ivr.posted("/voice/member")[0]["Digits"] == "#1"


# -- Gather: speech -----------------------------------------------------------------------


def test_speech_reaches_a_gather_that_listens_for_it() -> None:
    call, ivr = dial_in(menu_with(input="speech", speech_timeout="auto", hints="pay, balance"))
    assert call.waiting is not None and call.waiting.hints == "pay, balance"

    call.say("pay my bill", delay=1.0, confidence=0.92)

    posted = ivr.posted("/voice/member")[0]
    assert (posted["SpeechResult"], posted["Confidence"]) == ("pay my bill", "0.92")
    assert "Digits" not in posted
    # Three words take 1.2 s, then "auto" waits about a second for more.
    assert call.transcript[1].at == pytest.approx(3.2 + 1.0 + 1.2 + 1.0)


def test_speech_to_a_keypad_only_gather_goes_unheard() -> None:
    call, ivr = dial_in(MENU)

    call.say("one two three")

    assert ivr.posted("/voice/member") == []
    assert call.heard_since_input == [FALLBACK, PROMPT]


def test_keys_to_a_speech_only_gather_are_ignored() -> None:
    call, ivr = dial_in(menu_with(input="speech"))

    call.press("1#")

    assert ivr.posted("/voice/member") == []
    assert call.heard_since_input == [FALLBACK, PROMPT]


def test_keys_reach_a_gather_that_takes_keys_and_speech() -> None:
    call, ivr = dial_in(menu_with(input="dtmf speech"))

    call.press("7#")

    assert ivr.posted("/voice/member")[0]["Digits"] == "7"


# -- URLs and Redirect --------------------------------------------------------------------


def test_a_relative_redirect_resolves_against_the_current_document_and_can_use_get() -> None:
    routes: dict[str, Route] = {
        "/voice": say_then(lambda r: r.redirect("/voice/menu/start")),
        "/voice/menu/start": say_then(lambda r: r.redirect("next?step=2", method="GET")),
        "/voice/menu/next": say_then(lambda r: r.say("You made it."), lambda r: r.hangup()),
    }
    call, ivr = dial_in(routes)

    assert call.heard == ["You made it."]
    method, path, params = ivr.requests[2]
    assert (method, path, params["step"]) == ("GET", "/voice/menu/next", "2")
    assert params["CallSid"] == call.call_sid
    assert call.end_reason == "hangup"


def test_gather_actions_resolve_like_twilio_relative_absolute_and_by_default() -> None:
    routes: dict[str, Route] = {
        "/voice": say_then(lambda r: r.redirect("/voice/pay/start?step=1")),
        "/voice/pay/start": lambda p: (
            say_then(lambda r: r.gather(action="confirm").say("Amount?"))(p)
            if "Digits" not in p
            else say_then(lambda r: r.gather().say("Again?"))(p)
        ),
        "/voice/pay/confirm": say_then(
            lambda r: r.gather(action=f"{PUBLIC}/voice/pay/done?x=1").say("Confirm?")
        ),
        "/voice/pay/done": say_then(lambda r: r.say("Done."), lambda r: r.hangup()),
    }
    call, ivr = dial_in(routes)

    assert call.waiting is not None and call.waiting.action == f"{PUBLIC}/voice/pay/confirm"
    call.press("100#")
    assert call.waiting is not None and call.waiting.action == f"{PUBLIC}/voice/pay/done?x=1"
    call.press("1#")

    assert ivr.posted("/voice/pay/done")[0]["x"] == "1"
    assert call.heard[-1] == "Done."


def test_a_gather_without_action_posts_back_to_its_own_document() -> None:
    routes: dict[str, Route] = {
        "/voice": lambda p: (
            say_then(lambda r: r.gather(num_digits=1).say("Press a key."))(p)
            if "Digits" not in p
            else say_then(lambda r: r.say(f"You pressed {p['Digits']}."))(p)
        )
    }
    call, _ = dial_in(routes)

    call.press("5")

    assert call.heard_since_input == ["You pressed 5."]
    assert call.end_reason == "completed"


def test_a_public_url_with_a_path_prefix_is_signed_and_seen_by_the_app() -> None:
    # Mounted under /ivr, the app must put the prefix on its own URLs, as url_for does.
    def ask(params: dict[str, str]) -> VoiceResponse:
        response = VoiceResponse()
        response.gather(action=f"{request.script_root}/voice/member").say(PROMPT)
        return response

    ivr = StubIvr({"/voice": ask, "/voice/member": member_received})
    ivr.app.config["IVR_PUBLIC_BASE_URL"] = "https://gateway.example.test/ivr"

    call = VirtualTwilio.for_app(ivr.app).call(to=TO, from_=FROM)
    assert call.waiting is not None
    assert call.waiting.action == "https://gateway.example.test/ivr/voice/member"
    call.press("77#")

    assert call.end_reason == "hangup"
    assert ivr.posted("/voice/member")[0]["Digits"] == "77"
    assert [turn.path for turn in call.transcript] == ["/voice", "/voice/member", "/voice/status"]


def test_an_action_url_on_another_host_is_signed_for_that_host_and_refused() -> None:
    # An app that builds action URLs from its own address behind a proxy gets this wrong.
    routes: dict[str, Route] = {
        "/voice": say_then(lambda r: r.gather(action="http://localhost/voice/member").say("Hi"))
    }
    call, ivr = dial_in(routes)

    with pytest.raises(SimError) as raised:
        call.press("1#")

    assert "http://localhost/voice/member answered HTTP 403" in str(raised.value)


def test_a_redirect_loop_fails_with_the_call_so_far() -> None:
    loop = say_then(lambda r: r.say("Still here."), lambda r: r.redirect("/voice"))

    with pytest.raises(SimError) as raised:
        dial_in({"/voice": loop})

    assert "without any input" in str(raised.value)
    assert 'hears "Still here."' in str(raised.value)


# -- Dial, Hangup, Reject and the end of the call ---------------------------------------


def agent_menu(params: dict[str, str], **dial: object) -> VoiceResponse:
    """Press 0 for an agent; the Dial comes after the caller's choice."""
    response = VoiceResponse()
    if "Digits" not in params:
        response.gather(num_digits=1).say("Press 0 for an agent.")
        return response
    response.say("Connecting you.")
    response.dial("+18005550100", **dial)
    response.say("The agent has left the call.")
    return response


def test_dial_without_action_goes_on_with_the_next_verb() -> None:
    call, ivr = dial_in({"/voice": agent_menu})

    call.press("0")

    assert call.dialed == ["+18005550100"]
    assert call.heard_since_input == ["Connecting you.", "The agent has left the call."]
    assert call.end_reason == "completed"


def test_a_document_that_ends_with_a_dial_ends_the_call_after_it() -> None:
    call, _ = dial_in(
        {"/voice": say_then(lambda r: r.dial(timeout=10, caller_id=TO).number("+18005550111"))}
    )

    assert call.dialed == ["+18005550111"]
    assert call.ended and call.end_reason == "dial"


def test_dial_with_action_posts_the_dial_status_and_follows_its_twiml() -> None:
    def dial_result(params: dict[str, str]) -> VoiceResponse:
        response = VoiceResponse()
        response.say(f"Dial status {params['DialCallStatus']}.")
        return response

    routes: dict[str, Route] = {
        "/voice": lambda p: agent_menu(p, action="/voice/dialed", timeout=20),
        "/voice/dialed": dial_result,
    }
    call, ivr = dial_in(routes)
    call.dial_outcome = "no-answer"
    started = call.elapsed

    call.press("0", delay=0.0)

    assert call.heard_since_input == ["Connecting you.", "Dial status no-answer."]
    assert "DialCallDuration" not in ivr.posted("/voice/dialed")[0]
    assert re.fullmatch(r"CA[0-9a-f]{32}", ivr.posted("/voice/dialed")[0]["DialCallSid"])
    # An unanswered dial rings for its whole timeout.
    assert call.transcript[-2].at == pytest.approx(started + 0.3 + 0.8 + 20)


def test_an_answered_dial_reports_its_duration() -> None:
    routes: dict[str, Route] = {
        "/voice": lambda p: agent_menu(p, action="/voice/dialed"),
        "/voice/dialed": say_then(lambda r: r.hangup()),
    }
    call, ivr = dial_in(routes)
    call.dial_duration = 42

    call.press("0")

    assert ivr.posted("/voice/dialed")[0]["DialCallStatus"] == "completed"
    assert ivr.posted("/voice/dialed")[0]["DialCallDuration"] == "42"


def test_hangup_ends_the_call_and_the_caller_can_do_nothing_more() -> None:
    call, _ = dial_in(MENU)
    call.press("1#")

    assert call.ended and call.end_reason == "hangup"
    assert call.waiting is None
    with pytest.raises(CallEnded):
        call.press("2#")
    with pytest.raises(CallEnded):
        call.silence()
    with pytest.raises(CallEnded):
        call.hang_up()


def test_the_status_callback_is_posted_once_with_the_call_duration() -> None:
    call, ivr = dial_in(MENU)
    call.press("1234#")

    statuses = ivr.posted("/voice/status")
    assert len(statuses) == 1
    assert statuses[0]["CallStatus"] == "completed"
    assert statuses[0]["CallDuration"] == str(int(call.elapsed + 0.5))
    assert statuses[0]["CallSid"] == call.call_sid


def test_a_caller_hanging_up_ends_the_call_and_posts_the_status_once() -> None:
    call, ivr = dial_in(MENU)

    call.hang_up()

    assert call.ended and call.end_reason == "caller-hung-up"
    assert [p["CallStatus"] for p in ivr.posted("/voice/status")] == ["completed"]
    with pytest.raises(CallEnded):
        call.hang_up()
    assert len(ivr.posted("/voice/status")) == 1


def test_reject_refuses_the_call_without_answering_it() -> None:
    call, ivr = dial_in({"/voice": say_then(lambda r: r.reject(reason="busy"))})

    assert call.ended and call.end_reason == "reject"
    assert call.heard == []
    status = ivr.posted("/voice/status")[0]
    assert (status["CallStatus"], status["CallDuration"]) == ("busy", "0")


def test_a_document_that_runs_out_completes_the_call() -> None:
    call, ivr = dial_in({"/voice": say_then(lambda r: r.say("Our office is closed."))})

    assert call.heard == ["Our office is closed."]
    assert call.end_reason == "completed"
    assert len(ivr.posted("/voice/status")) == 1


def test_no_status_callback_is_posted_without_a_status_path() -> None:
    ivr = StubIvr({"/voice": say_then(lambda r: r.hangup())})

    call = VirtualTwilio.for_app(ivr.app).call(to=TO, from_=FROM, status_path=None)

    assert call.ended
    assert ivr.posted("/voice/status") == []


# -- virtual time -------------------------------------------------------------------------


def test_virtual_time_moves_the_apps_clock() -> None:
    clock = ManualClock(datetime(2025, 3, 1, 9, 0, tzinfo=UTC))
    start = clock.now()
    speech = " ".join(["word"] * 150)
    routes: dict[str, Route] = {
        "/voice": say_then(
            lambda r: r.say(speech), lambda r: r.pause(length=3), lambda r: r.redirect("/later")
        ),
        "/later": say_then(
            lambda r: r.play("https://cdn.example.test/hold.mp3"), lambda r: r.pause()
        ),
    }

    call, ivr = dial_in(routes, clock)

    seen = dict(ivr.times)
    assert (seen["/later"] - seen["/voice"]).total_seconds() == pytest.approx(63)
    assert call.elapsed == pytest.approx(63 + 5 + 1)
    assert (clock.now() - start).total_seconds() == pytest.approx(call.elapsed)


def test_key_presses_and_timeouts_take_virtual_time() -> None:
    clock = ManualClock(datetime(2025, 3, 1, 9, 0, tzinfo=UTC))
    call, ivr = dial_in(MENU, clock)

    call.silence()
    call.press("12#", delay=2.0)

    expected = 3.2 + 5 + 2.0 + 3.2 + 2.0 + 0.9
    assert call.transcript[-2].at == pytest.approx(expected)
    member_time = dict(ivr.times)["/voice/member"]
    assert (member_time - ivr.times[0][1]).total_seconds() == pytest.approx(expected)


# -- failures -----------------------------------------------------------------------------


def test_a_server_error_fails_with_the_transcript_and_the_failing_request() -> None:
    routes: dict[str, Route] = {"/voice": member_menu}
    ivr = StubIvr(routes)

    @ivr.app.post("/voice/member")
    def broken() -> tuple[str, int]:
        return "database on fire", 500

    call = VirtualTwilio.for_app(ivr.app).call(to=TO, from_=FROM)

    with pytest.raises(SimError) as raised:
        call.press("1234#")

    message = str(raised.value)
    assert "HTTP 500" in message
    assert f"{PUBLIC}/voice/member" in message
    assert "Digits=1234" in message
    assert "database on fire" in message
    assert f'hears "{PROMPT}"' in message


def test_a_failed_webhook_goes_to_the_numbers_fallback_url_with_twilios_error_code() -> None:
    def apology(params: dict[str, str]) -> VoiceResponse:
        response = VoiceResponse()
        response.say("Sorry, something went wrong.")
        response.hangup()
        return response

    ivr = StubIvr({"/voice": member_menu, "/voice/fallback": apology})

    @ivr.app.post("/voice/member")
    def broken() -> tuple[str, int]:
        return "database on fire", 500

    call = VirtualTwilio.for_app(ivr.app).call(to=TO, from_=FROM, fallback_path="/voice/fallback")
    call.press("1234#")

    [fallback] = ivr.posted("/voice/fallback")
    assert fallback["ErrorCode"] == "11200"
    assert fallback["ErrorUrl"] == f"{PUBLIC}/voice/member"
    assert fallback["Digits"] == "1234" and fallback["CallSid"] == call.call_sid
    assert call.heard_since_input == ["Sorry, something went wrong."]
    assert call.ended


def test_a_request_the_app_never_answers_goes_to_the_fallback_url_too() -> None:
    ivr = StubIvr({**MENU, "/voice/fallback": lambda params: "<Response><Hangup/></Response>"})
    call = VirtualTwilio.for_app(ivr.app).call(to=TO, from_=FROM, fallback_path="/voice/fallback")
    call.fail_next_request = True
    call.press("1234#")
    assert ivr.posted("/voice/member") == []
    assert len(ivr.posted("/voice/fallback")) == 1
    assert call.ended


def test_twiml_with_a_verb_the_sim_cannot_run_fails_loudly() -> None:
    with pytest.raises(SimError) as raised:
        dial_in({"/voice": lambda p: "<Response><Pay/></Response>"})

    assert "<Pay>" in str(raised.value)


def test_a_response_that_is_not_twiml_fails_loudly() -> None:
    with pytest.raises(SimError) as raised:
        dial_in({"/voice": lambda p: "<html><body>Hello</body></html>"})

    assert "not <Response>" in str(raised.value)


# -- plugging in a verb -----------------------------------------------------------------


class Chime(Verb):
    """A made-up verb: plays a chime, then reports to its action URL."""

    name = "Chime"

    def __init__(self, action: str) -> None:
        self.action = action


def test_a_new_verb_plugs_in_with_a_parser_and_a_handler() -> None:
    def run_chime(call: Call, verb: Chime) -> None:
        call.speak("ding")
        call.fetch(verb.action, "POST", {"Chimed": "yes"})

    ivr = StubIvr(
        {
            "/voice": lambda p: '<Response><Chime action="/voice/chimed"/></Response>',
            "/voice/chimed": say_then(lambda r: r.say("Chimed.")),
        }
    )
    twilio = VirtualTwilio(
        FlaskTransport(ivr.app),
        verb_parsers={"Chime": lambda element: Chime(element.get("action", ""))},
        verb_handlers={"Chime": run_chime},
    )

    call = twilio.call(to=TO, from_=FROM)

    assert call.heard == ["ding", "Chimed."]
    assert ivr.posted("/voice/chimed")[0]["Chimed"] == "yes"


# -- cookies and HTTP ---------------------------------------------------------------------


def test_cookies_last_for_one_call_only() -> None:
    def remember(params: dict[str, str]) -> VoiceResponse:
        response = VoiceResponse()
        if "Digits" in params:
            response.say(f"You said {session.get('choice', 'nothing')} before.")
            session["choice"] = params["Digits"]
        response.gather(num_digits=1, action="/voice").say("Pick.")
        return response

    ivr = StubIvr({"/voice": remember})
    twilio = VirtualTwilio.for_app(ivr.app)
    first = twilio.call(to=TO, from_=FROM)
    first.press("3")
    first.press("4")
    second = twilio.call(to=TO, from_=FROM)
    second.press("5")

    assert first.heard_since_input[0] == "You said 3 before."
    assert second.heard_since_input[0] == "You said nothing before."


@pytest.fixture
def running_server() -> Iterator[tuple[str, StubIvr]]:
    """Serve the member menu over HTTP on a free local port."""
    ivr = StubIvr(MENU)
    server = make_server("127.0.0.1", 0, ivr.app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", ivr
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_the_sim_plays_a_call_over_http_against_a_running_server(
    running_server: tuple[str, StubIvr],
) -> None:
    base_url, ivr = running_server

    # The server checks signatures against its public URL, as it would behind a proxy.
    with VirtualTwilio.over_http(base_url, TOKEN, public_base_url=PUBLIC) as twilio:
        call = twilio.call(to=TO, from_=FROM)
        call.press("12345678#")

    assert call.heard == [PROMPT, "Thank you. Member number 12345678."]
    assert ivr.posted("/voice/member")[0]["Digits"] == "12345678"
    assert len(ivr.posted("/voice/status")) == 1


def test_over_http_a_wrong_public_url_is_refused_like_a_bad_signature(
    running_server: tuple[str, StubIvr],
) -> None:
    base_url, _ = running_server

    with VirtualTwilio.over_http(base_url, TOKEN) as twilio, pytest.raises(SimError) as raised:
        twilio.call(to=TO, from_=FROM)

    assert "HTTP 403" in str(raised.value)


def test_an_answer_later_than_twilios_deadline_is_dropped_for_the_fallback_url(monkeypatch) -> None:
    import time

    from ivr_sim import call as call_module

    def slow(params: dict[str, str]) -> VoiceResponse:
        time.sleep(0.3)
        return member_received(params)

    ivr = StubIvr(
        {
            "/voice": member_menu,
            "/voice/member": slow,
            "/voice/fallback": lambda params: "<Response><Say>Sorry.</Say></Response>",
        }
    )
    call = VirtualTwilio.for_app(ivr.app).call(to=TO, from_=FROM, fallback_path="/voice/fallback")
    monkeypatch.setattr(call_module, "WEBHOOK_DEADLINE_SECONDS", 0.1)  # Twilio's is 15 s
    call.press("1234#")
    assert call.heard_since_input == ["Sorry."]
    assert ivr.posted("/voice/fallback")[0]["ErrorUrl"] == f"{PUBLIC}/voice/member"
