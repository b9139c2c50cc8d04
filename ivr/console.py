"""The `ivr` command: the app's command line, for operators."""

from __future__ import annotations

import click
from flask.cli import FlaskGroup

from ivr import create_app


@click.group(cls=FlaskGroup, create_app=create_app, add_version_option=False)
def main() -> None:
    """Operate the pay-by-phone line."""
