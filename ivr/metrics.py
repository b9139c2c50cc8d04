"""Prometheus metrics of the line: calls, identifications, payments, webhooks and jobs.

Each app has a registry of its own, so many apps in one process (tests) never share a
count. Labels are fixed words (a region key, a step, a status, a gateway's decline code):
nothing a caller keyed or said, and no number, MRN or name, ever becomes a label.

With gunicorn's several workers (and `ivr jobs worker` processes on the same host), set
PROMETHEUS_MULTIPROC_DIR to an empty folder before they start: every process writes its
counts there, and /metrics adds them up (prometheus_client's multiprocess mode).
"""

from __future__ import annotations

import dataclasses
import os
import re
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from flask import Flask, Response, current_app, g, has_request_context, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram
from prometheus_client import generate_latest as _generate_latest
from prometheus_client.multiprocess import MultiProcessCollector

from billing_core.adapters.jobs import Batches, JobDefinition
from billing_core.domain.events import Event, IdentificationAttempted, PaymentSettled
from billing_core.domain.payments import MethodKind, PaymentStatus
from ivr.call_state import CallState

# §10: ordinary webhooks within 15 ms, the payment confirmation within 40 ms (p99), and
# Twilio gives up on any webhook after 15 s.
WEBHOOK_BUCKETS = (0.005, 0.01, 0.015, 0.025, 0.04, 0.075, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15)
JOB_BUCKETS = (0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600)

# How a call ended, as the call's state knows it at Twilio's status callback.
PAID = "paid"  # a payment went through in the call
TRANSFERRED = "transferred"  # handed to a billing specialist
IDENTIFIED = "identified"  # identified, no payment taken
NOT_IDENTIFIED = "not_identified"  # tried to identify and never matched
HUNG_UP = "hung_up"  # ended before any identification was tried
NOT_CONNECTED = "not_connected"  # Twilio: busy, no-answer, failed or canceled
CALL_OUTCOMES = (PAID, TRANSFERRED, IDENTIFIED, NOT_IDENTIFIED, HUNG_UP, NOT_CONNECTED)

# A label value is a word of this shape, or "other": a gateway's decline code is its own
# vocabulary, but whatever it sends never makes an unbounded set of series.
_WORD = re.compile(r"[a-z0-9_]{1,40}")
OTHER = "other"


def _word(value: str | None, known: tuple[str, ...] | None = None) -> str:
    value = (value or "").lower()
    if known is not None:
        return value if value in known else OTHER
    return value if _WORD.fullmatch(value) else OTHER


