"""Tests of the virtual Twilio that plays calls against the voice app."""
