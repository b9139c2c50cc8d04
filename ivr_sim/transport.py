"""Carry signed webhook requests to the voice app: in process or over HTTP."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Protocol
from urllib.parse import urlencode, urlsplit

import requests

from ivr_sim.errors import SimError
from ivr_sim.signing import SIGNATURE_HEADER, sign

if TYPE_CHECKING:
    from flask import Flask


class Transport(Protocol):
    """What a call needs to reach the app: signed requests to public URLs."""

    public_base_url: str

    def post(self, path: str, params: Mapping[str, str]) -> tuple[int, str]:
        """POST `params` to public_base_url + `path`; return (status, body)."""
        ...

    def send(self, method: str, url: str, params: Mapping[str, str]) -> tuple[int, str]:
        """Request the absolute public `url` with `params`; return (status, body)."""
        ...

    def path_of(self, url: str) -> str:
        """Return the path (and query) under which `url` is requested from the app."""
        ...

    def fresh(self) -> Transport:
        """Return a transport to the same app with its own, empty cookie jar."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...


class SigningTransport:
    """Signs each request against its public URL; subclasses deliver it."""

    def __init__(self, public_base_url: str, auth_token: str) -> None:
        if not public_base_url:
            raise ValueError("a public base URL is needed to sign requests as Twilio does")
        if not auth_token:
            raise ValueError("an auth token is needed to sign requests as Twilio does")
        self.public_base_url = public_base_url.rstrip("/")
        self.auth_token = auth_token

    def public_url(self, path: str) -> str:
        """Return the absolute public URL of `path` (which may carry a query string)."""
        return self.public_base_url + (path if path.startswith("/") else "/" + path)

    def post(self, path: str, params: Mapping[str, str]) -> tuple[int, str]:
        """POST `params` to public_base_url + `path`; return (status, body)."""
        return self.send("POST", self.public_url(path), params)

    def send(self, method: str, url: str, params: Mapping[str, str]) -> tuple[int, str]:
        """Request the absolute public `url` with `params`; return (status, body)."""
        method = method.upper()
        body: dict[str, str] = dict(params)
        if method == "GET":
            # Twilio puts GET parameters in the query string and signs the URL alone.
            if body:
                url += ("&" if urlsplit(url).query else "?") + urlencode(body)
            body = {}
        headers = {SIGNATURE_HEADER: sign(self.auth_token, url, body)}
        base, path = self.split(url)
        return self._deliver(method, base, path, body, headers)

    def split(self, url: str) -> tuple[str, str]:
        """Split an absolute URL into the base it lives under and the path below it."""
        base = self.public_base_url
        if url == base or url.startswith((base + "/", base + "?")):
            return base, url[len(base) :] or "/"
        # A URL on another host: the app is reached at the same path on its own address.
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        return origin, url[len(origin) :] or "/"

    def path_of(self, url: str) -> str:
        """Return the path (and query) under which `url` is requested from the app."""
        return self.split(url)[1]

    def _deliver(
        self, method: str, base: str, path: str, body: dict[str, str], headers: dict[str, str]
    ) -> tuple[int, str]:
        raise NotImplementedError

    def close(self) -> None:
        """Release connections."""


class FlaskTransport(SigningTransport):
    """Delivers requests to a Flask app in process through its test client."""

    def __init__(
        self, app: Flask, public_base_url: str | None = None, auth_token: str | None = None
    ) -> None:
        base = public_base_url or app.config.get("IVR_PUBLIC_BASE_URL")
        token = auth_token or app.config.get("IVR_TWILIO_AUTH_TOKEN")
        if not base or not token:
            raise ValueError(
                "FlaskTransport needs the public base URL and auth token: pass them or set "
                'app.config["IVR_PUBLIC_BASE_URL"] and app.config["IVR_TWILIO_AUTH_TOKEN"]'
            )
        super().__init__(base, token)
        self.app = app
        self._client = app.test_client()

    def _deliver(
        self, method: str, base: str, path: str, body: dict[str, str], headers: dict[str, str]
    ) -> tuple[int, str]:
        # base_url makes the app see the public scheme, host and any path prefix, as it
        # would behind a proxy that forwards them.
        response = self._client.open(
            path, base_url=base, method=method, data=body or None, headers=headers
        )
        try:
            return response.status_code, response.get_data(as_text=True)
        finally:
            response.close()

    def fresh(self) -> FlaskTransport:
        """Return a transport to the same app with its own, empty cookie jar."""
        return FlaskTransport(self.app, self.public_base_url, self.auth_token)


class HttpTransport(SigningTransport):
    """Delivers requests over HTTP to a running server."""

    def __init__(
        self,
        base_url: str,
        auth_token: str,
        public_base_url: str | None = None,
        timeout: float = 10.0,
    ) -> None:
        super().__init__(public_base_url or base_url, auth_token)
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self._session = requests.Session()

    def _deliver(
        self, method: str, base: str, path: str, body: dict[str, str], headers: dict[str, str]
    ) -> tuple[int, str]:
        try:
            response = self._session.request(
                method,
                self.base_url + path,
                data=body or None,
                headers=headers,
                timeout=self.timeout,
                allow_redirects=False,
            )
        except requests.RequestException as exc:
            raise SimError(f"{method} {self.base_url + path} failed: {exc}") from exc
        with response:
            return response.status_code, response.text

    def fresh(self) -> HttpTransport:
        """Return a transport to the same server with its own, empty cookie jar."""
        return HttpTransport(self.base_url, self.auth_token, self.public_base_url, self.timeout)

    def close(self) -> None:
        """Release connections."""
        self._session.close()
