"""The feed as CSV: one row per member, bill or premium, linked by MRN, in any order."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping
from typing import Any

from billing_core.adapters.feed.records import CSV_COLUMNS, CSV_RECORD_COLUMNS, MEMBER_LISTS
from billing_core.adapters.feed.rows import Problems
from billing_core.adapters.feed.validation import CsvPlaces
from billing_core.domain.money import shown as _shown


def csv_document(text: str) -> tuple[dict[str, Any], CsvPlaces, Problems]:
    """Turn CSV rows into a feed document, remembering which row each item came from."""
    places = CsvPlaces()
    problems = Problems(places)
    members: list[dict[str, Any]] = []
    document: dict[str, Any] = {"members": members}

    rows = csv.reader(io.StringIO(text, newline=""))
    header = next(rows, None)
    if header is None or not any(cell.strip() for cell in header):
        problems.items.append("row 1 (header): the file is empty; the first row names the columns")
        return document, places, problems
    columns = [cell.strip().lower() for cell in header]
    fatal = False
    for position, name in enumerate(columns):
        if name not in CSV_COLUMNS:
            problems.items.append(f"row 1 (header), field {name or '(blank)'}: unknown column")
        elif name in columns[:position]:
            problems.items.append(f"row 1 (header), field {name}: the column appears twice")
            fatal = True
    for needed in ("record", "mrn"):
        if needed not in columns:
            problems.items.append(f"row 1 (header): the {needed} column is missing")
            fatal = True
    if fatal:
        return document, places, problems

    width = len(columns)
    record_at, mrn_at = columns.index("record"), columns.index("mrn")
    # Per record kind: the columns it reads, and the other known columns, which must be empty.
    layout = {
        kind: (
            [(name, columns.index(name)) for name in names if name in columns],
            [
                (name, position)
                for position, name in enumerate(columns)
                if name in CSV_COLUMNS and name not in names and name not in ("record", "mrn")
            ],
        )
        for kind, names in CSV_RECORD_COLUMNS.items()
    }
    member_by_mrn: dict[str, tuple[int, dict[str, Any]]] = {}
    pending: list[tuple[int, str, str, dict[str, Any]]] = []
    for number, cells in enumerate(rows, start=2):
        if not "".join(cells).strip():
            continue  # a blank line, often at the end of an export
        if len(cells) < width:
            cells += [""] * (width - len(cells))
        elif len(cells) > width:
            if any(cell.strip() for cell in cells[width:]):
                problems.items.append(
                    f"row {number}: {len(cells)} cells but the header names {width} columns"
                )
                continue
            cells = cells[:width]  # empty trailing cells, as spreadsheets sometimes add
        kind = cells[record_at].strip().lower()
        if kind not in layout:
            problems.items.append(
                f"row {number}, field record: must be member, bill, premium or payment: "
                f"{_shown(cells[record_at])}"
            )
            continue
        own, others = layout[kind]
        stray = [name for name, position in others if cells[position].strip()]
        for name in stray:
            problems.items.append(
                f"row {number} ({kind}), field {name}: not a {kind} column; leave it empty"
            )
        if stray:
            continue
        item: dict[str, Any] = {}
        for name, position in own:
            value = cells[position].strip()
            if value:
                item[name] = value
        mrn = cells[mrn_at].strip()
        if kind == "member":
            item.update({name: [] for name in MEMBER_LISTS})
            places.rows[("members", len(members))] = (number, "member")
            member_by_mrn.setdefault(mrn, (len(members), item))
            members.append(item)
        else:
            # Linked once every member row is known, so rows may come in any order.
            pending.append((number, kind, mrn, item))

    for number, kind, mrn, item in pending:
        if not mrn:
            problems.items.append(f"row {number} ({kind}), field mrn: is required")
            continue
        owner = member_by_mrn.get(mrn)
        if owner is None:
            problems.items.append(f"row {number} ({kind}), field mrn: no member row has this MRN")
            continue
        index, member = owner
        entries = member[f"{kind}s"]
        places.rows[("members", index, f"{kind}s", len(entries))] = (number, kind)
        entries.append(item)
    return document, places, problems


_ROW_NUMBER = re.compile(r"row (\d+)")


def by_row(problems: list[str]) -> list[str]:
    def row(problem: str) -> int:
        found = _ROW_NUMBER.match(problem)
        return int(found.group(1)) if found else 0

    return sorted(problems, key=row)  # stable: a row's problems keep their field order


def feed_document_to_csv(document: Mapping[str, Any]) -> str:
    """Write a feed document as feed CSV: each member row, then its bills, premiums, payments."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)

    def cells(kind: str, mrn: Any, values: Mapping[str, Any]) -> list[str]:
        row = {"record": kind, "mrn": mrn}
        row.update({name: values.get(name) for name in CSV_RECORD_COLUMNS[kind]})
        return [_csv_cell(row.get(name)) for name in CSV_COLUMNS]

    for member in document.get("members", []):
        writer.writerow(cells("member", member.get("mrn"), member))
        for bill in member.get("bills") or []:
            writer.writerow(cells("bill", member.get("mrn"), bill))
        for premium in member.get("premiums") or []:
            writer.writerow(cells("premium", member.get("mrn"), premium))
        for payment in member.get("payments") or []:
            writer.writerow(cells("payment", member.get("mrn"), payment))
    return out.getvalue()


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"  # as JSON writes it, not Python's True
    return str(value)
