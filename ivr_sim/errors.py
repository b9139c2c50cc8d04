"""Errors the virtual Twilio raises."""

from __future__ import annotations


class SimError(Exception):
    """The call cannot go on as Twilio would play it: a bad answer, bad TwiML or a loop."""


class CallEnded(Exception):
    """The caller acted on a call that has already ended."""


class TwimlError(ValueError):
    """A TwiML document that Twilio would refuse to run."""
