"""Stripe's events about bank debits (`POST /stripe/events`): learn a settlement or a return
as soon as Stripe knows it, rather than at the next reconcile.

Off unless IVR_STRIPE_WEBHOOK_SECRET is set (404). Stripe signs each event
(`Stripe-Signature`); one that is not signed with the secret, or is older than five
minutes, is refused (400) and changes nothing. An event only names the PaymentIntent: the
gateway's own record of it decides what is recorded (payment_lifecycle), so a replayed,
forged-but-signed-long-ago or out-of-order event can never move money the wrong way, and
the same event twice records nothing more. Every other event is acknowledged (200), so
Stripe stops sending it.
"""

from __future__ import annotations

import logging

from flask import Blueprint, abort, current_app, request

from billing_core.core import BillingCore

log = logging.getLogger(__name__)

bp = Blueprint("stripe_events", __name__)

# The events that say a PaymentIntent's bank debit settled or came back.
FOLLOWED = frozenset(
    {
        "payment_intent.succeeded",
        "payment_intent.payment_failed",
        "charge.succeeded",
        "charge.failed",
        "charge.dispute.created",
    }
)


@bp.post("/stripe/events")
def stripe_event():
    """Check the event's signature, then record what Stripe's record says of its debit."""
    secret = current_app.config["IVR_STRIPE_WEBHOOK_SECRET"]
    if not secret:
        abort(404)
    import stripe  # only with Stripe configured

    try:
        event = stripe.Webhook.construct_event(
            request.get_data(), request.headers.get("Stripe-Signature", ""), secret
        )
    except (ValueError, stripe.SignatureVerificationError):
        log.warning("a Stripe event with a bad signature or body, refused")
        return {"received": False}, 400
    if event.get("type") in FOLLOWED:
        thing = (event.get("data") or {}).get("object") or {}
        reference = thing.get("payment_intent") or thing.get("id")
        if isinstance(reference, str) and reference:
            core: BillingCore = current_app.extensions["billing"]
            report = core.follow_bank_debit(reference)
            log.info("stripe event %s: %s", event.get("id"), report.line())
    return {"received": True}, 200
