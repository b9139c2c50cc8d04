"""The ledger's entries as files: CSV (one row each) or JSON (an object with an entries list).

Amounts are dollars with two decimals, signed (a give-back is negative), written as
numbers; every text cell a spreadsheet could run as a formula is quoted (safe_cell).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable

from billing_core.adapters.ledger_csv import safe_cell
from billing_core.domain.money import format_money
from billing_core.services.ledger import LedgerEntry

COLUMNS = (
    "event_id",
    "at",
    "change",
    "confirmation_number",
    "account_key",
    "member_mrn_last4",
    "item",
    "bill_number",
    "coverage_month",
    "amount",
    "plan_id",
    "plan_installment",
    "method_kind",
    "method_brand",
    "method_last4",
    "channel",
    "gateway",
    "gateway_reference",
    "return_code",
    "returned_item_fee",
)
_NUMBERS = frozenset({"event_id", "amount", "plan_id", "plan_installment", "returned_item_fee"})


def _values(entry: LedgerEntry) -> dict[str, str]:
    def money(cents: int | None) -> str:
        if cents is None:
            return ""
        return f"-{format_money(-cents)}" if cents < 0 else format_money(cents)

    return {
        "event_id": str(entry.event_id),
        "at": entry.at.isoformat(),
        "change": entry.change,
        "confirmation_number": entry.confirmation_number,
        "account_key": entry.account_key or "",
        "member_mrn_last4": entry.mrn_last4,
        "item": entry.item,
        "bill_number": entry.bill_number or "",
        "coverage_month": entry.coverage_month.strftime("%Y-%m") if entry.coverage_month else "",
        "amount": money(entry.amount_cents),
        "plan_id": "" if entry.plan_id is None else str(entry.plan_id),
        "plan_installment": "" if entry.plan_installment is None else str(entry.plan_installment),
        "method_kind": entry.method_kind,
        "method_brand": entry.method_brand or "",
        "method_last4": entry.method_last4 or "",
        "channel": entry.channel,
        "gateway": entry.gateway,
        "gateway_reference": entry.gateway_reference or "",
        "return_code": entry.return_code or "",
        "returned_item_fee": money(entry.returned_item_fee_cents),
    }


def entries_csv(entries: Iterable[LedgerEntry]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    for entry in entries:
        values = _values(entry)
        writer.writerow(
            values[name] if name in _NUMBERS else safe_cell(values[name]) for name in COLUMNS
        )
    return out.getvalue()


def entries_json(entries: Iterable[LedgerEntry]) -> str:
    rows = []
    for entry in entries:
        values = _values(entry)
        rows.append({name: (values[name] or None) for name in COLUMNS})
    return json.dumps({"entries": rows}, indent=2) + "\n"
