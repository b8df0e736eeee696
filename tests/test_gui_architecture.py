"""The window's shape as its imports show it: no loop in gui/, features that never know each other or the window.

Read from the source with ``ast`` (every import counts: top level, inside functions, under
``TYPE_CHECKING``), so the test needs no display and takes well under a second.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GUI = ROOT / "gui"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path) -> set[str]:
    """Every gui module ``path`` imports (``from gui.x import y`` counts ``gui.x``, and ``gui.x.y`` if a module)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return {name for name in found if name == "gui" or name.startswith("gui.")}


def gui_graph() -> dict[str, set[str]]:
    modules = {module_name(p): p for p in GUI.rglob("*.py")}
    return {name: {i for i in imports_of(path) if i in modules and i != name} for name, path in modules.items()}


def test_gui_has_no_import_loop():
    graph = gui_graph()
    state: dict[str, int] = {}
    loops: list[list[str]] = []

    def visit(name: str, trail: list[str]) -> None:
        state[name] = 1
        for child in sorted(graph[name]):
            if state.get(child) == 1:
                loops.append([*trail[trail.index(child) :], child] if child in trail else [name, child])
            elif child not in state:
                visit(child, [*trail, child])
        state[name] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])
    assert not loops, loops


def test_only_the_app_builds_the_main_window_and_features_never_import_each_other():
    graph = gui_graph()
    importers = sorted(name for name, imported in graph.items() if "gui.main_window" in imported)
    assert importers == ["gui.app"], importers
    features = {name for name in graph if name.startswith("gui.features.") and name.endswith("_feature")}
    assert len(features) >= 8, features
    for name in features:
        assert not (graph[name] & features), (name, graph[name] & features)
