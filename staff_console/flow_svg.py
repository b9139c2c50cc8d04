"""The flow graph drawn as SVG: one lane per flow, one column per step's distance from the start.

Written here rather than with Graphviz: the console would need its binary on every host,
and a lane per flow with the call moving left to right reads better for this graph than
a general layered layout. Every step carries its endpoint (data-endpoint), so a page can
find and mark a step by it.
"""

from __future__ import annotations

from pathlib import Path
from xml.etree import ElementTree as ET

from markupsafe import escape

from staff_console.flow_graph import FlowGraph, Node

STYLESHEET = Path(__file__).parent / "static" / "flow_map.css"
NODE_WIDTH = 168
NODE_HEIGHT = 30
COLUMN = 196
ROW = 38
LANE_PAD = 8
LABEL_WIDTH = 136
TOP = 34
SVG_NS = "http://www.w3.org/2000/svg"


def title(name: str) -> str:
    """ways_to_pay -> Ways to pay."""
    words = name.replace("_", " ")
    return words[:1].upper() + words[1:]


def layout(graph: FlowGraph) -> dict[str, tuple[float, float]]:
    """Each step's top-left corner; lanes in the order the call reaches the flows."""
    places: dict[str, tuple[float, float]] = {}
    y = TOP
    for flow in graph.flows:
        columns: dict[int, int] = {}
        for node in (n for n in graph.nodes if n.flow == flow):
            row = columns.get(node.depth, 0)
            columns[node.depth] = row + 1
            places[node.endpoint] = (
                LABEL_WIDTH + node.depth * COLUMN,
                y + LANE_PAD + row * ROW,
            )
        y += 2 * LANE_PAD + max(columns.values()) * ROW
    return places


def render(graph: FlowGraph) -> str:
    """The SVG element, as markup to put in a page."""
    places = layout(graph)
    depth = max(node.depth for node in graph.nodes)
    width = LABEL_WIDTH + (depth + 1) * COLUMN
    height = max(y for _x, y in places.values()) + ROW + LANE_PAD
    svg = ET.Element(
        "svg",
        {
            "xmlns": SVG_NS,
            "class": "flow-map",
            "viewBox": f"0 0 {width} {height}",
            "width": str(width),
            "height": str(height),
            "role": "img",
            "aria-labelledby": "flow-map-title flow-map-desc",
        },
    )
    ET.SubElement(svg, "title", id="flow-map-title").text = "The call's flows and steps"
    ET.SubElement(svg, "desc", id="flow-map-desc").text = (
        f"{len(graph.nodes)} steps in {len(graph.flows)} flows, left to right by how far "
        "each is from the call's start; the list of steps below says the same in words."
    )
    defs = ET.SubElement(svg, "defs")
    marker = ET.SubElement(
        defs,
        "marker",
        id="arrow",
        viewBox="0 0 10 10",
        refX="9",
        refY="5",
        markerWidth="7",
        markerHeight="7",
        orient="auto-start-reverse",
    )
    ET.SubElement(marker, "path", d="M 0 0 L 10 5 L 0 10 z", **{"class": "arrow-head"})
    _lanes(svg, graph, places, width)
    last = ET.SubElement(svg, "text", {"class": "column-label"})
    last.set("x", str(LABEL_WIDTH + depth * COLUMN))
    last.set("y", str(TOP - 12))
    last.text = "reached from any prompt"
    edges = ET.SubElement(svg, "g", {"class": "edges"})
    for source, target in graph.edges:
        ET.SubElement(
            edges,
            "path",
            {
                "class": "edge",
                "data-from": source,
                "data-to": target,
                "d": _curve(places[source], places[target]),
            },
        )
    steps = ET.SubElement(svg, "g", {"class": "steps"})
    for node in graph.nodes:
        _step(steps, node, places[node.endpoint])
    return ET.tostring(svg, encoding="unicode")


