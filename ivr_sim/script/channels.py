"""Channels that reach the app, in process or over HTTP, keeping the prompt names of answers."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ivr.recording import PROMPTS_HEADER, prompt_names
from ivr.twiml import REQUESTS_HEADER
from ivr_sim.errors import SimError
from ivr_sim.script.model import DEFAULT_BASE_URL, STEPS_HEADER
from ivr_sim.transport import FlaskTransport, HttpTransport, Transport

if TYPE_CHECKING:
    from flask import Flask


class AppChannel(FlaskTransport):
    """Reaches a Flask app in process and keeps the prompt names of every answer."""

    def __init__(
        self, app: Flask, public_base_url: str | None = None, auth_token: str | None = None
    ) -> None:
        super().__init__(
            app,
            public_base_url or app.config.get("IVR_PUBLIC_BASE_URL") or DEFAULT_BASE_URL,
            auth_token or app.config.get("IVR_TWILIO_AUTH_TOKEN"),
        )
        self.prompts: list[tuple[str, ...]] = []
        self.steps: list[tuple[str, ...]] = []
        self.requests: list[tuple[str, ...]] = []

    def _deliver(
        self, method: str, base: str, path: str, body: dict[str, str], headers: dict[str, str]
    ) -> tuple[int, str]:
        response = self._client.open(
            path, base_url=base, method=method, data=body or None, headers=headers
        )
        try:
            self.prompts.append(prompt_names(response.headers.get(PROMPTS_HEADER)))
            self.steps.append(prompt_names(response.headers.get(STEPS_HEADER)))
            self.requests.append(prompt_names(response.headers.get(REQUESTS_HEADER)))
            return response.status_code, response.get_data(as_text=True)
        finally:
            response.close()

    def fresh(self) -> AppChannel:
        return AppChannel(self.app, self.public_base_url, self.auth_token)


class HttpChannel(HttpTransport):
    """Reaches a running server over HTTP and keeps the prompt names of every answer."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.prompts: list[tuple[str, ...]] = []
        self.steps: list[tuple[str, ...]] = []
        self.requests: list[tuple[str, ...]] = []

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
        except Exception as exc:
            raise SimError(f"{method} {self.base_url + path} failed: {exc}") from exc
        with response:
            self.prompts.append(prompt_names(response.headers.get(PROMPTS_HEADER)))
            self.steps.append(prompt_names(response.headers.get(STEPS_HEADER)))
            self.requests.append(prompt_names(response.headers.get(REQUESTS_HEADER)))
            return response.status_code, response.text

    def fresh(self) -> HttpChannel:
        return HttpChannel(self.base_url, self.auth_token, self.public_base_url, self.timeout)


def channel_prompts(channel: Transport, index: int) -> tuple[str, ...]:
    """Return the prompt names of the channel's index-th answer, when it keeps them."""
    prompts: list[tuple[str, ...]] = getattr(channel, "prompts", [])
    return prompts[index] if index < len(prompts) else ()


def channel_steps(channel: Transport, index: int) -> tuple[str, ...]:
    """Return the paths of the steps the channel's index-th answer ran inline."""
    steps: list[tuple[str, ...]] = getattr(channel, "steps", [])
    return steps[index] if index < len(steps) else ()


def channel_requests(channel: Transport, index: int) -> tuple[str, ...]:
    """Return the spoken requests (language:request) the channel's index-th answer heard."""
    requests: list[tuple[str, ...]] = getattr(channel, "requests", [])
    return requests[index] if index < len(requests) else ()
