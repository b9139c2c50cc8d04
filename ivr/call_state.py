"""A call's state between webhooks, in the database and keyed by CallSid.

Any worker on any host can answer any webhook of a call. The state never holds
card data, a full MRN or a birth date: only digests and what the flow needs next.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError
from sqlalchemy import Connection, Engine, bindparam, delete, insert, select, update
from sqlalchemy.exc import DBAPIError, IntegrityError

from billing_core.adapters.models import CallSession

log = logging.getLogger(__name__)


class _Part(BaseModel):
    # Unknown keys from an older or newer release are dropped rather than refused, so a call
    # in progress survives a deploy in either direction.
    model_config = ConfigDict(extra="ignore", validate_assignment=False)


class PayTarget(_Part):
    """Something the caller can pay: one bill, all bills, or the premium, with its balance."""

    kind: str
    balance: int
    bill_number: str | None = None
    date_of_service: date | None = None
    facility: str | None = None


class Method(_Part):
    """A card or bank account to charge, known only by its token and visible digits."""

    kind: str
    token: str
    last4: str
    brand: str | None = None
    account_type: str | None = None
    exp: str | None = None
    saved: bool = False

    @classmethod
    def of_saved(cls, saved: Any, *, with_token: bool = False) -> Method:
        """A saved card or account; its token only when it is about to be charged."""
        return cls(
            kind=saved.kind,
            token=saved.token if with_token else "",
            brand=saved.brand,
            last4=saved.last4,
            account_type=saved.account_type,
            saved=with_token,
        )

    @classmethod
    def as_recorded(cls, kind: str | None, brand: str | None, last4: str | None) -> Method:
        """A method as payments record it: for a bank account the "brand" is its type."""
        bank = kind == "bank"
        return cls(
            kind=kind or "card",
            token="",
            brand=None if bank else brand,
            account_type=brand if bank else None,
            last4=last4 or "",
        )


class MethodChoice(_Part):
    """What a key at the method menu stands for: a saved method, or a new card or account."""

    saved_id: int | None = None
    new: str | None = None


class Outcome(_Part):
    """What the billing core answered for the payment: its status and confirmation number."""

    status: str
    confirmation: str
    amount: int


class ScheduledOutcome(_Part):
    """A payment set for a later day in this call: its day, amount and confirmation number."""

    confirmation: str
    amount: int
    pay_on: date


class Draft(_Part):
    """The payment being put together in this call."""

    targets: list[PayTarget] | None = None
    target: PayTarget | None = None
    amount: int | None = None
    method_choices: list[MethodChoice] | None = None
    method: Method | None = None
    # Fixed before the caller confirms: a repeated "yes" is the same payment, charged once.
    idempotency_key: str | None = None
    capturing: str | None = None
    account_type: str | None = None
    declined: str | None = None
    outcome: Outcome | None = None
    unsaved_method: Method | None = None
    # To pay on a later day instead: the day chosen, why a day keyed was refused, the
    # request's key (fixed at the read-back, so a repeated "yes" schedules once), the result.
    pay_on: date | None = None
    saved_method_id: int | None = None
    date_refused: str | None = None
    schedule_key: str | None = None
    scheduled: ScheduledOutcome | None = None


class AutopayDraft(_Part):
    """The automatic payments being set up or changed in this call."""

    # The saved method each key offers, in order (a new card and a new account follow);
    # the one chosen, or the new one captured; whether it replaces the method on file.
    method_ids: list[int] | None = None
    method_id: int | None = None
    method: Method | None = None
    changing: bool = False
    # A card or account being captured for autopay ("card" or "bank"), and the account's type.
    capturing: str | None = None
    account_type: str | None = None
    # The maximum keyed in, read back before it is kept.
    maximum: int | None = None


class PlanDraft(_Part):
    """The payment plan being set up, paid ahead or moved to another method in this call."""

    # The terms each key offers (months), and the one chosen.
    terms: list[int] | None = None
    months: int | None = None
    # As for automatic payments: the saved method each key offers, the one chosen or captured.
    method_ids: list[int] | None = None
    method_id: int | None = None
    method: Method | None = None
    capturing: str | None = None
    account_type: str | None = None
    # The plan this call services, and whether a method chosen replaces its method.
    plan_id: int | None = None
    changing: bool = False
    # Fixed when the terms or the payment ahead are read: a repeated "yes" acts once.
    request_key: str | None = None
    # The authorization's words as read: only those are recorded as accepted.
    terms_read: str | None = None
    # What is being paid ahead: "next" (the next installment) or "payoff", and its amount.
    ahead: str | None = None
    ahead_cents: int | None = None


class NoticesDraft(_Part):
    """The notice preference being changed in this call: its kind, and the delivery chosen."""

    kind: str | None = None
    delivery: str | None = None
    # The last 4 digits of the phone the consent to texts was read for.
    phone_last4: str | None = None


class ScheduledDraft(_Part):
    """The scheduled payments read in this call: the one each key cancels, and the one chosen."""

    ids: list[int] | None = None
    chosen: int | None = None


class BalancesDraft(_Part):
    """The bills whose details this call offered: the one each key reads, and the one read."""

    bill_numbers: list[str] | None = None
    bill: str | None = None


class Resume(_Part):
    """The prompt to go back to after a detour (the relay offer, the time-running-out warning)."""

    endpoint: str
    values: dict[str, str] = Field(default_factory=dict)


class Waiting(_Part):
    """The prompt the call waits on: its token, the step that asked, and the answer's step."""

    token: str
    step: str
    answer: str
    # A prompt of one key to a member: a menu, which takes spoken requests too.
    menu: bool = False


