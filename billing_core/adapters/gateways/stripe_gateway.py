"""The Stripe gateway: one confirmed PaymentIntent per idempotency key.

A charge creates and confirms a PaymentIntent off-session with the payment's
idempotency key both as Stripe's Idempotency-Key header (so a repeated request is
answered from Stripe's record, never charged again) and in the intent's metadata (so
find_charge can look the intent up later by searching for it).

A bank debit (us_bank_account) is "processing" until it settles: the charge is taken as
submitted, and settlement() reads the intent later: succeeded is settled, back to
requires_payment_method is returned, with Stripe's failure code mapped to NACHA's.
Refunds go through Stripe's Refunds API under the refund's idempotency key. Stripe cannot
cancel a confirmed intent, so a void is refused: refund it once it has settled.
"""

from __future__ import annotations

from typing import Any

import stripe

from billing_core.adapters.gateways.base import (
    CLEARING,
    DECLINED,
    RETURNED,
    SETTLED,
    SUCCEEDED,
    ChargeResult,
    GatewayError,
    GatewayTimeout,
    RefundResult,
    Settlement,
)

METADATA_KEY = "idempotency_key"
# Statuses in which money may still move: neither succeeded nor declined yet.
_STILL_MOVING = frozenset({"processing", "requires_capture"})
# Stripe's failure codes of a returned bank debit, as NACHA's return codes.
_NACHA = {
    "insufficient_funds": "R01",
    "account_closed": "R02",
    "no_account": "R03",
    "invalid_account_number": "R04",
    "debit_not_authorized": "R10",
    "bank_account_frozen": "R16",
    "bank_account_restricted": "R20",
}


class ChargeStillProcessing(GatewayTimeout):
    """Stripe accepted the charge but has not settled it yet (e.g. a bank debit): ask later."""


# A token "cus_123/pm_456" names the customer and the payment method attached to it.
CUSTOMER_SEPARATOR = "/"


class StripeGateway:
    """Charges Stripe PaymentMethod tokens through a PaymentIntent each."""

    name = "stripe"
    # Stripe compares the ZIP with the issuer's (address_zip_check); Radar blocks a failed one.
    verifies_postal_code = True

    def __init__(
        self, api_key: str, *, api_base: str | None = None, timeout_seconds: float = 20
    ) -> None:
        if not api_key:
            raise ValueError("a Stripe API key is required")
        self._client = stripe.StripeClient(
            api_key,
            base_addresses={"api": api_base} if api_base else {},
            http_client=stripe.RequestsClient(timeout=timeout_seconds),
            # The caller is on the line: a lost answer becomes UNKNOWN at once and the
            # reconcile job asks Stripe later, rather than the call waiting out retries.
            max_network_retries=0,
        )

    def charge(
        self, *, token: str, amount_cents: int, idempotency_key: str, description: str
    ) -> ChargeResult:
        """Create and confirm a PaymentIntent; the same key again replays Stripe's first answer."""
        params: dict[str, Any] = {
            "amount": amount_cents,
            "currency": "usd",
            "payment_method": token,
            "confirm": True,
            "off_session": True,
            "description": description[:200],
            "metadata": {METADATA_KEY: idempotency_key},
        }
        customer, _, payment_method = token.rpartition(CUSTOMER_SEPARATOR)
        if customer:
            # A reusable token from Twilio's Stripe connector is a payment method attached
            # to a customer (Twilio's ProfileId); Stripe charges it only with both named.
            params["customer"] = customer
            params["payment_method"] = payment_method
        try:
            intent = self._client.v1.payment_intents.create(
                params=params,
                options={"idempotency_key": idempotency_key},
            )
        except stripe.CardError as error:
            return _declined(error)
        except stripe.StripeError as error:
            raise _translate(error) from error
        return _result(intent)

    def find_charge(self, idempotency_key: str) -> ChargeResult | None:
        """The PaymentIntent made with this key, found by its metadata, or None.

        Stripe's search is eventually consistent (normally within a minute), so the
        reconcile job must leave a payment at least that long before calling it uncharged.
        """
        query = f"metadata['{METADATA_KEY}']:'{_quoted(idempotency_key)}'"
        try:
            found = self._client.v1.payment_intents.search(params={"query": query, "limit": 10})
        except stripe.StripeError as error:
            raise _translate(error) from error
        intents = list(found.data)
        if not intents:
            return None
        # One key makes at most one intent; should there be more, a success must not be missed.
        for intent in intents:
            if intent.status == "succeeded":
                return _result(intent)
        return _result(intents[0])

    def settlement(self, reference: str) -> Settlement:
        """What became of a bank debit: still processing, succeeded, or back from the bank."""
        try:
            intent = self._client.v1.payment_intents.retrieve(reference)
        except stripe.StripeError as error:
            raise _translate(error) from error
        status = intent.get("status")
        if status == "succeeded":
            return Settlement(SETTLED)
        if status == "processing":
            return Settlement(CLEARING)
        error = intent.get("last_payment_error") or {}
        return Settlement(RETURNED, _NACHA.get(error.get("code") or ""))

    def refund(self, *, reference: str, amount_cents: int, idempotency_key: str) -> RefundResult:
        """Refund part or all of the intent's charge; the same key replays Stripe's answer."""
        try:
            refund = self._client.v1.refunds.create(
                params={"payment_intent": reference, "amount": amount_cents},
                options={"idempotency_key": idempotency_key},
            )
        except stripe.StripeError as error:
            raise _translate(error) from error
        return RefundResult(refund.get("id"), int(refund.get("amount") or amount_cents))

    def void(self, *, reference: str, idempotency_key: str) -> RefundResult:
        """Refused: a confirmed intent cannot be cancelled at Stripe; refund it instead."""
        raise GatewayError("stripe cannot void a confirmed payment: refund it once it settles")


