"""The Stripe gateway against a local stand-in for the Stripe endpoints it calls.

The stand-in answers as Stripe's API does, in the shape stripe-python parses: JSON
bodies whose "object" names the resource ("payment_intent", "search_result"), errors
as {"error": {"type", "code", "decline_code", "message", "payment_intent"}} with the
HTTP status Stripe uses (402 for a card error), and a replay of the first answer for
a repeated Idempotency-Key.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from itertools import count
from urllib.parse import parse_qs, urlsplit

import pytest

from billing_core.adapters.gateways.base import ChargeResult, GatewayError, GatewayTimeout
from billing_core.adapters.gateways.stripe_gateway import ChargeStillProcessing, StripeGateway

API_KEY = "sk_test_local_stub"

# Stripe's test PaymentMethods, and the answer the stand-in gives for each.
SUCCESS = "pm_card_visa"
DECLINED = "pm_card_chargeDeclined"
INSUFFICIENT_FUNDS = "pm_card_chargeDeclinedInsufficientFunds"
PROCESSING = "pm_usBankAccount_processing"
SERVER_ERROR = "pm_stub_server_error"
BAD_REQUEST = "pm_stub_bad_request"
SLOW = "pm_stub_slow"
DECLINES = {
    DECLINED: ("card_declined", "generic_decline"),
    INSUFFICIENT_FUNDS: ("card_declined", "insufficient_funds"),
}


@dataclass
class Recorded:
    """One request as the stand-in received it."""

    method: str
    path: str
    headers: dict[str, str]
    form: dict[str, str]


@dataclass
class StripeStub:
    """State of the stand-in: what it was asked, and the intents it made."""

    requests: list[Recorded] = field(default_factory=list)
    replies: dict[str, tuple[int, dict]] = field(default_factory=dict)
    intents: list[dict] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)
    ids: count = field(default_factory=lambda: count(1))
    url: str = ""

    def create_intent(self, form: dict[str, str]) -> tuple[int, dict]:
        method = form.get("payment_method")
        if method == SERVER_ERROR:
            return 500, {"error": {"type": "api_error", "message": "An unknown error occurred"}}
        if method == BAD_REQUEST:
            return 400, {
                "error": {
                    "type": "invalid_request_error",
                    "code": "resource_missing",
                    "param": "payment_method",
                    "message": "No such PaymentMethod",
                }
            }
        if method == SLOW:
            # Longer than the gateway waits; released when the test ends.
            self.release.wait(10)
        intent = {
            "id": f"pi_stub{next(self.ids):06d}",
            "object": "payment_intent",
            "amount": int(form["amount"]),
            "currency": form["currency"],
            "payment_method": method,
            "metadata": {"idempotency_key": form["metadata[idempotency_key]"]},
            "status": "processing" if method == PROCESSING else "succeeded",
            "last_payment_error": None,
        }
        self.intents.append(intent)
        if method not in DECLINES:
            return 200, intent
        code, decline_code = DECLINES[method]
        error = {
            "type": "card_error",
            "code": code,
            "decline_code": decline_code,
            "message": "Your card was declined.",
        }
        intent.update(status="requires_payment_method", last_payment_error=error)
        return 402, {"error": {**error, "payment_intent": intent}}

    def search(self, query: str) -> dict:
        match = re.fullmatch(r"metadata\['idempotency_key'\]:'(?P<key>.*)'", query)
        assert match, query
        found = [i for i in self.intents if i["metadata"]["idempotency_key"] == match["key"]]
        return {
            "object": "search_result",
            "data": found,
            "has_more": False,
            "next_page": None,
            "url": "/v1/payment_intents/search",
        }


def _handler(stub: StripeStub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
            recorded = self._record(form)
            if recorded.path != "/v1/payment_intents":
                self._reply(404, {"error": {"type": "invalid_request_error"}})
                return
            key = recorded.headers.get("idempotency-key")
            if key in stub.replies:
                # Stripe replays the first answer to a key, whatever it was.
                self._reply(*stub.replies[key])
                return
            reply = stub.create_intent(form)
            if key:
                stub.replies[key] = reply
            self._reply(*reply)

        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            query = {k: v[0] for k, v in parse_qs(parts.query).items()}
            recorded = self._record(query)
            if recorded.path != "/v1/payment_intents/search":
                self._reply(404, {"error": {"type": "invalid_request_error"}})
                return
            self._reply(200, stub.search(query["query"]))

        def _record(self, form: dict[str, str]) -> Recorded:
            recorded = Recorded(
                self.command,
                urlsplit(self.path).path,
                {k.lower(): v for k, v in self.headers.items()},
                form,
            )
            stub.requests.append(recorded)
            return recorded

        def _reply(self, status: int, body: dict) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Request-Id", "req_stub")
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args) -> None:
            pass

    return Handler


@pytest.fixture
def stub() -> Iterator[StripeStub]:
    stub = StripeStub()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(stub))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    stub.url = f"http://127.0.0.1:{server.server_address[1]}"
    yield stub
    stub.release.set()
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.fixture
def gateway(stub: StripeStub) -> StripeGateway:
    return StripeGateway(API_KEY, api_base=stub.url, timeout_seconds=2)


def charge(gateway: StripeGateway, token: str, key: str = "pay-1", amount: int = 12000):
    return gateway.charge(
        token=token, amount_cents=amount, idempotency_key=key, description="Medical bill B-200"
    )


def test_a_charge_confirms_one_payment_intent_under_the_idempotency_key(gateway, stub):
    result = charge(gateway, SUCCESS, key="pay-success")
    assert result == ChargeResult("succeeded", "pi_stub000001")
    [request] = stub.requests
    assert (request.method, request.path) == ("POST", "/v1/payment_intents")
    assert request.headers["idempotency-key"] == "pay-success"
    assert request.headers["authorization"] == f"Bearer {API_KEY}"
    assert request.form == {
        "amount": "12000",
        "currency": "usd",
        "payment_method": SUCCESS,
        "confirm": "true",
        "off_session": "true",
        "description": "Medical bill B-200",
        "metadata[idempotency_key]": "pay-success",
    }


def test_a_token_with_its_customer_charges_that_customers_payment_method(gateway, stub):
    result = charge(gateway, f"cus_stub42/{SUCCESS}", key="pay-customer")
    assert result.outcome == "succeeded"
    [request] = stub.requests
    assert request.form["customer"] == "cus_stub42"
    assert request.form["payment_method"] == SUCCESS


def test_the_same_key_twice_gets_stripes_first_answer_and_one_intent(gateway, stub):
    first = charge(gateway, SUCCESS, key="pay-twice")
    second = charge(gateway, SUCCESS, key="pay-twice")
    assert first == second
    assert len(stub.intents) == 1


@pytest.mark.parametrize(
    ("token", "code"),
    [(DECLINED, "card_declined"), (INSUFFICIENT_FUNDS, "insufficient_funds")],
)
def test_a_card_the_issuer_declines_is_declined_with_its_reason(gateway, stub, token, code):
    result = charge(gateway, token)
    assert (result.outcome, result.decline_code) == ("declined", code)
    assert result.reference == stub.intents[0]["id"]


def test_a_request_stripe_refuses_is_a_gateway_error(gateway):
    with pytest.raises(GatewayError) as refused:
        charge(gateway, BAD_REQUEST)
    assert "resource_missing" in str(refused.value) and API_KEY not in str(refused.value)


def test_a_server_error_leaves_the_charge_unknown_since_stripe_calls_it_indeterminate(gateway):
    with pytest.raises(GatewayTimeout) as unknown:
        charge(gateway, SERVER_ERROR)
    assert not isinstance(unknown.value, GatewayError)
    assert "HTTP 500" in str(unknown.value)


def test_no_answer_within_the_timeout_is_a_gateway_timeout(stub):
    gateway = StripeGateway(API_KEY, api_base=stub.url, timeout_seconds=0.3)
    with pytest.raises(GatewayTimeout):
        charge(gateway, SLOW)
    assert len(stub.requests) == 1


def test_a_stripe_that_cannot_be_reached_is_a_gateway_timeout():
    gateway = StripeGateway(API_KEY, api_base="http://127.0.0.1:9", timeout_seconds=1)
    with pytest.raises(GatewayTimeout):
        charge(gateway, SUCCESS)


def test_a_charge_still_processing_is_unknown_until_it_settles(gateway):
    with pytest.raises(ChargeStillProcessing):
        charge(gateway, PROCESSING, key="pay-bank")
    with pytest.raises(GatewayTimeout):
        gateway.find_charge("pay-bank")


def test_find_charge_finds_the_intent_by_its_idempotency_key(gateway, stub):
    charge(gateway, SUCCESS, key="pay-a")
    charge(gateway, INSUFFICIENT_FUNDS, key="pay-b")
    assert gateway.find_charge("pay-a") == ChargeResult("succeeded", "pi_stub000001")
    assert gateway.find_charge("pay-b") == ChargeResult(
        "declined", "pi_stub000002", "insufficient_funds"
    )
    search = stub.requests[-1]
    assert (search.method, search.path) == ("GET", "/v1/payment_intents/search")
    assert search.form["query"] == "metadata['idempotency_key']:'pay-b'"


def test_find_charge_says_none_for_a_key_never_charged(gateway):
    assert gateway.find_charge("never-charged") is None


def test_a_quote_in_the_key_cannot_break_out_of_the_search_query(gateway, stub):
    assert gateway.find_charge("x' OR status:'succeeded") is None
    assert stub.requests[-1].form["query"] == (
        "metadata['idempotency_key']:'x\\' OR status:\\'succeeded'"
    )