class CallState(_Part):
    """The state of one call between webhooks, stored as JSON under its CallSid.

    Only what differs from the defaults is stored, under the keys earlier releases used.
    """

    region: str | None = None
    national: bool = False
    language: str = "en"
    language_chosen: bool = False
    relay: bool = False
    offers_given: bool = False
    mrn_digest: str | None = None
    identification_failures: int = 0
    member_id: int | None = None
    member_name: str = ""
    failures: dict[str, int] = Field(default_factory=dict)
    silences: int = 0
    asking: str | None = None
    waiting: Waiting | None = None
    resume: Resume | None = None
    pay: Draft = Field(default_factory=Draft)
    autopay: AutopayDraft = Field(default_factory=AutopayDraft)
    scheduled: ScheduledDraft = Field(default_factory=ScheduledDraft)
    plan: PlanDraft = Field(default_factory=PlanDraft)
    notices: NoticesDraft = Field(default_factory=NoticesDraft)
    # How the call is going, for the count of calls by how they ended (ivr.metrics).
    paid: bool = False
    transferred: bool = False
    balances: BalancesDraft = Field(default_factory=BalancesDraft)
    # A spoken request heard but not sure enough to act on: read back to the caller first.
    spoken: str | None = None
    # The question about the bill last answered: its next step and "hear this again".
    question: str | None = None
    # The amount said with a request to pay ("pay fifty dollars on my bill"), in cents.
    spoken_amount: int | None = None

    _call_sid: str = PrivateAttr(default="")
    _is_new: bool = PrivateAttr(default=True)
    _has_ended: bool = PrivateAttr(default=False)
    _stored_token: str | None = PrivateAttr(default=None)
    # The token of the prompt whose answer load() took for this webhook, if it did.
    _claimed_token: str | None = PrivateAttr(default=None)
    _loaded: dict[str, Any] = PrivateAttr(default_factory=dict)
    ended: bool = Field(default=False, exclude=True)  # the call is over: nothing more is saved

    @classmethod
    def ended_call(cls, call_sid: str) -> CallState:
        """The state of a call that has already ended: nothing of it may run again."""
        state = cls.restore(call_sid, {}, is_new=True)
        state._has_ended = True
        return state

    @classmethod
    def restore(cls, call_sid: str, data: dict[str, Any], *, is_new: bool) -> CallState:
        """Return the state stored for a call; one that no longer reads starts afresh."""
        try:
            state = cls.model_validate(data)
        except ValidationError:
            log.warning("call %s: stored state unreadable, starting afresh", call_sid)
            state, is_new = cls(), True
        state._call_sid = call_sid
        state._is_new = is_new
        state._loaded = state.to_json()
        return state

    @property
    def call_sid(self) -> str:
        return self._call_sid

    @property
    def is_new(self) -> bool:
        return self._is_new

    def took_answer(self) -> None:
        """This webhook took the answer to the prompt: the database now holds no token."""
        self._stored_token = None
        self._claimed_token = None

    @property
    def claimed_token(self) -> str | None:
        """The token of the prompt whose answer was taken as the state was loaded."""
        return self._claimed_token

    @property
    def stored_token(self) -> str | None:
        """The token of the prompt the stored state waits on, as the database holds it."""
        return self._stored_token

    @property
    def answer_in_flight(self) -> bool:
        """An answer to the prompt was taken and its webhook has not saved what followed.

        Another webhook meeting the call now must not act on a state about to change.
        """
        return self.waiting is not None and self._stored_token != self.waiting.token

    @property
    def has_ended(self) -> bool:
        """Twilio said this call ended: a webhook for it now is a replay or very late."""
        return self._has_ended

    def unsaved(self) -> dict[str, Any] | None:
        """The state as it is to be written, or None when there is nothing to write.

        A webhook that changes nothing writes nothing.
        """
        data = self.to_json()
        return data if self._is_new or data != self._loaded else None

    def to_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_defaults=True)

    def count_failure(self, step: str) -> int:
        """Count a no-input or invalid answer at a step; return how many in a row."""
        self.failures = {**self.failures, step: self.failures.get(step, 0) + 1}
        return self.failures[step]

    def clear_failures(self, step: str) -> None:
        if step in self.failures:
            self.failures = {name: n for name, n in self.failures.items() if name != step}


