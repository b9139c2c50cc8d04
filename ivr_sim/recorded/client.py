"""Recording a call from the caller's side, for a softphone on a remote server."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path

from ivr.recording import SUFFIX, append_turn, turn_entry
from ivr_sim.script import TurnRecord


class ClientRecorder:
    """Writes a call's turns from the caller's side (a softphone on a remote server).

    The same format and redaction as the app's own recording, without the MRN digest,
    which only the app knows: to-script leaves the MRN for the operator to fill in.
    """

    def __init__(self, folder: Path, call_sid: str, started: datetime) -> None:
        self.folder = folder
        self.call_sid = call_sid
        self.started = started
        self.written = 0
        self.path = folder / f"{call_sid}{SUFFIX}"

    def write(self, turns: Sequence[TurnRecord]) -> None:
        """Append the turns not written yet."""
        for turn in turns[self.written :]:
            entry = turn_entry(
                at=self.started + timedelta(seconds=turn.at),
                call_sid=self.call_sid,
                path=turn.path,
                params=turn.params,
                twiml=turn.twiml,
                prompts=turn.prompts,
            )
            append_turn(self.folder, self.call_sid, entry)
        self.written = max(self.written, len(turns))
