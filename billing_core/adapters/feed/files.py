"""Reading feed files: JSON or CSV text becomes checked member records, or FeedRejected."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path

from billing_core.adapters.feed.csv_format import by_row, csv_document
from billing_core.adapters.feed.records import FeedFormat, MemberRecord
from billing_core.adapters.feed.validation import parse_feed_document, validate_document
from billing_core.domain.exceptions import FeedRejected
from billing_core.domain.regions import RegionCatalog


def parse_feed(
    text: str, *, format: FeedFormat, regions: RegionCatalog, today: date
) -> list[MemberRecord]:
    """Parse and check feed text in the given format; raise FeedRejected listing every problem."""
    if format == "json":
        try:
            # Decimal, never float: 0.1 + 0.2 must stay 0.30.
            document = json.loads(text, parse_float=Decimal)
        except json.JSONDecodeError as broken:
            raise FeedRejected(
                [f"line {broken.lineno}, column {broken.colno}: not valid JSON: {broken.msg}"]
            ) from None
        return parse_feed_document(document, regions=regions, today=today)
    if format == "csv":
        document, places, problems = csv_document(text)
        records = validate_document(document, problems, regions, today)
        if problems.items:
            # Row order, so a person can walk the file top to bottom.
            raise FeedRejected(by_row(problems.items))
        return records
    raise ValueError(f"unknown feed format {format!r}; use 'json' or 'csv'")


def load_feed_file(
    path: str | Path, *, regions: RegionCatalog, today: date, format: FeedFormat | None = None
) -> list[MemberRecord]:
    """Read, parse and check a feed file; the format comes from the extension unless given."""
    path = Path(path)
    if format is None:
        suffix = path.suffix.lower().lstrip(".")
        if suffix not in ("json", "csv"):
            raise FeedRejected([f"{path.name}: unknown feed format; name the file .json or .csv"])
        format = "json" if suffix == "json" else "csv"
    try:
        # utf-8-sig: spreadsheets often start a CSV export with a byte-order mark.
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise FeedRejected([f"{path.name}: not UTF-8 text"]) from None
    return parse_feed(text, format=format, regions=regions, today=today)
