"""No import cycle in ``src/longaqa``, counting function-local and ``TYPE_CHECKING`` imports too.

The package is layered top-down (cli -> commands -> interpret / reproduce -> training -> engine ->
losses / models / data -> config); an import that points up the layers makes a cycle, even when it is
hidden inside a function. Checked on the source with ``ast``, so nothing is imported to test it.
"""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"


def module_names() -> dict[str, Path]:
    names = {}
    for path in sorted((SRC / "longaqa").rglob("*.py")):
        parts = list(path.relative_to(SRC).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        names[".".join(parts)] = path
    return names


def import_graph() -> dict[str, set[str]]:
    """Module -> the package modules it imports anywhere in its source (a package's ``__init__`` counts
    as imported with any module under it, as Python runs it first)."""
    modules = module_names()

    def known(name: str) -> str | None:  # "longaqa.x.y.Name" -> the module that defines it
        while name and name not in modules:
            name = name.rpartition(".")[0]
        return name or None

    graph: dict[str, set[str]] = {}
    for module, path in modules.items():
        package = module if path.name == "__init__.py" else module.rpartition(".")[0]
        imported = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                imported.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:  # relative: from the package, up level - 1
                    parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join([*parent, base] if base else parent)
                imported.update(f"{base}.{alias.name}" for alias in node.names)
        deps = set()
        for name in imported:
            target = known(name)
            while target is not None and target != module:
                if not module.startswith(target + "."):  # a package's own modules do not re-run it
                    deps.add(target)
                target = target.rpartition(".")[0] if "." in target else None
        graph[module] = deps
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one node (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for dep in graph.get(node, ()):
            if dep not in index:
                visit(dep)
                low[node] = min(low[node], low[dep])
            elif dep in stack:
                low[node] = min(low[node], index[dep])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def reached(graph: dict[str, set[str]], start: str) -> set[str]:
    seen, todo = set(), [start]
    while todo:
        for dep in graph.get(todo.pop(), ()):
            if dep not in seen:
                seen.add(dep)
                todo.append(dep)
    return seen


def test_no_import_cycle_between_modules():
    graph = import_graph()
    assert len(graph) > 40 and "longaqa.interpret.explanation" in graph["longaqa.interpret.report"]
    assert cycles(graph) == []


def test_no_import_cycle_between_the_packages_parts():
    """Modules grouped by their part of the package (``longaqa.interpret``, ``longaqa.training``, ...)."""
    def part(module: str) -> str:
        return ".".join(module.split(".")[:2])

    grouped: dict[str, set[str]] = {}
    for module, deps in import_graph().items():
        grouped.setdefault(part(module), set()).update(part(d) for d in deps if part(d) != part(module))
    assert cycles(grouped) == []


def test_training_and_the_layers_below_import_nothing_above_them():
    graph = import_graph()
    above = ("longaqa.cli", "longaqa.commands", "longaqa.interpret", "longaqa.reproduce", "longaqa.video")
    for layer in ("longaqa.training", "longaqa.engine", "longaqa.losses", "longaqa.models", "longaqa.config"):
        assert sorted(m for m in reached(graph, layer) if m.startswith(above)) == [], layer


def test_the_cycle_check_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
