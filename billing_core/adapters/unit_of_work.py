"""A unit of work: one transaction that is rolled back unless the service commits it."""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from types import TracebackType

from sqlalchemy.orm import Session, sessionmaker

from billing_core.domain.events import Event, Observer

log = logging.getLogger(__name__)


# How a read that changes nothing runs: each statement on its own (autocommit), which
# sees what it would have seen in a transaction under READ COMMITTED, without the BEGIN
# and the ROLLBACK (round trips on PostgreSQL) and, on SQLite, without the write lock.
READ_ONLY_OPTIONS = {"isolation_level": "AUTOCOMMIT"}


class SharedReads:
    """One session for the read-only units of work a thread runs between open() and close().

    What a webhook reads (an enrollment, a plan, a quote, the saved methods) then costs a
    statement each, not a session, a connection and a transaction each. Its statements run
    on their own (autocommit), so each sees what was committed before it, and every read
    starts with an empty identity map: nothing read earlier is served stale.
    """

    def __init__(self, session_factory: sessionmaker) -> None:
        self._session_factory = session_factory
        self._local = threading.local()

    def open(self) -> None:
        self.close()
        self._local.sharing = True

    def close(self) -> None:
        session = getattr(self._local, "session", None)
        self._local.session = None
        self._local.sharing = False
        if session is not None:
            session.close()

    def session(self) -> Session | None:
        """The shared session (made at the first read), or None when none is open."""
        if not getattr(self._local, "sharing", False):
            return None
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = _reading_session(self._session_factory)
        return session

    def discard(self, session: Session) -> None:
        """Stop sharing a session a read failed in: the next read gets a fresh one."""
        if getattr(self._local, "session", None) is session:
            self._local.session = None
        session.close()


def _reading_session(session_factory: sessionmaker) -> Session:
    session = session_factory()
    session.connection(execution_options=READ_ONLY_OPTIONS)
    return session


class UnitOfWork:
    """Open with `with uow:`; call `commit()` to keep the changes.

    Events published in the transaction reach the observers only once it is committed.
    read_only: for a service that only reads (it must never write or commit); it runs in
    the shared session when one is open (SharedReads).
    """

    session: Session

    def __init__(
        self,
        session_factory: sessionmaker,
        observers: Sequence[Observer] = (),
        *,
        read_only: bool = False,
        shared: SharedReads | None = None,
    ) -> None:
        self._session_factory = session_factory
        self._observers = observers
        self._events: list[Event] = []
        self.read_only = read_only
        self._shared = shared if read_only else None
        # The shared reads this unit of work runs in, while it does.
        self._sharing: SharedReads | None = None

    def __enter__(self) -> UnitOfWork:
        self._events = []
        shared = self._shared.session() if self._shared is not None else None
        self._sharing = self._shared if shared is not None else None
        if shared is not None:
            self.session = shared
        elif self.read_only:
            self.session = _reading_session(self._session_factory)
        else:
            self.session = self._session_factory()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._events = []
        if self._sharing is not None:
            if exc_type is None:
                self.session.expunge_all()  # the next read reads afresh
            else:
                self._sharing.discard(self.session)
            return
        try:
            self.session.rollback()
        finally:
            self.session.close()

    def publish(self, event: Event) -> None:
        """Tell the observers of the event when (and only if) this transaction commits."""
        self._events.append(event)

    def commit(self) -> None:
        if self.read_only:
            raise RuntimeError("a read-only unit of work cannot commit")
        self.session.commit()
        events, self._events = self._events, []
        for event in events:
            for observer in self._observers:
                try:
                    observer(event)
                except Exception:  # noqa: BLE001 - what was committed stands; the log says
                    log.exception("an observer failed on %s", type(event).__name__)

    def rollback(self) -> None:
        self._events = []
        self.session.rollback()
