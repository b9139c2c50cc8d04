"""The job engine wired with the app's configuration: its tasks, and the embedded local worker.

The billing core's tasks (outbox, reconcile) come from billing_core.services.tasks; the
phone channel adds its own (purging the state of calls that ended without a status
callback). `ivr jobs ...` runs them; with IVR_JOBS_LOCAL_WORKER the app also runs a
worker on a thread of its own process (what `make run` does).
"""

from __future__ import annotations

import atexit
import logging
from dataclasses import dataclass, field
from datetime import datetime

from flask import Flask
from procrastinate import App

from billing_core.adapters.jobs import JobDefinition, LocalWorker, make_job_app
from billing_core.services.outbox import EMAIL, SMS
from billing_core.services.tasks import billing_tasks
from ivr.unsubscribe import links

PURGE_CALLS = "purge-calls"

log = logging.getLogger(__name__)


@dataclass
class Jobs:
    """The app's job engine: the procrastinate App and the definitions it was built from."""

    app: App
    definitions: dict[str, JobDefinition]
    local_worker: LocalWorker | None = field(default=None)

    def definition(self, name: str) -> JobDefinition:
        try:
            return self.definitions[name]
        except KeyError:
            known = ", ".join(self.definitions)
            raise KeyError(f"no task {name!r}; the tasks are: {known}") from None

    def run_now(self, name: str, now: datetime) -> str:
        """Run one task here and now, synchronously, as of `now`; no worker is involved."""
        return self.definition(name).run(now)


def definitions(app: Flask) -> list[JobDefinition]:
    """Every task of the line: the billing core's and the phone channel's."""
    core = app.extensions["billing"]
    store = app.extensions["call_store"]

    def purge_calls(now: datetime) -> str:
        return f"removed {store.purge_expired(now)} expired call(s)"

    return [
        # RECEIPT_SENDERS: tests give stand-in senders, as GATEWAY gives a gateway.
        *billing_tasks(core, app.config.get("RECEIPT_SENDERS") or receipt_senders(app.config)),
        JobDefinition(
            name=PURGE_CALLS,
            summary="delete the state of calls that expired without a status callback",
            run=purge_calls,
            cron="0 * * * *",
        ),
    ]


def install(app: Flask) -> Jobs:
    """Build the job engine from the app's configuration; start the local worker if asked."""
    # Their runs counted (ivr.metrics), whichever worker runs them, or `ivr jobs run`.
    found = [app.extensions["metrics"].counted(definition) for definition in definitions(app)]
    jobs = Jobs(
        app=make_job_app(
            app.config["DATABASE_URL"],
            found,
            clock=app.extensions["billing"].clock,
            connector=app.config.get("JOBS_CONNECTOR"),
        ),
        definitions={definition.name: definition for definition in found},
    )
    app.extensions["jobs"] = jobs
    if app.config["IVR_JOBS_LOCAL_WORKER"] and not app.testing:
        jobs.local_worker = LocalWorker(
            jobs.app, concurrency=app.config["IVR_JOBS_CONCURRENCY"]
        ).start()
        atexit.register(jobs.local_worker.stop)
        log.info("local job worker started (%s)", ", ".join(jobs.definitions))
    return jobs


def receipt_senders(settings) -> dict:
    """Return the configured senders by message kind."""
    senders: dict = {}
    if settings["IVR_SMS_FROM"] and settings["IVR_TWILIO_ACCOUNT_SID"]:
        from billing_core.adapters.senders.twilio_sms import TwilioSmsSender

        senders[SMS] = TwilioSmsSender(
            settings["IVR_TWILIO_ACCOUNT_SID"],
            settings["IVR_TWILIO_AUTH_TOKEN"],
            settings["IVR_SMS_FROM"],
            api_base=settings["IVR_TWILIO_API_BASE"] or None,
        )
    if settings["IVR_SMTP_HOST"]:
        from billing_core.adapters.senders.smtp import SmtpSender

        senders[EMAIL] = SmtpSender(
            settings["IVR_SMTP_HOST"],
            settings["IVR_SMTP_PORT"],
            username=settings["IVR_SMTP_USERNAME"] or None,
            password=settings["IVR_SMTP_PASSWORD"] or None,
            use_tls=settings["IVR_SMTP_STARTTLS"],
            sender_address=settings["IVR_RECEIPT_FROM"],
            unsubscribe_links=links(settings),
        )
    return senders
