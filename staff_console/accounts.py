"""Staff accounts: made by an operator command, signed in with a password, locked after misses.

Passwords are kept as Werkzeug's scrypt hashes. A sign-in with an unknown name costs the
same hash check as one with a known name, so the time taken does not tell which names
exist.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, delete, select
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.security import check_password_hash, generate_password_hash

from billing_core.adapters.models import StaffAccount
from billing_core.domain.clock import Clock

# What each role may do in the console.
ROLES = {
    "qa": "the softphone and the flow map, on the sandbox",
    "billing": "payment and member lookups, unlocks, refunds, the outbox and jobs",
}
SHORTEST_PASSWORD = 12
MISMATCH = "that name and password do not match an account"
_USERNAME = re.compile(r"[a-z0-9][a-z0-9._@-]{0,63}")
# Checked when no account has the name given, so a miss takes as long as a wrong password.
_NO_ACCOUNT_HASH = generate_password_hash("no such account")


@dataclass(frozen=True)
class Staff:
    """Who is signed in, and what their roles let them do."""

    username: str
    roles: frozenset[str]

    def may(self, role: str) -> bool:
        return role in self.roles


@dataclass(frozen=True)
class AccountLine:
    username: str
    roles: tuple[str, ...]
    locked_until: datetime | None
    signed_in_at: datetime | None
    has_password: bool


class SignInRefused(Exception):
    """A wrong name or password, or a locked account; the words are safe to show."""


class LockedOut(SignInRefused):
    """Too many wrong passwords in a row: the account waits until `until`."""

    def __init__(self, until: datetime) -> None:
        super().__init__("too many wrong passwords: this account is locked for now")
        self.until = until


def check_roles(roles: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """The roles, checked and in a fixed order; ValueError names an unknown one."""
    unknown = sorted(set(roles) - set(ROLES))
    if unknown:
        raise ValueError(f"no role {', '.join(unknown)}; the roles are {', '.join(ROLES)}")
    if not roles:
        raise ValueError(f"give a role: {', '.join(ROLES)}")
    return tuple(role for role in ROLES if role in roles)


def check_password(password: str) -> str:
    if len(password) < SHORTEST_PASSWORD:
        raise ValueError(f"a password needs {SHORTEST_PASSWORD} characters or more")
    return password


class StaffAccounts:
    """The staff accounts on the billing database."""

    def __init__(
        self,
        engine: Engine,
        clock: Clock,
        *,
        failures_to_lock: int = 5,
        lock_for: timedelta = timedelta(minutes=15),
    ) -> None:
        self._sessions = sessionmaker(engine, expire_on_commit=False)
        self._clock = clock
        self.failures_to_lock = failures_to_lock
        self.lock_for = lock_for

    def add(self, username: str, password: str | None, roles: list[str]) -> Staff:
        """Make an account; password None: one for the SSO proxy's header only."""
        name = username.strip().lower()
        if not _USERNAME.fullmatch(name):
            raise ValueError("a username is lower-case letters, digits and . _ @ -, 64 at most")
        ordered = check_roles(roles)
        digest = generate_password_hash(check_password(password)) if password else None
        with self._sessions.begin() as session:
            if self._account(session, name) is not None:
                raise ValueError(f"there is already an account {name}")
            session.add(
                StaffAccount(
                    username=name,
                    password_hash=digest,
                    roles=",".join(ordered),
                    failures=0,
                    created_at=self._clock.now(),
                )
            )
        return Staff(name, frozenset(ordered))

    def set_password(self, username: str, password: str) -> None:
        digest = generate_password_hash(check_password(password))
        with self._sessions.begin() as session:
            account = self._existing(session, username)
            account.password_hash, account.failures, account.locked_until = digest, 0, None

    def set_roles(self, username: str, roles: list[str]) -> Staff:
        ordered = check_roles(roles)
        with self._sessions.begin() as session:
            account = self._existing(session, username)
            account.roles = ",".join(ordered)
            return Staff(account.username, frozenset(ordered))

    def unlock(self, username: str) -> None:
        with self._sessions.begin() as session:
            account = self._existing(session, username)
            account.failures, account.locked_until = 0, None

    def remove(self, username: str) -> bool:
        with self._sessions.begin() as session:
            gone = session.execute(
                delete(StaffAccount).where(StaffAccount.username == username.strip().lower())
            )
            return bool(gone.rowcount)

    def accounts(self) -> list[AccountLine]:
        with self._sessions() as session:
            return [
                AccountLine(
                    a.username,
                    tuple(a.roles.split(",")),
                    a.locked_until,
                    a.signed_in_at,
                    a.password_hash is not None,
                )
                for a in session.scalars(select(StaffAccount).order_by(StaffAccount.username))
            ]

    def find(self, username: str) -> Staff | None:
        """The account's current roles (a session is checked against them on every page)."""
        with self._sessions() as session:
            account = self._account(session, username.strip().lower())
            if account is None:
                return None
            return Staff(account.username, frozenset(account.roles.split(",")))

    def sign_in(self, username: str, password: str) -> Staff:
        """Check the password; raise SignInRefused (LockedOut when locked) otherwise."""
        now = self._clock.now()
        refused: SignInRefused | None = None
        with self._sessions.begin() as session:
            account = self._account(session, username.strip().lower(), lock=True)
            if account is None or account.password_hash is None:
                check_password_hash(_NO_ACCOUNT_HASH, password)
                refused = SignInRefused(MISMATCH)
            elif account.locked_until is not None and account.locked_until > now:
                # Not checked while locked: guessing on does not even cost a try.
                refused = LockedOut(account.locked_until)
            elif not check_password_hash(account.password_hash, password):
                account.failures += 1
                refused = SignInRefused(MISMATCH)
                if account.failures >= self.failures_to_lock:
                    account.failures, account.locked_until = 0, now + self.lock_for
                    refused = LockedOut(account.locked_until)
            else:
                account.failures, account.locked_until, account.signed_in_at = 0, None, now
                staff = Staff(account.username, frozenset(account.roles.split(",")))
        # Raised once the misses counted are committed.
        if refused is not None:
            raise refused
        return staff

    @staticmethod
    def _account(session: Session, username: str, *, lock: bool = False) -> StaffAccount | None:
        query = select(StaffAccount).where(StaffAccount.username == username)
        if lock:
            query = query.with_for_update()
        return session.scalars(query).one_or_none()

    def _existing(self, session: Session, username: str) -> StaffAccount:
        account = self._account(session, username.strip().lower())
        if account is None:
            raise ValueError(f"no account {username}")
        return account
