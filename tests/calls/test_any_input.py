"""Whatever reaches a webhook, the answer is 200 and valid TwiML; forged requests get 403."""

from __future__ import annotations

import uuid
from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from billing_core.adapters.models import AuditEvent, CallSession
from ivr.call_state import CallState
from ivr_sim import parse_twiml
from ivr_sim.signing import SIGNATURE_HEADER, sign
from tests.conftest import AUTH_TOKEN, PUBLIC_BASE_URL
from tests.members import add_member

CALL_SID = "CA" + "1" * 32


def signed_post(client, path: str, params: dict[str, str], token: str = AUTH_TOKEN):
    signature = sign(token, PUBLIC_BASE_URL + path, params)
    return client.post(path, data=params, headers={SIGNATURE_HEADER: signature})


@pytest.fixture
def member_id(core) -> int:
    return add_member(core, mrn="10000001", birth_date=date(1980, 4, 12))


def voice_paths(app) -> list[str]:
    return sorted(rule.rule for rule in app.url_map.iter_rules() if rule.rule.startswith("/voice"))


CALL_STATES = {
    "unknown call": None,
    "greeted": {"region": "ncal", "language": "en"},
    "mrn entered": {"region": "ncal", "language": "en", "mrn_digest": "0" * 64},
    "identified": {"region": "ncal", "language": "en", "member_id": "MEMBER"},
    "garbage state": {"region": "atlantis", "language": "xx", "failures": {"mrn": 99}},
}

texts = st.one_of(
    st.text(max_size=300),
    st.text(alphabet="0123456789*#", max_size=220),
    st.sampled_from(["", "#", "*", "0", "9", "1", "2", "**", "##", "12345678", "00000000"]),
)
params = st.fixed_dictionaries(
    {},
    optional={
        "Digits": texts,
        "SpeechResult": texts,
        "Confidence": st.text(max_size=10),
        "From": st.one_of(texts, st.just("+14155550123")),
        "To": st.one_of(texts, st.just("+18773659900")),
        "CallStatus": st.sampled_from(["ringing", "in-progress", "completed", "busy", "bogus"]),
        "DialCallStatus": st.sampled_from(["completed", "no-answer", "busy", "failed", "?"]),
        "FinishedOnKey": texts,
    },
)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_every_webhook_answers_valid_twiml_whatever_is_posted(app, member_id, data):
    client = app.test_client()
    path = data.draw(st.sampled_from(voice_paths(app)), label="path")
    state_name = data.draw(st.sampled_from(sorted(CALL_STATES)), label="state")
    state = CALL_STATES[state_name]
    store = app.extensions["call_store"]
    now = app.extensions["billing"].clock.now()
    call_sid = "CA" + uuid.uuid4().hex  # a new call for every example
    if state is not None:
        values = {k: (member_id if v == "MEMBER" else v) for k, v in state.items()}
        store.save(CallState.restore(call_sid, values, is_new=True), now)
    posted = data.draw(params, label="params")
    if data.draw(st.booleans(), label="with CallSid"):
        posted["CallSid"] = call_sid
    posted = {k: v.replace("\x00", "") for k, v in posted.items()}
    response = signed_post(client, path, posted)
    assert response.status_code == 200, response.data[:500]
    assert response.mimetype == "text/xml"
    verbs = parse_twiml(response.data.decode())
    if path != "/voice/status":
        # A live call is never left with nothing to do: something is said or done.
        assert len(verbs) >= 1


def test_a_forged_or_unsigned_request_is_refused_and_changes_nothing(app, member_id):
    client = app.test_client()
    params = {"CallSid": CALL_SID, "From": "+14155550123", "To": "+18773659900"}
    unsigned = client.post("/voice", data=params)
    forged = signed_post(client, "/voice", params, token="not-the-auth-token")
    tampered_signature = sign(AUTH_TOKEN, PUBLIC_BASE_URL + "/voice", params)
    tampered = client.post(
        "/voice", data={**params, "Digits": "1"}, headers={SIGNATURE_HEADER: tampered_signature}
    )
    assert [unsigned.status_code, forged.status_code, tampered.status_code] == [403, 403, 403]
    with app.extensions["billing"].unit_of_work() as uow:
        assert uow.session.scalar(select(func.count()).select_from(CallSession)) == 0
        assert uow.session.scalar(select(func.count()).select_from(AuditEvent)) == 0


def test_a_request_signed_for_another_host_is_refused(app):
    params = {"CallSid": CALL_SID, "To": "+18773659900"}
    signature = sign(AUTH_TOKEN, "https://attacker.example/voice", params)
    response = app.test_client().post("/voice", data=params, headers={SIGNATURE_HEADER: signature})
    assert response.status_code == 403
