"""Any payment gateway, held to a deadline: a charge not answered in time is UNKNOWN.

The phone channel charges inside a webhook, and Twilio waits 15 seconds for it before
playing the Fallback URL. A gateway's own HTTP timeout covers a silent socket, not a slow
answer trickling in, nor a gateway without one: here the wait itself is bounded. The
charge keeps running in its thread and may still go through; the payment stays UNKNOWN
until reconcile asks the gateway what became of its idempotency key.
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout

from billing_core.adapters.gateways.base import (
    ChargeResult,
    GatewayError,
    GatewayTimeout,
    PaymentGateway,
    RefundResult,
    Settlement,
)

log = logging.getLogger(__name__)

# Charges waited on at once per process; more wait their turn (and may time out doing so).
MOST_CHARGES_AT_ONCE = 8


class DeadlineGateway:
    """Answers for the gateway within `seconds`, or raises GatewayTimeout."""

    def __init__(self, gateway: PaymentGateway, seconds: float) -> None:
        self.gateway = gateway
        self.name = gateway.name
        self.verifies_postal_code = gateway.verifies_postal_code
        self.seconds = seconds
        self._pool = ThreadPoolExecutor(MOST_CHARGES_AT_ONCE, thread_name_prefix="gateway")

    def charge(
        self, *, token: str, amount_cents: int, idempotency_key: str, description: str
    ) -> ChargeResult:
        future = self._pool.submit(
            self.gateway.charge,
            token=token,
            amount_cents=amount_cents,
            idempotency_key=idempotency_key,
            description=description,
        )
        try:
            return future.result(timeout=self.seconds)
        except FutureTimeout:
            if future.cancel():
                # Still waiting for a free thread: never sent, so nothing can have been taken.
                raise GatewayError("too many charges at once; not sent") from None
            log.warning("%s gave no answer within %s s", self.name, self.seconds)
            raise GatewayTimeout(f"no answer within {self.seconds} s") from None

    def find_charge(self, idempotency_key: str) -> ChargeResult | None:
        return self._within(self.gateway.find_charge, idempotency_key)

    # Refunds, voids and settlements run from jobs and commands, not inside a webhook; they
    # are held to the same deadline so a hung gateway never hangs a job, and a refund whose
    # answer is lost is asked again under the same idempotency key.
    def settlement(self, reference: str) -> Settlement:
        return self._within(self.gateway.settlement, reference)

    def refund(self, *, reference: str, amount_cents: int, idempotency_key: str) -> RefundResult:
        return self._within(
            self.gateway.refund,
            reference=reference,
            amount_cents=amount_cents,
            idempotency_key=idempotency_key,
        )

    def void(self, *, reference: str, idempotency_key: str) -> RefundResult:
        return self._within(self.gateway.void, reference=reference, idempotency_key=idempotency_key)

    def _within(self, call, *args, **kwargs):
        future = self._pool.submit(call, *args, **kwargs)
        try:
            return future.result(timeout=self.seconds)
        except FutureTimeout:
            future.cancel()
            raise GatewayTimeout(f"no answer within {self.seconds} s") from None
