"""The feed import's statements: plain rows read and written in batches, no ORM per object.

Each kind of row is named (MEMBERS, BILLS, PREMIUMS, FEED_PAYMENTS); rows are dicts of
column values.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, func, select
from sqlalchemy import text as sql

from billing_core.adapters.models import (
    FeedPayment,
    MedicalBill,
    Member,
    Payment,
    PaymentAllocation,
    PremiumInvoice,
)
from billing_core.adapters.unit_of_work import UnitOfWork
from billing_core.domain.payments import WENT_THROUGH

MEMBERS = "members"
BILLS = "bills"
PREMIUMS = "premiums"
FEED_PAYMENTS = "feed_payments"
# Rows per IN (...) query: well under every backend's limit on bound parameters.
LOOKUP_BATCH = 500

_TABLES: dict[str, Table] = {
    MEMBERS: cast(Table, Member.__table__),
    BILLS: cast(Table, MedicalBill.__table__),
    PREMIUMS: cast(Table, PremiumInvoice.__table__),
    FEED_PAYMENTS: cast(Table, FeedPayment.__table__),
}


def plan_each_lookup_for_its_values(uow: UnitOfWork) -> None:
    """On PostgreSQL, plan each batch lookup of this transaction for its own values.

    A plan the connection cached while the tables were empty (a first import) would scan
    every row once per value of the batch, turning the next re-import from seconds into
    many minutes.
    """
    if uow.session.get_bind().dialect.name == "postgresql":
        uow.session.execute(sql("SET LOCAL plan_cache_mode = force_custom_plan"))


def _batches(values: Sequence[Any]) -> Iterator[Sequence[Any]]:
    for start in range(0, len(values), LOOKUP_BATCH):
        yield values[start : start + LOOKUP_BATCH]


def members_by_digest(
    uow: UnitOfWork, digests: Sequence[str], compared: Sequence[str]
) -> dict[str, dict[str, Any]]:
    """The stored members among these MRN digests (id, digest, compared columns), by digest."""
    table = _TABLES[MEMBERS]
    columns = [table.c.id, table.c.mrn_digest, *(table.c[name] for name in compared)]
    found: dict[str, dict[str, Any]] = {}
    for batch in _batches(digests):
        for row in uow.session.execute(select(*columns).where(table.c.mrn_digest.in_(batch))):
            found[row.mrn_digest] = dict(row._mapping)
    return found


def children_of_members(
    uow: UnitOfWork, kind: str, key: str, compared: Sequence[str], member_ids: Sequence[int]
) -> dict[tuple[int, Any], dict[str, Any]]:
    """The stored bills or premiums of these members, by (member id, key), read in batches."""
    table = _TABLES[kind]
    columns = [table.c.id, table.c.member_id, table.c[key], *(table.c[name] for name in compared)]
    found: dict[tuple[int, Any], dict[str, Any]] = {}
    for batch in _batches(member_ids):
        for row in uow.session.execute(select(*columns).where(table.c.member_id.in_(batch))):
            values = dict(row._mapping)
            found[(values["member_id"], values[key])] = values
    return found


def insert_rows(uow: UnitOfWork, kind: str, rows: list[dict[str, Any]]) -> None:
    """One executemany INSERT of plain rows.

    A plain executemany (and a read-back of ids where needed): far faster on PostgreSQL
    than INSERT ... RETURNING, which sends each page of rows as one long statement.
    """
    if rows:
        uow.session.execute(_TABLES[kind].insert(), rows)


def update_rows_by_id(uow: UnitOfWork, kind: str, rows: list[dict[str, Any]]) -> None:
    """One executemany UPDATE; each row names its id as row_id and the new values by column."""
    if rows:
        table = _TABLES[kind]
        # Every row carries the same keys, so the SET clause fits them all.
        uow.session.execute(table.update().where(table.c.id == bindparam("row_id")), rows)


def phone_paid_since(
    uow: UnitOfWork, kind: str, item_ids: Sequence[int], as_of: datetime
) -> dict[int, int]:
    """Return, per bill or premium, what this line's payments settled after as_of credited."""
    column = PaymentAllocation.bill_id if kind == BILLS else PaymentAllocation.premium_invoice_id
    found: dict[int, int] = {}
    for batch in _batches(item_ids):
        rows = uow.session.execute(
            select(column, func.sum(PaymentAllocation.amount_cents))
            .join(Payment, Payment.id == PaymentAllocation.payment_id)
            .where(
                column.in_(batch),
                Payment.status.in_(WENT_THROUGH),
                Payment.settled_at > as_of,
            )
            .group_by(column)
        )
        found.update({item_id: int(total) for item_id, total in rows})
    return found