class Metrics:
    """The app's counters and histograms, in a registry of its own."""

    def __init__(self) -> None:
        self.registry = registry = CollectorRegistry()
        self.calls = Counter(
            "ivr_calls",
            "Calls ended, by region and by how they ended",
            ["region", "outcome"],
            registry=registry,
        )
        self.identifications = Counter(
            "ivr_identifications",
            "Identifications (MRN and birth date checked), by result",
            ["result", "channel"],
            registry=registry,
        )
        self.payments = Counter(
            "ivr_payments",
            "Payments settled, by status (succeeded, submitted, failed, unknown), method, channel",
            ["status", "method", "channel"],
            registry=registry,
        )
        self.declines = Counter(
            "ivr_payment_declines",
            "Payments that failed, by the gateway's decline code (or processing_error)",
            ["code", "method"],
            registry=registry,
        )
        self.webhook_seconds = Histogram(
            "ivr_webhook_duration_seconds",
            "Time to answer a Twilio webhook, by step",
            ["endpoint"],
            buckets=WEBHOOK_BUCKETS,
            registry=registry,
        )
        self.webhook_failures = Counter(
            "ivr_webhook_failures",
            "Webhooks whose step failed: the caller heard an apology and a way to a person",
            ["endpoint"],
            registry=registry,
        )
        self.webhooks_refused = Counter(
            "ivr_webhooks_refused",
            "Requests refused for a missing or wrong Twilio signature",
            registry=registry,
        )
        self.job_runs = Counter(
            "ivr_job_runs",
            "Runs of the scheduled tasks, by task and result (succeeded, failed)",
            ["job", "result"],
            registry=registry,
        )
        self.job_seconds = Histogram(
            "ivr_job_duration_seconds",
            "Time a task's run took, by task",
            ["job"],
            buckets=JOB_BUCKETS,
            registry=registry,
        )

    # -- the billing core's events ---------------------------------------------------------

    def observe(self, event: Event) -> None:
        """Count an event of the billing core."""
        if isinstance(event, PaymentSettled):
            method = _word(event.method, tuple(MethodKind))
            status = _word(event.status, tuple(PaymentStatus))
            self.payments.labels(status, method, _word(event.channel)).inc()
            if event.status == PaymentStatus.FAILED:
                self.declines.labels(_word(event.decline_code), method).inc()
            if PaymentStatus(event.status).went_through:
                _mark_call_paid()
        elif isinstance(event, IdentificationAttempted):
            self.identifications.labels(_word(event.result), _word(event.channel)).inc()

    # -- calls -----------------------------------------------------------------------------

    def call_ended(self, state: CallState, call_status: str) -> None:
        """Count a call Twilio says is over, by its region and how it ended."""
        region = state.region or ("national" if state.national else "unknown")
        self.calls.labels(_word(region), call_outcome(state, call_status)).inc()

    # -- jobs ------------------------------------------------------------------------------

    def counted(self, definition: JobDefinition) -> JobDefinition:
        """The task, its runs counted: a plain task's runs, or a batched one's split and batches."""
        if definition.batches is None:
            return dataclasses.replace(definition, run=self._timed(definition.name, definition.run))
        batches = definition.batches
        counted = Batches(
            split=self._timed(definition.name, batches.split),
            run=self._timed(definition.batch_task, batches.run),
            combine=batches.combine,
        )
        return dataclasses.replace(definition, run=counted.run_inline, batches=counted)

    def _timed(self, job: str, run: Callable[..., Any]) -> Callable[..., Any]:
        def timed(now: datetime, *args: Any) -> Any:
            started = time.perf_counter()
            result = "failed"
            try:
                outcome = run(now, *args)
                result = "succeeded"
                return outcome
            finally:
                self.job_seconds.labels(job).observe(time.perf_counter() - started)
                self.job_runs.labels(job, result).inc()

        return timed

    # -- the scrape ------------------------------------------------------------------------

    def exposition(self) -> Response:
        """Every metric in Prometheus' text format, from all processes in multiprocess mode."""
        registry = self.registry
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            registry = CollectorRegistry()
            MultiProcessCollector(registry)
        return Response(_generate_latest(registry), mimetype=CONTENT_TYPE_LATEST)


def call_outcome(state: CallState, call_status: str) -> str:
    """How the call ended: the first of transferred, paid, identified, not identified, hung up."""
    if call_status not in ("", "completed"):
        return NOT_CONNECTED
    if state.transferred:
        return TRANSFERRED
    if state.paid:
        return PAID
    if state.member_id is not None:
        return IDENTIFIED
    if state.identification_failures:
        return NOT_IDENTIFIED
    return HUNG_UP


def _mark_call_paid() -> None:
    """Note on the call being answered that a payment of it went through."""
    if not has_request_context():
        return
    state: CallState | None = g.get("call")
    if state is not None:
        state.paid = True


def metrics() -> Metrics:
    return current_app.extensions["metrics"]


def install(app: Flask, unsigned: set[str]) -> Metrics:
    """Count the app's webhooks, and the billing core's events; before any other hook.

    The timer starts before the signature check and stops after the call state is saved
    (after_request hooks run last-registered first). Blueprints in `unsigned` (health,
    the metrics themselves) are not webhooks and are not timed.
    """
    found = Metrics()
    app.extensions["metrics"] = found
    app.extensions["billing"].observe(found.observe)

    @app.before_request
    def _start_timer() -> None:
        g.metrics_started = time.perf_counter()

    @app.after_request
    def _count_webhook(response: Response) -> Response:
        started = g.pop("metrics_started", None)
        if started is None or request.blueprint in unsigned:
            return response
        endpoint = request.endpoint or "unmatched"
        found.webhook_seconds.labels(endpoint).observe(time.perf_counter() - started)
        if response.status_code == 403:
            found.webhooks_refused.inc()
        return response

    return found
