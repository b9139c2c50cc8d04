"""Audit events: what happened to whose account, never the values involved."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from billing_core.adapters.queries import audit as queries
from billing_core.adapters.unit_of_work import UnitOfWork


def record(
    uow: UnitOfWork,
    *,
    at: datetime,
    action: str,
    channel: str,
    call_sid: str | None = None,
    member_id: int | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Add an audit event to the unit of work; the caller's commit keeps it."""
    queries.add_audit_event(
        uow,
        at=at,
        action=action,
        channel=channel,
        call_sid=call_sid,
        member_id=member_id,
        detail=detail,
    )
