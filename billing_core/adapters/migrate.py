"""Bring a database's schema to the latest migration, from the migrations shipped in the package."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(database_url: str) -> Config:
    """Return an Alembic configuration for the database; no alembic.ini is needed."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["database_url"] = database_url
    return config


def upgrade(database_url: str) -> str:
    """Apply every migration the database has not had yet, then the job engine's schema.

    Returns what became of the job schema (see jobs.apply_job_schema): only PostgreSQL
    has one; the embedded set-up keeps its jobs in memory.
    """
    command.upgrade(alembic_config(database_url), "head")
    from billing_core.adapters.jobs import apply_job_schema

    return apply_job_schema(database_url)
