"""Recorded calls (written by ivr.recording in the app): read, turned into scripts, replayed."""

from ivr.recording import REDACTED, SUFFIX, append_turn, redact, turn_entry
from ivr_sim.recorded.client import ClientRecorder
from ivr_sim.recorded.reading import (
    RecordedTransport,
    RecordedTurn,
    Recording,
    RecordingError,
    load_recording,
)
from ivr_sim.recorded.replay import ReplayReport, replay
from ivr_sim.recorded.steps import DIGIT_WORDS, DerivedStep, Identities, derive_steps, waits_for
from ivr_sim.recorded.to_script import (
    CONFIRMATION,
    GeneratedScript,
    heard_pattern,
    recording_to_script,
)

__all__ = [
    "CONFIRMATION",
    "ClientRecorder",
    "DIGIT_WORDS",
    "DerivedStep",
    "GeneratedScript",
    "Identities",
    "REDACTED",
    "RecordedTransport",
    "RecordedTurn",
    "Recording",
    "RecordingError",
    "ReplayReport",
    "SUFFIX",
    "append_turn",
    "derive_steps",
    "heard_pattern",
    "load_recording",
    "recording_to_script",
    "redact",
    "replay",
    "turn_entry",
    "waits_for",
]
