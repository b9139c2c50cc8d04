"""Turn twilio-node's generated src/twiml/VoiceResponse.ts into voice_response.json.

Twilio generates its helper libraries' TwiML classes from one schema; the TypeScript copy
keeps the most of it: for every element, the attribute interface it takes (names and
types), the unions of string literals that enumerate a value, and the methods that nest
one element in another. This script reads exactly those three things and writes them as
data the virtual Twilio checks every TwiML document against (ivr_sim.twilio_types).

Regenerate, from a checkout or mirror of twilio/twilio-node:

    git -C /work/.mirror/twilio+twilio-node/repo show \\
        45d3d65a4ea87652f4c7973af0e0998f3af31322:src/twiml/VoiceResponse.ts > /tmp/VoiceResponse.ts
    python -m ivr_sim.twilio_types.extract /tmp/VoiceResponse.ts \\
        --version 6.0.2 --commit 45d3d65a4ea87652f4c7973af0e0998f3af31322 \\
        --committed 2026-07-30

It writes ivr_sim/twilio_types/voice_response.json (or --output) and fails loudly if the
.ts file has a shape it does not understand, rather than guess.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

OUTPUT = Path(__file__).with_name("voice_response.json")
REPOSITORY = "twilio/twilio-node"
SOURCE_PATH = "src/twiml/VoiceResponse.ts"

_TYPE_ALIAS = re.compile(r"^\s*type\s+(\w+)\s*=\s*([^;]+);", re.MULTILINE)
_LITERAL = re.compile(r'"([^"]*)"')
_INTERFACE = re.compile(r"export interface (\w+) \{(.*?)\n\s*\}", re.DOTALL)
_FIELD = re.compile(r'^\s*("[^"]+"|\w+)\?:\s*([^;]+);', re.MULTILINE)
_CLASS = re.compile(r"^\s*(?:export )?class (\w+) extends TwiML \{", re.MULTILINE)
_ELE = re.compile(r'\bthis\.\w+\.ele\(\s*"([^"]+)"')
_NEW = re.compile(r"new VoiceResponse\.(\w+)\(\s*$|new VoiceResponse\.(\w+)\(")
_ATTRIBUTES = re.compile(r"\battributes\??:\s*(VoiceResponse\.(\w+)|object)")
_PRIMITIVES = {"string", "number", "boolean"}


def extract(source: str) -> dict[str, Any]:
    """Return the elements of VoiceResponse.ts: tag, attributes with types, children."""
    aliases = _literal_unions(source)
    interfaces = _interfaces(source, aliases)
    classes = _classes(source)
    elements: dict[str, dict[str, Any]] = {}
    for name in classes:
        elements[name] = {"tag": None, "attributes_interface": None, "attributes": {}}
    elements["VoiceResponse"]["tag"] = "Response"
    for parent, body in classes.items():
        children: dict[str, str] = {}
        for tag, child, interface in _nestings(body):
            if child not in elements:
                raise ValueError(f"{parent} nests <{tag}> as {child}, a class the file lacks")
            known = children.get(tag)
            if known is not None and known != child:
                raise ValueError(f"{parent} nests <{tag}> as both {known} and {child}")
            children[tag] = child
            entry = elements[child]
            if entry["tag"] not in (None, tag):
                raise ValueError(f"{child} is written both <{entry['tag']}> and <{tag}>")
            entry["tag"] = tag
            if interface is not None and interface not in interfaces:
                raise ValueError(f"{parent}.<{tag}> takes {interface}, which the file lacks")
            if entry["attributes_interface"] not in (None, interface):
                raise ValueError(
                    f"{child} takes {entry['attributes_interface']} in one place "
                    f"and {interface} in another"
                )
            entry["attributes_interface"] = interface
            entry["attributes"] = interfaces[interface] if interface else {}
        elements[parent]["children"] = dict(sorted(children.items()))
    unplaced = [name for name, entry in elements.items() if entry["tag"] is None]
    if unplaced:
        raise ValueError(f"classes no element nests: {', '.join(unplaced)}")
    return elements


def _literal_unions(source: str) -> dict[str, list[str]]:
    aliases: dict[str, list[str]] = {}
    for name, body in _TYPE_ALIAS.findall(source):
        values = _LITERAL.findall(body)
        rest = _LITERAL.sub("", body).replace("|", "").strip()
        if rest or not values:
            raise ValueError(f"type {name} is not a union of string literals: {body.strip()}")
        if name in aliases and aliases[name] != values:
            raise ValueError(f"type {name} is declared twice, differently")
        aliases[name] = values
    return aliases


def _interfaces(source: str, aliases: dict[str, list[str]]) -> dict[str, dict[str, Any]]:
    # One interface may be declared several times in the namespace; TypeScript merges them.
    merged: dict[str, dict[str, Any]] = {}
    for name, body in _INTERFACE.findall(source):
        fields = merged.setdefault(name, {})
        for raw_name, raw_type in _FIELD.findall(body):
            attribute = raw_name.strip('"')
            described = _describe(raw_type.strip(), aliases, f"{name}.{attribute}")
            if attribute in fields and fields[attribute] != described:
                raise ValueError(f"{name}.{attribute} is declared twice, differently")
            fields[attribute] = described
    return {name: dict(sorted(fields.items())) for name, fields in merged.items()}


def _describe(ts_type: str, aliases: dict[str, list[str]], where: str) -> dict[str, Any]:
    is_list = ts_type.endswith("[]")
    base = ts_type[:-2] if is_list else ts_type
    described: dict[str, Any] = {"ts_type": ts_type, "list": is_list}
    if base in _PRIMITIVES:
        described["type"] = base
    elif base in aliases:
        described["type"] = "enum"
        described["values"] = aliases[base]
    else:
        raise ValueError(f"{where} has type {ts_type}, which is neither primitive nor a union")
    return described


def _classes(source: str) -> dict[str, str]:
    starts = list(_CLASS.finditer(source))
    classes: dict[str, str] = {}
    for index, match in enumerate(starts):
        end = starts[index + 1].start() if index + 1 < len(starts) else len(source)
        classes[match.group(1)] = source[match.end() : end]
    if "VoiceResponse" not in classes:
        raise ValueError("no class VoiceResponse in the file")
    return classes


def _nestings(body: str) -> list[tuple[str, str, str | None]]:
    """Return (tag, class, attributes interface) for each element a class's methods nest."""
    found = []
    for ele in _ELE.finditer(body):
        before = body[: ele.start()]
        news = list(_NEW.finditer(before))
        attributes = list(_ATTRIBUTES.finditer(before))
        if not news or not attributes:
            raise ValueError(f"cannot read the method that nests <{ele.group(1)}>")
        new = news[-1]
        child = new.group(1) or new.group(2)
        interface = attributes[-1].group(2)  # None for `attributes?: object`
        found.append((ele.group(1), child, interface))
    return found


