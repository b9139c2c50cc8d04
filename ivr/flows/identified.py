"""Guards for steps that need an identified member."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from ivr.calls import call
from ivr.flows.steps import go


def member_required(view: Callable) -> Callable:
    """Send an unidentified caller to identification instead of running the step."""

    @wraps(view)
    def guarded(*args, **kwargs):
        if call().member_id is None:
            return go("identify.ask_mrn")
        return view(*args, **kwargs)

    return guarded
