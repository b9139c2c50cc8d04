"""Reading recorded calls, and a transport that answers a call with what was recorded."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from twilio.twiml.voice_response import VoiceResponse

from ivr_sim.errors import SimError
from ivr_sim.script import STATUS_PATH


@dataclass(frozen=True)
class RecordedTurn:
    """One turn of a recorded call."""

    at: datetime
    path: str
    params: dict[str, str]
    twiml: str
    prompts: tuple[str, ...]
    redacted: dict[str, dict[str, Any]]

    @property
    def bare_path(self) -> str:
        return self.path.split("?", 1)[0]


@dataclass(frozen=True)
class Recording:
    """A recorded call: its turns in order."""

    call_sid: str
    source: str
    turns: tuple[RecordedTurn, ...]

    @property
    def started(self) -> datetime:
        return self.turns[0].at

    @property
    def dialed(self) -> str:
        return self.turns[0].params.get("To") or self.turns[0].params.get("Called", "")

    @property
    def caller(self) -> str:
        return self.turns[0].params.get("From") or self.turns[0].params.get("Caller", "")


class RecordingError(ValueError):
    """A file that is not a call recording."""


def load_recording(path: str | Path) -> Recording:
    """Read a <CallSid>.jsonl recording."""
    path = Path(path)
    turns: list[RecordedTurn] = []
    call_sid = ""
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
            turns.append(
                RecordedTurn(
                    at=datetime.fromisoformat(raw["at"]),
                    path=raw["path"],
                    params=dict(raw.get("params") or {}),
                    twiml=raw.get("twiml") or "",
                    prompts=tuple(raw.get("prompts") or ()),
                    redacted=dict(raw.get("redacted") or {}),
                )
            )
            call_sid = call_sid or raw.get("call_sid", "")
        except (ValueError, KeyError, TypeError) as bad:
            raise RecordingError(f"{path}:{number}: not a recorded turn ({bad})") from None
    if not turns:
        raise RecordingError(f"{path}: the recording is empty")
    return Recording(call_sid or path.stem, str(path), tuple(turns))


class RecordedTransport:
    """Answers a call's requests with the recorded TwiML, in order: the call as it was."""

    public_base_url = "https://recorded.invalid"

    def __init__(self, recording: Recording) -> None:
        self.recording = recording
        self.prompts: list[tuple[str, ...]] = []
        self._next = 0

    def public_url(self, path: str) -> str:
        return self.public_base_url + (path if path.startswith("/") else "/" + path)

    def post(self, path: str, params: Mapping[str, str]) -> tuple[int, str]:
        return self.send("POST", self.public_url(path), params)

    def send(self, method: str, url: str, params: Mapping[str, str]) -> tuple[int, str]:
        path = self.path_of(url)
        turns = self.recording.turns
        if self._next >= len(turns):
            if path.startswith(STATUS_PATH):
                self.prompts.append(())
                return 200, str(VoiceResponse())
            raise SimError(f"the recording ends before the request to {path}")
        turn = turns[self._next]
        if turn.path != path:
            raise SimError(
                f"the replayed call requests {path}, the recording has {turn.path} "
                f"(turn {self._next + 1} of {len(turns)})"
            )
        self._next += 1
        self.prompts.append(turn.prompts)
        return 200, turn.twiml

    def path_of(self, url: str) -> str:
        return url.removeprefix(self.public_base_url) or "/"

    def fresh(self) -> RecordedTransport:
        return self

    def close(self) -> None:
        """Nothing to release."""
