"""The flow map is read from the steps' code: what a step's code names is what the map draws."""

from __future__ import annotations

from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

from ivr import create_app
from ivr.kernel import all_steps
from staff_console.flow_graph import flow_graph
from staff_console.flow_svg import SVG_NS, render, standalone_page

DOCS_PAGE = Path(__file__).resolve().parents[2] / "docs" / "flow-map.html"


@pytest.fixture(scope="module")
def graph():
    return flow_graph(create_app({"TESTING": True, "DATABASE_URL": "sqlite://"}))


def test_every_step_of_the_voice_app_is_a_node_of_its_flow(graph):
    assert {node.endpoint for node in graph.nodes} == set(all_steps())
    assert len(graph.flows) == len({node.flow for node in graph.nodes})
    assert graph.node("menu.choose").flow == "menu"
    assert graph.node("menu.choose").answer and not graph.node("menu.main").answer


def test_the_main_menu_leads_to_its_answer_and_the_answer_to_each_choice(graph):
    assert graph.leads_to("menu.main") == ("menu.choose",)
    assert set(graph.leads_to("menu.choose")) >= {
        "pay.choose_target",
        "balances.read",
        "planned.menu",
        "recent.read",
        "documents.menu",
        "ways_to_pay.read",
        "questions.menu",
    }


def test_steps_reached_through_exits_and_helpers_are_edges(graph):
    # identify -> snapshot.offer goes through a plain go(); the confirmation reaches the
    # main menu through the payment flow's exit and the decline through its charge helper.
    assert "snapshot.offer" in graph.leads_to("identify.birth_date_answer")
    assert {"menu.main", "pay.declined", "pay.finished"} <= set(
        graph.leads_to("pay.confirm_answer")
    )
    assert all(source != target for source, target in graph.edges)


def test_the_call_start_is_column_zero_and_identification_comes_before_the_menu(graph):
    start = graph.node(graph.start)
    assert start.endpoint == "entry.incoming" and start.depth == 0
    assert graph.node("identify.ask_mrn").depth < graph.node("pay.confirm").depth
    assert graph.flows[0] == "entry"


def test_webhook_paths_find_their_step_with_or_without_the_prompt_token(graph):
    path = graph.node("menu.choose").path
    assert graph.endpoint_of_path(f"{path}?t=bcdfghjkmnpqrstv") == "menu.choose"
    assert graph.endpoint_of_path("/voice/no-such-step") is None


def test_the_drawing_has_one_box_per_step_and_one_line_per_edge(graph):
    svg = ET.fromstring(render(graph))
    steps = svg.findall(f".//{{{SVG_NS}}}g[@data-endpoint]")
    edges = svg.findall(f".//{{{SVG_NS}}}path[@data-from]")
    assert len(steps) == len(graph.nodes)
    assert len(edges) == len(graph.edges)
    assert svg.get("role") == "img" and svg.find(f"{{{SVG_NS}}}title").text
    labels = {g.get("data-endpoint"): g.find(f"{{{SVG_NS}}}text").text for g in steps}
    assert labels["pay.choose_target"] == "Choose target"


def test_the_flow_map_in_the_docs_is_the_one_the_code_makes_now(graph):
    assert DOCS_PAGE.read_text(encoding="utf-8") == standalone_page(graph), (
        "regenerate it: ivr console flow-map -o docs/flow-map.html"
    )
