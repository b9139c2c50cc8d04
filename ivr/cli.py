"""The `ivr` command for operators: database, billing feed, regions, payments, receipts, calls,
identification lock-outs, text consent, mailed documents.

The simulator's commands (`ivr call`, `ivr calls coverage|to-script|replay`, `ivr demo`)
come from the ivr_sim package, which FlaskGroup loads from the `flask.commands` entry
points when it is installed; nothing here imports it.
"""

from __future__ import annotations

import getpass
import logging
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from billing_core.adapters.migrate import upgrade as migrate
from billing_core.domain.exceptions import FeedRejected
from billing_core.domain.money import format_amount, parse_money
from billing_core.domain.text_keywords import ConsentChannel, ConsentStatus
from billing_core.services.feed_import import import_feed, load_feed_file
from billing_core.services.outbox import deliver_pending
from ivr.jobs import receipt_senders


def register(app: Flask) -> None:
    """Add the operator commands to the app's command line."""
    groups = (
        db,
        billing,
        regions,
        calls,
        payments,
        members,
        plans,
        outbox,
        documents,
        identity,
        texts,
        jobs,
    )
    for group in groups:
        app.cli.add_command(group)


@click.group()
def db() -> None:
    """Manage the database schema."""


@db.command("upgrade")
@with_appcontext
def db_upgrade() -> None:
    """Apply every migration the database has not had yet, and the job engine's schema."""
    job_schema = migrate(current_app.config["DATABASE_URL"])
    click.echo("database is up to date")
    if job_schema != "not needed":
        click.echo(f"job schema: {job_schema}")


@click.group()
def billing() -> None:
    """Load and export billing data."""


@billing.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--format",
    "file_format",
    type=click.Choice(["json", "csv"]),
    default=None,
    help="default: from the file's extension",
)
@click.option(
    "--as-of",
    "as_of",
    default=None,
    help="when the billing system extracted the file (ISO 8601 with zone); payments "
    "taken on the phone after it are kept on top of the file's paid amounts; "
    "default: now",
)
@with_appcontext
def billing_import(path: str, file_format: str | None, as_of: str | None) -> None:
    """Load members, bills and premiums from a billing feed, all or nothing."""
    core = current_app.extensions["billing"]
    now = core.clock.now()
    try:
        records = load_feed_file(path, regions=core.regions, today=now.date(), format=file_format)
    except FeedRejected as rejected:
        click.echo(
            f"{path}: rejected, nothing was imported ({len(rejected.problems)} problems):", err=True
        )
        for problem in rejected.problems:
            click.echo(f"  {problem}", err=True)
        raise SystemExit(1) from None
    extracted = None
    if as_of:
        extracted = datetime.fromisoformat(as_of)
        if extracted.tzinfo is None:
            raise click.BadParameter(
                "give a time zone, e.g. 2026-11-27T06:00:00-08:00", param_hint="--as-of"
            )
    report = import_feed(
        core.unit_of_work(), records=records, hasher=core.hasher, now=now, as_of=extracted
    )
    click.echo(import_summary(report))


def import_summary(report) -> str:
    """One line on what a feed import changed."""
    return (
        f"members: {report.members_created} new, {report.members_updated} updated, "
        f"{report.members_unchanged} unchanged; bills: {report.bills_created} new, "
        f"{report.bills_updated} updated; premiums: {report.premiums_created} new, "
        f"{report.premiums_updated} updated; payments elsewhere: {report.payments_created} new, "
        f"{report.payments_updated} updated"
    )


@billing.command("export-payments")
@click.option(
    "--since",
    "since",
    required=True,
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="first day to include (YYYY-MM-DD)",
)
@click.option("--output", "-o", type=click.File("w"), default="-", help="file (default: stdout)")
@with_appcontext
def export_payments(since, output) -> None:
    """Write the payments made since a date as CSV for the ledger."""
    output.write(current_app.extensions["billing"].export_payments_csv(since.date()))


@click.group()
def payments() -> None:
    """Settle payments; refund and void them."""


