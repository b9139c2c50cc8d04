"""Adding audit events."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import insert

from billing_core.adapters.models import AuditEvent
from billing_core.adapters.unit_of_work import UnitOfWork

# Built once and run in the unit of work's transaction: nearly every service writes one,
# and an ORM object through the session's flush would cost several times the statement.
_ADD = insert(AuditEvent.__table__)


def add_audit_event(
    uow: UnitOfWork,
    *,
    at: datetime,
    action: str,
    channel: str,
    call_sid: str | None,
    member_id: int | None,
    detail: dict[str, Any] | None,
) -> None:
    uow.session.execute(
        _ADD,
        {
            "at": at,
            "action": action,
            "channel": channel,
            "call_sid": call_sid,
            "member_id": member_id,
            "detail": detail,
        },
    )
