"""The phone channel: Twilio voice (and incoming text) webhooks in front of the billing core."""

from __future__ import annotations

import logging
import os
from datetime import timedelta
from typing import Any

from flask import Flask
from twilio.request_validator import RequestValidator

from billing_core.adapters.db import make_engine
from billing_core.adapters.regions_file import load_regions
from billing_core.core import BillingCore
from billing_core.domain.clock import SystemClock
from billing_core.domain.identity import IdentityHasher
from billing_core.services.identification import LockoutPolicy
from ivr import (
    calls,
    cli,
    config,
    health,
    jobs,
    logs,
    messaging,
    metrics,
    recording,
    stripe_events,
    unsubscribe,
)
from ivr.call_state import CallStore
from ivr.flows import (
    agent,
    assist,
    autopay,
    balances,
    capture,
    documents,
    entry,
    fallback,
    identify,
    menu,
    notices,
    paperless,
    pay,
    planned,
    plans,
    questions,
    recent,
    scheduled,
    snapshot,
    spoken,
    status,
    waiting,
    ways_to_pay,
)
from ivr.i18n import load_languages, load_translations
from ivr.kernel import EXITS, Services

# Every flow of the call, one Blueprint each.
FLOWS = (
    entry,
    identify,
    snapshot,
    menu,
    spoken,
    balances,
    pay,
    capture,
    recent,
    ways_to_pay,
    planned,
    autopay,
    scheduled,
    plans,
    documents,
    paperless,
    notices,
    questions,
    agent,
    assist,
    status,
    fallback,
    waiting,
)