@payments.command("reconcile")
@click.option(
    "--older-than-minutes",
    default=10,
    show_default=True,
    help="leave PENDING payments younger than this to the call taking them",
)
@with_appcontext
def payments_reconcile(older_than_minutes: int) -> None:
    """Settle PENDING and UNKNOWN payments by asking the gateway; never charges."""
    report = current_app.extensions["billing"].reconcile(
        older_than=timedelta(minutes=older_than_minutes)
    )
    click.echo(
        f"succeeded: {len(report.succeeded)}, failed: {len(report.failed)}, "
        f"still open: {len(report.unsettled)}"
    )
    for number in report.unsettled:
        click.echo(f"  still open: {number}")
    click.echo(current_app.extensions["billing"].follow_bank_debits().line())


_REFUNDED_BY = click.option(
    "--by", "by", default=None, help="who asks, for the audit log (default: the OS user)"
)


@payments.command("refund")
@click.argument("confirmation")
@click.option("--amount", default=None, help="dollars to refund, e.g. 25.00 [default: the rest]")
@click.option("--another", is_flag=True, help="make one more refund of an amount refunded before")
@_REFUNDED_BY
@with_appcontext
def payments_refund(confirmation: str, amount: str | None, another: bool, by: str | None) -> None:
    """Refund a settled payment, in full or in part, through the gateway; once; audited."""
    from billing_core.services.payment_lifecycle import RefundRefused

    cents = None
    if amount is not None:
        try:
            cents = parse_money(amount)
        except ValueError as bad:
            raise click.BadParameter(str(bad), param_hint="--amount") from None
    try:
        done = current_app.extensions["billing"].refund_payment(
            confirmation, cents, by=by or _operator(), another=another
        )
    except RefundRefused as refused:
        raise click.ClickException(f"not refunded: {refused.reason}") from None
    _report_given_back(done)


@payments.command("export-ledger")
@click.option(
    "--since",
    "since",
    required=True,
    help="the first moment exported: an ISO date (midnight UTC) or a datetime with zone",
)
@click.option(
    "--format", "file_format", type=click.Choice(["csv", "json"]), default="csv", show_default=True
)
@click.option("-o", "--output", type=click.File("w"), default="-")
@with_appcontext
def payments_export_ledger(since: str, file_format: str, output) -> None:
    """Every payment change since then (submitted, settled, returned, refunded, voided),
    one entry per bill or premium month, for the billing system to post."""
    start = parse_as_of(since)
    output.write(current_app.extensions["billing"].export_ledger(start, file_format))


@payments.command("show")
@click.argument("confirmation")
@_REFUNDED_BY
@with_appcontext
def payments_show(confirmation: str, by: str | None) -> None:
    """Show a payment by its confirmation number: whose (masked), what for, what became of it."""
    from billing_core.services.servicing import NotFound

    try:
        details = current_app.extensions["billing"].payment_details(
            confirmation, by=by or _operator()
        )
    except NotFound:
        raise click.ClickException("no payment has this confirmation number") from None
    for line in payment_lines(details):
        click.echo(line)


@click.group()
def members() -> None:
    """Look up a member's calls and payments (masked; audited)."""


@members.command("show")
@click.argument("mrn")
@click.option("--days", default=90, show_default=True, type=click.IntRange(min=1))
@_REFUNDED_BY
@with_appcontext
def members_show(mrn: str, days: int, by: str | None) -> None:
    """A member's calls and payments of the last days, newest first, by MRN (not kept)."""
    from billing_core.services.servicing import NotFound

    try:
        activity = current_app.extensions["billing"].member_activity(
            mrn, by=by or _operator(), days=days
        )
    except NotFound:
        raise click.ClickException("no member has this MRN") from None
    click.echo(f"{activity.member}, region {activity.region}")
    click.echo(f"calls in the last {days} days: {len(activity.calls)}")
    for call in activity.calls:
        click.echo(
            f"  {call.started_at:%Y-%m-%d %H:%M} UTC  {call.call_sid}  {', '.join(call.actions)}"
        )
    click.echo(f"payments in the last {days} days: {len(activity.payments)}")
    for details in activity.payments:
        click.echo(
            f"  {details.made_at:%Y-%m-%d} {details.confirmation_number} "
            f"{format_amount(details.amount_cents, 'en')} {details.status} "
            f"{details.target}, {details.method}, {details.channel}"
        )


