"""Signed unsubscribe links: a link names an address by its digest and cannot be forged.

itsdangerous signs the digest with a key (and a salt of its own, so the key used for
other things yields a different signature here). The link never expires: an email read
a year later must still unsubscribe. It carries no address, so a link seen in a log or
a proxy names nobody.
"""

from __future__ import annotations

from urllib.parse import quote

from itsdangerous import BadSignature, URLSafeSerializer

from billing_core.domain.identity import address_digest

_SALT = "email-unsubscribe"


class UnsubscribeLinks:
    """Makes and reads the links; base_url is the public https://host of the app."""

    def __init__(self, key: str, base_url: str) -> None:
        self._serializer = URLSafeSerializer(key, salt=_SALT)
        self._base = base_url.rstrip("/")

    def token(self, address: str) -> str:
        return self._serializer.dumps(address_digest(address))

    def link(self, address: str, language: str = "en") -> str:
        """The page that unsubscribes the address, in the language of the email."""
        url = f"{self._base}/unsubscribe/{quote(self.token(address))}"
        return url if language == "en" else f"{url}?lang={quote(language)}"

    def digest_of(self, token: str) -> str | None:
        """The address digest a token was signed for; None if it was not signed here."""
        try:
            digest = self._serializer.loads(token)
        except BadSignature:
            return None
        return digest if isinstance(digest, str) and len(digest) == 64 else None