log = logging.getLogger(__name__)


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the webhook application; test_config overrides the environment."""
    app = Flask(__name__, instance_relative_config=True, static_folder=None)
    app.config.from_mapping(
        config.from_environment(config.current_environment(), app.instance_path)
    )
    if test_config:
        app.config.update(test_config)
    os.makedirs(app.instance_path, exist_ok=True)
    _configure_logging(app)

    _refuse_development_secrets_in_production(app)

    # The regions file is checked here, so a bad file stops the app before it answers a call.
    regions = load_regions(app.config["IVR_REGIONS_FILE"])
    engine = app.config.get("ENGINE") or make_engine(
        app.config["DATABASE_URL"],
        lock_timeout_ms=app.config["IVR_DB_LOCK_TIMEOUT_MS"],
        statement_timeout_ms=app.config["IVR_DB_STATEMENT_TIMEOUT_MS"],
        hide_parameters=True,
    )
    clock = app.config.get("CLOCK") or SystemClock()
    core = BillingCore(
        gateway=app.config.get("GATEWAY") or _gateway(app.config),
        gateway_deadline=app.config["IVR_GATEWAY_TIMEOUT"],
        engine=engine,
        hasher=IdentityHasher(app.config["IVR_IDENTITY_KEY"]),
        regions=regions,
        clock=clock,
        lockout_policy=LockoutPolicy(
            mrn_failures=app.config["IVR_LOCKOUT_MRN_FAILURES"],
            caller_failures=app.config["IVR_LOCKOUT_CALLER_FAILURES"],
            mrn_total_failures=app.config["IVR_LOCKOUT_MRN_TOTAL_FAILURES"],
            withheld_failures=app.config["IVR_LOCKOUT_WITHHELD_FAILURES"],
        ),
        autopay_notice_days=app.config["IVR_AUTOPAY_CHANGE_NOTICE_DAYS"],
        autopay_batch_size=app.config["IVR_AUTOPAY_BATCH_SIZE"],
        plan_rules=config.plan_rulebook(app.config, regions),
        reminder_rules=config.reminder_rules(app.config),
        returned_item_fee_cents=config.returned_item_fee(app.config),
    )
    languages = load_languages({"en": app.config["IVR_VOICE_EN"], "es": app.config["IVR_VOICE_ES"]})
    app.extensions["billing"] = core
    if app.config["IVR_PAY_POSTAL_CODE"] is None:
        # Asked only where the gateway checks it: each field costs every card payer seconds.
        app.config["IVR_PAY_POSTAL_CODE"] = core.gateway.verifies_postal_code
    app.extensions["call_store"] = CallStore(
        core.engine,
        timedelta(minutes=app.config["IVR_CALL_TTL_MINUTES"]),
        end_marker_ttl=timedelta(days=app.config["IVR_CALL_END_MARKER_DAYS"]),
    )
    app.extensions["twilio_validator"] = RequestValidator(app.config["IVR_TWILIO_AUTH_TOKEN"])
    services = Services(
        billing=core,
        settings=app.config,
        languages=languages,
        translations={
            code: load_translations(language.locale) for code, language in languages.items()
        },
        call_store=app.extensions["call_store"],
    )
    # Tests and the simulator reword prompts by changing these in place.
    app.extensions["languages"] = services.languages
    app.extensions["translations"] = services.translations
    # First, so that a webhook's time counts every other hook (the signature, the state).
    metrics.install(app, calls.NOT_WEBHOOKS)
    calls.install(app, services)
    recording.install(app)
    for flow in FLOWS:
        app.register_blueprint(flow.bp)
    calls.NOT_CALLS.add(messaging.bp.name)
    messaging.install(app)
    # What a browser, a mail program, Stripe or a monitor asks for: no Twilio signature.
    for page in (health, unsubscribe, stripe_events):
        calls.NOT_WEBHOOKS.add(page.bp.name)
        app.register_blueprint(page.bp)
    capture.ach_parameters(app.config)  # a malformed value stops the start-up, not a call
    unbound = [exit.name for exit in (*EXITS, *capture.EXITS, *pay.EXITS) if not exit.bound]
    if unbound:
        raise RuntimeError(f"no step bound to the exits: {', '.join(unbound)}")

    jobs.install(app)
    cli.register(app)
    return app


def _refuse_development_secrets_in_production(app: Flask) -> None:
    """Stop unless real secrets are set, except on the embedded SQLite set-up or in tests.

    The development auth token and identity key are in this repository: with them anyone
    could forge webhooks or test birth dates against a copy of the database.
    """
    defaults = [
        name
        for name, development_value in (
            ("IVR_TWILIO_AUTH_TOKEN", config.DEV_AUTH_TOKEN),
            ("IVR_IDENTITY_KEY", config.DEV_IDENTITY_KEY),
        )
        if app.config[name] == development_value
    ]
    if not defaults or app.testing:
        return
    if not config.is_embedded(app.config):
        raise RuntimeError(f"set {' and '.join(defaults)}: the development values are public")
    log.warning(
        "%s not set: using the public development values (embedded set-up only)",
        " and ".join(defaults),
    )


def _gateway(settings):
    """Return the configured payment gateway; None lets the billing core use its sandbox."""
    if settings["IVR_GATEWAY"] == "sandbox":
        return None
    if settings["IVR_GATEWAY"] == "stripe":
        from billing_core.adapters.gateways.stripe_gateway import StripeGateway

        if not settings["IVR_STRIPE_API_KEY"]:
            raise RuntimeError("IVR_GATEWAY=stripe needs IVR_STRIPE_API_KEY")
        # The charge runs inside a webhook, and Twilio waits 15 seconds at most: a slower
        # answer becomes UNKNOWN, which reconcile settles, instead of a dropped call.
        return StripeGateway(
            settings["IVR_STRIPE_API_KEY"], timeout_seconds=settings["IVR_GATEWAY_TIMEOUT"]
        )
    raise RuntimeError(f"IVR_GATEWAY must be sandbox or stripe, not {settings['IVR_GATEWAY']!r}")


def _configure_logging(app: Flask) -> None:
    """Log the app's lines to stderr, as text or JSON (IVR_LOG_FORMAT); see ivr.logs.

    Log lines name calls by CallSid and payments by id; what callers key in is never logged.
    """
    logs.configure(app.config["IVR_LOG_LEVEL"], app.config["IVR_LOG_FORMAT"], testing=app.testing)