def payment_lines(details) -> list[str]:
    """A payment as `ivr payments show` prints it."""

    def money(cents: int) -> str:
        return format_amount(cents, "en")

    lines = [
        f"payment {details.confirmation_number}: {details.status}, {money(details.amount_cents)}",
        f"  member: {details.member}",
        f"  for: {details.target}; with: {details.method}",
        f"  made: {details.made_at:%Y-%m-%d %H:%M} UTC by {details.channel}"
        + (f", call {details.call_sid}" if details.call_sid else ""),
        f"  gateway: {details.gateway} {details.gateway_reference or '-'}",
    ]
    if details.failure_reason:
        lines.append(f"  declined: {details.failure_reason}")
    if details.return_code:
        fee = details.returned_item_fee_cents
        lines.append(f"  returned: {details.return_code}" + (f", fee {money(fee)}" if fee else ""))
    if details.refunded_cents:
        lines.append(f"  refunded: {money(details.refunded_cents)}")
    for change in details.history:
        lines.append(
            f"  {change.at:%Y-%m-%d %H:%M} UTC  {change.status} {money(change.amount_cents)}"
            + (f" {change.return_code}" if change.return_code else "")
        )
    for refund in details.refunds:
        lines.append(
            f"  {refund.kind} {money(refund.amount_cents)} {refund.status}, "
            f"asked by {refund.requested_by} {refund.at:%Y-%m-%d %H:%M} UTC"
        )
    return lines


@payments.command("void")
@click.argument("confirmation")
@_REFUNDED_BY
@with_appcontext
def payments_void(confirmation: str, by: str | None) -> None:
    """Cancel a payment that has not settled, in full, through the gateway; once; audited."""
    from billing_core.services.payment_lifecycle import RefundRefused

    try:
        done = current_app.extensions["billing"].void_payment(confirmation, by=by or _operator())
    except RefundRefused as refused:
        raise click.ClickException(f"not voided: {refused.reason}") from None
    _report_given_back(done)


def _report_given_back(done) -> None:
    what = "refund" if done.kind == "refund" else "void"
    amount = format_amount(done.amount_cents, "en")
    if done.status == "done":
        again = " (already made: nothing more was given back)" if done.repeated else ""
        where = f"{done.confirmation_number}: done, {done.gateway_reference}"
        click.echo(f"{what} of {amount} on {where}{again}")
    elif done.status == "pending":
        raise click.ClickException(
            f"{what} of {amount} on {done.confirmation_number}: the gateway did not answer; "
            "run the same command again to finish it (it will not be made twice)"
        )
    else:
        raise click.ClickException(
            f"{what} of {amount} on {done.confirmation_number}: refused by the gateway: "
            f"{done.failure_reason}"
        )


@click.group()
def plans() -> None:
    """Export payment plans."""


@plans.command("export")
@click.option(
    "--since",
    "since",
    default=None,
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="first day (UTC) a plan changed to include it (YYYY-MM-DD); default: every plan",
)
@click.option(
    "--format",
    "file_format",
    type=click.Choice(["csv", "json"]),
    default="csv",
    show_default=True,
)
@click.option("--output", "-o", type=click.File("w"), default="-", help="file (default: stdout)")
@with_appcontext
def plans_export(since, file_format: str, output) -> None:
    """Write the payment plans changed since a date for the billing system of record."""
    day = since.date() if since is not None else None
    output.write(current_app.extensions["billing"].export_plans(day, file_format))


@click.group()
def outbox() -> None:
    """Deliver receipts."""


@outbox.command("deliver")
@click.option("--batch", default=50, show_default=True)
@with_appcontext
def outbox_deliver(batch: int) -> None:
    """Send the queued text and email receipts; failures are retried on later runs."""
    core = current_app.extensions["billing"]
    senders = receipt_senders(current_app.config)
    if not senders:
        click.echo("no sender configured (IVR_SMS_FROM, IVR_SMTP_HOST); nothing sent")
        return
    report = deliver_pending(core.unit_of_work, senders, now=core.clock.now(), batch=batch)
    line = (
        f"sent: {len(report.sent)}, to retry: {len(report.retrying)}, failed: {len(report.failed)}"
    )
    if report.unknown:
        # The server took the text but its answer was lost: look before sending it again.
        line += f", delivery unknown: {len(report.unknown)} (see the outbox's last_error)"
    if report.opted_out:
        line += f", not sent (recipient opted out): {len(report.opted_out)}"
    click.echo(line)


@click.group()
def documents() -> None:
    """Members' statements and letters."""