# The statements of the call state, built once: each webhook runs them as they are, so
# SQLAlchemy neither rebuilds nor re-keys them (the hot path of every webhook).
_CALLS = CallSession.__table__
_COLUMNS = _CALLS.c
_LOAD = select(_COLUMNS.data, _COLUMNS.expires_at, _COLUMNS.ended_at, _COLUMNS.prompt_token).where(
    _COLUMNS.call_sid == bindparam("sid")
)
_CLAIM = (
    update(_CALLS)
    .where(
        _COLUMNS.call_sid == bindparam("sid"),
        _COLUMNS.prompt_token == bindparam("token"),
        _COLUMNS.ended_at.is_(None),
    )
    .values(prompt_token=None)
)
# An answer's load and claim in one statement: the state of a live call still waiting on
# the prompt with this token, which it then no longer waits on.
_LOAD_CLAIMING = _CLAIM.where(
    _COLUMNS.expires_at > bindparam("now", type_=_COLUMNS.expires_at.type)
).returning(_COLUMNS.data)
# Given back when the answer turns out not to be the one the prompt waits on.
_UNCLAIM = (
    update(_CALLS)
    .where(
        _COLUMNS.call_sid == bindparam("sid"),
        _COLUMNS.prompt_token.is_(None),
        _COLUMNS.ended_at.is_(None),
    )
    .values(prompt_token=bindparam("token"))
)
_NEW_VALUES = {
    "data": bindparam("new_data", type_=_COLUMNS.data.type),
    "prompt_token": bindparam("new_token", type_=_COLUMNS.prompt_token.type),
    "updated_at": bindparam("now", type_=_COLUMNS.updated_at.type),
    "expires_at": bindparam("expires", type_=_COLUMNS.expires_at.type),
}
# Written only over the state the webhook read (see CallStore.save).
_SAVE_OVER = (
    update(_CALLS)
    .where(
        _COLUMNS.call_sid == bindparam("sid"),
        _COLUMNS.ended_at.is_(None),
        _COLUMNS.prompt_token.is_not_distinct_from(
            bindparam("stored", type_=_COLUMNS.prompt_token.type)
        ),
    )
    .values(**_NEW_VALUES)
)
_SAVE_UNLESS_ENDED = (
    update(_CALLS)
    .where(_COLUMNS.call_sid == bindparam("sid"), _COLUMNS.ended_at.is_(None))
    .values(**_NEW_VALUES)
)
_EXISTS = select(_COLUMNS.call_sid).where(_COLUMNS.call_sid == bindparam("sid"))


