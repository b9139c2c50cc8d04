"""The ledger export, a file format: payments as CSV, one row each, for the finance ledger."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

from billing_core.adapters.models import Payment
from billing_core.domain.money import format_money

EXPORT_COLUMNS = (
    "confirmation_number",
    "created_at",
    "settled_at",
    "member_mrn_last4",
    "amount",
    "target",
    "bill_number",
    "method_kind",
    "method_brand",
    "method_last4",
    "status",
    "failure_reason",
    "gateway",
    "gateway_reference",
    "channel",
    # Last, so readers of the columns before them are unchanged.
    "plan_id",
    "plan_installment",
    # The billing system's own account id for the member (from the feed), to post by.
    "account_key",
)


def ledger_csv(rows: Iterable[tuple[Payment, str, str | None]]) -> str:
    """Write (payment, member's MRN last 4, account key) rows as the ledger CSV, header first."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(EXPORT_COLUMNS)
    for p, mrn_last4, account_key in rows:
        writer.writerow(
            safe_cell(value)
            for value in (
                p.confirmation_number,
                p.created_at.isoformat(),
                p.settled_at.isoformat() if p.settled_at else "",
                mrn_last4,
                format_money(p.amount_cents),
                p.target_kind,
                p.target_reference or "",
                p.method_kind,
                p.method_brand or "",
                p.method_last4 or "",
                p.status.value,
                p.failure_reason or "",
                p.gateway,
                p.gateway_reference or "",
                p.channel,
                "" if p.plan_id is None else str(p.plan_id),
                "" if p.plan_installment is None else str(p.plan_installment),
                account_key or "",
            )
        )
    return out.getvalue()


def safe_cell(value: str) -> str:
    # A text cell starting with = + - @ would run as a formula in a spreadsheet.
    return "'" + value if value[:1] in ("=", "+", "-", "@") else value
