"""The virtual Twilio: places calls to a voice app, in process or over HTTP."""

from __future__ import annotations

from collections.abc import Mapping
from types import TracebackType
from typing import TYPE_CHECKING

from ivr_sim.call import AdvancingClock, Call, VerbHandler
from ivr_sim.ids import new_sid
from ivr_sim.transport import FlaskTransport, HttpTransport, Transport
from ivr_sim.twiml import VerbParser

if TYPE_CHECKING:
    from flask import Flask


class VirtualTwilio:
    """Plays phone calls against a voice webhook app as Twilio Programmable Voice would."""

    def __init__(
        self,
        transport: Transport,
        *,
        clock: AdvancingClock | None = None,
        account_sid: str | None = None,
        verb_handlers: Mapping[str, VerbHandler] | None = None,
        verb_parsers: Mapping[str, VerbParser] | None = None,
    ) -> None:
        self.transport = transport
        self.clock = clock
        self.account_sid = account_sid or new_sid("AC")
        # Extra verbs (a <Pay> handler, say) plug in here: a parser and a handler per name.
        self.verb_handlers: dict[str, VerbHandler] = dict(verb_handlers or {})
        self.verb_parsers: dict[str, VerbParser] = dict(verb_parsers or {})
        # What <Dial> reports on new calls; each call's own dial_outcome can still change.
        self.dial_outcome = "completed"
        self.calls: list[Call] = []
        self._channels: list[Transport] = []

    @classmethod
    def for_app(
        cls,
        app: Flask,
        clock: AdvancingClock | None = None,
        *,
        public_base_url: str | None = None,
        auth_token: str | None = None,
        account_sid: str | None = None,
    ) -> VirtualTwilio:
        """Call a Flask app in process; URL and token default to the app's IVR_* config."""
        transport = FlaskTransport(app, public_base_url, auth_token)
        sid = account_sid or app.config.get("IVR_TWILIO_ACCOUNT_SID")
        return cls(transport, clock=clock, account_sid=sid)

    @classmethod
    def over_http(
        cls,
        base_url: str,
        auth_token: str,
        public_base_url: str | None = None,
        clock: AdvancingClock | None = None,
        *,
        account_sid: str | None = None,
    ) -> VirtualTwilio:
        """Call a running server at `base_url`, signing for `public_base_url` (or base_url)."""
        transport = HttpTransport(base_url, auth_token, public_base_url)
        return cls(transport, clock=clock, account_sid=account_sid)

    def call(
        self,
        to: str,
        from_: str,
        voice_path: str = "/voice",
        status_path: str | None = "/voice/status",
        fallback_path: str | None = None,
    ) -> Call:
        """Place a call and run it until a Gather waits for the caller or the call ends."""
        # Each call keeps its own cookies, as Twilio does for the length of a call.
        channel = self.transport.fresh()
        self._channels.append(channel)
        call = Call(
            channel,
            to=to,
            from_=from_,
            voice_path=voice_path,
            status_path=status_path,
            fallback_path=fallback_path,
            account_sid=self.account_sid,
            clock=self.clock,
            verb_handlers=self.verb_handlers,
            verb_parsers=self.verb_parsers,
        )
        call.dial_outcome = self.dial_outcome
        self.calls.append(call)
        call.start()
        return call

    def close(self) -> None:
        """Release every connection the calls opened."""
        for channel in self._channels:
            channel.close()
        self._channels.clear()
        self.transport.close()

    def __enter__(self) -> VirtualTwilio:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
