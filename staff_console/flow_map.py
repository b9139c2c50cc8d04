"""The flow map page: the steps drawn from the voice app's code, and the same map in words."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template
from markupsafe import Markup

from staff_console.auth import requires
from staff_console.flow_graph import FlowGraph, flow_graph
from staff_console.flow_svg import render, steps_list_html

bp = Blueprint("flow_map", __name__)


def graph() -> FlowGraph:
    """The voice app's flow graph, read once per console process."""
    extensions = current_app.extensions
    if "flow_graph" not in extensions:
        extensions["flow_graph"] = flow_graph(extensions["voice_app"])
    return extensions["flow_graph"]


def map_svg() -> Markup:
    # Built from the steps' code by flow_svg, which escapes every name it writes.
    return Markup(render(graph()))  # noqa: S704


@bp.get("/map")
@requires(None)
def page() -> str:
    """The whole flow map."""
    return render_template(
        "map.html",
        map_svg=map_svg(),
        steps_list=Markup(steps_list_html(graph())),  # noqa: S704
    )
