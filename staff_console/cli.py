"""The console's commands: `ivr staff ...` (accounts) and `ivr console flow-map`.

Loaded by `ivr` (a FlaskGroup) from the `flask.commands` entry points in pyproject.toml,
like the simulator's; the voice app itself never imports them.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from staff_console.accounts import ROLES, StaffAccounts


@contextmanager
def _refused_as_usage() -> Iterator[None]:
    """An account the store refuses (a taken name, a short password) ends the command, said."""
    try:
        yield
    except ValueError as problem:
        raise click.ClickException(str(problem)) from None


def _accounts() -> StaffAccounts:
    from staff_console import accounts_for

    return accounts_for(current_app._get_current_object())  # type: ignore[attr-defined]


def _role_option(function):
    return click.option(
        "--role",
        "roles",
        multiple=True,
        required=True,
        type=click.Choice(list(ROLES)),
        help="qa: the softphone and flow map; billing: lookups, unlocks, refunds (repeatable)",
    )(function)


@click.group("staff")
def staff() -> None:
    """Staff accounts of the staff console."""


@staff.command("add")
@click.argument("username")
@_role_option
@click.option(
    "--sso-only",
    is_flag=True,
    help="no password: signs in only through the SSO proxy's header",
)
@with_appcontext
def staff_add(username: str, roles: tuple[str, ...], sso_only: bool) -> None:
    """Make an account; the password is asked twice and never shown."""
    password = None
    if not sso_only:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    with _refused_as_usage():
        made = _accounts().add(username, password, list(roles))
    click.echo(f"added {made.username} ({', '.join(sorted(made.roles))})")


@staff.command("password")
@click.argument("username")
@with_appcontext
def staff_password(username: str) -> None:
    """Set a new password (and lift a lock-out)."""
    password = click.prompt("New password", hide_input=True, confirmation_prompt=True)
    with _refused_as_usage():
        _accounts().set_password(username, password)
    click.echo(f"password set for {username}")


@staff.command("roles")
@click.argument("username")
@_role_option
@with_appcontext
def staff_roles(username: str, roles: tuple[str, ...]) -> None:
    """Replace an account's roles."""
    with _refused_as_usage():
        changed = _accounts().set_roles(username, list(roles))
    click.echo(f"{changed.username}: {', '.join(sorted(changed.roles))}")


@staff.command("unlock")
@click.argument("username")
@with_appcontext
def staff_unlock(username: str) -> None:
    """Lift a lock-out after too many wrong passwords."""
    with _refused_as_usage():
        _accounts().unlock(username)
    click.echo(f"unlocked {username}")


@staff.command("remove")
@click.argument("username")
@with_appcontext
def staff_remove(username: str) -> None:
    """Delete an account."""
    if not _accounts().remove(username):
        raise click.ClickException(f"no account {username}")
    click.echo(f"removed {username}")


@staff.command("list")
@with_appcontext
def staff_list() -> None:
    """The accounts, their roles, and any lock-out."""
    for line in _accounts().accounts():
        locked = ""
        if line.locked_until is not None:
            locked = f"  locked until {line.locked_until:%Y-%m-%d %H:%M} UTC"
        password = "" if line.has_password else "  (SSO only)"
        click.echo(f"{line.username:24} {','.join(line.roles):12}{password}{locked}")


@click.group("console")
def console() -> None:
    """The staff console."""


@console.command("flow-map")
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="write the page here (default: print it)",
)
@with_appcontext
def flow_map(output: Path | None) -> None:
    """Write the flow map, generated from the steps' code, as one HTML page."""
    from staff_console.flow_graph import flow_graph
    from staff_console.flow_svg import standalone_page

    page = standalone_page(flow_graph(current_app._get_current_object()))  # type: ignore[attr-defined]
    if output is None:
        click.echo(page, nl=False)
    else:
        output.write_text(page, encoding="utf-8")
        click.echo(f"wrote {output}")


@console.command("run")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5006, show_default=True, type=int)
def console_run(host: str, port: int) -> None:
    """Serve the staff console (development server; see README for production)."""
    from werkzeug.serving import run_simple

    from staff_console import create_app

    # One process, many threads: the softphone's calls live in this process's memory.
    # (Flask's app.run() declines to serve from inside a flask command.)
    run_simple(host, port, create_app(), threaded=True)
