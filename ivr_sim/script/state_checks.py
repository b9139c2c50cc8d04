"""Checks of the billing core's state after a call: members, payments, receipts, faults."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from ivr_sim.script.values import CheckFailed, as_list, flag, money_cents, money_text

if TYPE_CHECKING:
    from billing_core.core import BillingCore


class StateChecks:
    """Checks of the billing core's state that expect: asks for, and the database fault."""

    def __init__(self, core: BillingCore) -> None:
        self.core = core

    def member_id(self, mrn: Any) -> int:
        from sqlalchemy import select

        from billing_core.adapters.models import Member

        digest = self.core.hasher.mrn(str(mrn))
        with self.core.unit_of_work() as uow:
            found = uow.session.scalar(select(Member.id).where(Member.mrn_digest == digest))
        if found is None:
            raise CheckFailed(f"no member with MRN {mrn} is on file")
        return found

    def check(self, key: str, wanted: Any) -> None:
        if key == "balance":
            self._balance(wanted)
        elif key == "payments":
            self._payments(wanted)
        elif key == "saved_methods":
            self._saved_methods(wanted)
        elif key == "autopay":
            self._autopay(wanted)
        elif key == "plan":
            self._plan(wanted)
        elif key == "texts":
            self._texts(wanted)
        elif key == "documents":
            self._documents(wanted)

    def _balance(self, wanted: Any) -> None:
        if not isinstance(wanted, Mapping) or "mrn" not in wanted:
            raise CheckFailed("balance needs the member's mrn")
        summary = self.core.account_summary(self.member_id(wanted["mrn"]), channel="script")
        problems = []
        if "bills" in wanted:
            want = [money_cents(v) for v in as_list(wanted["bills"])]
            got = [bill.balance_cents for bill in summary.bills]
            if got != want:
                problems.append(
                    f"open bills are {[money_text(c) for c in got]}, "
                    f"not {[money_text(c) for c in want]}"
                )
        for name, got in (
            ("premium", summary.premium_balance_cents),
            ("medical", summary.medical_balance_cents),
        ):
            if name in wanted and got != money_cents(wanted[name]):
                problems.append(
                    f"{name} balance is {money_text(got)}, "
                    f"not {money_text(money_cents(wanted[name]))}"
                )
        if problems:
            raise CheckFailed("; ".join(problems))

    def _payments(self, wanted: Any) -> None:
        from sqlalchemy import select

        from billing_core.adapters.models import Payment

        if not isinstance(wanted, Mapping):
            raise CheckFailed("payments takes count, status, amounts and mrn")
        query = select(Payment).order_by(Payment.created_at, Payment.id)
        if "mrn" in wanted:
            query = query.where(Payment.member_id == self.member_id(wanted["mrn"]))
        with self.core.unit_of_work() as uow:
            payments = [(p.status.value, p.amount_cents) for p in uow.session.scalars(query)]
        status = wanted.get("status")
        if status is not None:
            # One status, or a list (a card's succeeded with a bank debit's submitted).
            statuses = {str(one).lower() for one in as_list(status)}
            payments = [p for p in payments if p[0] in statuses]
        what = f"{'/'.join(map(str, as_list(status)))} payments" if status else "payments"
        if "count" in wanted and len(payments) != int(wanted["count"]):
            raise CheckFailed(f"{len(payments)} {what}, not {wanted['count']}")
        if "amounts" in wanted:
            want = [money_cents(v) for v in as_list(wanted["amounts"])]
            got = [amount for _status, amount in payments]
            if got != want:
                raise CheckFailed(
                    f"{what} of {[money_text(c) for c in got]}, not {[money_text(c) for c in want]}"
                )

    def _saved_methods(self, wanted: Any) -> None:
        if not isinstance(wanted, Mapping) or "mrn" not in wanted:
            raise CheckFailed("saved_methods needs the member's mrn and a count")
        methods = self.core.saved_methods(self.member_id(wanted["mrn"]))
        if "count" in wanted and len(methods) != int(wanted["count"]):
            raise CheckFailed(f"{len(methods)} saved methods, not {wanted['count']}")

    def _autopay(self, wanted: Any) -> None:
        from sqlalchemy import select

        from billing_core.adapters.models import AutopayEnrollment, OutboxMessage

        if not isinstance(wanted, Mapping) or "mrn" not in wanted:
            raise CheckFailed("autopay needs the member's mrn")
        member_id = self.member_id(wanted["mrn"])
        with self.core.unit_of_work() as uow:
            rows = list(
                uow.session.scalars(
                    select(AutopayEnrollment)
                    .where(AutopayEnrollment.member_id == member_id)
                    .order_by(AutopayEnrollment.id)
                )
            )
            # Each authorization's written copy is queued under its enrollment's id.
            keys = [f"autopay-copy:{row.id}:" for row in rows]
            copies = sum(
                1
                for key in uow.session.scalars(select(OutboxMessage.dedupe_key))
                if any(key.startswith(prefix) for prefix in keys)
            )
            active = next((row for row in rows if row.cancelled_at is None), None)
            got = {
                "enrolled": active is not None,
                "last4": active.method_last4 if active else None,
                "maximum": active.max_amount_cents if active else None,
                "authorizations": len(rows),
                "copies": copies,
            }
        problems = []
        if "enrolled" in wanted and got["enrolled"] != flag(wanted["enrolled"]):
            problems.append(f"enrolled is {got['enrolled']}")
        if "last4" in wanted and got["last4"] != str(wanted["last4"]):
            problems.append(f"the method charged ends in {got['last4']}, not {wanted['last4']}")
        if "maximum" in wanted:
            raw = str(wanted["maximum"] or "none")
            want = None if raw.lower() == "none" else money_cents(raw)
            if got["maximum"] != want:
                shown = money_text(got["maximum"]) if got["maximum"] else "none"
                problems.append(f"the maximum is {shown}, not {wanted['maximum'] or 'none'}")
        for name in ("authorizations", "copies"):
            if name in wanted and got[name] != int(wanted[name]):
                problems.append(f"{got[name]} {name} recorded, not {wanted[name]}")
        if problems:
            raise CheckFailed("; ".join(problems))

    def _plan(self, wanted: Any) -> None:
        from sqlalchemy import select

        from billing_core.adapters.models import PaymentPlan, PlanInstallment

        if not isinstance(wanted, Mapping) or "mrn" not in wanted:
            raise CheckFailed("plan needs the member's mrn")
        member_id = self.member_id(wanted["mrn"])
        got: dict[str, Any] = {}
        with self.core.unit_of_work() as uow:
            plan = uow.session.scalars(
                select(PaymentPlan)
                .where(PaymentPlan.member_id == member_id)
                .order_by(PaymentPlan.created_at.desc(), PaymentPlan.id.desc())
                .limit(1)
            ).first()
            if plan is not None:
                statuses = list(
                    uow.session.scalars(
                        select(PlanInstallment.status).where(PlanInstallment.plan_id == plan.id)
                    )
                )
                got = {
                    "status": plan.status,
                    "months": plan.months,
                    "paid": statuses.count("paid"),
                    # "paying": paid ahead, the payment's answer not in yet.
                    "left": sum(1 for status in statuses if status in ("due", "paying")),
                    "method_last4": plan.method_last4,
                }
        status = str(wanted.get("status", "")).lower()
        if not got:
            if status == "none":
                return
            raise CheckFailed("the member has no payment plan")
        problems = []
        if status and got["status"] != status:
            problems.append(f"the plan is {got['status']}, not {status}")
        if "months" in wanted and got["months"] != int(wanted["months"]):
            problems.append(f"the plan is over {got['months']} months, not {wanted['months']}")
        for name, what in (("paid", "paid"), ("left", "left to pay")):
            if name in wanted and got[name] != int(wanted[name]):
                problems.append(f"{got[name]} installments {what}, not {wanted[name]}")
        if "method_last4" in wanted and got["method_last4"] != str(wanted["method_last4"]):
            problems.append(
                f"the plan's method ends in {got['method_last4']}, not {wanted['method_last4']}"
            )
        if problems:
            raise CheckFailed("; ".join(problems))

    def _texts(self, wanted: Any) -> None:
        from sqlalchemy import func, select

        from billing_core.adapters.models import OutboxMessage

        with self.core.unit_of_work() as uow:
            count = uow.session.scalar(
                select(func.count()).select_from(OutboxMessage).where(OutboxMessage.kind == "sms")
            )
        if count != int(wanted):
            raise CheckFailed(f"{count} text messages queued, not {wanted}")

    def _documents(self, wanted: Any) -> None:
        from sqlalchemy import select

        from billing_core.adapters.models import DocumentRequest

        if not isinstance(wanted, Mapping) or "mrn" not in wanted:
            raise CheckFailed("documents needs the member's mrn")
        member_id = self.member_id(wanted["mrn"])
        with self.core.unit_of_work() as uow:
            rows = uow.session.execute(
                select(DocumentRequest.kind, DocumentRequest.delivery)
                .where(DocumentRequest.member_id == member_id)
                .order_by(DocumentRequest.id)
            ).all()
        problems = []
        if "kinds" in wanted and [kind for kind, _ in rows] != as_list(wanted["kinds"]):
            problems.append(f"documents asked for are {[kind for kind, _ in rows]}")
        if "delivery" in wanted and [how for _, how in rows] != as_list(wanted["delivery"]):
            problems.append(f"documents go by {[how for _, how in rows]}")
        if problems:
            raise CheckFailed("; ".join(problems))

    def call_state_fault(self) -> Callable[[], None]:
        """Make every write of a call's state fail, as a lost database connection would."""
        from sqlalchemy import event
        from sqlalchemy.exc import OperationalError

        engine = self.core.engine
        outage = ConnectionError("the call state could not be saved (a call script's fault)")

        def refuse(_conn: Any, _cursor: Any, statement: str, *_args: Any, **_kw: Any) -> None:
            # The state's writes set its data; taking a prompt's answer sets the token alone.
            text = " ".join(statement.split())
            saving = text.startswith("UPDATE call_sessions SET data=")
            if saving or text.startswith("INSERT INTO call_sessions"):
                raise OperationalError("(script fault)", {}, outage)

        event.listen(engine, "before_cursor_execute", refuse)
        return lambda: event.remove(engine, "before_cursor_execute", refuse)

    def database_fault(self) -> Callable[[], None]:
        """Make every statement fail, as a database outage would; return the undo."""
        from sqlalchemy import event
        from sqlalchemy.exc import OperationalError

        engine = self.core.engine
        outage = ConnectionError("the database is down (a call script's fault step)")

        def refuse(*_args: Any, **_kwargs: Any) -> None:
            raise OperationalError("(script fault)", {}, outage)

        def expected(record: logging.LogRecord) -> bool:
            # The app logs each failure with its traceback; for a planned outage that is noise.
            error = record.exc_info[1] if record.exc_info else None
            return not (isinstance(error, OperationalError) and error.orig is outage)

        app_log = logging.getLogger("ivr.calls")
        event.listen(engine, "before_cursor_execute", refuse)
        app_log.addFilter(expected)

        def undo() -> None:
            event.remove(engine, "before_cursor_execute", refuse)
            app_log.removeFilter(expected)

        return undo
