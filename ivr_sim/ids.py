"""Twilio-style identifiers."""

from __future__ import annotations

import uuid


def new_sid(prefix: str) -> str:
    """Return a Twilio-style SID: a two-letter prefix such as "CA" and 32 hex digits."""
    return prefix + uuid.uuid4().hex