def _lanes(svg: ET.Element, graph: FlowGraph, places, width: float) -> None:
    lanes = ET.SubElement(svg, "g", {"class": "lanes"})
    for index, flow in enumerate(graph.flows):
        ys = [places[n.endpoint][1] for n in graph.nodes if n.flow == flow]
        top, bottom = min(ys) - LANE_PAD, max(ys) + NODE_HEIGHT + LANE_PAD
        lane = ET.SubElement(lanes, "g", {"class": f"lane lane-{index % 2}"})
        ET.SubElement(
            lane,
            "rect",
            {"x": "0", "y": str(top), "width": str(width), "height": str(bottom - top)},
        )
        label = ET.SubElement(lane, "text", {"class": "lane-label", "x": "8"})
        label.set("y", str(top + LANE_PAD + NODE_HEIGHT / 2 + 5))
        label.text = title(flow)


def _step(parent: ET.Element, node: Node, place: tuple[float, float]) -> None:
    x, y = place
    group = ET.SubElement(
        parent,
        "g",
        {
            "class": "step answer" if node.answer else "step",
            "id": f"step-{node.endpoint}",
            "data-endpoint": node.endpoint,
            "data-x": str(x + NODE_WIDTH / 2),
            "data-y": str(y + NODE_HEIGHT / 2),
        },
    )
    ET.SubElement(
        group, "title"
    ).text = f"{title(node.flow)}: {title(node.name)}. {node.summary}".strip()
    ET.SubElement(
        group,
        "rect",
        {
            "x": str(x),
            "y": str(y),
            "width": str(NODE_WIDTH),
            "height": str(NODE_HEIGHT),
            "rx": "6",
        },
    )
    label = ET.SubElement(group, "text", {"x": str(x + 10), "y": str(y + NODE_HEIGHT / 2 + 5)})
    name = title(node.name)
    label.text = name if len(name) <= 24 else name[:23] + "…"


def _curve(source: tuple[float, float], target: tuple[float, float]) -> str:
    (x1, y1), (x2, y2) = source, target
    y1, y2 = y1 + NODE_HEIGHT / 2, y2 + NODE_HEIGHT / 2
    if x2 > x1:
        start, end = x1 + NODE_WIDTH, x2
        bend = (end - start) / 2
        return f"M {start} {y1} C {start + bend} {y1} {end - bend} {y2} {end} {y2}"
    # Back to an earlier column (a menu again, a retry): a loop under the steps.
    start, end = x1 + NODE_WIDTH / 2, x2 + NODE_WIDTH / 2
    y1, y2 = y1 + NODE_HEIGHT / 2, y2 + NODE_HEIGHT / 2
    low = max(y1, y2) + 20
    return f"M {start} {y1} C {start} {low} {end} {low} {end} {y2}"


def steps_list_html(graph: FlowGraph) -> str:
    """The map in words: each flow's steps and where each leads (for screen readers too)."""
    parts = ['<section class="steps-list" aria-labelledby="steps-list-title">']
    parts.append('<h2 id="steps-list-title">The steps in words</h2>')
    for flow in graph.flows:
        parts.append(f"<h3>{escape(title(flow))}</h3><ul>")
        for node in (n for n in graph.nodes if n.flow == flow):
            leads = ", ".join(
                f'<a href="#list-{escape(target)}">{escape(target)}</a>'
                for target in graph.leads_to(node.endpoint)
            )
            parts.append(
                f'<li id="list-{escape(node.endpoint)}" data-endpoint="{escape(node.endpoint)}">'
                f"<code>{escape(node.endpoint)}</code>: {escape(node.summary)}"
                + (f" Leads to {leads}." if leads else "")
                + "</li>"
            )
        parts.append("</ul>")
    parts.append("</section>")
    return "\n".join(parts)


def standalone_page(graph: FlowGraph) -> str:
    """The flow map as one HTML file for the docs: the drawing and the list of steps."""
    css = STYLESHEET.read_text(encoding="utf-8")
    return (
        "<!doctype html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        "<title>Flow map of the pay line</title>\n"
        f"<style>\n{css}</style>\n</head>\n<body>\n<main>\n"
        "<h1>Flow map of the pay line</h1>\n"
        "<p>Generated from the code of the voice app's steps "
        "(<code>ivr console flow-map</code>). A dashed box takes the caller's answer "
        "to a prompt; an arrow goes where a step leads.</p>\n"
        f'<div class="map-frame" tabindex="0" role="region" aria-label="Flow map">'
        f"{render(graph)}</div>\n"
        f"{steps_list_html(graph)}\n</main>\n</body>\n</html>\n"
    )
