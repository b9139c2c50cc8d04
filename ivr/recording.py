"""Recorded calls: each webhook turn of a call kept as a redacted JSON line.

With config IVR_RECORDINGS_DIR set to a folder, the app appends every turn of a call
to <folder>/<CallSid>.jsonl: the time, the path, the request parameters with anything
sensitive redacted, the TwiML answered and the catalog prompts it spoke. Reading
recordings, turning them into call scripts and replaying them is the simulator's
(ivr_sim.recorded); only the writing runs in the app.

Never written: the keys or speech a caller gives at identification (MRN, birth date),
card and bank data beyond what Twilio masks (card ending, account ending). In their
place a recording notes what a replay needs: the shape of the entry, whether it
identified the caller, and for an MRN its keyed digest (the same one the database
holds), which to-script matches against the members it knows to put the MRN back.
A line of a recording:

    {"at": "2026-11-27T20:00:14.9+00:00", "call_sid": "CA...", "path": "/voice/identify/mrn/answer",
     "params": {"Digits": "[redacted]", ...}, "redacted": {"Digits": {"field": "mrn", ...}},
     "prompts": ["ASK_BIRTH_DATE"], "twiml": "<?xml ...><Response>...</Response>"}
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from flask import Flask, current_app, g, request

log = logging.getLogger(__name__)

# The header each answer names the catalog prompts it spoke in (ivr.twiml sets it).
PROMPTS_HEADER = "X-IVR-Prompts"
CONFIG_KEY = "IVR_RECORDINGS_DIR"
SUFFIX = ".jsonl"
REDACTED = "[redacted]"
IDENTIFICATION_PREFIX = "/voice/identify/"
_CALL_SID = re.compile(r"[A-Za-z0-9]{10,64}")
# Keys that are commands, not identity, even at the identification prompts.
COMMAND_KEYS = frozenset({"*", "#", "0", "7", "8", "9"})
# Parameters that carry card or bank data: never written.
CARD_PARAMS = ("PaymentToken", "ExpirationDate", "SecurityCode", "PaymentCardPostalCode")
BANK_PARAMS = ("BankRoutingNumber",)
# Masked numbers Twilio sends: only their last 4 digits are kept, whatever Twilio showed.
MASKED_PARAMS = ("PaymentCardNumber", "BankAccountNumber")
# A run this long in any other parameter may be a card, an account or an identity: redacted.
_LONG_DIGITS = re.compile(r"\d{8,}")
_PHONE_PARAMS = frozenset({"From", "To", "Called", "Caller"})
_SANDBOX_TOKEN = re.compile(r"b?tok_sandbox_(?P<outcome>[a-z-]+)_(?P<last4>\d{4})")
# Confirmation numbers differ on every run: compared and written as a pattern.


# -- recording in the app ----------------------------------------------------------------------


def install(app: Flask) -> None:
    """Record every webhook turn when config IVR_RECORDINGS_DIR names a folder."""
    if "recording" in app.extensions:
        return
    app.config.setdefault(CONFIG_KEY, os.environ.get(CONFIG_KEY, ""))
    app.extensions["recording"] = True
    app.after_request(_record_turn)


def _record_turn(response):
    folder = current_app.config.get(CONFIG_KEY)
    if not folder or response.status_code != 200:
        return response
    call_sid = request.form.get("CallSid", "")
    if not _CALL_SID.fullmatch(call_sid):
        return response  # no call to file it under, and a name that is safe as a file name
    try:
        state = g.get("call")
        digest = state.mrn_digest if state is not None else None
        query = request.query_string.decode()
        entry = turn_entry(
            at=current_app.extensions["billing"].clock.now(),
            call_sid=call_sid,
            path=request.path + (f"?{query}" if query else ""),
            params=request.form.to_dict(),
            twiml=response.get_data(as_text=True),
            prompts=prompt_names(response.headers.get(PROMPTS_HEADER)),
            mrn_digest=digest if isinstance(digest, str) else None,
        )
        append_turn(Path(folder), call_sid, entry)
    except Exception:  # noqa: BLE001 - a recording problem must never cost the caller the call
        log.exception("call %s: the turn could not be recorded", call_sid)
    return response


def turn_entry(
    *,
    at: datetime,
    call_sid: str,
    path: str,
    params: Mapping[str, str],
    twiml: str,
    prompts: Sequence[str],
    mrn_digest: str | None = None,
) -> dict[str, Any]:
    """Build one line of a recording, redacted."""
    kept, notes = redact(path, params, prompts, mrn_digest=mrn_digest)
    entry: dict[str, Any] = {
        "at": at.astimezone(UTC).isoformat(),
        "call_sid": call_sid,
        "path": path,
        "params": kept,
    }
    if notes:
        entry["redacted"] = notes
    entry["prompts"] = list(prompts)
    entry["twiml"] = twiml
    return entry


def append_turn(folder: Path, call_sid: str, entry: Mapping[str, Any]) -> Path:
    """Append a line to the call's recording; the file is readable by its owner only."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{call_sid}{SUFFIX}"
    line = json.dumps(entry, ensure_ascii=False, separators=(",", ":")) + "\n"
    descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    with os.fdopen(descriptor, "a", encoding="utf-8") as file:
        file.write(line)
    return path


