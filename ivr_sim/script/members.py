"""The members a script has on file: a billing-feed document or the demo data."""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from billing_core.adapters.feed import MemberRecord, parse_feed_document
from ivr_sim.script.errors import ScriptError
from ivr_sim.script.yaml_lines import load_yaml

if TYPE_CHECKING:
    from billing_core.core import BillingCore


def demo_available() -> bool:
    """Tell whether ivr_sim.demo (the demo members) exists."""
    return importlib.util.find_spec("ivr_sim.demo") is not None


def demo_document() -> Any:
    """Return the demo members as a feed document, or None when there are none."""
    if not demo_available():
        return None
    from ivr_sim import demo

    feed = demo.demo_feed()
    if isinstance(feed, str):
        return json.loads(feed, parse_float=Decimal)
    if isinstance(feed, Mapping):
        return feed
    members = list(feed)
    # Checked records pass as they are; plain mappings are a feed's members list.
    return members if members and isinstance(members[0], MemberRecord) else {"members": members}


def members_document(spec: Any, base_dir: Path | None, source: str = "") -> Any:
    """Turn a script's members: into a feed document; None when there are no members."""
    if spec is None or spec == "demo":
        document = demo_document()
        if document is None and spec == "demo":
            raise ScriptError("members: demo, but ivr_sim.demo does not exist yet", source)
        return document
    if spec in ("none", []):
        return None
    if isinstance(spec, list):
        return {"members": spec}
    if isinstance(spec, Mapping):
        return spec
    if isinstance(spec, str | Path):
        path = Path(spec)
        if not path.is_absolute() and base_dir is not None:
            path = base_dir / path
        if not path.exists():
            raise ScriptError(f"members file {spec} does not exist (looked at {path})", source)
        text = path.read_text(encoding="utf-8")
        if path.suffix.lower() == ".json":
            return json.loads(text, parse_float=Decimal)
        return load_yaml(text, str(path))
    raise ScriptError("members is a list, a feed document, a file name, demo or none", source)


def member_records(document: Any, core: BillingCore, today: Any, source: str = "") -> list[Any]:
    """Check a feed document's members; a list of MemberRecords passes as it is."""
    if document is None:
        return []
    if not isinstance(document, Mapping):
        return list(document)
    from billing_core.domain.exceptions import FeedRejected

    try:
        return parse_feed_document(document, regions=core.regions, today=today)
    except FeedRejected as rejected:
        raise ScriptError(
            "members are not a valid billing feed:\n  " + "\n  ".join(rejected.problems), source
        ) from None
