"""Outbox senders that need no web framework or telephony package (SMTP email)."""
