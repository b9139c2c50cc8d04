"""The print vendor's manifest, a file format: one CSV row per mailed document."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from billing_core.adapters.ledger_csv import safe_cell

# Address lines beyond the name: street, a second street line, "City, ST 12345".
ADDRESS_LINES = 3
MANIFEST_COLUMNS = (
    "document_id",
    "kind",
    "file_name",
    "member_name",
    *(f"address_line{number}" for number in range(1, ADDRESS_LINES + 1)),
    "pages",
    "created_at",
)


@dataclass(frozen=True)
class ManifestRow:
    document_id: int
    kind: str
    file_name: str
    member_name: str
    address: tuple[str, ...]
    pages: int
    created_at: datetime


def manifest_csv(rows: Iterable[ManifestRow]) -> str:
    """Write the rows as the manifest CSV, header first; times in UTC, ISO 8601 with Z."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(MANIFEST_COLUMNS)
    for row in rows:
        lines = (list(row.address) + [""] * ADDRESS_LINES)[:ADDRESS_LINES]
        created = row.created_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        # Names and addresses come from the billing feed: a cell starting "=" must not run
        # as a formula in the print vendor's spreadsheet.
        text = [safe_cell(value) for value in (row.member_name, *lines)]
        writer.writerow([row.document_id, row.kind, row.file_name, *text, row.pages, created])
    return out.getvalue()
