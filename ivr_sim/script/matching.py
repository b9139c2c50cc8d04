"""Matching heard lines: exact text or a /regular expression/."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from ivr_sim.script.errors import ScriptError


@dataclass(frozen=True)
class Matcher:
    """A line the caller must (or must not) hear: exact text, or /regex/ searched in the line."""

    written: str
    pattern: re.Pattern[str] | None

    def matches(self, line: str) -> bool:
        if self.pattern is not None:
            return self.pattern.search(line) is not None
        return line == self.written

    def __str__(self) -> str:
        if self.pattern is not None:
            return self.written
        return json.dumps(self.written, ensure_ascii=False)


def matcher_at(written: str, source: str = "", line: int | None = None) -> Matcher:
    """Return the matcher for a hear line at a script's line: a bad /regex/ names it."""
    if len(written) >= 2 and written.startswith("/") and written.endswith("/"):
        try:
            return Matcher(written, re.compile(written[1:-1]))
        except re.error as bad:
            raise ScriptError(f"bad regular expression {written}: {bad}", source, line) from None
    return Matcher(written, None)


def matcher(written: str) -> Matcher:
    """Return the matcher for a hear line: exact text, or /regex/."""
    return matcher_at(written)
