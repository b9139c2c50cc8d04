"""The browser softphone (QA): dial a pay line on the virtual Twilio, hear it, press keys, pay.

The page's script talks to these endpoints in JSON, with the CSRF token in a header; every
answer is the call's state (ivr: staff_console.live_calls). Only on the sandbox gateway:
elsewhere a test card would be a real charge's attempt.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, Response, current_app, g, jsonify, render_template, request

from billing_core.adapters.gateways.sandbox import (
    TEST_BANK_ACCOUNTS,
    TEST_CARDS,
    TEST_ROUTING_NUMBER,
)
from billing_core.domain.regions import normalize_phone_number
from ivr_sim.script import DEFAULT_FROM
from staff_console.auth import requires
from staff_console.flow_map import graph, map_svg
from staff_console.live_calls import CallProblem, LiveCalls

bp = Blueprint("phone", __name__, url_prefix="/phone")

ACTIONS = ("keys", "say", "silence", "card", "bank", "hangup")


def live_calls() -> LiveCalls:
    app = current_app
    if "live_calls" not in app.extensions:
        app.extensions["live_calls"] = LiveCalls(app.extensions["voice_app"])
    return app.extensions["live_calls"]


def on_sandbox() -> bool:
    return current_app.config["IVR_GATEWAY"] == "sandbox"


@bp.get("")
@requires("qa")
def page() -> str | tuple[str, int]:
    """The softphone with the flow map beside it."""
    if not on_sandbox():
        return render_template("phone_off.html"), 409
    regions = current_app.extensions["billing"].regions
    return render_template(
        "phone.html",
        regions=sorted(regions.regions.values(), key=lambda region: region.name),
        default_from=DEFAULT_FROM,
        cards=TEST_CARDS,
        bank_accounts=TEST_BANK_ACCOUNTS,
        routing=TEST_ROUTING_NUMBER,
        map_svg=map_svg(),
    )


@bp.post("/calls")
@requires("qa")
def place() -> tuple[Response, int]:
    """Place a call; answer its state with the first prompts."""
    if not on_sandbox():
        return _problem("the softphone works on the sandbox gateway only", 409)
    body = _body()
    core = current_app.extensions["billing"]
    raw_to = str(body.get("other") or body.get("to") or "").strip()
    to = normalize_phone_number(raw_to)
    from_ = normalize_phone_number(str(body.get("from") or DEFAULT_FROM))
    if to is None:
        return _problem(f"{raw_to or 'nothing'} is not a phone number to dial", 400)
    if from_ is None:
        return _problem("the caller's number is not a phone number", 400)
    try:
        at = _call_time(str(body.get("at") or ""), core.regions.for_dialed_number(to)[0])
    except ValueError:
        return _problem("the call's time should be a date and time such as 2026-12-01T09:30", 400)
    try:
        live = live_calls().place(to=to, from_=from_, at=at, owner=g.staff.username)
    except CallProblem as problem:
        return _problem(str(problem), 409)
    return jsonify(live.state(graph())), 201


@bp.get("/calls/<call_id>")
@requires("qa")
def show(call_id: str) -> tuple[Response, int]:
    """The call's state."""
    live = live_calls().get(call_id, g.staff.username)
    if live is None:
        return _problem("no such call (it may have been idle too long)", 404)
    with live.lock:
        return jsonify(live.state(graph())), 200


@bp.post("/calls/<call_id>/<action>")
@requires("qa")
def act(call_id: str, action: str) -> tuple[Response, int]:
    """Press keys, speak, say nothing, pay, or hang up; answer the call's state."""
    if action not in ACTIONS:
        return _problem(f"no such action: {action}", 404)
    live = live_calls().get(call_id, g.staff.username)
    if live is None:
        return _problem("no such call (it may have been idle too long)", 404)
    with live.lock:
        try:
            live.act(action, _body())
        except CallProblem as problem:
            state = live.state(graph())
            return jsonify({**state, "problem": str(problem)}), 422
        return jsonify(live.state(graph())), 200


@bp.get("/calls/<call_id>/script")
@requires("qa")
def script(call_id: str) -> Response | tuple[Response, int]:
    """Download the call as a call script (YAML) to put in tests/calls/scripts."""
    live = live_calls().get(call_id, g.staff.username)
    if live is None:
        return _problem("no such call (it may have been idle too long)", 404)
    with live.lock:
        try:
            text = live.script(
                current_app.extensions["voice_app"], f"Recorded in the console by {live.owner}"
            )
        except CallProblem as problem:
            return _problem(str(problem), 409)
    return Response(
        text,
        mimetype="application/yaml",
        headers={"Content-Disposition": f'attachment; filename="call-{call_id}.yaml"'},
    )


@bp.post("/calls/<call_id>/forget")
@requires("qa")
def forget(call_id: str) -> tuple[Response, int]:
    """Hang up if need be, and drop the call and its recording."""
    if live_calls().get(call_id, g.staff.username) is None:
        return _problem("no such call", 404)
    live_calls().forget(call_id)
    return jsonify({"forgotten": call_id}), 200


def _body() -> dict[str, Any]:
    body = request.get_json(silent=True)
    if isinstance(body, dict):
        return body
    return request.form.to_dict()


def _call_time(text: str, region) -> datetime:
    """The call's time: now, or a local time of the region dialed (a zone may be given)."""
    if not text.strip():
        return current_app.extensions["billing"].clock.now()
    when = datetime.fromisoformat(text.strip())
    if when.tzinfo is None:
        when = when.replace(tzinfo=region.time_zone)
    return when.astimezone(UTC)


def _problem(words: str, status: int) -> tuple[Response, int]:
    return jsonify({"problem": words}), status
