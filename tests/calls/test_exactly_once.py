"""A payment is taken once, however often Twilio sends the webhook that confirms it."""

from __future__ import annotations

import threading
from datetime import date

import pytest
from sqlalchemy import func, select

from billing_core.adapters.models import Payment, SandboxCharge
from ivr_sim import parse_twiml
from ivr_sim.signing import SIGNATURE_HEADER, sign
from tests.conftest import AUTH_TOKEN, PUBLIC_BASE_URL
from tests.members import add_member

CONFIRM_PATH = "/voice/pay/confirm/answer"


@pytest.fixture
def member(core) -> int:
    return add_member(
        core,
        mrn="80000008",
        birth_date=date(1990, 5, 5),
        first_name="Noor",
        bills=[("B-800", date(2026, 9, 1), "Fremont Medical Center", 15000, 0, date(2026, 12, 31))],
    )


def at_confirmation(twilio):
    """Play a call up to the read-back, where pressing 1 takes the payment."""
    call = twilio.call(to="+18773659900", from_="+14085550100")
    for keys in ["80000008#", "05051990", "1"]:  # the bill offered first, by card
        call.press(keys)
    call.pay_card("4242424242424242")
    assert call.heard_since_input[-2].startswith("To pay now, press 1.")
    # The read-back's <Gather> action: the confirm step, bound to this prompt.
    call.confirm_path = call.waiting.action.replace(PUBLIC_BASE_URL, "")
    assert call.confirm_path.startswith(CONFIRM_PATH + "?t=")
    return call


def post_confirm(app, call) -> str:
    """Send the confirm webhook as Twilio would on a retry, and return what the caller hears."""
    params = {
        "CallSid": call.call_sid,
        "AccountSid": "AC" + "0" * 32,
        "From": "+14085550100",
        "To": "+18773659900",
        "CallStatus": "in-progress",
        "Digits": "1",
    }
    signature = sign(AUTH_TOKEN, PUBLIC_BASE_URL + call.confirm_path, params)
    client = app.test_client()
    first = client.post(call.confirm_path, data=params, headers={SIGNATURE_HEADER: signature})
    assert first.status_code == 200
    # The answer speaks the confirmation number itself, or hands over with a <Redirect>.
    verbs = parse_twiml(first.data.decode())
    redirect = next((v for v in verbs if type(v).__name__ == "Redirect"), None)
    if redirect is None or 'interpret-as="characters"' in first.data.decode():
        return first.data.decode()
    path = redirect.url.replace(PUBLIC_BASE_URL, "")
    follow_params = {k: v for k, v in params.items() if k != "Digits"}
    followed = client.post(
        path,
        data=follow_params,
        headers={SIGNATURE_HEADER: sign(AUTH_TOKEN, PUBLIC_BASE_URL + path, follow_params)},
    )
    return followed.data.decode()


def charges(core) -> tuple[int, int]:
    with core.unit_of_work() as uow:
        return (
            uow.session.scalar(select(func.count()).select_from(Payment)),
            uow.session.scalar(select(func.count()).select_from(SandboxCharge)),
        )


def confirmation_in(twiml: str) -> str:
    marker = 'interpret-as="characters">'
    start = twiml.index(marker) + len(marker)
    return twiml[start : twiml.index("<", start)]


def test_the_confirm_webhook_sent_twice_in_a_row_charges_once_with_one_confirmation(
    twilio, app, core, member
):
    call = at_confirmation(twilio)
    first = post_confirm(app, call)
    second = post_confirm(app, call)
    assert "Payment complete: your confirmation number is" in first
    assert confirmation_in(first) == confirmation_in(second)
    assert charges(core) == (1, 1)
    assert core.account_summary(member, channel="test").medical_balance_cents == 0


@pytest.mark.parametrize("copies", [4, 20])
def test_the_confirm_webhook_sent_many_times_at_once_charges_once(
    twilio, app, core, member, copies, database_url
):
    if copies > 4 and not database_url.startswith("postgresql"):
        pytest.skip("twenty writers at once is a PostgreSQL load; SQLite serialises them")
    call = at_confirmation(twilio)
    barrier = threading.Barrier(copies)
    heard: list[str] = []
    errors: list[BaseException] = []

    def retry() -> None:
        try:
            barrier.wait()
            heard.append(post_confirm(app, call))
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=retry) for _ in range(copies)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert charges(core) == (1, 1)
    numbers = {confirmation_in(twiml) for twiml in heard if 'interpret-as="characters"' in twiml}
    assert len(numbers) == 1
    assert core.account_summary(member, channel="test").medical_balance_cents == 0
    # The call's state holds the payment as it is (succeeded), never a stale "still confirming".
    state = app.extensions["call_store"].load(call.call_sid, core.clock.now())
    assert state.pay.outcome is not None and state.pay.outcome.status == "succeeded"
