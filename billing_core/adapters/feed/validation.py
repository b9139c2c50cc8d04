"""Checking a feed document ({"members": [...]}), the one path both file formats share.

Each member, bill and premium is checked by its pydantic row model (rows.py).

Every problem is collected with its position and field, and a document with any problem
is refused whole (FeedRejected). Problem messages never repeat an MRN or a birth date.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from billing_core.adapters.feed.records import (
    MemberRecord,
)
from billing_core.adapters.feed.rows import Position, Problems, checked_member, is_mrn
from billing_core.domain.exceptions import FeedRejected
from billing_core.domain.regions import RegionCatalog


def _json_place(path: Position, field_name: str | None) -> str:
    """Name a position the JSON way: members[3].bills[1].amount."""
    text = ""
    for part in (*path, field_name) if field_name else path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "document"


class CsvPlaces:
    """Names positions by CSV row: row 7 (bill), field amount."""

    def __init__(self) -> None:
        self.rows: dict[Position, tuple[int, str]] = {}

    def __call__(self, path: Position, field_name: str | None) -> str:
        row, kind = self.rows.get(path, (0, "?"))
        where = f"row {row} ({kind})"
        return f"{where}, field {field_name}" if field_name else where


# --- validation: one path for both formats ---------------------------------------------


def parse_feed_document(
    document: Any, *, regions: RegionCatalog, today: date
) -> list[MemberRecord]:
    """Check a feed document ({"members": [...]}) and return its members, or raise FeedRejected."""
    problems = Problems(_json_place)
    records = validate_document(document, problems, regions, today)
    if problems.items:
        raise FeedRejected(problems.items)
    return records


def validate_document(
    document: Any, problems: Problems, regions: RegionCatalog, today: date
) -> list[MemberRecord]:
    if not isinstance(document, Mapping):
        problems.add((), None, 'must be an object with a "members" list')
        return []
    for name in document:
        if name != "members":
            problems.add((), str(name), "unknown field")
    members = document.get("members")
    if not isinstance(members, list):
        problems.add((), "members", "must be a list of members")
        return []
    records: list[MemberRecord] = []
    first_position: dict[str, int] = {}
    for index, member in enumerate(members):
        path: Position = ("members", index)
        if not isinstance(member, Mapping):
            problems.add(path, None, "must be an object")
            continue
        record = checked_member(member, path, problems, regions, today)
        mrn = member.get("mrn")
        if isinstance(mrn, str) and is_mrn(mrn.strip()):
            earlier = first_position.setdefault(mrn.strip(), index)
            if earlier != index:
                # Named by position, not value: an MRN goes into no message and no log.
                where = problems.place(("members", earlier), None)
                problems.add(path, "mrn", f"the same MRN as {where}")
                continue
        if record is not None:
            records.append(record)
    return records
