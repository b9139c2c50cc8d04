"""A call's state between webhooks, in the database and keyed by CallSid.

Any worker on any host can answer any webhook of a call. The state never holds
card data, a full MRN or a birth date: only digests and what the flow needs next.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, update

from billing_core.adapters.db import upsert_insert
from billing_core.adapters.models import CallSession


class CallState(dict[str, Any]):
    """The state of one call: a dict with a few named helpers."""

    def __init__(self, call_sid: str, data: dict[str, Any], *, is_new: bool):
        super().__init__(data)
        self.call_sid = call_sid
        self.is_new = is_new
        self.ended = False  # set when the call is over: nothing more is saved
        # What was loaded: a webhook that changes nothing need not write anything.
        self.loaded = json.loads(json.dumps(data))

    @property
    def changed(self) -> bool:
        return self.is_new or json.loads(json.dumps(dict(self))) != self.loaded

    @property
    def member_id(self) -> int | None:
        return self.get("member_id")

    def count_failure(self, step: str) -> int:
        """Count a no-input or invalid answer at a step; return how many in a row."""
        failures = dict(self.get("failures", {}))
        failures[step] = failures.get(step, 0) + 1
        self["failures"] = failures
        return failures[step]

    def clear_failures(self, step: str) -> None:
        failures = dict(self.get("failures", {}))
        if failures.pop(step, None) is not None:
            self["failures"] = failures


class CallStore:
    """Load and save call states; expired and ended ones are treated as gone."""

    def __init__(self, session_factory, ttl: timedelta) -> None:
        self._session_factory = session_factory
        self._ttl = ttl

    def load(self, call_sid: str, now: datetime) -> CallState:
        """Return the call's state; a new, empty one for an unknown, expired or ended call."""
        if not call_sid:
            return CallState("", {}, is_new=True)
        with self._session_factory() as session:
            # A plain read: on SQLite it need not wait for the write lock.
            session.connection(execution_options={"sqlite_read_only": True})
            row = session.get(CallSession, call_sid)
            if row is None or row.ended_at is not None or row.expires_at <= now:
                return CallState(call_sid, {}, is_new=True)
            return CallState(call_sid, dict(row.data), is_new=False)

    def save(self, state: CallState, now: datetime) -> None:
        """Keep the call's state, unless the call has already ended.

        The status callback can arrive while another webhook of the call is still
        running; the ended row must win, or the state would outlive the call.
        """
        data = dict(state)
        with self._session_factory() as session, session.begin():
            if not state.is_new:
                updated = session.execute(
                    update(CallSession)
                    .where(CallSession.call_sid == state.call_sid, CallSession.ended_at.is_(None))
                    .values(data=data, updated_at=now, expires_at=now + self._ttl)
                )
                if updated.rowcount:
                    return
            inserted = session.execute(
                upsert_insert(session)(CallSession)
                .values(
                    call_sid=state.call_sid,
                    data=data,
                    created_at=now,
                    updated_at=now,
                    expires_at=now + self._ttl,
                )
                .on_conflict_do_nothing(index_elements=["call_sid"])
                .returning(CallSession.call_sid)
            ).first()
            if inserted is None:
                # Another webhook of the call created it first; an ended call stays ended.
                session.execute(
                    update(CallSession)
                    .where(CallSession.call_sid == state.call_sid, CallSession.ended_at.is_(None))
                    .values(data=data, updated_at=now, expires_at=now + self._ttl)
                )

    def end(self, call_sid: str, now: datetime) -> None:
        """Forget the call: its state is wiped, leaving only a marker that it ended."""
        with self._session_factory() as session, session.begin():
            session.execute(
                upsert_insert(session)(CallSession)
                .values(
                    call_sid=call_sid,
                    data={},
                    created_at=now,
                    updated_at=now,
                    expires_at=now + self._ttl,
                    ended_at=now,
                )
                .on_conflict_do_nothing(index_elements=["call_sid"])
            )
            session.execute(
                update(CallSession)
                .where(CallSession.call_sid == call_sid)
                .values(data={}, updated_at=now, expires_at=now + self._ttl, ended_at=now)
            )

    def purge_expired(self, now: datetime) -> int:
        """Delete expired states and end-of-call markers."""
        with self._session_factory() as session, session.begin():
            result = session.execute(delete(CallSession).where(CallSession.expires_at <= now))
            return result.rowcount or 0
