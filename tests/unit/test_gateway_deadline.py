"""A charge held to a deadline: late is UNKNOWN, and one never sent is no charge at all."""

from __future__ import annotations

import threading

import pytest

from billing_core.adapters.gateways import deadline
from billing_core.adapters.gateways.base import ChargeResult, GatewayError, GatewayTimeout


class StuckGateway:
    name = "stuck"
    verifies_postal_code = False

    def __init__(self) -> None:
        self.release = threading.Event()
        self.sent: list[str] = []

    def charge(self, *, token, amount_cents, idempotency_key, description):
        self.sent.append(idempotency_key)
        self.release.wait(5)
        return ChargeResult("succeeded", reference="ch_1")

    def find_charge(self, idempotency_key):
        return None


def charge(gateway, key: str):
    return gateway.charge(token="t", amount_cents=100, idempotency_key=key, description="d")


def test_a_charge_sent_but_not_answered_in_time_is_unknown(monkeypatch):
    stuck = StuckGateway()
    held = deadline.DeadlineGateway(stuck, seconds=0.2)
    try:
        with pytest.raises(GatewayTimeout):
            charge(held, "k1")
        assert stuck.sent == ["k1"]
    finally:
        stuck.release.set()


def test_a_charge_still_queued_at_its_deadline_is_never_sent(monkeypatch):
    monkeypatch.setattr(deadline, "MOST_CHARGES_AT_ONCE", 1)
    stuck = StuckGateway()
    held = deadline.DeadlineGateway(stuck, seconds=0.2)
    try:
        with pytest.raises(GatewayTimeout):
            charge(held, "k1")  # takes the only thread, and holds it
        with pytest.raises(GatewayError, match="not sent"):
            charge(held, "k2")  # waits for a thread past its deadline: dropped, never sent
    finally:
        stuck.release.set()
    held._pool.shutdown(wait=True)
    assert stuck.sent == ["k1"]
