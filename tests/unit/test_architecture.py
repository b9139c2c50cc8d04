"""The layers hold: no import cycles, a billing core with no channel, an app with no simulator."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("ivr", "billing_core", "ivr_sim")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            found[_module_name(path)] = path
    return found


def _imports(path: Path, module: str, known: dict[str, Path]) -> set[str]:
    """Return the project modules a module imports, wherever in the file the import is."""
    tree = ast.parse(path.read_text(), filename=str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    targets: set[str] = set()
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            names = [f"{base}.{alias.name}" for alias in node.names] + [base]
        for name in names:
            # The longest known module the name starts with is what gets imported.
            while name and name not in known:
                name = name.rpartition(".")[0]
            if name and name != module:
                targets.add(name)
    return targets


def _graph() -> dict[str, set[str]]:
    known = _modules()
    return {module: _imports(path, module, known) for module, path in known.items()}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Return the strongly connected groups of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    sys.setrecursionlimit(10_000)
    for node in graph:
        if node not in index:
            visit(node)
    return groups


def test_no_module_imports_itself_back_through_others():
    assert _cycles(_graph()) == []


@pytest.mark.parametrize("layer", ["billing_core"])
def test_the_billing_core_imports_neither_flask_nor_twilio_nor_the_phone_channel(layer):
    offenders = []
    for path in (ROOT / layer).rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and not node.level:
                names = [node.module or ""]
            else:
                continue
            for name in names:
                if name.split(".")[0] in ("flask", "twilio", "werkzeug", "ivr", "ivr_sim"):
                    offenders.append(f"{path.relative_to(ROOT)}: {name}")
    assert offenders == []


def test_the_domain_layer_imports_no_database_and_no_other_layer():
    graph = _graph()
    offenders = sorted(
        f"{module} -> {target}"
        for module, targets in graph.items()
        if module.startswith("billing_core.domain")
        for target in targets
        if not target.startswith("billing_core.domain")
    )
    assert offenders == []
    for path in (ROOT / "billing_core" / "domain").rglob("*.py"):
        assert "sqlalchemy" not in path.read_text(), path


def test_the_phone_channel_never_imports_the_simulator():
    graph = _graph()
    offenders = sorted(
        f"{module} -> {target}"
        for module, targets in graph.items()
        if module.split(".")[0] == "ivr"
        for target in targets
        if target.split(".")[0] == "ivr_sim"
    )
    assert offenders == []


def test_importing_the_wsgi_app_loads_no_simulator_softphone_script_or_demo_module():
    probe = (
        "import sys, wsgi; "
        "ours = ('ivr', 'ivr_sim', 'billing_core'); "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ours"
        " and (m.startswith('ivr_sim') or 'sim' in m.split('.')"
        " or m.rpartition('.')[2] in ('softphone', 'script', 'demo', 'cli_calls'))))"
    )
    shown = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert shown.stdout.strip() == "[]"