# A call's first row, and the marker of a call that ended before the app saw it. Plain
# INSERTs, not the dialects' ON CONFLICT forms: SQLAlchemy caches these compiled, and a
# conflict (another webhook of the call got there first) only makes the caller update.
_INSERT = insert(_CALLS).values(
    call_sid=bindparam("sid"),
    created_at=bindparam("now", type_=_COLUMNS.created_at.type),
    **_NEW_VALUES,
)
# What a call's end leaves of it: no state, no prompt, kept as long as an end marker is.
_ENDED = {
    "data": {},
    "prompt_token": None,
    "updated_at": bindparam("now", type_=_COLUMNS.updated_at.type),
    "expires_at": bindparam("expires", type_=_COLUMNS.expires_at.type),
    "ended_at": bindparam("now", type_=_COLUMNS.ended_at.type),
}
_END = update(_CALLS).where(_COLUMNS.call_sid == bindparam("sid")).values(**_ENDED)
_INSERT_ENDED = insert(_CALLS).values(
    call_sid=bindparam("sid"),
    created_at=bindparam("now", type_=_COLUMNS.created_at.type),
    **_ENDED,
)


def _sqlite_connection(connection: Connection):
    # The driver's own connection: a PRAGMA needs none of SQLAlchemy's statement handling.
    return connection.connection.driver_connection


