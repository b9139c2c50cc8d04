"""Fixtures for calls played through the virtual Twilio."""

from __future__ import annotations

import pytest

from ivr.sim import VirtualTwilio


@pytest.fixture
def twilio(app, clock):
    with VirtualTwilio.for_app(app, clock=clock) as virtual:
        yield virtual
