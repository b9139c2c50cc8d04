"""Settling payments whose charge went unanswered, from the gateway's record; never charging."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from billing_core.adapters.gateways.base import GatewayError, GatewayTimeout, PaymentGateway
from billing_core.adapters.queries import payments as queries
from billing_core.adapters.unit_of_work import UnitOfWork
from billing_core.domain.payments import PaymentStatus
from billing_core.services.payment_values import ReconcileReport
from billing_core.services.settlement import NOT_CHARGED, settle

log = logging.getLogger(__name__)


def reconcile(
    uow_factory: Callable[[], UnitOfWork],
    gateway: PaymentGateway,
    *,
    now: datetime,
    older_than: timedelta = timedelta(minutes=10),
    unknown_for: timedelta = timedelta(hours=24),
) -> ReconcileReport:
    """Settle stale PENDING and all UNKNOWN payments from the gateway's record; never charge.

    A PENDING payment is asked about once it is `older_than`, or at once when its call has
    ended (nobody is left to finish it: a charge that went through is recorded, and its
    receipts sent, on the next run). A gateway's search can lag behind its charges, so
    "no charge found" only fails a PENDING payment after `older_than`, and an UNKNOWN one
    (its charge was sent and the answer lost) only after `unknown_for`, past the gateway's
    idempotency window. A payment failed here is one the caller was told was still being
    confirmed: settle queues the notice that it did not go through.
    """
    cutoff = now - older_than
    unknown_cutoff = now - unknown_for
    with uow_factory() as uow:
        open_payments = queries.payments_to_reconcile(uow, gateway.name, cutoff)

    settled: dict[PaymentStatus, list[str]] = {
        PaymentStatus.SUCCEEDED: [],
        PaymentStatus.FAILED: [],
    }
    unsettled: list[str] = []
    for payment_id, key, confirmation, created_at, status in open_payments:
        try:
            found = gateway.find_charge(key)
        except (GatewayError, GatewayTimeout) as error:
            log.warning("reconcile: payment %s not settled: %s", payment_id, error)
            unsettled.append(confirmation)
            continue
        if found is not None:
            outcome = settle(uow_factory(), payment_id, now=now, result=found, by="reconcile")
        elif created_at <= (unknown_cutoff if status is PaymentStatus.UNKNOWN else cutoff):
            # No charge under this key long after the payment began: it never happened.
            outcome = settle(
                uow_factory(), payment_id, now=now, failure=NOT_CHARGED, by="reconcile"
            )
        else:
            # A recent timeout: the charge may still be landing; ask again next run.
            unsettled.append(confirmation)
            continue
        # A bank debit accepted is SUBMITTED: it went through, as a card's SUCCEEDED did.
        status = PaymentStatus.SUCCEEDED if outcome.status.went_through else outcome.status
        settled.get(status, unsettled).append(confirmation)
    return ReconcileReport(
        succeeded=tuple(settled[PaymentStatus.SUCCEEDED]),
        failed=tuple(settled[PaymentStatus.FAILED]),
        unsettled=tuple(unsettled),
    )