class CallStore:
    """Load and save call states; expired and ended ones are treated as gone.

    SQLAlchemy Core on the engine's own connections, each statement its own transaction
    (autocommit): a read, a claim or a save is one round trip to the database, with no
    BEGIN and COMMIT around it. Each statement is atomic, and each says in its WHERE what
    it may overwrite, so none needs a transaction around it. A webhook holds one
    connection for all of them (hold() and release()), not one per statement.
    """

    def __init__(
        self, engine: Engine, ttl: timedelta, end_marker_ttl: timedelta = timedelta(days=30)
    ) -> None:
        self._engine = engine
        self._ttl = ttl
        # How long an ended call is remembered, so that its replayed webhooks are refused.
        self._end_marker_ttl = max(end_marker_ttl, ttl)
        # The connection the webhook on this thread holds, if any.
        self._held = threading.local()
        self._claims_in_load = engine.dialect.update_returning
        self._sqlite = engine.dialect.name == "sqlite"

    def hold(self) -> None:
        """Keep one connection for this thread's statements until release()."""
        self.release()
        self._held.connection = self._connect()

    def release(self) -> None:
        """Give back the connection hold() kept, if any."""
        connection = getattr(self._held, "connection", None)
        self._held.connection = None
        if connection is not None:
            self._close(connection)

    def _connect(self) -> Connection:
        connection = self._engine.connect()
        connection.execution_options(isolation_level="AUTOCOMMIT")
        if self._sqlite:
            # A call's state need not outlive a power cut (the call would not either): its
            # writes skip the fsync of each commit, which SQLite in WAL mode then makes at
            # the next full commit or checkpoint; the database stays whole either way.
            # The billing core's commits, on connections as they come, keep the full sync.
            _sqlite_connection(connection).execute("PRAGMA synchronous=NORMAL")
        return connection

    def _close(self, connection: Connection) -> None:
        try:
            if self._sqlite and not connection.invalidated:
                _sqlite_connection(connection).execute("PRAGMA synchronous=FULL")
        except Exception:
            connection.invalidate()  # never back in the pool with the relaxed sync
            raise
        finally:
            connection.close()

    @contextmanager
    def _statements(self) -> Iterator[Connection]:
        """A connection whose every statement commits on its own."""
        held = getattr(self._held, "connection", None)
        if held is not None:
            yield held
            return
        connection = self._connect()
        try:
            yield connection
        finally:
            self._close(connection)

    def load(self, call_sid: str, now: datetime, *, claiming: str | None = None) -> CallState:
        """Return the call's state; a new, empty one for an unknown, expired or ended call.

        claiming: the token of the prompt this webhook answers. When the call waits on it,
        the answer is taken in the same statement (see claim()), and the state says so.
        """
        if not call_sid:
            return CallState.restore("", {}, is_new=True)
        if claiming is not None and self._claims_in_load:
            claimed = self._retrying(
                call_sid,
                lambda connection: connection.execute(
                    _LOAD_CLAIMING, {"sid": call_sid, "token": claiming, "now": now}
                ).first(),
            )
            if claimed is not None:
                state = CallState.restore(call_sid, dict(claimed.data), is_new=False)
                state._stored_token = claiming
                state._claimed_token = claiming
                return state
        row = self._retrying(
            call_sid, lambda connection: connection.execute(_LOAD, {"sid": call_sid}).first()
        )
        if row is not None and row.ended_at is not None and row.expires_at > now:
            return CallState.ended_call(call_sid)
        if row is None or row.ended_at is not None or row.expires_at <= now:
            return CallState.restore(call_sid, {}, is_new=True)
        state = CallState.restore(call_sid, dict(row.data), is_new=False)
        state._stored_token = row.prompt_token
        return state

    def _retrying(self, call_sid: str, read):
        """Run a webhook's first statement; once more if the connection was found dropped."""
        try:
            with self._statements() as connection:
                return read(connection)
        except DBAPIError as error:
            if not error.connection_invalidated:
                raise
            # A pooled connection the database dropped (a restart, an idle timeout): the
            # pool has now let go of every connection older than this one; read again.
            log.warning("call %s: the database connection was lost; reconnected", call_sid)
            if getattr(self._held, "connection", None) is not None:
                self.hold()
            with self._statements() as connection:
                return read(connection)

    def claim(self, call_sid: str, token: str) -> bool:
        """Take the answer to the prompt with this token; False if it was taken or is stale.

        One statement, so of two webhooks answering the same prompt at once (a double
        press, a replay) only one goes on.
        """
        with self._statements() as connection:
            taken = connection.execute(_CLAIM, {"sid": call_sid, "token": token})
            return bool(taken.rowcount)

    def unclaim(self, call_sid: str, token: str) -> None:
        """Give back an answer load() took that was not this prompt's after all."""
        with self._statements() as connection:
            connection.execute(_UNCLAIM, {"sid": call_sid, "token": token})

    def save(self, state: CallState, now: datetime, *, data: dict[str, Any] | None = None) -> None:
        """Keep the call's state, unless the call has already ended.

        The status callback can arrive while another webhook of the call is still
        running; the ended row must win, or the state would outlive the call.
        data: the state as to_json() or unsaved() gave it already.
        """
        values = {
            "sid": state.call_sid,
            "new_data": data if data is not None else state.to_json(),
            "new_token": state.waiting.token if state.waiting is not None else None,
            "now": now,
            "expires": now + self._ttl,
        }
        with self._statements() as connection:
            if not state.is_new:
                # Written only over the state this webhook read: a webhook that read it before
                # another one took an answer and saved must not write the older state back.
                updated = connection.execute(_SAVE_OVER, {**values, "stored": state.stored_token})
                if updated.rowcount:
                    return
                if connection.execute(_EXISTS, {"sid": state.call_sid}).first() is not None:
                    log.warning("call %s: a newer state was saved meanwhile; kept", state.call_sid)
                    return
            try:
                connection.execute(_INSERT, values)
            except IntegrityError:
                # Another webhook of the call created it first; an ended call stays ended.
                connection.execute(_SAVE_UNLESS_ENDED, values)

    def end(self, call_sid: str, now: datetime) -> None:
        """Forget the call: its state is wiped, leaving only a marker that it ended."""
        values = {"sid": call_sid, "now": now, "expires": now + self._end_marker_ttl}
        with self._statements() as connection:
            if connection.execute(_END, values).rowcount:
                return
            try:
                connection.execute(_INSERT_ENDED, values)
            except IntegrityError:
                # The call's first webhook saved its state meanwhile: it ends all the same.
                connection.execute(_END, values)

    def purge_expired(self, now: datetime) -> int:
        """Delete expired states and end-of-call markers."""
        with self._engine.begin() as connection:
            result = connection.execute(delete(_CALLS).where(_COLUMNS.expires_at <= now))
            return result.rowcount or 0
