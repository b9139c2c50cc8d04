"""The call's flows and steps as a graph, read from the code of the voice app's steps.

A step leads to every step its code names: the steps it goes to or asks for an answer,
the exits it leaves by (to the step bound to them), the tables of choices it reads (a
menu's CHOICES), and, through the flows' own helper functions, the steps those name. The
keys that work at every menu (0, 9, *, and 7 in relay mode) are the kernel's, not a
step's, and are not drawn. Nothing is drawn by hand: a new step or a new `go()` shows
on the next start.
"""

from __future__ import annotations

import ast
import inspect
import textwrap
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from flask import Flask

from ivr import kernel
from ivr.kernel import Exit

FLOWS_PACKAGE = "ivr.flows"


@dataclass(frozen=True)
class Node:
    endpoint: str  # "menu.choose": the flow (Blueprint) and the step's function
    flow: str
    name: str
    path: str  # the webhook's path, as the TwiML and X-IVR-Steps name it
    summary: str  # the step's docstring, first line
    answer: bool  # it takes the caller's answer to a prompt
    depth: int  # steps from the call's start, along the edges (the layout's column)


@dataclass(frozen=True)
class FlowGraph:
    nodes: tuple[Node, ...]
    edges: tuple[tuple[str, str], ...]  # (from endpoint, to endpoint), no step to itself
    flows: tuple[str, ...]  # in the order the call first reaches them
    start: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "_nodes", {node.endpoint: node for node in self.nodes})
        paths = {_bare(node.path): node.endpoint for node in self.nodes if node.path}
        object.__setattr__(self, "_paths", paths)

    def node(self, endpoint: str) -> Node | None:
        return self._nodes.get(endpoint)

    def leads_to(self, endpoint: str) -> tuple[str, ...]:
        return tuple(target for source, target in self.edges if source == endpoint)

    def endpoint_of_path(self, path: str) -> str | None:
        """The step a webhook path (its query left off) belongs to, or None."""
        return self._paths.get(_bare(path))


def _bare(path: str) -> str:
    return path.split("?", 1)[0].rstrip("/") or "/"


def flow_graph(app: Flask) -> FlowGraph:
    """Read the flow graph of the voice app (built by ivr.create_app)."""
    steps = kernel.all_steps()
    # Flows, exits and tables hold what step() returned, so that object stands for a step.
    endpoints = {id(function): endpoint for endpoint, function in steps.items()}
    paths = {rule.endpoint: rule.rule for rule in app.url_map.iter_rules()}
    edges: set[tuple[str, str]] = set()
    for endpoint, function in steps.items():
        for target in _named_steps(inspect.unwrap(function), endpoints, set()):
            if target != endpoint:
                edges.add((endpoint, target))
    start = kernel.endpoint_of(kernel.CALL_START)
    depths = _depths(start, edges, steps)
    flows: list[str] = []
    for endpoint in sorted(steps, key=lambda e: (depths[e], e)):
        flow = endpoint.split(".", 1)[0]
        if flow not in flows:
            flows.append(flow)
    nodes = tuple(
        Node(
            endpoint=endpoint,
            flow=endpoint.split(".", 1)[0],
            name=endpoint.split(".", 1)[1],
            path=paths.get(endpoint, ""),
            summary=(inspect.getdoc(function) or "").split("\n", 1)[0],
            answer=endpoint in kernel.ANSWER_ENDPOINTS,
            depth=depths[endpoint],
        )
        for endpoint, function in sorted(steps.items())
    )
    return FlowGraph(nodes, tuple(sorted(edges)), tuple(flows), start)


def _named_steps(
    function: Callable[..., Any], endpoints: dict[int, str], seen: set[int]
) -> Iterator[str]:
    """The endpoints of the steps the function's code names, helpers followed."""
    if id(function) in seen:
        return
    seen.add(id(function))
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(function)))
    except (OSError, TypeError, SyntaxError):
        return
    body = tree.body[0]
    if isinstance(body, ast.FunctionDef | ast.AsyncFunctionDef):
        body.decorator_list = []  # @step(bp, ...) and @EXIT.bind name the step itself
    scope = function.__globals__
    for node in ast.walk(tree):
        for value in _resolved(node, scope):
            yield from _steps_in(value, endpoints, seen)


def _resolved(node: ast.AST, scope: dict[str, Any]) -> Iterator[Any]:
    """What a name (`go`) or a module's attribute (`pay.choose_target`) stands for."""
    if isinstance(node, ast.Name) and node.id in scope:
        yield scope[node.id]
    elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
        owner = scope.get(node.value.id)
        if inspect.ismodule(owner) and hasattr(owner, node.attr):
            yield getattr(owner, node.attr)


def _steps_in(value: Any, endpoints: dict[int, str], seen: set[int]) -> Iterator[str]:
    if isinstance(value, Exit):
        if value.bound:
            yield endpoints[id(value.step)]
    elif id(value) in endpoints:
        yield endpoints[id(value)]
    elif isinstance(value, dict):
        for item in value.values():
            yield from _steps_in(item, endpoints, seen)
    elif isinstance(value, tuple | list | frozenset | set):
        for item in value:
            yield from _steps_in(item, endpoints, seen)
    elif inspect.isfunction(value) and value.__module__.startswith(FLOWS_PACKAGE):
        # A flow's own helper (pay.charge): the steps it names are this step's too.
        yield from _named_steps(value, endpoints, seen)


def _depths(start: str, edges: set[tuple[str, str]], steps: dict[str, Any]) -> dict[str, int]:
    """Steps from the start along the edges; a step reached by none comes last."""
    leads: dict[str, list[str]] = {}
    for source, target in sorted(edges):
        leads.setdefault(source, []).append(target)
    depths = {start: 0}
    queue = deque([start])
    while queue:
        current = queue.popleft()
        for target in leads.get(current, ()):
            if target not in depths:
                depths[target] = depths[current] + 1
                queue.append(target)
    unreached = max(depths.values(), default=0) + 1
    return {endpoint: depths.get(endpoint, unreached) for endpoint in steps}
