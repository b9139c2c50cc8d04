"""Staff accounts: hashed passwords, lock-out after wrong ones, roles checked."""

from __future__ import annotations

from datetime import timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from billing_core.adapters.models import StaffAccount
from staff_console.accounts import LockedOut, SignInRefused, StaffAccounts
from staff_console.cli import staff

PASSWORD = "correct horse battery"


@pytest.fixture
def accounts(clean_db, clock):
    return StaffAccounts(clean_db, clock, failures_to_lock=3, lock_for=timedelta(minutes=15))


def test_an_account_signs_in_with_its_password_and_keeps_only_a_hash(accounts, clean_db):
    accounts.add("Dana", PASSWORD, ["billing", "qa"])
    staff = accounts.sign_in("dana", PASSWORD)
    assert staff.username == "dana" and staff.may("billing") and staff.may("qa")
    with clean_db.connect() as connection:
        stored = connection.execute(select(StaffAccount.password_hash)).scalar_one()
    assert PASSWORD not in stored and stored.startswith("scrypt:")


def test_a_wrong_password_and_an_unknown_name_are_refused_alike(accounts):
    accounts.add("dana", PASSWORD, ["qa"])
    with pytest.raises(SignInRefused) as wrong:
        accounts.sign_in("dana", "not the password")
    with pytest.raises(SignInRefused) as unknown:
        accounts.sign_in("nobody", PASSWORD)
    assert str(wrong.value) == str(unknown.value)


def test_too_many_wrong_passwords_lock_the_account_even_against_the_right_one(accounts, clock):
    accounts.add("dana", PASSWORD, ["qa"])
    for _ in range(2):
        with pytest.raises(SignInRefused):
            accounts.sign_in("dana", "guess")
    with pytest.raises(LockedOut) as locked:
        accounts.sign_in("dana", "guess")
    assert locked.value.until == clock.now() + timedelta(minutes=15)
    with pytest.raises(LockedOut):
        accounts.sign_in("dana", PASSWORD)
    clock.advance(16 * 60)
    assert accounts.sign_in("dana", PASSWORD).username == "dana"


def test_a_right_password_resets_the_count_of_wrong_ones(accounts):
    accounts.add("dana", PASSWORD, ["qa"])
    for _ in range(2):
        with pytest.raises(SignInRefused):
            accounts.sign_in("dana", "guess")
    accounts.sign_in("dana", PASSWORD)
    for _ in range(2):
        with pytest.raises(SignInRefused) as refused:
            accounts.sign_in("dana", "guess")
        assert not isinstance(refused.value, LockedOut)


def test_an_operator_unlocks_an_account_and_changes_its_roles(accounts):
    accounts.add("dana", PASSWORD, ["qa"])
    for _ in range(3):
        with pytest.raises(SignInRefused):
            accounts.sign_in("dana", "guess")
    accounts.unlock("dana")
    assert accounts.sign_in("dana", PASSWORD).roles == {"qa"}
    accounts.set_roles("dana", ["billing"])
    assert accounts.find("dana").roles == {"billing"}


@pytest.mark.parametrize(
    ("username", "password", "roles", "problem"),
    [
        ("dana", "short", ["qa"], "12 characters"),
        ("dana", PASSWORD, ["admin"], "no role admin"),
        ("dana", PASSWORD, [], "give a role"),
        ("Dana Smith", PASSWORD, ["qa"], "lower-case letters"),
    ],
)
def test_bad_accounts_are_refused_with_the_reason(accounts, username, password, roles, problem):
    with pytest.raises(ValueError, match=problem):
        accounts.add(username, password, roles)


def test_an_sso_only_account_never_signs_in_with_a_password(accounts):
    accounts.add("sam", None, ["billing"])
    with pytest.raises(SignInRefused):
        accounts.sign_in("sam", "")
    assert accounts.find("sam").may("billing")


def test_the_staff_commands_add_list_and_remove_an_account(app):
    runner = CliRunner()
    obj = _script_info(app)
    typed = f"{PASSWORD}\n{PASSWORD}\n"
    added = runner.invoke(staff, ["add", "dana", "--role", "billing"], input=typed, obj=obj)
    assert added.exit_code == 0, added.output
    assert PASSWORD not in added.output and "added dana (billing)" in added.output
    listed = runner.invoke(staff, ["list"], obj=obj)
    assert listed.output.split() == ["dana", "billing"]
    again = runner.invoke(staff, ["add", "dana", "--role", "qa", "--sso-only"], obj=obj)
    assert again.exit_code == 1 and "already an account dana" in again.output
    assert runner.invoke(staff, ["remove", "dana"], obj=obj).exit_code == 0
    assert runner.invoke(staff, ["list"], obj=obj).output == ""


def _script_info(app):
    from flask.cli import ScriptInfo

    return ScriptInfo(create_app=lambda: app)


def test_by_default_the_fifth_wrong_password_in_a_row_locks_for_fifteen_minutes(clean_db, clock):
    accounts = StaffAccounts(clean_db, clock)
    accounts.add("dana", PASSWORD, ["qa"])
    for _ in range(4):
        with pytest.raises(SignInRefused) as refused:
            accounts.sign_in("dana", "guess")
        assert not isinstance(refused.value, LockedOut)
    with pytest.raises(LockedOut) as locked:
        accounts.sign_in("dana", "guess")
    assert locked.value.until == clock.now() + timedelta(minutes=15)


def test_new_roles_are_answered_under_the_stored_name(accounts):
    accounts.add("dana", PASSWORD, ["qa"])
    assert accounts.set_roles(" Dana", ["billing", "qa"]).username == "dana"