def _result(intent: Any) -> ChargeResult:
    """What a PaymentIntent's status means for the payment."""
    status = intent.get("status")
    if status == "succeeded":
        return ChargeResult(SUCCEEDED, intent.get("id"))
    if status == "processing" and "us_bank_account" in (intent.get("payment_method_types") or []):
        # Accepted: the debit is on its way to the member's bank (settlement() follows it).
        return ChargeResult(SUCCEEDED, intent.get("id"))
    if status in _STILL_MOVING:
        raise ChargeStillProcessing(f"payment intent {intent.get('id')} is {status}")
    error = intent.get("last_payment_error") or {}
    return ChargeResult(DECLINED, intent.get("id"), _decline_code(error, status or "declined"))


def _decline_code(error: Any, default: str) -> str:
    """The issuer's decline code (insufficient_funds, ...), else Stripe's error code."""
    decline_code = error.get("decline_code")
    # "generic_decline" says no more than the error code "card_declined" does.
    if decline_code and decline_code != "generic_decline":
        return decline_code
    return error.get("code") or default


def _declined(error: stripe.CardError) -> ChargeResult:
    """A card error, with the issuer's reason when it says more than "declined"."""
    details = error.error or {}
    intent = details.get("payment_intent") or {}
    return ChargeResult(DECLINED, intent.get("id"), _decline_code(details, "card_declined"))


def _translate(error: stripe.StripeError) -> Exception:
    """Map a Stripe error to the gateway interface, without keys or card data in the message."""
    status = error.http_status
    what = f"stripe {type(error).__name__}" + (f" (HTTP {status})" if status else "")
    if isinstance(error, stripe.APIConnectionError):
        # The request may have reached Stripe before the connection failed.
        return GatewayTimeout(what)
    if status is not None and status >= 500:
        # Stripe treats a 5xx as indeterminate: the intent may have been confirmed.
        return GatewayTimeout(what)
    code = getattr(error, "code", None)
    return GatewayError(f"{what}: {code}" if code else what)


def _quoted(value: str) -> str:
    """Escape a value for a single-quoted string in Stripe's search query language."""
    return value.replace("\\", "\\\\").replace("'", "\\'")
