"""Keyed digests of identifying values, so the database never holds an MRN or birth date."""

from __future__ import annotations

import hashlib
import hmac
from datetime import date


class IdentityHasher:
    """HMAC-SHA256 digests under the deployment's identity key.

    The key must stay the same for the life of the data: members are found by these digests.
    """

    def __init__(self, key: str | bytes) -> None:
        if not key:
            raise ValueError("an identity key is required")
        self._key = key.encode() if isinstance(key, str) else key

    def _digest(self, purpose: str, value: str) -> str:
        message = f"{purpose}\x1f{value}".encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()

    def mrn(self, mrn: str) -> str:
        return self._digest("mrn", normalize_mrn(mrn))

    def birth(self, mrn_digest: str, birth_date: date) -> str:
        # Bound to the MRN so equal birth dates of two members give different digests.
        return self._digest("birth", f"{mrn_digest}:{birth_date.isoformat()}")

    def caller(self, phone_number: str) -> str:
        return self._digest("caller", phone_number)


def normalize_mrn(mrn: str) -> str:
    """Keep the digits only; an MRN is the same however it was punctuated."""
    return "".join(ch for ch in str(mrn) if ch.isdigit())


def address_digest(address: str) -> str:
    """An email address as unsubscribe records and links name it: SHA-256 of it, lower-cased.

    Not keyed: the link that carries it is signed, and the address is not a secret, only
    kept out of logs and URLs.
    """
    return hashlib.sha256(address.strip().lower().encode()).hexdigest()
