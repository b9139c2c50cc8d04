"""The billing team's pages: a payment by confirmation number, a member's activity, unlock,
refund (asked, then confirmed), and how the outbox and the jobs stand.

An MRN is only ever posted (never in a link, so never in a log or the browser's history)
and is not kept: each look-up or unlock asks for it. Every look is audited by the billing
core with the staff member's name.
"""

from __future__ import annotations

from flask import Blueprint, current_app, g, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from billing_core.adapters.jobs import job_counts
from billing_core.domain.money import format_amount, parse_money
from billing_core.services.payment_lifecycle import RefundRefused
from billing_core.services.servicing import NotFound
from staff_console.auth import requires

bp = Blueprint("servicing", __name__)

ANOTHER = "a refund of this amount was made already: tick the box to make one more"


def core():
    return current_app.extensions["billing"]


@bp.get("/payments")
@requires("billing")
def find_payment() -> str | tuple[str, int]:
    """Find a payment by its confirmation number."""
    number = request.args.get("confirmation", "").strip().upper()
    if not number:
        return render_template("payment.html", number="", details=None, problem=None)
    try:
        details = core().payment_details(number, by=g.staff.username)
    except NotFound:
        problem = f"no payment has the confirmation number {number}"
        return render_template("payment.html", number=number, details=None, problem=problem), 404
    return render_template("payment.html", number=number, details=details, problem=None)


@bp.route("/payments/<number>/refund", methods=("GET", "POST"))
@requires("billing")
def refund(number: str) -> str | tuple[str, int] | Response:
    """Ask how much to refund, then refund it once the staff member confirms."""
    try:
        details = core().payment_details(number, by=g.staff.username)
    except NotFound:
        return redirect(url_for("servicing.find_payment", confirmation=number))
    left = details.amount_cents - details.refunded_cents
    if request.method == "GET":
        return render_template("refund.html", details=details, left=left, amount="", problem=None)
    amount_text = request.form.get("amount", "").strip()
    try:
        cents = parse_money(amount_text) if amount_text else None
    except ValueError as bad:
        return _refund_again(details, left, amount_text, f"the amount: {bad}")
    if request.form.get("confirm") != "yes":
        return _refund_again(details, left, amount_text, "tick the box to confirm the refund")
    try:
        done = core().refund_payment(
            details.confirmation_number,
            cents,
            by=g.staff.username,
            another=request.form.get("another") == "yes",
        )
    except RefundRefused as refused:
        reason = ANOTHER if refused.reason == RefundRefused.REPEATED else refused.reason
        return _refund_again(details, left, amount_text, f"not refunded: {reason}")
    return render_template("refunded.html", done=done)


def _refund_again(details, left: int, amount: str, problem: str) -> tuple[str, int]:
    page = render_template(
        "refund.html", details=details, left=left, amount=amount, problem=problem
    )
    return page, 422


@bp.route("/members", methods=("GET", "POST"))
@requires("billing")
def member() -> str | tuple[str, int]:
    """A member's recent calls and payments, or an unlock of their MRN's lock-outs."""
    if request.method == "GET":
        return render_template("member.html", activity=None, unlocked=None, problem=None)
    digits = "".join(ch for ch in request.form.get("mrn", "") if ch.isdigit())
    if not digits:
        page = render_template(
            "member.html",
            activity=None,
            unlocked=None,
            problem="type the member's medical record number",
        )
        return page, 422
    last4 = digits[-4:]
    if request.form.get("do") == "unlock":
        unlocked = core().unlock_member(digits, by=g.staff.username)
        return render_template("member.html", activity=None, unlocked=unlocked, last4=last4)
    try:
        activity = core().member_activity(digits, by=g.staff.username)
    except NotFound:
        page = render_template(
            "member.html",
            activity=None,
            unlocked=None,
            problem=f"no member has an MRN ending {last4}",
        )
        return page, 404
    return render_template("member.html", activity=activity, unlocked=None, problem=None)


@bp.get("/outbox")
@requires("billing")
def outbox() -> str:
    """The outbox of texts and emails, and the scheduled jobs."""
    billing = core()
    voice = current_app.extensions["voice_app"]
    return render_template(
        "outbox.html",
        state=billing.outbox_state(),
        definitions=list(voice.extensions["jobs"].definitions.values()),
        jobs=job_counts(billing.engine),
        now=billing.clock.now(),
    )


@bp.app_template_filter("money")
def money(cents: int) -> str:
    return format_amount(cents, "en")


@bp.app_template_filter("utc")
def utc(moment) -> str:
    return "" if moment is None else f"{moment:%Y-%m-%d %H:%M} UTC"