def document(elements: dict[str, Any], version: str, commit: str, committed: str) -> dict:
    """Wrap the elements with their provenance, as voice_response.json stores them."""
    return {
        "source": {
            "repository": REPOSITORY,
            "path": SOURCE_PATH,
            "version": version,
            "commit": commit,
            "committed": committed,
            "extracted_by": "python -m ivr_sim.twilio_types.extract (ivr_sim/twilio_types)",
        },
        "notes": [
            "elements are keyed by twilio-node class name; 'tag' is the XML element name",
            "the root element is VoiceResponse, written <Response>",
            "children maps each tag an element may contain to the class it becomes",
            "attributes are the XML attribute names Twilio takes (camelCase as in the XML)",
            "type is string, number, boolean or enum; enum lists its allowed values",
            "list true: the value is a space-separated list (twilio-node's TwiML.ts joins "
            "array values with a space)",
            "attributes_interface null: the element takes no attributes (attributes?: object)",
        ],
        "root": "VoiceResponse",
        "elements": dict(sorted(elements.items())),
    }


def main(argv: list[str] | None = None) -> int:
    """Read VoiceResponse.ts and write the JSON data file."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("ts_file", type=Path, help="path to twilio-node's VoiceResponse.ts")
    parser.add_argument("--version", required=True, help="twilio-node version, e.g. 6.0.2")
    parser.add_argument("--commit", required=True, help="twilio-node commit the file is from")
    parser.add_argument("--committed", required=True, help="that commit's date, YYYY-MM-DD")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args(argv)
    elements = extract(args.ts_file.read_text(encoding="utf-8"))
    data = document(elements, args.version, args.commit, args.committed)
    args.output.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", "utf-8")
    print(f"wrote {len(elements)} elements to {args.output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
