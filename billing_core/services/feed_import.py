"""Importing checked feed records: members, bills, premiums, payments made elsewhere; all or none.

Importing the same file again changes nothing. MRNs and birth dates live only in memory:
the database gets their keyed digests (billing_core.domain.identity). The file formats
are billing_core.adapters.feed; the statements billing_core.adapters.queries.feed_import.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from billing_core.adapters.feed import MemberRecord, load_feed_file, parse_feed_document
from billing_core.adapters.queries import feed_import as queries
from billing_core.adapters.queries.feed_import import BILLS, FEED_PAYMENTS, MEMBERS, PREMIUMS
from billing_core.adapters.unit_of_work import UnitOfWork
from billing_core.domain.exceptions import FeedRejected
from billing_core.domain.identity import IdentityHasher

# The import service is where a channel reads and imports a feed file.
__all__ = [
    "BILLS",
    "PREMIUMS",
    "ImportReport",
    "MemberRecord",
    "import_feed",
    "load_feed_file",
    "parse_feed_document",
]

log = logging.getLogger(__name__)


@dataclass
class ImportReport:
    """What an import did, as counts."""

    members_created: int = 0
    members_updated: int = 0
    members_unchanged: int = 0
    bills_created: int = 0
    bills_updated: int = 0
    premiums_created: int = 0
    premiums_updated: int = 0
    # Payments made elsewhere (online, by mail, ...), for the payment history.
    payments_created: int = 0
    payments_updated: int = 0

    @property
    def unchanged(self) -> bool:
        """True when the import created and updated nothing."""
        return not (
            self.members_created
            or self.members_updated
            or self.bills_created
            or self.bills_updated
            or self.premiums_created
            or self.premiums_updated
            or self.payments_created
            or self.payments_updated
        )


_MEMBER_COLUMNS = (
    "mrn_last4",
    "birth_digest",
    "first_name",
    "last_name",
    "region_key",
    "state",
    "coverage_type",
    "phone",
    "email",
    "language",
    "monthly_premium_cents",
    "address_line1",
    "address_line2",
    "address_city",
    "address_state",
    "address_zip",
    "account_key",
    "credit_cents",
)
# "feed_paid_cents" is what the billing system last said was paid; "paid_cents" adds the
# payments this line took that the billing system had not seen yet.
_BILL_COLUMNS = (
    "date_of_service",
    "facility",
    "provider",
    "amount_cents",
    "feed_paid_cents",
    "due_date",
    "disputed",
    "adjustments_cents",
)
_PREMIUM_COLUMNS = ("amount_cents", "feed_paid_cents")
_PAYMENT_COLUMNS = ("paid_on", "amount_cents", "channel", "bill_number", "coverage_month")


def import_feed(
    uow: UnitOfWork,
    *,
    records: Sequence[MemberRecord],
    hasher: IdentityHasher,
    now: datetime,
    as_of: datetime | None = None,
) -> ImportReport:
    """Add and update members, bills and premiums from checked records, all or nothing.

    Payments taken on this line are never lost to an import: a bill whose paid amount
    the file leaves as it was keeps them; a bill whose paid amount changed gets the
    file's figure plus the payments this line settled after `as_of`, the moment the
    billing system extracted the file (default: now, i.e. the file already includes
    every payment taken before the import).
    """
    if now.tzinfo is None:
        raise ValueError("import_feed needs a timezone-aware time")
    now = now.astimezone(UTC)
    as_of = (as_of or now).astimezone(UTC)
    report = ImportReport()

    wanted: dict[str, tuple[MemberRecord, dict[str, Any]]] = {}
    for index, record in enumerate(records):
        digest = hasher.mrn(record.mrn)
        if digest in wanted:
            raise FeedRejected([f"members[{index}].mrn: the same MRN as an earlier member"])
        wanted[digest] = (record, _member_values(record, digest, hasher))

    with uow:
        queries.plan_each_lookup_for_its_values(uow)
        existing = queries.members_by_digest(uow, list(wanted), _MEMBER_COLUMNS)
        member_ids = [row["id"] for row in existing.values()]
        bills = queries.children_of_members(
            uow, BILLS, "bill_number", (*_BILL_COLUMNS, "paid_cents"), member_ids
        )
        premiums = queries.children_of_members(
            uow, PREMIUMS, "coverage_month", (*_PREMIUM_COLUMNS, "paid_cents"), member_ids
        )
        paid_elsewhere = queries.children_of_members(
            uow, FEED_PAYMENTS, "reference", _PAYMENT_COLUMNS, member_ids
        )

        new_members: list[dict[str, Any]] = []
        changed_members: list[dict[str, Any]] = []
        for digest, (_record, values) in wanted.items():
            current = existing.get(digest)
            if current is None:
                new_members.append(
                    {"mrn_digest": digest, **values, "created_at": now, "updated_at": now}
                )
            elif any(current[name] != values[name] for name in _MEMBER_COLUMNS):
                changed_members.append({"row_id": current["id"], **values, "updated_at": now})
            else:
                report.members_unchanged += 1
        if new_members:
            # Inserted, then their ids read back (see queries.insert_rows).
            queries.insert_rows(uow, MEMBERS, new_members)
            existing.update(
                queries.members_by_digest(
                    uow, [row["mrn_digest"] for row in new_members], _MEMBER_COLUMNS
                )
            )
        queries.update_rows_by_id(uow, MEMBERS, changed_members)
        report.members_created = len(new_members)
        report.members_updated = len(changed_members)

        bill_rows = [
            (
                existing[digest]["id"],
                bill.bill_number,
                {
                    "date_of_service": bill.date_of_service,
                    "facility": bill.facility,
                    "provider": bill.provider,
                    "amount_cents": bill.amount_cents,
                    "feed_paid_cents": bill.paid_cents,
                    "due_date": bill.due_date,
                    "disputed": bill.disputed,
                    "adjustments_cents": bill.adjustments_cents,
                },
            )
            for digest, (record, _values) in wanted.items()
            for bill in record.bills
        ]
        report.bills_created, report.bills_updated = _upsert_children(
            uow, BILLS, "bill_number", _BILL_COLUMNS, bill_rows, bills, now, as_of
        )
        premium_rows = [
            (
                existing[digest]["id"],
                premium.coverage_month,
                {"amount_cents": premium.amount_cents, "feed_paid_cents": premium.paid_cents},
            )
            for digest, (record, _values) in wanted.items()
            for premium in record.premiums
        ]
        report.premiums_created, report.premiums_updated = _upsert_children(
            uow,
            PREMIUMS,
            "coverage_month",
            _PREMIUM_COLUMNS,
            premium_rows,
            premiums,
            now,
            as_of,
        )
        payment_rows = [
            (
                existing[digest]["id"],
                payment.reference,
                {
                    "paid_on": payment.paid_on,
                    "amount_cents": payment.amount_cents,
                    "channel": payment.channel.value,
                    "bill_number": payment.bill_number,
                    "coverage_month": payment.coverage_month,
                },
            )
            for digest, (record, _values) in wanted.items()
            for payment in record.payments
        ]
        report.payments_created, report.payments_updated = _upsert_payments(
            uow, payment_rows, paid_elsewhere, now
        )
        uow.commit()
    # Counts only: nothing that identifies a member goes to the log.
    log.info("billing feed imported: %s", report)
    return report


def _member_values(record: MemberRecord, digest: str, hasher: IdentityHasher) -> dict[str, Any]:
    return {
        "mrn_last4": record.mrn_last4,
        "birth_digest": hasher.birth(digest, record.birth_date),
        "first_name": record.first_name,
        "last_name": record.last_name,
        "region_key": record.region_key,
        "state": record.state,
        "coverage_type": record.coverage_type,
        "phone": record.phone,
        "email": record.email,
        "language": record.language,
        "monthly_premium_cents": record.monthly_premium_cents,
        "address_line1": record.address_line1,
        "address_line2": record.address_line2,
        "address_city": record.address_city,
        "address_state": record.address_state,
        "address_zip": record.address_zip,
        "account_key": record.account_key,
        "credit_cents": record.credit_cents,
    }


def _upsert_children(
    uow: UnitOfWork,
    kind: str,
    key: str,
    compared: Sequence[str],
    rows: list[tuple[int, Any, dict[str, Any]]],
    existing: Mapping[tuple[int, Any], Mapping[str, Any]],
    now: datetime,
    as_of: datetime,
) -> tuple[int, int]:
    """Insert new and update changed bills or premiums; return (created, updated)."""
    new: list[dict[str, Any]] = []
    changed: list[dict[str, Any]] = []
    repaid: list[int] = []
    for member_id, key_value, values in rows:
        current = existing.get((member_id, key_value))
        if current is None:
            new.append(
                {
                    "member_id": member_id,
                    key: key_value,
                    **values,
                    "paid_cents": values["feed_paid_cents"],
                    "updated_at": now,
                }
            )
        elif any(current[name] != values[name] for name in compared):
            if current["feed_paid_cents"] == values["feed_paid_cents"]:
                paid = current["paid_cents"]  # the file says nothing new about payments
            else:
                paid = values["feed_paid_cents"]
                repaid.append(current["id"])
            changed.append(
                {"row_id": current["id"], **values, "paid_cents": paid, "updated_at": now}
            )
    if repaid:
        # Payments this line settled after the file was extracted are not in it yet.
        unseen = queries.phone_paid_since(uow, kind, repaid, as_of)
        for row in changed:
            row["paid_cents"] += unseen.get(row["row_id"], 0)
    queries.insert_rows(uow, kind, new)
    queries.update_rows_by_id(uow, kind, changed)
    return len(new), len(changed)


def _upsert_payments(
    uow: UnitOfWork,
    rows: list[tuple[int, str, dict[str, Any]]],
    existing: Mapping[tuple[int, Any], Mapping[str, Any]],
    now: datetime,
) -> tuple[int, int]:
    """Insert new and update changed payments made elsewhere; return (created, updated).

    Found by member and the billing system's reference: the same file again writes nothing.
    """
    new: list[dict[str, Any]] = []
    changed: list[dict[str, Any]] = []
    for member_id, reference, values in rows:
        current = existing.get((member_id, reference))
        if current is None:
            new.append(
                {"member_id": member_id, "reference": reference, **values, "updated_at": now}
            )
        elif any(current[name] != values[name] for name in _PAYMENT_COLUMNS):
            changed.append({"row_id": current["id"], **values, "updated_at": now})
    queries.insert_rows(uow, FEED_PAYMENTS, new)
    queries.update_rows_by_id(uow, FEED_PAYMENTS, changed)
    return len(new), len(changed)
