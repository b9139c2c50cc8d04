"""What a run of scheduled charges did, added up over the batches it was split into."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import Self


class Combined:
    """A dataclass report whose lists (ids) are joined and whose counts and seconds add up."""

    @classmethod
    def combined(cls, reports: Iterable[Self]) -> Self:
        """One report of several batches'."""
        total = cls()
        for report in reports:
            for item in dataclasses.fields(report):  # type: ignore[arg-type]
                mine, theirs = getattr(total, item.name), getattr(report, item.name)
                if isinstance(mine, list):
                    mine.extend(theirs)
                else:
                    setattr(total, item.name, mine + theirs)
        return total
