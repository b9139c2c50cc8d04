"""A virtual Twilio that plays phone calls against the voice webhook app, no phone needed."""

from ivr_sim import handlers  # noqa: F401 - registers the verb handlers
from ivr_sim.call import VERB_HANDLERS, Call, InputTarget, Turn, VerbHandler
from ivr_sim.errors import CallEnded, SimError, TwimlError
from ivr_sim.gather import GatherState
from ivr_sim.pay import PAY_CONNECTORS, PayConnector, PayField, PromptHeard, SandboxConnector
from ivr_sim.transport import FlaskTransport, HttpTransport, Transport
from ivr_sim.twiml import VERB_PARSERS, VerbParser, parse_twiml
from ivr_sim.virtual import VirtualTwilio

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