@documents.command("export-print")
@click.option(
    "--since",
    "since",
    required=True,
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="first day (UTC) a document was asked for to include it (YYYY-MM-DD)",
)
@click.option(
    "--output",
    "-o",
    "directory",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("."),
    help="directory for the PDFs and the manifest (default: the current one)",
)
@with_appcontext
def documents_export_print(since, directory: Path) -> None:
    """Write the documents queued for mail since a day, and their manifest, for printing."""
    export = current_app.extensions["billing"].export_print(since.date(), directory)
    click.echo(
        f"documents: {len(export.document_ids)} ({export.newly_exported} not exported before); "
        f"manifest: {export.manifest}"
    )


@click.group()
def regions() -> None:
    """Inspect the regional pay lines."""


@regions.command("list")
@with_appcontext
def regions_list() -> None:
    """Print each region, its numbers and the webhook URLs to set on them."""
    catalog = current_app.extensions["billing"].regions
    base = current_app.config["IVR_PUBLIC_BASE_URL"].rstrip("/") or "https://YOUR-HOST"
    click.echo(f"Voice webhook (a call comes in): POST {base}/voice")
    click.echo(f"Status callback (call ends):     POST {base}/voice/status")
    click.echo(f"Messaging (a message comes in):  POST {base}/sms")
    for region in catalog.regions.values():
        lines = ", ".join(region.pay_lines)
        relay = f"; relay: {', '.join(region.relay_lines)}" if region.relay_lines else ""
        click.echo(
            f"{region.key:5} {region.name}: {lines}{relay} "
            f"({region.time_zone.key}; specialists {region.billing.number})"
        )
        for note in region.notes:
            click.echo(f"      note: {note}")


@click.group()
def calls() -> None:
    """Call scripts, recordings, coverage, and call state."""


@calls.command("purge")
@with_appcontext
def calls_purge() -> None:
    """Delete the state of calls that expired without a status callback."""
    store = current_app.extensions["call_store"]
    removed = store.purge_expired(current_app.extensions["billing"].clock.now())
    click.echo(f"removed {removed} expired call(s)")


@click.group()
def identity() -> None:
    """Lift identification lock-outs (README, "Lock-outs")."""


def _operator() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no login name (a container without a passwd entry)
        return "unknown"


_BY = click.option(
    "--by",
    "by",
    default=None,
    help="who is unlocking, for the audit log (default: the OS user)",
)


@identity.command("unlock-member")
@click.argument("mrn")
@_BY
@with_appcontext
def identity_unlock_member(mrn: str, by: str | None) -> None:
    """Lift an MRN's lock-outs and hold, from every calling number and the withheld ones."""
    digits = "".join(ch for ch in mrn if ch.isdigit())
    if not digits:
        raise click.BadParameter("give the medical record number's digits", param_hint="MRN")
    by = by or _operator()
    result = current_app.extensions["billing"].unlock_member(digits, by=by)
    state = "was locked" if result.was_locked else "was not locked"
    known = "" if result.member_found else "; no member has this MRN"
    click.echo(
        f"unlocked MRN ending {digits[-4:]} ({state}; {result.records} record(s) cleared"
        f"{known}), by {by}"
    )


@identity.command("unlock-number")
@click.argument("number")
@_BY
@with_appcontext
def identity_unlock_number(number: str, by: str | None) -> None:
    """Lift a calling number's lock-outs; `withheld` lifts the withheld numbers' shared one."""
    by = by or _operator()
    try:
        result = current_app.extensions["billing"].unlock_number(number, by=by)
    except ValueError as bad:
        raise click.BadParameter(str(bad), param_hint="NUMBER") from None
    state = "was locked" if result.was_locked else "was not locked"
    what = (
        "the withheld numbers' shared record"
        if number.strip().lower() == "withheld"
        else f"calling number ending {''.join(ch for ch in number if ch.isdigit())[-4:]}"
    )
    click.echo(f"unlocked {what} ({state}; {result.records} record(s) cleared), by {by}")


@click.group()
def texts() -> None:
    """A phone number's consent to texts, as a member asks a billing specialist."""


_CHANGED_BY = click.option(
    "--by",
    "by",
    default=None,
    help="who is making the change, for the audit log (default: the OS user)",
)


def _consent_line(number: str, consent) -> str:
    shown = f"number ending {number[-4:]}"
    if consent is None:
        return f"{shown}: texts are sent (never opted out)"
    state = "opted out" if consent.status is ConsentStatus.OPTED_OUT else "opted in"
    how = f"{consent.keyword} by text" if consent.keyword else f"by {consent.channel.value}"
    return f"{shown}: {state} on {consent.changed_at.isoformat()} ({how})"


