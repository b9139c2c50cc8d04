"""The `ivr` command for operators: database, billing feed, demo data, regions, calls."""

from __future__ import annotations

import click
from alembic import command as alembic_command
from alembic.config import Config as AlembicConfig
from flask import Flask, current_app
from flask.cli import FlaskGroup, with_appcontext

from ivr.config import PROJECT_ROOT


def _create_app() -> Flask:
    from ivr import create_app

    return create_app()


@click.group(cls=FlaskGroup, create_app=_create_app, add_version_option=False)
def main() -> None:
    """Operate the pay-by-phone line."""


def register(app: Flask) -> None:
    """Add the operator commands to the app's command line."""
    for group in (db, billing, regions, calls):
        app.cli.add_command(group)
    app.cli.add_command(demo)


def migrate(database_url: str) -> None:
    """Bring the database schema to the latest migration."""
    config = AlembicConfig(str(PROJECT_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    config.attributes["database_url"] = database_url
    alembic_command.upgrade(config, "head")


@click.group()
def db() -> None:
    """Manage the database schema."""


@db.command("upgrade")
@with_appcontext
def db_upgrade() -> None:
    """Apply every migration the database has not had yet."""
    migrate(current_app.config["DATABASE_URL"])
    click.echo("database is up to date")


@click.group()
def billing() -> None:
    """Load and export billing data."""


@click.group()
def regions() -> None:
    """Inspect the regional pay lines."""


@regions.command("list")
@with_appcontext
def regions_list() -> None:
    """Print each region, its numbers and the webhook URLs to set on them."""
    catalog = current_app.extensions["billing"].regions
    base = current_app.config["IVR_PUBLIC_BASE_URL"].rstrip("/") or "https://YOUR-HOST"
    click.echo(f"Voice webhook (a call comes in): POST {base}/voice")
    click.echo(f"Status callback (call ends):     POST {base}/voice/status")
    for region in catalog.regions.values():
        lines = ", ".join(region.pay_lines)
        relay = f"; relay: {', '.join(region.relay_lines)}" if region.relay_lines else ""
        click.echo(
            f"{region.key:5} {region.name}: {lines}{relay} "
            f"({region.time_zone.key}; specialists {region.billing.number})"
        )


@click.group()
def calls() -> None:
    """Manage call state."""


@calls.command("purge")
@with_appcontext
def calls_purge() -> None:
    """Delete the state of calls that expired without a status callback."""
    store = current_app.extensions["call_store"]
    removed = store.purge_expired(current_app.extensions["billing"].clock.now())
    click.echo(f"removed {removed} expired call(s)")


@click.command("demo")
@with_appcontext
def demo() -> None:
    """Create the schema and load the demo members (see README)."""
    migrate(current_app.config["DATABASE_URL"])
    click.echo("demo data: not yet available")
