"""A virtual Twilio that plays phone calls against the voice webhook app, no phone needed."""

from ivr.sim.call import Call, InputTarget, Turn
from ivr.sim.errors import CallEnded, SimError, TwimlError
from ivr.sim.gather import GatherState
from ivr.sim.handlers import VERB_HANDLERS, VerbHandler
from ivr.sim.pay import PAY_CONNECTORS, PayConnector, PayField, PromptHeard, SandboxConnector
from ivr.sim.transport import FlaskTransport, HttpTransport, Transport
from ivr.sim.twiml import VERB_PARSERS, VerbParser, parse_twiml
from ivr.sim.virtual import VirtualTwilio

__all__ = [
    "PAY_CONNECTORS",
    "VERB_HANDLERS",
    "VERB_PARSERS",
    "Call",
    "CallEnded",
    "FlaskTransport",
    "GatherState",
    "HttpTransport",
    "InputTarget",
    "PayConnector",
    "PayField",
    "PromptHeard",
    "SandboxConnector",
    "SimError",
    "Transport",
    "Turn",
    "TwimlError",
    "VerbHandler",
    "VerbParser",
    "VirtualTwilio",
    "parse_twiml",
]