def _change_texts(number: str, status: ConsentStatus, by: str | None) -> None:
    core = current_app.extensions["billing"]
    by = by or _operator()
    try:
        kept = core.change_text_consent(number, status, channel=ConsentChannel.STAFF, by=by)
    except ValueError as bad:
        raise click.BadParameter(str(bad), param_hint="NUMBER") from None
    click.echo(f"{_consent_line(kept, core.text_consent(kept))}, by {by}")


@texts.command("stop")
@click.argument("number")
@_CHANGED_BY
@with_appcontext
def texts_stop(number: str, by: str | None) -> None:
    """Stop every text to a number (as its STOP would); audited."""
    _change_texts(number, ConsentStatus.OPTED_OUT, by)


@texts.command("start")
@click.argument("number")
@_CHANGED_BY
@with_appcontext
def texts_start(number: str, by: str | None) -> None:
    """Let texts go to a number again (as its START would); audited."""
    _change_texts(number, ConsentStatus.OPTED_IN, by)


@texts.command("status")
@click.argument("number")
@with_appcontext
def texts_status(number: str) -> None:
    """Whether a number gets texts, and when and how that last changed."""
    core = current_app.extensions["billing"]
    try:
        click.echo(_consent_line(number, core.text_consent(number)))
    except ValueError as bad:
        raise click.BadParameter(str(bad), param_hint="NUMBER") from None


@click.group()
def jobs() -> None:
    """Run the scheduled work: workers, one task now, the schedules."""


@jobs.command("worker")
@click.option(
    "--concurrency",
    default=None,
    type=click.IntRange(min=1),
    help="jobs this worker runs at once, each on a thread [default: IVR_JOBS_CONCURRENCY]",
)
@with_appcontext
def jobs_worker(concurrency: int | None) -> None:
    """Run a worker until SIGINT or SIGTERM; start any number, on any hosts."""
    from billing_core.adapters.jobs import is_postgresql, run_worker

    engine = current_app.extensions["jobs"]
    logging.getLogger("procrastinate").setLevel(logging.getLogger("ivr").getEffectiveLevel())
    if not is_postgresql(current_app.config["DATABASE_URL"]):
        click.echo("embedded set-up: jobs are kept in this process's memory", err=True)
    run_worker(engine.app, concurrency=concurrency or current_app.config["IVR_JOBS_CONCURRENCY"])


@jobs.command("run")
@click.argument("task")
@click.option(
    "--as-of",
    "as_of",
    default=None,
    help="the time the task sees: an ISO date (midnight UTC) or a datetime with zone, "
    "e.g. 2026-11-27T06:00:00-08:00; default: now",
)
@with_appcontext
def jobs_run(task: str, as_of: str | None) -> None:
    """Run one task now, here, synchronously (for tests and catching up)."""
    engine = current_app.extensions["jobs"]
    if task not in engine.definitions:
        raise click.BadParameter(
            f"no task {task!r}; the tasks are: {', '.join(engine.definitions)}",
            param_hint="TASK",
        )
    now = parse_as_of(as_of) if as_of else current_app.extensions["billing"].clock.now()
    click.echo(f"{task}: {engine.run_now(task, now)}")


def parse_as_of(text: str) -> datetime:
    """An ISO date (its midnight in UTC) or an ISO datetime with a time zone."""
    try:
        if len(text) == 10:
            return datetime.combine(date.fromisoformat(text), time(0), tzinfo=UTC)
        when = datetime.fromisoformat(text)
    except ValueError:
        raise click.BadParameter(
            f"{text!r} is not an ISO date or datetime", param_hint="--as-of"
        ) from None
    if when.tzinfo is None:
        raise click.BadParameter(
            "give a time zone, e.g. 2026-11-27T06:00:00-08:00", param_hint="--as-of"
        )
    return when.astimezone(UTC)


@jobs.command("list")
@with_appcontext
def jobs_list() -> None:
    """The tasks, their schedules (cron, UTC) and retries."""
    from billing_core.adapters.jobs import RETRY_STALLED

    for definition in [*current_app.extensions["jobs"].definitions.values(), RETRY_STALLED]:
        click.echo(
            f"{definition.name:12} {definition.schedule:14} "
            f"up to {definition.max_attempts} attempts  {definition.summary}"
        )