def redact(
    path: str,
    params: Mapping[str, str],
    prompts: Sequence[str] = (),
    *,
    mrn_digest: str | None = None,
) -> tuple[dict[str, str], dict[str, dict[str, Any]]]:
    """Return the parameters safe to write, and notes on what was taken out."""
    kept = dict(params)
    notes: dict[str, dict[str, Any]] = {}
    bare = path.split("?", 1)[0]
    if bare.startswith(IDENTIFICATION_PREFIX):
        field_name = (
            "mrn" if "/mrn" in bare else "birth_date" if "/birth-date" in bare else "identity"
        )
        for name in ("Digits", "SpeechResult"):
            value = params.get(name)
            if value is None or _is_command(name, value):
                continue
            keys = value if name == "Digits" else _spoken_keys(value)
            note: dict[str, Any] = {
                "field": field_name,
                "via": "keys" if name == "Digits" else "speech",
                "shape": re.sub(r"\d", "9", keys),
            }
            if field_name == "mrn":
                note["outcome"] = "invalid" if "MRN_INVALID" in prompts else "entered"
                if note["outcome"] == "entered" and mrn_digest:
                    note["mrn_digest"] = mrn_digest
            elif field_name == "birth_date":
                note["outcome"] = _identification_outcome(prompts)
            kept[name] = REDACTED
            notes[name] = note
    for name in (*CARD_PARAMS, *BANK_PARAMS):
        if name in params:
            kept[name] = REDACTED
            note = {}
            token = _SANDBOX_TOKEN.match(params[name]) if name == "PaymentToken" else None
            if token is not None:
                # A sandbox token names only its test outcome and last 4: enough to replay.
                note = {"outcome": token["outcome"], "last4": token["last4"]}
            notes[name] = note
    for name in MASKED_PARAMS:
        if params.get(name):
            digits = re.sub(r"\D", "", params[name])[-4:]
            kept[name] = "x" * 4 + digits
    for name, value in kept.items():
        if name in _PHONE_PARAMS or name.endswith("Sid") or name in notes:
            continue
        if isinstance(value, str) and _LONG_DIGITS.search(value):
            kept[name] = REDACTED
            notes[name] = {"shape": re.sub(r"\d", "9", value)}
    return kept, notes


def _is_command(name: str, value: str) -> bool:
    from ivr.kernel import SPOKEN_COMMANDS

    if name == "Digits":
        return value.strip() in COMMAND_KEYS or value.strip() == ""
    return value.strip().lower().strip(".!?¡¿ ") in SPOKEN_COMMANDS


def _spoken_keys(speech: str) -> str:
    from ivr.spoken_digits import spoken_to_keys

    return spoken_to_keys(speech.strip().lower()) or "?"


def _identification_outcome(prompts: Sequence[str]) -> str:
    if "IDENTIFIED" in prompts:
        return "identified"
    if "NOT_MATCHED" in prompts:
        return "not-matched"
    if "BIRTH_DATE_INVALID" in prompts:
        return "invalid"
    return "other"


def prompt_names(header: str | None) -> tuple[str, ...]:
    """Split an X-IVR-Prompts header into prompt names."""
    return tuple(name for name in (header or "").split(",") if name)
